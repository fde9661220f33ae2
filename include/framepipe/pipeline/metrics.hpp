// What each pipeline stage did: items, rate, latency percentiles, queue depth, drops. Cheap
// to record from the stage's own thread; read at the end (or from another thread) as JSON.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

namespace framepipe {

class StageMetrics {
 public:
  explicit StageMetrics(std::string name) : name_(std::move(name)) {}
  // One item (a batch or a row) took `seconds` of this stage's work; `items` rows in it.
  void record(double seconds, int64_t items = 1);
  // How far behind the source an item was when this stage finished it (live: frame age).
  void record_age(double seconds);
  void set_queue(size_t max_depth, size_t capacity, int64_t dropped);

  struct Summary {
    std::string name;
    int64_t items = 0, calls = 0;
    double busy_s = 0, wall_s = 0, items_per_s = 0;  // per second of wall time since creation
    double latency_p50_ms = 0, latency_p95_ms = 0;   // per call
    double age_p50_ms = -1, age_p95_ms = -1;         // -1: not recorded
    size_t queue_max_depth = 0, queue_capacity = 0;
    int64_t dropped = 0;
  };
  Summary summary() const;
  // {"stage": ..., "items": ..., "items_per_s": ..., "latency_ms": {"p50": ..., "p95": ...}, ...}
  std::string json() const;
  // One line: "infer      75 rows  41.2/s  p50 180.1 ms  p95 210.4 ms  queue 2/4  dropped 0"
  std::string line() const;

 private:
  std::string name_;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
  mutable std::mutex mutex_;
  std::vector<double> latencies_, ages_;  // kept to the last 100000 (a bounded reservoir)
  int64_t items_ = 0, calls_ = 0;
  double busy_ = 0;
  size_t max_depth_ = 0, capacity_ = 0;
  int64_t dropped_ = 0;
};

}  // namespace framepipe
