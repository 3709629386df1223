/* v1 and v2 workers in a forked child; the parent's blocking calls see data, status, failure
 * and exception, background jobs and status polling. */
#include "common.h"

static gearman_return_t chunky_v2(gearman_job_st *job, void *context) {
  (void)context;
  const char *workload = (const char *)gearman_job_workload(job);
  size_t size = gearman_job_workload_size(job);
  if (size == 4 && memcmp(workload, "fail", 4) == 0) return GEARMAN_FAIL;
  if (size == 9 && memcmp(workload, "exception", 9) == 0) {
    gearman_job_send_exception(job, "boom", 4);
    return GEARMAN_SUCCESS;
  }
  gearman_job_send_status(job, 1, 2);
  gearman_job_send_data(job, "chunk1-", 7);
  gearman_job_send_data(job, workload, size);
  return GEARMAN_SUCCESS;
}

static void *count_v1(gearman_job_st *job, void *context, size_t *result_size, gearman_return_t *ret_ptr) {
  int *calls = (int *)context;
  (*calls)++;
  char buffer[64];
  int n = snprintf(buffer, sizeof buffer, "%zu bytes in %s", gearman_job_workload_size(job), gearman_job_function_name(job));
  *result_size = (size_t)n;
  *ret_ptr = GEARMAN_SUCCESS;
  return strdup(buffer);
}

static void run_worker(in_port_t port, int jobs) {
  gearman_worker_st worker;
  gearman_worker_create(&worker);
  gearman_worker_add_server(&worker, "127.0.0.1", port);
  gearman_worker_set_timeout(&worker, 10000);
  gearman_worker_set_identifier(&worker, "c-worker", 8);
  int calls = 0;
  CHECK(gearman_worker_define_function(&worker, "chunky", 6, gearman_function_create(chunky_v2), 0, NULL) == GEARMAN_SUCCESS);
  CHECK(gearman_worker_add_function(&worker, "count", 0, count_v1, &calls) == GEARMAN_SUCCESS);
  for (int i = 0; i < jobs; i++) {
    gearman_return_t rc = gearman_worker_work(&worker);
    if (rc != GEARMAN_SUCCESS && rc != GEARMAN_WORK_FAIL && rc != GEARMAN_WORK_EXCEPTION) {
      fprintf(stderr, "worker: %s\n", gearman_strerror(rc));
      exit(2);
    }
  }
  gearman_worker_free(&worker);
  exit(calls == 2 ? 0 : 3);
}

int main(void) {
  in_port_t port = test_port();
  pid_t child = fork();
  CHECK(child >= 0);
  if (child == 0) run_worker(port, 7);

  gearman_client_st client;
  gearman_client_create(&client);
  gearman_client_add_server(&client, "127.0.0.1", port);
  gearman_client_set_timeout(&client, 10000);
  gearman_client_set_identifier(&client, "c-client", 8);

  size_t size;
  gearman_return_t rc;
  char *result = (char *)gearman_client_do(&client, "chunky", NULL, "payload", 7, &size, &rc);
  printf("do: %s [%.*s] %zu\n", gearman_strerror(rc), (int)size, result, size);
  CHECK(result[size] == '\0');
  printf("do handle known: %d\n", strncmp(gearman_client_do_job_handle(&client), "H:", 2) == 0);
  free(result);

  result = (char *)gearman_client_do_high(&client, "count", "my-unique", "abc", 3, &size, &rc);
  printf("do_high: %s [%.*s]\n", gearman_strerror(rc), (int)size, result);
  free(result);
  result = (char *)gearman_client_do_low(&client, "count", NULL, "abcdef", 6, &size, &rc);
  printf("do_low: %s [%.*s]\n", gearman_strerror(rc), (int)size, result);
  free(result);

  result = (char *)gearman_client_do(&client, "chunky", NULL, "fail", 4, &size, &rc);
  printf("fail: %s %d\n", gearman_strerror(rc), result == NULL);

  /* (Without the exceptions option the server sends WORK_FAIL "<handle>\0"; libgearman 1.1.20
   * then waits until its timeout, while ours reports GEARMAN_WORK_FAIL, so that case is not
   * compared here.) */
  gearman_client_add_options(&client, GEARMAN_CLIENT_EXCEPTION);
  result = (char *)gearman_client_do(&client, "chunky", NULL, "exception", 9, &size, &rc);
  printf("exception with option: %s %d\n", gearman_strerror(rc), result == NULL);

  gearman_job_handle_t handle;
  rc = gearman_client_do_background(&client, "chunky", NULL, "bg", 2, handle);
  printf("background: %s %d\n", gearman_strerror(rc), strncmp(handle, "H:", 2) == 0);
  bool known = true, running = true;
  uint32_t numerator = 1, denominator = 1;
  for (int i = 0; i < 500 && known; i++) {
    rc = gearman_client_job_status(&client, handle, &known, &running, &numerator, &denominator);
    CHECK(rc == GEARMAN_SUCCESS);
    if (known) usleep(10000);
  }
  printf("background finished: %d\n", !known);
  rc = gearman_client_do_high_background(&client, "chunky", NULL, "bg2", 3, NULL);
  printf("high background without handle buffer: %s\n", gearman_strerror(rc));
  rc = gearman_client_do_low_background(&client, "chunky", NULL, "bg3", 3, handle);
  printf("low background: %s\n", gearman_strerror(rc));

  gearman_job_handle_t nowhere = "H:nowhere:1";
  rc = gearman_client_job_status(&client, nowhere, &known, &running, NULL, NULL);
  printf("unknown handle: %s known %d\n", gearman_strerror(rc), known);

  /* The quirk of libgearman 1.1: cancel sends WORK_FAIL and the server refuses it. */
  printf("cancel: %s\n", gearman_strerror(gearman_client_cancel_job(&client, nowhere)));

  int status = 0;
  waitpid(child, &status, 0);
  printf("worker exit: %d\n", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
  gearman_client_free(&client);
  return 0;
}
