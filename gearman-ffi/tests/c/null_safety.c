/* NULL and freed handles give error codes, never a crash (our library only: libgearman 1.1
 * crashes on most of these). */
#include "common.h"

int main(void) {
  gearman_return_t rc = GEARMAN_SUCCESS;
  size_t size = 1;
  CHECK(gearman_client_echo(NULL, "x", 1) == GEARMAN_INVALID_ARGUMENT);
  CHECK(gearman_client_error(NULL) == NULL);
  CHECK(gearman_client_do(NULL, "f", NULL, "x", 1, &size, &rc) == NULL);
  CHECK(gearman_client_add_server(NULL, "localhost", 0) == GEARMAN_INVALID_ARGUMENT);
  CHECK(gearman_client_run_tasks(NULL) == GEARMAN_INVALID_ARGUMENT);
  CHECK(gearman_client_add_task(NULL, NULL, NULL, "f", NULL, "x", 1, &rc) == NULL);
  CHECK(gearman_worker_work(NULL) == GEARMAN_INVALID_ARGUMENT);
  CHECK(gearman_worker_echo(NULL, "x", 1) == GEARMAN_INVALID_ARGUMENT);
  CHECK(gearman_job_send_complete(NULL, "x", 1) == GEARMAN_INVALID_ARGUMENT);
  CHECK(gearman_job_workload(NULL) == NULL);
  CHECK(gearman_task_data(NULL) == NULL);
  CHECK(gearman_task_return(NULL) == GEARMAN_INVALID_ARGUMENT);
  CHECK(gearman_parse_servers(NULL, NULL, NULL) == GEARMAN_INVALID_ARGUMENT);
  gearman_client_free(NULL);
  gearman_worker_free(NULL);
  gearman_task_free(NULL);
  gearman_job_free(NULL);

  /* NULL arguments on a live client. */
  gearman_client_st client;
  gearman_client_create(&client);
  gearman_client_add_server(&client, "127.0.0.1", test_port());
  CHECK(gearman_client_do(&client, NULL, NULL, "x", 1, &size, &rc) == NULL && rc == GEARMAN_INVALID_ARGUMENT);
  CHECK(gearman_client_do(&client, "f", NULL, NULL, 5, &size, &rc) == NULL && rc == GEARMAN_INVALID_ARGUMENT);
  CHECK(gearman_client_echo(&client, NULL, 3) == GEARMAN_INVALID_ARGUMENT);
  CHECK(gearman_client_job_status(&client, NULL, NULL, NULL, NULL, NULL) == GEARMAN_INVALID_ARGUMENT);
  char long_unique[80];
  memset(long_unique, 'u', sizeof long_unique - 1);
  long_unique[sizeof long_unique - 1] = '\0';
  CHECK(gearman_client_do(&client, "f", long_unique, "x", 1, &size, &rc) == NULL && rc == GEARMAN_INVALID_ARGUMENT);
  CHECK(strstr(gearman_client_error(&client), "GEARMAN_INVALID_ARGUMENT") != NULL);

  /* A freed handle answers like NULL. */
  gearman_client_free(&client);
  CHECK(gearman_client_echo(&client, "x", 1) == GEARMAN_INVALID_ARGUMENT);
  CHECK(gearman_client_error(&client) == NULL);
  gearman_client_free(&client);

  gearman_worker_st worker;
  gearman_worker_create(&worker);
  CHECK(gearman_worker_add_function(&worker, NULL, 0, NULL, NULL) == GEARMAN_INVALID_ARGUMENT);
  CHECK(gearman_worker_define_function(&worker, "f", 1, gearman_function_create(NULL), 0, NULL) == GEARMAN_INVALID_ARGUMENT);
  gearman_worker_free(&worker);
  CHECK(gearman_worker_work(&worker) == GEARMAN_INVALID_ARGUMENT);
  printf("null safety: ok\n");
  return 0;
}
