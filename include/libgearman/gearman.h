/* libgearman 1.1 compatibility: programs include <libgearman/gearman.h>. */
#include "../libgearman.h"
