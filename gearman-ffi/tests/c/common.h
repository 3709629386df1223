#define _DEFAULT_SOURCE
/* Shared helpers for the C test programs: they build unchanged against Debian's libgearman and
 * ours, and print what they observe so the two runs can be compared. */
#include <libgearman-1.0/gearman.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#define CHECK(cond)                                                                 \
  do {                                                                              \
    if (!(cond)) {                                                                  \
      fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);      \
      exit(1);                                                                      \
    }                                                                               \
  } while (0)

static in_port_t test_port(void) {
  const char *port = getenv("PORT");
  CHECK(port != NULL);
  return (in_port_t)atoi(port);
}
