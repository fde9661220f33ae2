// Threads that a reader starts once, with its first parallel batch, and keeps: each batch's
// runs are handed out to them and to the caller's thread, the costliest first, and the
// caller waits for all. The first error a task throws is rethrown in the caller with its type;
// tasks not yet started when one failed are skipped.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace framepipe {

class WorkerPool {
 public:
  explicit WorkerPool(size_t threads);
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  size_t size() const { return threads_.size(); }
  // Runs every task (costs[k]: task k's, in any unit); returns when all have ended.
  void run(std::vector<std::function<void()>> tasks, const std::vector<int64_t>& costs);

 private:
  void serve();
  bool run_next(std::unique_lock<std::mutex>& lock);  // one task, if one is left

  std::mutex mu_;
  std::condition_variable work_, done_;
  std::vector<std::function<void()>> tasks_;  // the current batch, costliest first
  size_t next_ = 0, running_ = 0;
  std::exception_ptr error_;
  bool stop_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace framepipe
