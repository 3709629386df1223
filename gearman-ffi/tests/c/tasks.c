/* Ten tasks in caller storage with every callback; background, status and execute tasks. */
#include "common.h"

static int created, data, warnings, statuses, completes, fails, exceptions;

static gearman_return_t on_created(gearman_task_st *task) { (void)task; created++; return GEARMAN_SUCCESS; }
static gearman_return_t on_data(gearman_task_st *task) {
  CHECK(gearman_task_data_size(task) > 0);
  data++;
  return GEARMAN_SUCCESS;
}
static gearman_return_t on_warning(gearman_task_st *task) { (void)task; warnings++; return GEARMAN_SUCCESS; }
static gearman_return_t on_status(gearman_task_st *task) {
  CHECK(gearman_task_numerator(task) == 1 && gearman_task_denominator(task) == 2);
  statuses++;
  return GEARMAN_SUCCESS;
}
static gearman_return_t on_complete(gearman_task_st *task) {
  const char *workload = (const char *)gearman_task_context(task);
  size_t n = gearman_task_data_size(task);
  if (workload == NULL) return GEARMAN_SUCCESS; /* an execute task */
  CHECK(n == strlen(workload));
  for (size_t i = 0; i < n; i++) CHECK(((const char *)gearman_task_data(task))[i] == workload[n - 1 - i]);

  completes++;
  return GEARMAN_SUCCESS;
}
static gearman_return_t on_fail(gearman_task_st *task) { (void)task; fails++; return GEARMAN_SUCCESS; }
static gearman_return_t on_exception(gearman_task_st *task) { (void)task; exceptions++; return GEARMAN_SUCCESS; }

static gearman_return_t reverse(gearman_job_st *job, void *context) {
  (void)context;
  size_t n = gearman_job_workload_size(job);
  const char *in = (const char *)gearman_job_workload(job);
  char out[256];
  if (n == 4 && memcmp(in, "fail", 4) == 0) return GEARMAN_FAIL;
  bool quiet = n >= 7 && memcmp(in, "execute", 7) == 0;
  if (!quiet) gearman_job_send_status(job, 1, 2);
  if (!quiet) gearman_job_send_warning(job, "w", 1);
  if (!quiet) gearman_job_send_data(job, "d", 1);
  for (size_t i = 0; i < n; i++) out[i] = in[n - 1 - i];
  gearman_job_send_complete(job, out, n);
  return GEARMAN_SUCCESS;
}

static void run_worker(in_port_t port, int jobs) {
  gearman_worker_st worker;
  gearman_worker_create(&worker);
  gearman_worker_add_server(&worker, "127.0.0.1", port);
  gearman_worker_set_timeout(&worker, 10000);
  gearman_worker_define_function(&worker, "task_reverse", 12, gearman_function_create(reverse), 0, NULL);
  for (int i = 0; i < jobs; i++) {
    gearman_return_t rc = gearman_worker_work(&worker);
    if (rc != GEARMAN_SUCCESS && rc != GEARMAN_WORK_FAIL) exit(2);
  }
  gearman_worker_free(&worker);
  exit(0);
}

