#include "reader/read_plan.hpp"

#include <algorithm>

namespace framepipe::plan {

bool decodes_forward(const FrameIndex& index, const Position& at, int64_t t, bool key_only) {
  const bool by_pts = index.timestamps_reliable();
  const int64_t group = by_pts ? index.keyframe_at_or_before(t) : -1;
  if (at.cursor < 0 || at.cursor >= t || at.skipped_pts) return at.fresh && group <= 0;
  if (!by_pts) return true;
  if (key_only) {
    if (index.keyframe_at_or_before(t - 1) > at.cursor) return false;
    return !(index[t].open_gop && at.cursor + 1 < t);
  }
  return group - (at.cursor + 1) <= at.in_flight;
}

int64_t seek_start(const FrameIndex& index, int64_t group, bool key_only) {
  if (group > 0 && !key_only && index[group].open_gop)
    return std::max<int64_t>(index.keyframe_at_or_before(group - 1), 0);
  return group;
}

std::vector<Range> split_runs(const FrameIndex& index, const std::vector<int64_t>& targets, bool keys) {
  std::vector<Range> runs;
  for (size_t k = 0; k < targets.size(); ++k) {
    bool fresh_run = runs.empty();
    if (!fresh_run) {
      const int64_t t = targets[k], prev = targets[k - 1];
      const int64_t key = index.keyframe_at_or_before(t);
      fresh_run = keys ? index.keyframe_at_or_before(t - 1) > prev
                       : key > prev && (key - (prev + 1) > kWorkerDepth || !index[key].open_gop);
    }
    if (fresh_run) runs.emplace_back(k, k);
    runs.back().second = k + 1;
  }
  return runs;
}

std::vector<Range> key_segments(const FrameIndex& index, const std::vector<int64_t>& targets, bool keys) {
  std::vector<Range> segments;
  for (size_t begin = 0, end = 0; begin < targets.size(); begin = end) {
    end = begin + 1;
    while (end < targets.size() && !(keys && index[targets[end]].open_gop)) ++end;
    segments.emplace_back(begin, end);
  }
  return segments;
}

std::optional<RunPlan> assign_runs(const FrameIndex& index, const std::vector<int64_t>& targets,
                                   const std::vector<Range>& runs, const std::vector<int64_t>& positions) {
  const size_t workers = positions.size();
  RunPlan plan{std::vector<std::vector<size_t>>(workers), {}, std::vector<int64_t>(workers, 0)};
  std::vector<int64_t> pos = positions;
  std::vector<int64_t> cost(runs.size(), 0);
  for (size_t r = 0; r < runs.size(); ++r) {
    const int64_t first = targets[runs[r].first], last = targets[runs[r].second - 1];
    const int64_t key = std::max<int64_t>(index.keyframe_at_or_before(first), 0);
    size_t pick = workers;
    for (size_t w = 0; w < workers; ++w)
      if (pos[w] >= 0 && pos[w] < first && (key <= pos[w] || key - (pos[w] + 1) <= kWorkerDepth)) pick = w;
    if (pick < workers) {
      plan.pinned[pick].push_back(r);
      plan.load[pick] += last - pos[pick];
      pos[pick] = last;
    } else {
      cost[r] = last - key + 1;
      plan.shared.push_back(r);
    }
  }
  std::stable_sort(plan.shared.begin(), plan.shared.end(), [&](size_t a, size_t b) { return cost[a] > cost[b]; });
  std::vector<int64_t> load = plan.load;  // as the free workers will take them, by estimate
  for (size_t r : plan.shared) *std::min_element(load.begin(), load.end()) += cost[r];
  int64_t total = 0, most = 0;
  for (int64_t l : load) {
    total += l;
    most = std::max(most, l);
  }
  if (most * 5 > total * 4) return std::nullopt;
  plan.load = std::move(load);
  return plan;
}

}  // namespace framepipe::plan
