/* Handles on the stack and the heap, defaults, echo, errors, timeouts, dead and missing servers. */
#include "common.h"

int main(void) {
  in_port_t port = test_port();
  printf("version macros: %s %d\n", LIBGEARMAN_VERSION_STRING, LIBGEARMAN_VERSION_HEX == 0x01001020);
  printf("strerror: %s %s %s\n", gearman_strerror(GEARMAN_SUCCESS), gearman_strerror(GEARMAN_TIMEOUT),
         gearman_strerror((gearman_return_t)99));
  printf("verbose: %s %s\n", gearman_verbose_name(GEARMAN_VERBOSE_INFO), gearman_verbose_name(GEARMAN_VERBOSE_MAX));
  printf("continue: %d %d %d\n", gearman_continue(GEARMAN_IO_WAIT), gearman_continue(GEARMAN_PAUSE),
         gearman_continue(GEARMAN_SUCCESS));
  printf("sizes: %zu %zu %zu %zu %zu\n", sizeof(gearman_client_st), sizeof(gearman_task_st),
         sizeof(gearman_task_attr_t), sizeof(gearman_function_t), sizeof(gearman_status_t));

  gearman_client_st stack_client;
  CHECK(gearman_client_create(&stack_client) == &stack_client);
  gearman_client_st *heap_client = gearman_client_create(NULL);
  CHECK(heap_client != NULL);
  printf("client options: %d %d\n", (int)gearman_client_options(&stack_client), (int)gearman_client_options(heap_client));
  printf("fresh error: %d code %d timeout %d\n", gearman_client_error(&stack_client) == NULL,
         (int)gearman_client_error_code(&stack_client), gearman_client_timeout(&stack_client));
  gearman_client_set_timeout(&stack_client, 5000);
  int context = 42;
  gearman_client_set_context(&stack_client, &context);
  CHECK(gearman_client_context(&stack_client) == &context);
  gearman_client_add_options(&stack_client, GEARMAN_CLIENT_FREE_TASKS);
  printf("has free tasks: %d\n", gearman_client_has_option(&stack_client, GEARMAN_CLIENT_FREE_TASKS));

  /* No servers at all. */
  printf("echo without servers: %s\n", gearman_strerror(gearman_client_echo(&stack_client, "x", 1)));

  CHECK(gearman_client_add_server(&stack_client, "127.0.0.1", port) == GEARMAN_SUCCESS);
  printf("echo: %s\n", gearman_strerror(gearman_client_echo(&stack_client, "hello\0world", 11)));

  gearman_client_st *clone = gearman_client_clone(NULL, &stack_client);
  CHECK(clone != NULL);
  printf("clone timeout %d free tasks %d same %d\n", gearman_client_timeout(clone),
         gearman_client_has_option(clone, GEARMAN_CLIENT_FREE_TASKS), gearman_client_compare(clone, &stack_client));
  gearman_client_free(clone);

  /* A job nobody serves: the client timeout ends the wait. */
  gearman_client_set_timeout(&stack_client, 300);
  size_t size = 0;
  gearman_return_t rc;
  void *result = gearman_client_do(&stack_client, "nobody_serves_this", NULL, "x", 1, &size, &rc);
  printf("do without worker: %s %d\n", gearman_strerror(rc), result == NULL);
  CHECK(gearman_client_error(&stack_client) != NULL && strstr(gearman_client_error(&stack_client), "GEARMAN_TIMEOUT"));

  /* A dead server. */
  gearman_client_st dead;
  gearman_client_create(&dead);
  gearman_client_add_server(&dead, "127.0.0.1", 1);
  rc = gearman_client_echo(&dead, "x", 1);
  printf("dead server: %s\n", gearman_strerror(rc));
  CHECK(strstr(gearman_client_error(&dead), "GEARMAN_COULD_NOT_CONNECT") != NULL);
  gearman_client_free(&dead);

  /* Unresolvable host. */
  gearman_client_st bad;
  gearman_client_create(&bad);
  printf("bad host: %s\n", gearman_strerror(gearman_client_add_server(&bad, "nonexistent.invalid", 4730)));
  gearman_client_free(&bad);

  /* Workers: defaults, echo, timeout with nothing to do. */
  gearman_worker_st worker;
  CHECK(gearman_worker_create(&worker) == &worker);
  gearman_worker_st *heap_worker = gearman_worker_create(NULL);
  printf("worker options: %d %d timeout %d\n", (int)gearman_worker_options(&worker), (int)gearman_worker_options(heap_worker),
         gearman_worker_timeout(&worker));
  printf("work without servers: %s\n", gearman_strerror(gearman_worker_work(&worker)));
  gearman_worker_add_server(&worker, "127.0.0.1", port);
  printf("work without functions: %s\n", gearman_strerror(gearman_worker_work(&worker)));
  printf("worker echo: %s\n", gearman_strerror(gearman_worker_echo(&worker, "ping", 4)));
  CHECK(gearman_worker_register(&worker, "idle_function", 0) == GEARMAN_SUCCESS);
  printf("function exists: %d %d\n", gearman_worker_function_exist(&worker, "idle_function", 13),
         gearman_worker_function_exist(&worker, "other", 5));
  gearman_worker_set_timeout(&worker, 200);
  gearman_return_t grab_rc;
  gearman_job_st *job = gearman_worker_grab_job(&worker, NULL, &grab_rc);
  printf("grab with nothing queued: %s %d\n", gearman_strerror(grab_rc), job == NULL);
  gearman_worker_free(heap_worker);
  gearman_worker_free(&worker);

  gearman_client_free(heap_client);
  gearman_client_free(&stack_client);
  return 0;
}
