#include "reader/worker_pool.hpp"

#include <algorithm>
#include <numeric>
#include <utility>

namespace framepipe {

WorkerPool::WorkerPool(size_t threads) {
  for (size_t k = 0; k < threads; ++k) threads_.emplace_back([this] { serve(); });
}

WorkerPool::~WorkerPool() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  work_.notify_all();
  for (auto& t : threads_) t.join();
}

void WorkerPool::run(std::vector<std::function<void()>> tasks, const std::vector<int64_t>& costs) {
  std::vector<size_t> order(tasks.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return costs[a] > costs[b]; });
  std::unique_lock lock(mu_);
  tasks_.clear();
  for (size_t k : order) tasks_.push_back(std::move(tasks[k]));
  next_ = 0;
  error_ = nullptr;
  work_.notify_all();
  while (run_next(lock)) {
  }
  done_.wait(lock, [&] { return running_ == 0; });
  tasks_.clear();
  if (std::exception_ptr e = std::exchange(error_, nullptr)) std::rethrow_exception(e);
}

void WorkerPool::serve() {
  std::unique_lock lock(mu_);
  for (;;) {
    work_.wait(lock, [&] { return stop_ || next_ < tasks_.size(); });
    if (stop_) return;
    run_next(lock);
  }
}

bool WorkerPool::run_next(std::unique_lock<std::mutex>& lock) {
  if (next_ >= tasks_.size()) return false;
  std::function<void()>& task = tasks_[next_++];
  if (error_) return true;  // one has failed: the rest are skipped
  ++running_;
  lock.unlock();
  std::exception_ptr error;
  try {
    task();
  } catch (...) {
    error = std::current_exception();
  }
  lock.lock();
  if (error && !error_) error_ = error;
  if (--running_ == 0 && next_ >= tasks_.size()) done_.notify_all();
  return true;
}

}  // namespace framepipe
