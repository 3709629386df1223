/* One C load program, built against each libgearman: N foreground jobs with 1 in flight
 * (gearman_client_do) or 100 in flight (add_task x100 + run_tasks). Prints jobs/s and this
 * process's CPU time per job. Usage: load PORT INFLIGHT JOBS [PAYLOAD_BYTES (10)] */
#define _DEFAULT_SOURCE
#include <libgearman-1.0/gearman.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>

static double now(void) {
  struct timeval tv;
  gettimeofday(&tv, NULL);
  return tv.tv_sec + tv.tv_usec / 1e6;
}

static double cpu(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

static int completed;
static gearman_return_t on_complete(gearman_task_st *task) {
  (void)task;
  completed++;
  return GEARMAN_SUCCESS;
}

int main(int argc, char **argv) {
  if (argc != 4 && argc != 5) return 2;
  in_port_t port = (in_port_t)atoi(argv[1]);
  int inflight = atoi(argv[2]);
  int jobs = atoi(argv[3]);
  size_t bytes = argc == 5 ? (size_t)atoi(argv[4]) : 10;
  char payload[4096];
  if (bytes == 0 || bytes > sizeof payload) return 2;
  for (size_t i = 0; i < bytes; i++) payload[i] = (char)('0' + i % 10);
  gearman_client_st client;
  gearman_client_create(&client);
  gearman_client_add_server(&client, "127.0.0.1", port);
  gearman_client_set_timeout(&client, 30000);
  gearman_client_set_complete_fn(&client, on_complete);
  gearman_client_add_options(&client, GEARMAN_CLIENT_FREE_TASKS);
  /* warm-up */
  size_t size;
  gearman_return_t rc;
  free(gearman_client_do(&client, "bench_echo", NULL, payload, bytes, &size, &rc));
  if (rc != GEARMAN_SUCCESS) {
    fprintf(stderr, "warm-up: %s\n", gearman_strerror(rc));
    return 1;
  }
  double t0 = now(), c0 = cpu();
  if (inflight <= 1) {
    for (int i = 0; i < jobs; i++) {
      void *r = gearman_client_do(&client, "bench_echo", NULL, payload, bytes, &size, &rc);
      if (rc != GEARMAN_SUCCESS) return 1;
      free(r);
    }
  } else {
    for (int done = 0; done < jobs; done += inflight) {
      for (int i = 0; i < inflight; i++) {
        if (!gearman_client_add_task(&client, NULL, NULL, "bench_echo", NULL, payload, bytes, &rc)) return 1;
      }
      do {
        rc = gearman_client_run_tasks(&client);
      } while (gearman_continue(rc));
      if (rc != GEARMAN_SUCCESS) return 1;
    }
    if (completed < jobs) return 1;
  }
  double wall = now() - t0, used = cpu() - c0;
  printf("%.0f %.2f\n", jobs / wall, used * 1e6 / jobs);
  gearman_client_free(&client);
  return 0;
}
