/* TLS through libgearman's calls: gearman_client_set_ssl / gearman_worker_set_ssl with files
 * (MODE=explicit), or the GEARMAN_CLIENT_SSL / GEARMAN_WORKER_SSL option bits with the files from
 * libgearman's environment variables (MODE=options). A worker in a forked child reverses two
 * jobs; the parent runs one in the foreground and one in the background. Then the errors: a
 * missing CA file, and (MUTUAL=1) no client certificate where the server requires one.
 * Environment: PORT, MODE, CA, CERT, KEY (empty: none), MUTUAL. Only our library can run it
 * (Debian's is built without TLS). */
#include "common.h"

static const char *env(const char *name) {
  const char *value = getenv(name);
  CHECK(value != NULL);
  return value;
}

static bool explicit_files(void) { return strcmp(env("MODE"), "explicit") == 0; }

static gearman_return_t reverse(gearman_job_st *job, void *context) {
  (void)context;
  size_t size = gearman_job_workload_size(job);
  const char *workload = (const char *)gearman_job_workload(job);
  char *reversed = malloc(size + 1);
  for (size_t i = 0; i < size; i++) reversed[i] = workload[size - 1 - i];
  gearman_return_t rc = gearman_job_send_complete(job, reversed, size);
  free(reversed);
  return rc;
}

static void run_worker(in_port_t port) {
  gearman_worker_st worker;
  gearman_worker_create(&worker);
  if (explicit_files())
    gearman_worker_set_ssl(&worker, true, env("CA"), env("CERT"), env("KEY"));
  else
    gearman_worker_add_options(&worker, GEARMAN_WORKER_SSL);
  gearman_worker_add_server(&worker, "localhost", port);
  gearman_worker_set_timeout(&worker, 20000);
  CHECK(gearman_worker_define_function(&worker, "reverse", 7, gearman_function_create(reverse), 0, NULL) ==
        GEARMAN_SUCCESS);
  for (int i = 0; i < 2; i++) {
    gearman_return_t rc = gearman_worker_work(&worker);
    if (rc != GEARMAN_SUCCESS) {
      fprintf(stderr, "worker: %s: %s\n", gearman_strerror(rc), gearman_worker_error(&worker));
      exit(2);
    }
  }
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
  if (explicit_files())
    gearman_client_set_ssl(&client, true, env("CA"), env("CERT"), env("KEY"));
  else
    gearman_client_add_options(&client, GEARMAN_CLIENT_SSL);
  printf("ssl option: %d\n", gearman_client_has_option(&client, GEARMAN_CLIENT_SSL));
  gearman_client_add_server(&client, "localhost", port);
  gearman_client_set_timeout(&client, 20000);

  gearman_job_handle_t handle;
  gearman_return_t rc = gearman_client_do_background(&client, "reverse", NULL, "background", 10, handle);
  printf("background: %s %d\n", gearman_strerror(rc), strncmp(handle, "H:", 2) == 0);
  size_t size;
  char *result = (char *)gearman_client_do(&client, "reverse", NULL, "hello tls", 9, &size, &rc);
  if (rc != GEARMAN_SUCCESS) fprintf(stderr, "do: %s\n", gearman_client_error(&client));
  printf("do: %s [%.*s]\n", gearman_strerror(rc), (int)size, result);
  free(result);
  int status = 0;
  waitpid(child, &status, 0);
  printf("worker exit: %d\n", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
  gearman_client_free(&client);

  /* A CA file that does not exist: the connection fails and the error names the file. */
  gearman_client_create(&client);
  gearman_client_set_ssl(&client, true, "/nonexistent/ca.pem", env("CERT"), env("KEY"));
  gearman_client_add_server(&client, "localhost", port);
  gearman_client_set_timeout(&client, 5000);
  result = (char *)gearman_client_do(&client, "reverse", NULL, "x", 1, &size, &rc);
  printf("missing CA: %s names the file %d\n", gearman_strerror(rc),
         strstr(gearman_client_error(&client), "/nonexistent/ca.pem") != NULL);
  gearman_client_free(&client);

  if (getenv("MUTUAL") == NULL) return 0;
  /* No client certificate for a server that requires one: refused, not hung. */
  unsetenv("GEARMAN_CLIENT_PEM");
  unsetenv("GEARMAN_CLIENT_KEY");
  gearman_client_create(&client);
  gearman_client_set_ssl(&client, true, env("CA"), "", NULL);
  gearman_client_add_server(&client, "localhost", port);
  gearman_client_set_timeout(&client, 5000);
  result = (char *)gearman_client_do(&client, "reverse", NULL, "x", 1, &size, &rc);
  printf("no client certificate: refused %d\n", rc != GEARMAN_SUCCESS && result == NULL);
  gearman_client_free(&client);
  return 0;
}
