#include "framepipe/temporal/temporal.hpp"

#include <algorithm>
#include <limits>

#include "common/named_enum.hpp"
#include "framepipe/error.hpp"
#include "common/words.hpp"

namespace framepipe {

namespace {
constexpr std::array<std::pair<const char*, Aggregate>, 4> kAggregate{
    {{"none", Aggregate::None}, {"vote", Aggregate::Vote}, {"mean", Aggregate::Mean}, {"ema", Aggregate::Ema}}};
}  // namespace

Aggregate parse_aggregate(const std::string& s) { return detail::parse_enum(s, kAggregate, "aggregation"); }
const char* to_string(Aggregate a) { return detail::enum_name(a, kAggregate); }

// ------------------------------------------------------------------ ScoreSmoother
ScoreSmoother::ScoreSmoother(Aggregate mode, int window, float alpha)
    : mode_(mode), window_(static_cast<size_t>(std::max(1, window))), alpha_(alpha) {
  if ((mode == Aggregate::Vote || mode == Aggregate::Mean) && window < 1)
    throw ConfigError("aggregation window must be at least 1, not " + std::to_string(window));
  if (mode == Aggregate::Ema && !(alpha > 0.f && alpha <= 1.f))
    throw ConfigError("EMA alpha must be in (0, 1], not " + number_text(alpha));
}

void ScoreSmoother::reset() {
  recent_.clear();
  state_.clear();
}

std::vector<float> ScoreSmoother::push(std::span<const float> probs) {
  std::vector<float> p(probs.begin(), probs.end());
  if (!state_.empty() && state_.size() != p.size())
    throw ConfigError("score smoothing: " + std::to_string(p.size()) + " classes after " +
                      std::to_string(state_.size()));
  switch (mode_) {
    case Aggregate::None: state_ = p; return p;
    case Aggregate::Ema:
      if (state_.empty()) {
        state_ = p;
      } else {
        for (size_t c = 0; c < p.size(); ++c) state_[c] = alpha_ * p[c] + (1.f - alpha_) * state_[c];
      }
      return state_;
    case Aggregate::Vote:
    case Aggregate::Mean: {
      if (mode_ == Aggregate::Vote) {  // keep a one-hot of the best class
        auto best = static_cast<size_t>(std::max_element(p.begin(), p.end()) - p.begin());
        std::fill(p.begin(), p.end(), 0.f);
        if (!p.empty()) p[best] = 1.f;
      }
      recent_.push_back(std::move(p));
      if (recent_.size() > window_) recent_.pop_front();
      state_.assign(recent_.back().size(), 0.f);
      for (const auto& r : recent_)
        for (size_t c = 0; c < r.size(); ++c) state_[c] += r[c];
      for (float& v : state_) v /= static_cast<float>(recent_.size());
      return state_;
    }
  }
  return state_;
}

// ------------------------------------------------------------------ SegmentBuilder
SegmentBuilder::SegmentBuilder(SegmentOptions options, std::vector<std::string> labels)
    : opt_(options), labels_(std::move(labels)) {
  if (opt_.off > opt_.on)
    throw ConfigError("segments: the closing threshold (" + std::to_string(opt_.off) +
                      ") must not exceed the opening one (" + std::to_string(opt_.on) + ")");
}

std::vector<Segment> SegmentBuilder::close(size_t cls, double end) {
  Open& o = open_[cls];
  std::vector<Segment> out;
  if (o.active && end - o.start >= opt_.min_duration) {
    Segment s;
    s.cls = static_cast<int>(cls);
    s.label = label_name(labels_, static_cast<int64_t>(cls));
    s.start = o.start;
    s.end = end;
    s.score = static_cast<float>(o.sum / static_cast<double>(std::max<int64_t>(1, o.count)));
    s.first_frame = o.first_frame;
    s.last_frame = o.last_frame;
    out.push_back(std::move(s));
  }
  o = Open{};
  return out;
}

std::vector<Segment> SegmentBuilder::push(double t, int64_t frame, std::span<const float> scores) {
  if (open_.size() < scores.size()) open_.resize(scores.size());
  std::vector<Segment> closed;
  for (size_t c = 0; c < scores.size(); ++c) {
    Open& o = open_[c];
    const float s = scores[c];
    if (o.active && s < opt_.off) {
      for (auto& seg : close(c, t)) closed.push_back(std::move(seg));
    }
    if (!o.active && s >= opt_.on) {
      o.active = true;
      o.start = t;
      o.first_frame = frame;
    }
    if (o.active) {
      o.sum += s;
      ++o.count;
      o.last_frame = frame;
    }
  }
  return closed;
}

std::vector<Segment> SegmentBuilder::finish(double t_end) {
  std::vector<Segment> closed;
  for (size_t c = 0; c < open_.size(); ++c)
    for (auto& seg : close(c, t_end)) closed.push_back(std::move(seg));
  return closed;
}

std::vector<Segment> temporal_nms(std::vector<Segment> segments, double iou_threshold) {
  std::stable_sort(segments.begin(), segments.end(), [](const Segment& a, const Segment& b) { return a.score > b.score; });
  std::vector<Segment> kept;
  for (auto& s : segments) {
    bool keep = true;
    for (const auto& k : kept) {
      if (k.label != s.label) continue;
      const double inter = std::min(k.end, s.end) - std::max(k.start, s.start);
      const double uni = std::max(k.end, s.end) - std::min(k.start, s.start);
      if (inter > 0 && uni > 0 && inter / uni > iou_threshold) {
        keep = false;
        break;
      }
    }
    if (keep) kept.push_back(std::move(s));
  }
  std::stable_sort(kept.begin(), kept.end(), [](const Segment& a, const Segment& b) { return a.start < b.start; });
  return kept;
}

// ------------------------------------------------------------------ assignment
std::vector<int> assign_by_iou(const std::vector<std::array<double, 4>>& rows,
                               const std::vector<std::array<double, 4>>& cols, double min_iou,
                               const std::vector<std::vector<bool>>* allowed) {
  const size_t nr = rows.size(), nc = cols.size();
  std::vector<int> match(nr, -1);
  if (nr == 0 || nc == 0) return match;
  // Hungarian algorithm (shortest augmenting paths with potentials) on cost 1 - IoU, over a
  // square n x n matrix; pairs that may not match cost kBlocked and are dropped afterwards.
  constexpr double kBlocked = 1e6;
  const size_t n = std::max(nr, nc);
  std::vector<std::vector<double>> cost(n + 1, std::vector<double>(n + 1, kBlocked));
  for (size_t i = 0; i < nr; ++i)
    for (size_t j = 0; j < nc; ++j) {
      if (allowed && !(*allowed)[i][j]) continue;
      const double v = iou(rows[i], cols[j]);
      if (v >= min_iou && v > 0) cost[i + 1][j + 1] = 1.0 - v;
    }
  const double inf = std::numeric_limits<double>::infinity();
  std::vector<double> u(n + 1, 0), v(n + 1, 0), minv(n + 1);
  std::vector<size_t> p(n + 1, 0), way(n + 1, 0);  // p[j]: row matched to column j (1-based)
  for (size_t i = 1; i <= n; ++i) {
    p[0] = i;
    size_t j0 = 0;
    std::fill(minv.begin(), minv.end(), inf);
    std::vector<bool> used(n + 1, false);
    do {
      used[j0] = true;
      const size_t i0 = p[j0];
      double delta = inf;
      size_t j1 = 0;
      for (size_t j = 1; j <= n; ++j) {
        if (used[j]) continue;
        const double cur = cost[i0][j] - u[i0] - v[j];
        if (cur < minv[j]) minv[j] = cur, way[j] = j0;
        if (minv[j] < delta) delta = minv[j], j1 = j;
      }
      for (size_t j = 0; j <= n; ++j) {
        if (used[j]) {
          u[p[j]] += delta;
          v[j] -= delta;
        } else {
          minv[j] -= delta;
        }
      }
      j0 = j1;
    } while (p[j0] != 0);
    do {
      const size_t j1 = way[j0];
      p[j0] = p[j1];
      j0 = j1;
    } while (j0 != 0);
  }
  for (size_t j = 1; j <= n; ++j) {
    const size_t i = p[j];
    if (i >= 1 && i <= nr && j <= nc && cost[i][j] < kBlocked) match[i - 1] = static_cast<int>(j - 1);
  }
  return match;
}

// ------------------------------------------------------------------ Tracker
Tracker::Tracker(TrackerOptions options) : opt_(options) {
  if (!(opt_.smoothing > 0.f && opt_.smoothing <= 1.f))
    throw ConfigError("tracker smoothing must be in (0, 1], not " + number_text(opt_.smoothing));
  if (opt_.low > opt_.high) throw ConfigError("tracker: the low threshold must not exceed the high one");
}

std::vector<Detection> Tracker::update(const std::vector<Detection>& dets) {
  // Predict: every track moves by its velocity.
  std::vector<std::array<double, 4>> predicted(tracks_.size());
  for (size_t k = 0; k < tracks_.size(); ++k)
    for (int c = 0; c < 4; ++c) predicted[k][static_cast<size_t>(c)] = tracks_[k].box[c] + tracks_[k].velocity[c];

  std::vector<size_t> high, low;
  for (size_t i = 0; i < dets.size(); ++i) {
    if (dets[i].score >= opt_.high) high.push_back(i);
    else if (dets[i].score >= opt_.low) low.push_back(i);
  }
  std::vector<int> track_of(dets.size(), -1);   // detection -> track
  std::vector<bool> matched(tracks_.size(), false);

  auto associate = [&](const std::vector<size_t>& track_ids, const std::vector<size_t>& det_ids, double min_iou) {
    std::vector<std::array<double, 4>> tb, db;
    for (size_t k : track_ids) tb.push_back(predicted[k]);
    for (size_t i : det_ids) db.push_back(dets[i].box);
    std::vector<std::vector<bool>> allowed(track_ids.size(), std::vector<bool>(det_ids.size(), true));
    if (opt_.class_aware)
      for (size_t a = 0; a < track_ids.size(); ++a)
        for (size_t b = 0; b < det_ids.size(); ++b) allowed[a][b] = tracks_[track_ids[a]].cls == dets[det_ids[b]].cls;
    std::vector<int> m = assign_by_iou(tb, db, min_iou, &allowed);
    for (size_t a = 0; a < m.size(); ++a) {
      if (m[a] < 0) continue;
      matched[track_ids[a]] = true;
      track_of[det_ids[static_cast<size_t>(m[a])]] = static_cast<int>(track_ids[a]);
    }
  };

  // Stage 1: confident detections against every track, lost ones included.
  std::vector<size_t> all(tracks_.size());
  for (size_t k = 0; k < all.size(); ++k) all[k] = k;
  associate(all, high, opt_.match_iou);
  // Stage 2: weak detections against tracks seen last frame that stage 1 left unmatched.
  std::vector<size_t> remaining;
  for (size_t k = 0; k < tracks_.size(); ++k)
    if (!matched[k] && tracks_[k].lost == 0) remaining.push_back(k);
  associate(remaining, low, opt_.low_match_iou);

  // Correct matched tracks (alpha-beta filter); age the others.
  const double a = opt_.smoothing, b = a * a / (2.0 - a);  // critically damped gain pair
  for (size_t i = 0; i < dets.size(); ++i) {
    if (track_of[i] < 0) continue;
    Track& t = tracks_[static_cast<size_t>(track_of[i])];
    const auto& pred = predicted[static_cast<size_t>(track_of[i])];
    for (size_t c = 0; c < 4; ++c) {
      const double r = dets[i].box[c] - pred[c];
      t.box[c] = pred[c] + a * r;
      t.velocity[c] += b * r;
    }
    t.lost = 0;
  }
  for (size_t k = 0; k < tracks_.size(); ++k) {
    if (matched[k]) continue;
    tracks_[k].box = predicted[k];
    ++tracks_[k].lost;
  }
  // New tracks from confident detections nobody claimed.
  for (size_t i : high) {
    if (track_of[i] >= 0 || dets[i].score < opt_.new_track) continue;
    tracks_.push_back(Track{next_id_++, dets[i].cls, dets[i].box, {}, 0});
    track_of[i] = static_cast<int>(tracks_.size() - 1);
  }

  std::vector<Detection> out;
  for (size_t i = 0; i < dets.size(); ++i) {
    if (track_of[i] < 0) continue;
    const Track& t = tracks_[static_cast<size_t>(track_of[i])];
    Detection d = dets[i];
    d.track_id = t.id;
    d.box = t.box;
    out.push_back(std::move(d));
  }
  std::erase_if(tracks_, [&](const Track& t) { return t.lost > opt_.max_lost; });
  return out;
}

}  // namespace framepipe
