/* GEARMAN_CLIENT_NON_BLOCKING: run_tasks returns GEARMAN_IO_WAIT while results are pending and
 * gearman_client_wait blocks until one arrives, the loop libgearman's documentation shows;
 * gearman_client_wait with nothing running is GEARMAN_NO_ACTIVE_FDS. */
#include "common.h"

static int completes;

static gearman_return_t on_complete(gearman_task_st *task) {
  (void)task;
  completes++;
  return GEARMAN_SUCCESS;
}

static gearman_return_t slow_echo(gearman_job_st *job, void *context) {
  (void)context;
  usleep(20000);
  return gearman_job_send_complete(job, gearman_job_workload(job), gearman_job_workload_size(job));
}

int main(void) {
  in_port_t port = test_port();
  pid_t child = fork();
  CHECK(child >= 0);
  if (child == 0) {
    gearman_worker_st worker;
    gearman_worker_create(&worker);
    gearman_worker_add_server(&worker, "127.0.0.1", port);
    gearman_worker_set_timeout(&worker, 10000);
    gearman_worker_define_function(&worker, "nb_echo", 7, gearman_function_create(slow_echo), 0, NULL);
    for (int i = 0; i < 3; i++) CHECK(gearman_worker_work(&worker) == GEARMAN_SUCCESS);
    gearman_worker_free(&worker);
    exit(0);
  }

  gearman_client_st client;
  gearman_client_create(&client);
  gearman_client_add_server(&client, "127.0.0.1", port);
  gearman_client_set_timeout(&client, 10000);
  gearman_client_set_complete_fn(&client, on_complete);
  printf("idle wait: %s\n", gearman_strerror(gearman_client_wait(&client)));
  gearman_client_add_options(&client, GEARMAN_CLIENT_NON_BLOCKING);
  printf("non-blocking: %d\n", gearman_client_has_option(&client, GEARMAN_CLIENT_NON_BLOCKING));
  gearman_return_t rc;
  const char *workloads[3] = {"a", "b", "c"};
  for (int i = 0; i < 3; i++) {
    CHECK(gearman_client_add_task(&client, NULL, NULL, "nb_echo", NULL, workloads[i], 1, &rc) != NULL);
  }
  int io_waits = 0, waits_failed = 0;
  do {
    rc = gearman_client_run_tasks(&client);
    if (rc == GEARMAN_IO_WAIT) {
      io_waits++;
      if (gearman_client_wait(&client) != GEARMAN_SUCCESS) waits_failed++;
    }
  } while (rc == GEARMAN_IO_WAIT && io_waits < 1000);
  /* The worker takes 20 ms per job: the first run cannot have finished them all. */
  printf("run_tasks: %s, waited: %s, failed waits %d, completes %d\n", gearman_strerror(rc),
         io_waits > 0 ? "yes" : "no", waits_failed, completes);
  gearman_client_free(&client);
  int status = 0;
  CHECK(waitpid(child, &status, 0) == child);
  printf("worker exit %d\n", WEXITSTATUS(status));
  return 0;
}
