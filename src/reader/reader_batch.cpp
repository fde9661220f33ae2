// Batches: the targets sorted and de-duplicated, split into runs that one decoder reads
// forward, and runs in separate keyframe groups decoded at once on the worker pool.
#include "reader/reader_impl.hpp"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <numeric>

namespace framepipe {

void VideoReader::Impl::frames_into(const std::vector<int64_t>& indices, uint8_t* out, FrameInfo* info_out) {
  for (int64_t i : indices) check_index(i);
  std::vector<size_t> order(indices.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return indices[a] < indices[b]; });
  const size_t fb = frame_bytes();
  std::vector<Target> targets;
  std::vector<std::pair<size_t, size_t>> copies;  // (slot, first slot of the same frame)
  size_t first = 0;
  for (size_t k : order) {
    if (!targets.empty() && targets.back().index == indices[k]) {
      copies.emplace_back(k, first);
      continue;
    }
    first = k;
    targets.push_back(Target{indices[k], out + k * fb, info_out ? info_out + k : nullptr});
  }
  decode_targets(targets);
  for (auto [k, from] : copies) {
    std::memcpy(out + k * fb, out + from * fb, fb);
    if (info_out) info_out[k] = info_out[from];
  }
}

void VideoReader::Impl::for_each(const std::vector<int64_t>& indices, const std::function<void(const Frame&)>& fn,
                                 bool concurrent) {
  for (int64_t i : indices) check_index(i);
  std::vector<int64_t> sorted = indices;
  std::sort(sorted.begin(), sorted.end());
  sorted.erase(std::unique(sorted.begin(), sorted.end()), sorted.end());
  std::vector<Target> targets;
  targets.reserve(sorted.size());
  for (int64_t i : sorted) targets.push_back(Target{i, nullptr, nullptr});
  Sink sink{fn, concurrent, this, {}, {}, nullptr};
  try {
    decode_targets(targets, &sink);
  } catch (...) {
    if (sink.error) std::rethrow_exception(sink.error);  // not another worker's Stopped
    throw;
  }
}

void FrameCursor::Sink::hand_over(const Frame& f) {
  std::unique_lock lock(mu);
  if (error) throw Stopped{};
  if (!done.insert(f.info.index).second) return;
  if (concurrent) lock.unlock();
  struct Serving {
    const void* before = serving_fn;
    explicit Serving(const void* r) { serving_fn = r; }
    ~Serving() { serving_fn = before; }
  } serving(reader);
  try {
    fn(f);
  } catch (...) {
    if (!lock.owns_lock()) lock.lock();
    if (!error) error = std::current_exception();
    throw;
  }
}

void VideoReader::Impl::decode_targets(const std::vector<Target>& targets, Sink* sink) {
  if (targets.empty()) return;
  const bool keys = index->timestamps_reliable() && index->source_pts_rise() &&
                    std::all_of(targets.begin(), targets.end(), [&](const Target& t) { return (*index)[t.index].keyframe; });
  if (pool_allowed()) {
    std::vector<int64_t> wanted(targets.size());
    std::transform(targets.begin(), targets.end(), wanted.begin(), [](const Target& t) { return t.index; });
    std::vector<std::vector<Target>> runs;
    for (auto [begin, end] : plan::split_runs(*index, wanted, keys))
      runs.emplace_back(targets.begin() + static_cast<std::ptrdiff_t>(begin),
                        targets.begin() + static_cast<std::ptrdiff_t>(end));
    try {
      if (runs.size() >= 2 && decode_runs_parallel(runs, sink)) return;
    } catch (const DamagedRun&) {
      for (const auto& w : pool)
        if (w) damaged_keys.insert(w->damaged_keys.begin(), w->damaged_keys.end());
    }
  }
  decode_serial(targets, keys, sink);
}

void FrameCursor::decode_serial(const std::vector<Target>& targets, bool keys, Sink* sink) {
  const bool damaged = std::any_of(targets.begin(), targets.end(), [&](const Target& t) {
    return (*index)[t.index].damaged || damaged_keys.count(index->keyframe_at_or_before(t.index));
  });
  const bool skip = index->timestamps_reliable() && index->source_pts_rise() && !damaged;
  if (sink) shape(handed);
  // Key frames only: each open GOP's keyframe starts a stretch of its own, reached by a seek
  // (plan::decodes_forward): were it wanted with the keyframes before it, the decoder would be
  // fed it right after them, skipping the references between, and put it out of order
  // (x264 open_gop, keyframes 0 and 50: 50 came out first).
  std::vector<int64_t> indices(targets.size());
  std::transform(targets.begin(), targets.end(), indices.begin(), [](const Target& t) { return t.index; });
  for (auto [begin, end] : plan::key_segments(*index, indices, keys)) {
    std::vector<int64_t> wanted;
    if (skip)
      for (size_t k = begin; k < end; ++k) wanted.push_back((*index)[targets[k].index].source_pts);
    std::sort(wanted.begin(), wanted.end());
    std::optional<WantedScope> scope;
    if (!wanted.empty()) scope.emplace(*this, &wanted, keys);
    for (size_t k = begin; k < end; ++k) {
      const Target& t = targets[k];
      if (sink && sink->handed_out(t.index)) continue;
      goto_frame(t.index);
      if (!sink) {
        convert_current(t.pixels);
        if (t.info) *t.info = current_info();
        continue;
      }
      convert_current(handed.data());
      handed.info = current_info();
      sink->hand_over(handed);
    }
  }
}

int VideoReader::Impl::pool_size() const {
  if (opt.workers > 0) return opt.workers;
  return static_cast<int>(std::clamp<unsigned>(std::thread::hardware_concurrency(), 1, 8));
}

