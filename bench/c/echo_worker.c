/* A libgearman worker for the benchmarks: bench_echo returns its workload. Runs until killed.
 * Usage: echo_worker PORT */
#define _DEFAULT_SOURCE
#include <libgearman-1.0/gearman.h>
#include <stdlib.h>
#include <string.h>

static gearman_return_t echo(gearman_job_st *job, void *context) {
  (void)context;
  return gearman_job_send_complete(job, gearman_job_workload(job), gearman_job_workload_size(job));
}

int main(int argc, char **argv) {
  if (argc != 2) return 2;
  gearman_worker_st worker;
  gearman_worker_create(&worker);
  gearman_worker_add_server(&worker, "127.0.0.1", (in_port_t)atoi(argv[1]));
  gearman_worker_define_function(&worker, "bench_echo", 10, gearman_function_create(echo), 0, NULL);
  for (;;) {
    gearman_return_t rc = gearman_worker_work(&worker);
    if (rc != GEARMAN_SUCCESS) return 1;
  }
}
