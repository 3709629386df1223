/* <libgearman-1.0/ostream.hpp>: libgearman 1.1's C++ stream operators for gearman_return_t and
 * gearman_status_t, printing what libgearman's print. Hand-written (C++ only); the .h files
 * next to it are generated. */
#pragma once

#include "../libgearman.h"

#include <ostream>

static inline std::ostream &operator<<(std::ostream &output, const gearman_return_t &arg)
{
  return output << gearman_strerror(arg);
}

static inline std::ostream &operator<<(std::ostream &output, const gearman_status_t &arg)
{
  return output << std::boolalpha << " is_known: " << gearman_status_is_known(arg)
                << " is_running: " << gearman_status_is_running(arg)
                << " complete: " << gearman_status_numerator(arg) << "/"
                << gearman_status_denominator(arg)
                << " ret: " << gearman_strerror(gearman_status_return(arg));
}
