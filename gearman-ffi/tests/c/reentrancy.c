/* Callbacks that call back into the library while it is calling them:
 * - a worker function that reports through the job API and reads its worker;
 * - a complete callback that frees another, finished task;
 * - a fail callback that sets a task's context;
 * - with NESTED=1, for ours only (libgearman 1.1.20 never sends a task added by a callback, and
 *   its run loop is not re-entrant): a complete callback that adds a task, which the same
 *   run_tasks runs; a created callback that runs run_tasks again; a callback that frees its
 *   own task.
 * Prints what it observes, so the run can be compared with Debian's libgearman. */
#include "common.h"

static gearman_client_st client;
static gearman_task_st *first_task;
static int completes, added, fails, nested_runs;
static bool nested;

static gearman_return_t echo_job(gearman_job_st *job, void *context) {
  gearman_worker_st *worker = (gearman_worker_st *)context;
  size_t n = gearman_job_workload_size(job);
  const char *in = (const char *)gearman_job_workload(job);
  CHECK(gearman_worker_timeout(worker) == 10000);
  if (n == 4 && memcmp(in, "fail", 4) == 0) return GEARMAN_FAIL;
  CHECK(gearman_job_send_status(job, 1, 1) == GEARMAN_SUCCESS);
  CHECK(gearman_job_send_data(job, in, n) == GEARMAN_SUCCESS);
  CHECK(gearman_job_send_complete(job, "done", 4) == GEARMAN_SUCCESS);
  /* Reports after the end are ignored, as libgearman ignores them. */
  printf("late data: %s\n", gearman_strerror(gearman_job_send_data(job, "x", 1)));
  printf("late complete: %s\n", gearman_strerror(gearman_job_send_complete(job, "y", 1)));
  return GEARMAN_SUCCESS;
}

static void run_worker(in_port_t port, int jobs) {
  gearman_worker_st worker;
  gearman_worker_create(&worker);
  gearman_worker_add_server(&worker, "127.0.0.1", port);
  gearman_worker_set_timeout(&worker, 10000);
  gearman_worker_define_function(&worker, "reenter", 7, gearman_function_create(echo_job), 0,
                                 &worker);
  for (int i = 0; i < jobs; i++) {
    gearman_return_t rc = gearman_worker_work(&worker);
    if (rc != GEARMAN_SUCCESS && rc != GEARMAN_WORK_FAIL) exit(2);
  }
  gearman_worker_free(&worker);
  exit(0);
}

static gearman_return_t on_created(gearman_task_st *task) {
  (void)task;
  if (nested && nested_runs == 0) {
    nested_runs++;
    /* A nested run finishes every task; the outer one then has nothing left to do. */
    printf("nested run_tasks: %s\n", gearman_strerror(gearman_client_run_tasks(&client)));
  }
  return GEARMAN_SUCCESS;
}

static gearman_return_t on_complete(gearman_task_st *task) {
  const char *name = (const char *)gearman_task_context(task);
  completes++;
  printf("complete %s: %.*s\n", name, (int)gearman_task_data_size(task),
         (const char *)gearman_task_data(task));
  if (strcmp(name, "second") == 0 && first_task != NULL) {
    gearman_task_free(first_task); /* another task, already finished */
    first_task = NULL;
  }
  if (nested && added == 0) {
    gearman_return_t rc;
    added++;
    CHECK(gearman_client_add_task(&client, NULL, (void *)"added", "reenter", NULL, "late", 4, &rc) != NULL);
    printf("add_task from a callback: %s\n", gearman_strerror(rc));
  }
  if (nested && strcmp(name, "added") == 0) gearman_task_free(task); /* its own task */
  return GEARMAN_SUCCESS;
}

static gearman_return_t on_fail(gearman_task_st *task) {
  fails++;
  gearman_task_set_context(task, (void *)"failed");
  printf("fail: context now %s\n", (const char *)gearman_task_context(task));
  return GEARMAN_SUCCESS;
}

int main(void) {
  in_port_t port = test_port();
  nested = getenv("NESTED") != NULL;
  pid_t child = fork();
  CHECK(child >= 0);
  if (child == 0) run_worker(port, nested ? 4 : 3);

  gearman_client_create(&client);
  gearman_client_add_server(&client, "127.0.0.1", port);
  gearman_client_set_timeout(&client, 10000);
  gearman_client_set_created_fn(&client, on_created);
  gearman_client_set_complete_fn(&client, on_complete);
  gearman_client_set_fail_fn(&client, on_fail);

  gearman_return_t rc;
  gearman_task_st *third = gearman_client_add_task(&client, NULL, (void *)"third", "reenter", NULL, "fail", 4, &rc);
  CHECK(third != NULL);
  CHECK(gearman_client_add_task(&client, NULL, (void *)"second", "reenter", NULL, "b", 1, &rc) != NULL);
  /* Added last, so submitted (and finished) first. */
  first_task = gearman_client_add_task(&client, NULL, (void *)"first", "reenter", NULL, "a", 1, &rc);
  CHECK(first_task != NULL);

  rc = gearman_client_run_tasks(&client);
  printf("run_tasks: %s\n", gearman_strerror(rc));
  printf("completes %d fails %d nested runs %d\n", completes, fails, nested_runs);
  printf("third: %s context %s\n", gearman_strerror(gearman_task_return(third)),
         (const char *)gearman_task_context(third));
  gearman_client_free(&client); /* frees the remaining tasks */

  int status = 0;
  CHECK(waitpid(child, &status, 0) == child);
  printf("worker exit %d\n", WEXITSTATUS(status));
  return 0;
}
