#include "framepipe/pipeline/metrics.hpp"

#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>
#include "common/json_text.hpp"

namespace framepipe {

namespace {
constexpr size_t kKeep = 100000;

void keep(std::vector<double>& v, double x) {
  if (v.size() >= kKeep) v.erase(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(kKeep / 2));
  v.push_back(x);
}

double percentile(std::vector<double> v, double q) {
  if (v.empty()) return -1;
  const size_t k = static_cast<size_t>(q * static_cast<double>(v.size() - 1) + 0.5);
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
  return v[k];
}
}  // namespace

void StageMetrics::record(double seconds, int64_t items) {
  std::lock_guard lock(mutex_);
  keep(latencies_, seconds);
  items_ += items;
  ++calls_;
  busy_ += seconds;
}

void StageMetrics::record_age(double seconds) {
  std::lock_guard lock(mutex_);
  keep(ages_, seconds);
}

void StageMetrics::set_queue(size_t max_depth, size_t capacity, int64_t dropped) {
  std::lock_guard lock(mutex_);
  max_depth_ = max_depth;
  capacity_ = capacity;
  dropped_ = dropped;
}

StageMetrics::Summary StageMetrics::summary() const {
  std::lock_guard lock(mutex_);
  Summary s;
  s.name = name_;
  s.items = items_;
  s.calls = calls_;
  s.busy_s = busy_;
  s.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  s.items_per_s = s.wall_s > 0 ? static_cast<double>(items_) / s.wall_s : 0;
  s.latency_p50_ms = latencies_.empty() ? 0 : percentile(latencies_, 0.5) * 1e3;
  s.latency_p95_ms = latencies_.empty() ? 0 : percentile(latencies_, 0.95) * 1e3;
  if (!ages_.empty()) {
    s.age_p50_ms = percentile(ages_, 0.5) * 1e3;
    s.age_p95_ms = percentile(ages_, 0.95) * 1e3;
  }
  s.queue_max_depth = max_depth_;
  s.queue_capacity = capacity_;
  s.dropped = dropped_;
  return s;
}

std::string StageMetrics::json() const {
  const Summary s = summary();
  nlohmann::ordered_json j{{"stage", s.name},
                           {"items", s.items},
                           {"calls", s.calls},
                           {"items_per_s", s.items_per_s},
                           {"busy_s", s.busy_s},
                           {"latency_ms", {{"p50", s.latency_p50_ms}, {"p95", s.latency_p95_ms}}},
                           {"queue", {{"max_depth", s.queue_max_depth}, {"capacity", s.queue_capacity}}},
                           {"dropped", s.dropped}};
  if (s.age_p50_ms >= 0) j["frame_age_ms"] = {{"p50", s.age_p50_ms}, {"p95", s.age_p95_ms}};
  return json_text(j);
}

std::string StageMetrics::line() const {
  const Summary s = summary();
  char buf[256];
  std::snprintf(buf, sizeof buf, "%-8s %7lld rows %8.1f/s  busy %6.1f s  p50 %7.1f ms  p95 %7.1f ms  queue %zu/%zu  dropped %lld",
                s.name.c_str(), static_cast<long long>(s.items), s.items_per_s, s.busy_s, s.latency_p50_ms,
                s.latency_p95_ms, s.queue_max_depth, s.queue_capacity, static_cast<long long>(s.dropped));
  return buf;
}

}  // namespace framepipe