int main(void) {
  in_port_t port = test_port();
  /* 9 foreground tasks + 1 failing + 1 execute + 2 background = 13 jobs for the worker. */
  pid_t child = fork();
  CHECK(child >= 0);
  if (child == 0) run_worker(port, 13);

  gearman_client_st client;
  gearman_client_create(&client);
  gearman_client_add_server(&client, "127.0.0.1", port);
  gearman_client_set_timeout(&client, 10000);
  gearman_client_set_created_fn(&client, on_created);
  gearman_client_set_data_fn(&client, on_data);
  gearman_client_set_warning_fn(&client, on_warning);
  gearman_client_set_status_fn(&client, on_status);
  gearman_client_set_complete_fn(&client, on_complete);
  gearman_client_set_fail_fn(&client, on_fail);
  gearman_client_set_exception_fn(&client, on_exception);

  static const char *workloads[10] = {"alpha", "bravo", "charlie", "delta", "echo",
                                      "foxtrot", "golf", "hotel", "india", "fail"};
  gearman_task_st task[10];
  for (int i = 0; i < 10; i++) {
    gearman_return_t rc;
    gearman_task_st *t;
    if (i % 3 == 0)
      t = gearman_client_add_task_high(&client, &task[i], (void *)workloads[i], "task_reverse", NULL, workloads[i], strlen(workloads[i]), &rc);
    else if (i % 3 == 1)
      t = gearman_client_add_task_low(&client, &task[i], (void *)workloads[i], "task_reverse", NULL, workloads[i], strlen(workloads[i]), &rc);
    else
      t = gearman_client_add_task(&client, &task[i], (void *)workloads[i], "task_reverse", NULL, workloads[i], strlen(workloads[i]), &rc);
    CHECK(t == &task[i] && rc == GEARMAN_SUCCESS);
    CHECK(strlen(gearman_task_unique(t)) == 36);
  }
  printf("has tasks before run: %d %d\n", gearman_client_has_tasks(&client), gearman_client_has_active_tasks(&client));
  printf("state before run: %s\n", gearman_task_strstate(&task[0]));
  gearman_return_t rc;
  do {
    rc = gearman_client_run_tasks(&client);
  } while (gearman_continue(rc));
  printf("run_tasks: %s\n", gearman_strerror(rc));
  printf("callbacks: created %d data %d warnings %d status %d complete %d fail %d exception %d\n", created, data,
         warnings, statuses, completes, fails, exceptions);
  printf("task returns: %s %s finished %d\n", gearman_strerror(gearman_task_return(&task[0])),
         gearman_strerror(gearman_task_return(&task[9])), gearman_task_is_finished(&task[0]));
  printf("function name: %s\n", gearman_task_function_name(&task[1]));
  for (int i = 0; i < 10; i++) gearman_task_free(&task[i]);

  /* Background tasks, then status tasks on their handles. */
  created = 0;
  gearman_task_st *bg1 = gearman_client_add_task_background(&client, NULL, NULL, "task_reverse", NULL, "bg-one", 6, &rc);
  gearman_task_st *bg2 = gearman_client_add_task_low_background(&client, NULL, NULL, "task_reverse", "bg-unique", "bg-two", 6, &rc);
  CHECK(bg1 && bg2);
  rc = gearman_client_run_tasks(&client);
  printf("background run: %s created %d handle %d\n", gearman_strerror(rc), created, strncmp(gearman_task_job_handle(bg1), "H:", 2) == 0);
  printf("background unique: %s\n", gearman_task_unique(bg2));

  /* execute (on a client without callbacks): foreground with a result, then background with
   * status polling. */
  gearman_client_st exec_client;
  gearman_client_create(&exec_client);
  gearman_client_add_server(&exec_client, "127.0.0.1", port);
  gearman_client_set_timeout(&exec_client, 10000);
  gearman_argument_t argument = gearman_argument_make(NULL, 0, "execute-me", 10);
  /* A foreground execute runs to completion here; libgearman 1.1.20 returns it early with
   * GEARMAN_UNKNOWN_STATE, so that case runs in our build only (EXECUTE_FOREGROUND=1). */
  if (getenv("EXECUTE_FOREGROUND")) {
    gearman_task_st *executed = gearman_execute(&exec_client, "task_reverse", 12, NULL, 0, NULL, &argument, NULL);
    CHECK(executed != NULL);
    gearman_result_st *result = gearman_task_result(executed);
    printf("execute: %s [%.*s]\n", gearman_strerror(gearman_task_return(executed)), (int)gearman_result_size(result),
           gearman_result_value(result));
  } else {
    gearman_client_do_background(&exec_client, "task_reverse", NULL, "execute-me", 10, NULL);
  }
  gearman_task_attr_t attr = gearman_task_attr_init_background(GEARMAN_JOB_PRIORITY_NORMAL);
  gearman_task_st *bg = gearman_execute(&exec_client, "nobody_here", 11, NULL, 0, &attr, &argument, NULL);
  CHECK(bg != NULL);
  bool known = false, running = true;
  rc = gearman_client_job_status(&exec_client, gearman_task_job_handle(bg), &known, &running, NULL, NULL);
  printf("execute background: %s known %d running %d\n", gearman_strerror(rc), known, running);
  gearman_task_attr_t epoch = gearman_task_attr_init_epoch(time(NULL) + 3600, GEARMAN_JOB_PRIORITY_NORMAL);
  gearman_task_st *later = gearman_execute(&exec_client, "nobody_here", 11, NULL, 0, &epoch, &argument, NULL);
  CHECK(later != NULL);
  rc = gearman_client_job_status(&exec_client, gearman_task_job_handle(later), &known, &running, NULL, NULL);
  printf("execute epoch: %s known %d running %d\n", gearman_strerror(rc), known, running);

  int status = 0;
  waitpid(child, &status, 0);
  printf("worker exit: %d\n", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
  gearman_client_free(&exec_client);
  gearman_client_free(&client);
  return 0;
}
