/* The allocator and log contracts programs rely on (PostgreSQL's palloc, MySQL's result buffer,
 * php-gearman's efree, Debian's gearman tool):
 * - gearman_client_do*() results come from the client's workload malloc function, sized
 *   result + 1 and NUL-terminated, for the caller's free;
 * - a gearman_worker_fn's result goes back through the worker's workload free function, and
 *   through free() when none is set (valgrind checks that case);
 * - the log callback gets errors at GEARMAN_VERBOSE_ERROR, and nothing below its level.
 * Prints what it observes, for comparison with Debian's libgearman. */
#include "common.h"
#include <stdlib.h>

#define POOL_SIZE 8
static void *given[POOL_SIZE];
static size_t given_size[POOL_SIZE];
static int mallocs, frees, foreign_frees, logs, log_level;

static void *counting_malloc(size_t size, void *context) {
  CHECK(context == (void *)&mallocs);
  void *p = malloc(size);
  if (mallocs < POOL_SIZE) {
    given[mallocs] = p;
    given_size[mallocs] = size;
  }
  mallocs++;
  return p;
}

static void counting_free(void *ptr, void *context) {
  CHECK(context == (void *)&mallocs);
  bool ours = false;
  for (int i = 0; i < POOL_SIZE && i < mallocs; i++) ours |= given[i] == ptr;
  if (!ours) foreign_frees++;
  frees++;
  free(ptr);
}

static void logger(const char *line, gearman_verbose_t verbose, void *context) {
  CHECK(context == (void *)&logs);
  CHECK(line != NULL && strlen(line) > 0);
  logs++;
  log_level = (int)verbose;
}

/* Hands back a buffer from the worker's own allocator (tagged so its free function knows it). */
static void *upper(gearman_job_st *job, void *context, size_t *result_size, gearman_return_t *ret) {
  (void)context;
  size_t n = gearman_job_workload_size(job);
  char *out = counting_malloc(n, &mallocs);
  for (size_t i = 0; i < n; i++) {
    char ch = ((const char *)gearman_job_workload(job))[i];
    out[i] = (char)(ch >= 'a' && ch <= 'z' ? ch - 32 : ch);
  }
  *result_size = n;
  *ret = GEARMAN_SUCCESS;
  return out;
}

/* The same with malloc() and no free function registered: the library must free() it. */
static void *plain(gearman_job_st *job, void *context, size_t *result_size, gearman_return_t *ret) {
  (void)context;
  size_t n = gearman_job_workload_size(job);
  char *out = malloc(n);
  memcpy(out, gearman_job_workload(job), n);
  *result_size = n;
  *ret = GEARMAN_SUCCESS;
  return out;
}

static void run_worker(in_port_t port) {
  gearman_worker_st worker;
  gearman_worker_create(&worker);
  gearman_worker_add_server(&worker, "127.0.0.1", port);
  gearman_worker_set_timeout(&worker, 10000);
  gearman_worker_set_workload_free_fn(&worker, counting_free, &mallocs);
  gearman_worker_add_function(&worker, "alloc_upper", 0, upper, NULL);
  for (int i = 0; i < 2; i++) CHECK(gearman_worker_work(&worker) == GEARMAN_SUCCESS);
  /* (libgearman 1.1.20 also passes its own internal buffers to the free function; ours has none
   * to pass, so only the results are counted.) */
  printf("worker: results freed by its free function %d\n", frees - foreign_frees);
  gearman_worker_free(&worker);

  gearman_worker_create(&worker);
  gearman_worker_add_server(&worker, "127.0.0.1", port);
  gearman_worker_set_timeout(&worker, 10000);
  gearman_worker_add_function(&worker, "alloc_plain", 0, plain, NULL);
  CHECK(gearman_worker_work(&worker) == GEARMAN_SUCCESS);
  gearman_worker_free(&worker);
  exit(0);
}

int main(void) {
  in_port_t port = test_port();
  pid_t child = fork();
  CHECK(child >= 0);
  if (child == 0) run_worker(port);

  gearman_client_st client;
  gearman_client_create(&client);
  gearman_client_set_timeout(&client, 10000);
  gearman_client_set_log_fn(&client, logger, &logs, GEARMAN_VERBOSE_ERROR);
  printf("bad host: %s\n", gearman_strerror(gearman_client_add_server(&client, "nonexistent.invalid", 1)));
  printf("logged %d at level %d\n", logs, log_level);
  gearman_client_add_server(&client, "127.0.0.1", port);
  gearman_client_set_workload_malloc_fn(&client, counting_malloc, &mallocs);
  gearman_client_set_workload_free_fn(&client, counting_free, &mallocs);

  const char *inputs[2] = {"hello", "allocator"};
  for (int i = 0; i < 2; i++) {
    size_t size = 0;
    gearman_return_t rc;
    int before = mallocs;
    char *result = gearman_client_do(&client, "alloc_upper", NULL, inputs[i], strlen(inputs[i]), &size, &rc);
    bool from_fn = false;
    for (int k = before; k < mallocs && k < POOL_SIZE; k++) {
      if (given[k] == result) from_fn = given_size[k] == size + 1;
    }
    printf("do: %s %.*s size %zu from the malloc fn with size+1 %s nul %s\n", gearman_strerror(rc),
           (int)size, result, size, from_fn ? "yes" : "no", result && result[size] == 0 ? "yes" : "no");
    counting_free(result, &mallocs);
  }
  size_t size = 0;
  gearman_return_t rc;
  char *result = gearman_client_do(&client, "alloc_plain", NULL, "abc", 3, &size, &rc);
  printf("plain: %s %.*s\n", gearman_strerror(rc), (int)size, result);
  counting_free(result, &mallocs);

  /* Below its level the log callback hears nothing. */
  gearman_client_set_log_fn(&client, logger, &logs, GEARMAN_VERBOSE_FATAL);
  logs = 0;
  gearman_client_add_server(&client, "nonexistent.invalid", 1);
  printf("logged below level: %d\n", logs);
  gearman_client_free(&client);

  int status = 0;
  CHECK(waitpid(child, &status, 0) == child);
  printf("worker exit %d\n", WEXITSTATUS(status));
  return 0;
}
