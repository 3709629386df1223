/* The classic count_lines client in C, written against libgearman's API:
 *   cc count_lines.c $(pkg-config --cflags --libs libgearman) -o count_lines
 *   ./count_lines HOST PORT < /etc/passwd */
#include <libgearman/gearman.h>
#include <stdio.h>

int main(int argc, char **argv) {
  const char *host = argc > 1 ? argv[1] : "localhost";
  in_port_t port = (in_port_t)(argc > 2 ? atoi(argv[2]) : GEARMAN_DEFAULT_TCP_PORT);

  char workload[1 << 16];
  size_t length = fread(workload, 1, sizeof workload, stdin);

  gearman_client_st client;
  if (gearman_client_create(&client) == NULL) return 1;
  gearman_return_t rc = gearman_client_add_server(&client, host, port);
  if (gearman_failed(rc)) {
    fprintf(stderr, "add_server: %s\n", gearman_client_error(&client));
    return 1;
  }
  size_t result_size = 0;
  char *result = gearman_client_do(&client, "count_lines", NULL, workload, length, &result_size, &rc);
  if (gearman_failed(rc)) {
    fprintf(stderr, "count_lines: %s\n", gearman_client_error(&client));
    gearman_client_free(&client);
    return 1;
  }
  printf("%.*s", (int)result_size, result);
  free(result);
  gearman_client_free(&client);
  return 0;
}
