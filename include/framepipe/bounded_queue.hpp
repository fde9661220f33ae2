// The queue between two threads (pipeline stages, the reader's read-ahead). Bounded, and explicit about what happens when full:
//   block        the producer waits (files: nothing is ever dropped)
//   drop-oldest  the oldest item makes room (counted in dropped())
//   latest       only the newest item is kept: the consumer always gets the freshest (live)
// close() wakes everyone: producers get false, consumers drain what is left, then nullopt.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <string>

#include "framepipe/error.hpp"

namespace framepipe {

enum class QueuePolicy { Block, DropOldest, Latest };

inline QueuePolicy parse_queue_policy(const std::string& s) {
  if (s == "block") return QueuePolicy::Block;
  if (s == "drop-oldest") return QueuePolicy::DropOldest;
  if (s == "latest") return QueuePolicy::Latest;
  throw ConfigError("unknown queue policy '" + s + "' (one of: block, drop-oldest, latest)");
}

inline const char* to_string(QueuePolicy p) {
  switch (p) {
    case QueuePolicy::Block: return "block";
    case QueuePolicy::DropOldest: return "drop-oldest";
    case QueuePolicy::Latest: return "latest";
  }
  return "?";
}

template <class T>
class BoundedQueue {
 public:
  BoundedQueue(size_t capacity, QueuePolicy policy) : capacity_(capacity ? capacity : 1), policy_(policy) {}

  // False when the queue is closed (the item is not taken).
  bool push(T item) {
    std::unique_lock lock(mutex_);
    if (policy_ == QueuePolicy::Block) {
      not_full_.wait(lock, [&] { return closed_ || items_.size() < capacity_; });
    } else if (policy_ == QueuePolicy::Latest) {
      dropped_ += static_cast<int64_t>(items_.size());
      items_.clear();
    } else {
      while (!closed_ && items_.size() >= capacity_) {
        items_.pop_front();
        ++dropped_;
      }
    }
    if (closed_) return false;
    items_.push_back(std::move(item));
    if (items_.size() > max_depth_) max_depth_ = items_.size();
    not_empty_.notify_one();
    return true;
  }

  // Waits for an item; nullopt once the queue is closed and empty.
  std::optional<T> pop() {
    std::unique_lock lock(mutex_);
    not_empty_.wait(lock, [&] { return closed_ || !items_.empty(); });
    return take(lock);
  }

  // As pop(), giving up after `timeout` (nullopt; closed() tells the two apart).
  template <class Rep, class Period>
  std::optional<T> pop_for(std::chrono::duration<Rep, Period> timeout) {
    std::unique_lock lock(mutex_);
    not_empty_.wait_for(lock, timeout, [&] { return closed_ || !items_.empty(); });
    return take(lock);
  }

  void close() {
    {
      std::lock_guard lock(mutex_);
      closed_ = true;
    }
    not_full_.notify_all();
    not_empty_.notify_all();
  }

  bool closed() const {
    std::lock_guard lock(mutex_);
    return closed_;
  }
  size_t size() const {
    std::lock_guard lock(mutex_);
    return items_.size();
  }
  size_t capacity() const { return capacity_; }
  QueuePolicy policy() const { return policy_; }
  int64_t dropped() const {
    std::lock_guard lock(mutex_);
    return dropped_;
  }
  size_t max_depth() const {
    std::lock_guard lock(mutex_);
    return max_depth_;
  }

 private:
  std::optional<T> take(std::unique_lock<std::mutex>&) {
    if (items_.empty()) return std::nullopt;
    std::optional<T> out(std::move(items_.front()));
    items_.pop_front();
    not_full_.notify_one();
    return out;
  }

  const size_t capacity_;
  const QueuePolicy policy_;
  mutable std::mutex mutex_;
  std::condition_variable not_full_, not_empty_;
  std::deque<T> items_;
  bool closed_ = false;
  int64_t dropped_ = 0;
  size_t max_depth_ = 0;
};

}  // namespace framepipe
