/* libgearman 1.1 compatibility: programs include <libgearman-1.0/gearman.h>. */
#include "../libgearman.h"
