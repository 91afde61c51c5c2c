#include "pixelwise/common/parallel.hpp"

#include <sched.h>

#include <algorithm>
#include <thread>

namespace pixelwise {

int available_cores() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) == 0) {
    const int count = CPU_COUNT(&set);
    if (count > 0) return count;
  }
  return static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

CoreShare share_cores(long items, long requested_jobs, int requested_threads, bool concurrent) {
  CoreShare share;
  share.cores = available_cores();
  share.jobs = !concurrent ? 1 : std::max(1L, std::min(items, requested_jobs > 0 ? requested_jobs : share.cores));
  share.threads = requested_threads > 0 ? requested_threads : static_cast<int>(std::max(1L, share.cores / share.jobs));
  return share;
}

}  // namespace pixelwise
