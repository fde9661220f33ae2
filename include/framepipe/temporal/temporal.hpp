// From answers per frame (or clip) to answers over time: smoothed class scores, events with
// a start and an end, and object tracks with stable ids.
//
//   framepipe::ScoreSmoother smooth(framepipe::Aggregate::Ema, 5, 0.3f);
//   framepipe::SegmentBuilder events({0.6f, 0.4f, 1.0}, spec.labels);
//   framepipe::Tracker tracker;
//   for (each prediction p at time t of frame i) {
//     auto s = smooth.push(p.scores);
//     for (auto& e : events.push(t, i, s)) write(e);        // events that just ended
//     auto tracked = tracker.update(p.objects);             // track_id set, boxes smoothed
//   }
//   for (auto& e : events.finish(t_end)) write(e);
#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <span>
#include <string>
#include <vector>

#include "framepipe/post/post.hpp"

namespace framepipe {

// ------------------------------------------------------------------ class scores over time
enum class Aggregate { None, Vote, Mean, Ema };
Aggregate parse_aggregate(const std::string& s);  // none | vote | mean | ema
const char* to_string(Aggregate a);

// One frame's (or clip's) class probabilities in, the smoothed ones out:
//   none  the input as it is
//   vote  the share of the last `window` inputs whose best class is each class (majority
//         vote: the answer's best class; ties go to the lower class index)
//   mean  the mean of the last `window` inputs (mean of softmax)
//   ema   s_t = alpha * p_t + (1 - alpha) * s_{t-1}, with s_0 = p_0
class ScoreSmoother {
 public:
  explicit ScoreSmoother(Aggregate mode = Aggregate::None, int window = 5, float alpha = 0.3f);
  std::vector<float> push(std::span<const float> probs);
  void reset();
  Aggregate mode() const { return mode_; }

 private:
  Aggregate mode_;
  size_t window_;
  float alpha_;
  std::deque<std::vector<float>> recent_;
  std::vector<float> state_;
};

// ------------------------------------------------------------------ events
struct Segment {
  int cls = 0;
  std::string label;
  double start = 0, end = 0;  // seconds: the first sample at or above `on`, the first below `off`
  float score = 0;            // mean score of the samples inside
  int64_t first_frame = -1, last_frame = -1;
};

struct SegmentOptions {
  float on = 0.6f;            // an event of a class opens when its score reaches this
  float off = 0.4f;           // and closes when the score falls below this (hysteresis)
  double min_duration = 0.0;  // seconds; shorter events are dropped
};

// Hysteresis segmentation, each class on its own. Samples must come in time order.
class SegmentBuilder {
 public:
  SegmentBuilder(SegmentOptions options, std::vector<std::string> labels = {});
  // One sample; returns the events this sample closed.
  std::vector<Segment> push(double t, int64_t frame, std::span<const float> scores);
  // The end of the stream at t_end (last sample's t plus its duration): closes what is open.
  std::vector<Segment> finish(double t_end);

 private:
  struct Open {
    bool active = false;
    double start = 0;
    double sum = 0;
    int64_t count = 0, first_frame = -1, last_frame = -1;
  };
  std::vector<Segment> close(size_t cls, double end);
  SegmentOptions opt_;
  std::vector<std::string> labels_;
  std::vector<Open> open_;
};

// Temporal NMS: best score first, a segment is dropped when it overlaps a kept one of the
// same label by temporal IoU > threshold. Returned sorted by start.
std::vector<Segment> temporal_nms(std::vector<Segment> segments, double iou_threshold);

// ------------------------------------------------------------------ tracks
struct TrackerOptions {
  float high = 0.5f;           // stage 1: detections scoring at least this, against every track
  float low = 0.1f;            // stage 2: detections in [low, high), against tracks seen last frame
  float new_track = 0.6f;      // an unmatched stage-1 detection starts a track from this score
  float match_iou = 0.2f;      // stage 1: least IoU with a track's predicted box
  float low_match_iou = 0.5f;  // stage 2: least IoU
  int max_lost = 30;           // frames a track lives unseen (occlusion), moving as predicted
  float smoothing = 0.6f;      // weight of a new measurement in the track's box (1: none)
  bool class_aware = true;     // a track only takes detections of its own class
};

// ByteTrack's two-stage association: confident detections are matched first to every track
// (optimal assignment on IoU with each track's predicted box), then the weak ones rescue
// tracks that stage 1 left unmatched, so a person half-hidden keeps their id instead of
// spawning a new one. Each track's box follows an alpha-beta filter (constant velocity):
// predicted forward every frame, corrected by its measurement with weight `smoothing`.
// Lost tracks keep moving as predicted for up to max_lost frames, which carries ids through
// short occlusions and crossings.
class Tracker {
 public:
  explicit Tracker(TrackerOptions options = {});
  // One frame's detections in; the detections that belong to a track out, in input order,
  // each with its track id and its smoothed box. Unmatched weak detections are left out; no
  // box is invented for a track that was not seen.
  std::vector<Detection> update(const std::vector<Detection>& detections);
  size_t live_tracks() const { return tracks_.size(); }

 private:
  struct Track {
    int64_t id;
    int cls;
    std::array<double, 4> box, velocity{};
    int lost = 0;  // frames since last matched
  };
  TrackerOptions opt_;
  std::vector<Track> tracks_;
  int64_t next_id_ = 1;
};

// Optimal one-to-one assignment maximising total IoU (Hungarian algorithm); pairs below
// min_iou are not matched. Returns, for each of `rows`, the matched column or -1.
std::vector<int> assign_by_iou(const std::vector<std::array<double, 4>>& rows,
                               const std::vector<std::array<double, 4>>& cols, double min_iou,
                               const std::vector<std::vector<bool>>* allowed = nullptr);

}  // namespace framepipe