bool VideoReader::Impl::pool_allowed() const {
  return pool_size() > 1 && index && index->timestamps_reliable() && !index->any_damaged() && damaged_keys.empty() &&
         !demux->live();
}

auto VideoReader::Impl::assign_runs(const std::vector<std::vector<Target>>& runs, size_t workers) const
    -> std::optional<RunPlan> {
  std::vector<int64_t> targets;
  std::vector<plan::Range> ranges;
  for (const auto& run : runs) {
    ranges.emplace_back(targets.size(), targets.size() + run.size());
    for (const Target& t : run) targets.push_back(t.index);
  }
  std::vector<int64_t> positions(workers, -1);
  for (size_t w = 0; w < workers; ++w)
    if (const FrameCursor* m = member(w); m && m->have_cur && m->cursor_known && !m->dec->skipped_pending())
      positions[w] = m->cursor;
  return plan::assign_runs(*index, targets, ranges, positions);
}

namespace {

// When the last of these loads ends on `cores` cores shared evenly among the unfinished ones.
double shared_finish(std::vector<int64_t> loads, size_t cores) {
  std::sort(loads.begin(), loads.end());
  double t = 0, done = 0;
  size_t left = loads.size();
  for (int64_t l : loads) {
    t += (static_cast<double>(l) - done) / std::min(1.0, static_cast<double>(cores) / static_cast<double>(left));
    done = static_cast<double>(l);
    --left;
  }
  return t;
}

}  // namespace

bool VideoReader::Impl::decode_runs_parallel(const std::vector<std::vector<Target>>& runs, Sink* sink) {
  const auto cores = static_cast<size_t>(pool_size());
  size_t workers = std::min(runs.size(), cores);
  std::optional<RunPlan> plan = assign_runs(runs, workers);
  if (!plan) return false;
  // A few long runs do not split evenly over the cores (three keyframe groups on two: one
  // core decodes two of them while the other waits). More workers than cores, up to twice as
  // many, then share the cores as the system schedules them. The rule, unless the caller
  // fixed the number of workers: where the busiest worker's planned share is over 1.15 of an
  // even split (many runs, which the free workers take as they come, end closer to even than
  // planned: 14 clip groups planned 355/404 frames gain nothing from more workers and cost 8%
  // more CPU), the fewest workers whose plan, with the cores shared evenly among the
  // unfinished ones, ends within 5% of an even split; else the one that ends first. Each
  // worker costs CPU (its setup and first pictures, ~20 ms at 1080p, and decoders at once in
  // one process run a few % slower): x264-default every:30, 4 groups planned 272/452,
  // 3 workers 1.13 s, 4 workers 1.14 s, 2 workers 1.31 s (medians of 10 runs).
  if (opt.workers <= 0 && runs.size() > workers) {
    const int64_t total = std::accumulate(plan->load.begin(), plan->load.end(), int64_t{0});
    const double even = static_cast<double>(total) / static_cast<double>(cores);
    double best = shared_finish(plan->load, cores);
    const bool uneven = best > 1.15 * even;
    for (size_t w = workers + 1; uneven && best > 1.05 * even && w <= std::min(runs.size(), 2 * cores); ++w) {
      std::optional<RunPlan> wide = assign_runs(runs, w);
      if (!wide) continue;
      const double end = shared_finish(wide->load, cores);
      if (end < best) {
        best = end;
        plan = std::move(wide);
        workers = w;
      }
    }
  }
  // Members are opened by the workers that use them, at once (an open reads the container's
  // header, and probes the streams, ~15 ms of 1080p, where it cannot copy the owner's probe).
  const size_t first_member = pool_only() ? 0 : 1;
  if (pool.size() + first_member < workers) pool.resize(workers - first_member);
  std::shared_ptr<const FrameIndex> known;  // one copy of the index for every member to open
  std::shared_ptr<const ProbedStreams> probe;  // and what they need not probe again
  if (std::any_of(pool.begin(), pool.end(), [](const std::unique_ptr<FrameCursor>& m) { return !m; })) {
    known = std::make_shared<const FrameIndex>(*index);
    probe = demux->probed();
  }
  if (!threads || threads->size() + 1 < workers) threads = std::make_unique<WorkerPool>(workers - 1);
  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  std::vector<std::function<void()>> tasks;
  for (size_t w = 0; w < workers; ++w) {
    tasks.emplace_back([this, w, first_member, sink, &known, &probe, &runs, &plan, &next, &failed] {
      if (w >= first_member && !pool[w - first_member]) {
        ReaderOptions o = opt;
        o.threads = 1;
        o.workers = 1;
        o.index = IndexMode::Exact;
        o.known_index = known;
        auto m = std::make_unique<FrameCursor>(source, o, probe);
        m->in_pool = true;
        pool[w - first_member] = std::move(m);
      }
      auto decode = [&](size_t r) {
        const bool keys = std::all_of(runs[r].begin(), runs[r].end(),
                                      [&](const Target& t) { return (*index)[t.index].keyframe; });
        // Not member(w): that asks this reader's decoder, which worker 0 may be replacing.
        FrameCursor* self = w < first_member ? this : pool[w - first_member].get();
        self->decode_serial(runs[r], keys, sink);
      };
      try {
        for (size_t r : plan->pinned[w]) decode(r);
        for (size_t k; !failed.load() && (k = next.fetch_add(1)) < plan->shared.size();) decode(plan->shared[k]);
      } catch (...) {
        failed = true;  // the others stop taking runs
        throw;
      }
    });
  }
  threads->run(std::move(tasks), plan->load);
  parallel_runs.fetch_add(static_cast<int64_t>(runs.size()), std::memory_order_relaxed);
  return true;
}

}  // namespace framepipe
