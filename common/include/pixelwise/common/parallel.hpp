#pragma once
// The project's one thread loop: kernel matrices, SVM training, occlusion
// batches and batch explanations all run items on a pool of threads with it.
#include <algorithm>
#include <atomic>
#include <exception>
#include <functional>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

namespace pixelwise {

/// A check that a long computation calls between its steps (occlusion
/// batches, the tiles of a tiled explanation, docs/design.md 1.6): it returns
/// to let the computation go on and throws to stop it, the exception leaving
/// the computation's call. It may be called on every thread of the
/// computation. Empty: never stops. The library knows nothing of who asks to
/// stop; the Python binding sets one that raises KeyboardInterrupt on Ctrl-C.
using InterruptCheck = std::function<void()>;

/// The cores this process may run on: the size of its CPU affinity mask
/// (what taskset, a container's cpuset or Slurm's --cpus-per-task leave it),
/// at least 1. "All cores" means these everywhere, so that a task given 8 of
/// a node's 64 cores starts 8 threads, not 64.
int available_cores();

/// How a batch of `items` shares the cores: `jobs` items at once
/// (`requested_jobs` if > 0, else all cores; at most the items, at least 1;
/// 1 when the work may not run concurrently) and `threads` for the work
/// within one item (`requested_threads` if > 0, else the cores the jobs
/// leave, at least 1). `cores` is available_cores(). The one rule of explain,
/// evaluate and analyse, whose --jobs and --threads it reads.
struct CoreShare {
  long cores = 1;
  long jobs = 1;
  int threads = 1;
};
CoreShare share_cores(long items, long requested_jobs, int requested_threads, bool concurrent);

/// Runs work(i) for every i in [0, n) on `threads` threads (0: all cores; the
/// calling thread is one of them). Items are handed out one at a time, so
/// uneven items balance. The first exception stops new items from starting and
/// is rethrown once every thread has finished its current item. work must
/// only write to what item i owns.
template <typename Work>
void for_each_parallel(long n, int threads, Work&& work) {
  if (threads < 0) throw std::invalid_argument("threads must be 0 (all cores) or more");
  long count = threads > 0 ? threads : available_cores();
  count = std::max(1L, std::min(count, n));
  std::atomic<long> next{0};
  std::atomic<bool> failed{false};
  std::exception_ptr error;
  std::mutex error_mutex;
  auto run = [&] {
    for (long i; !failed && (i = next++) < n;) {
      try {
        work(i);
      } catch (...) {
        std::lock_guard<std::mutex> lock(error_mutex);
        if (!error) error = std::current_exception();
        failed = true;
      }
    }
  };
  std::vector<std::thread> pool;
  for (long t = 1; t < count; ++t) pool.emplace_back(run);
  run();
  for (auto& th : pool) th.join();
  if (error) std::rethrow_exception(error);
}

}  // namespace pixelwise
