// post/ and temporal/ against answers worked out by hand (the arithmetic is in the comments).
#include <gtest/gtest.h>

#include <cmath>

#include "framepipe/error.hpp"
#include "framepipe/image/geometry.hpp"
#include "framepipe/post/post.hpp"
#include "framepipe/temporal/temporal.hpp"

using namespace framepipe;

namespace {
Detection det(double x1, double y1, double x2, double y2, float score, int cls = 0) {
  Detection d;
  d.box = {x1, y1, x2, y2};
  d.score = score;
  d.cls = cls;
  return d;
}
void expect_box(const std::array<double, 4>& got, const std::array<double, 4>& want, double tol = 1e-6) {
  for (size_t i = 0; i < 4; ++i) EXPECT_NEAR(got[i], want[i], tol) << "coordinate " << i;
}
}  // namespace

// ------------------------------------------------------------------ classification
TEST(Classify, SoftmaxOfKnownLogits) {
  // e^0 : e^1 : e^2 = 1 : 2.71828 : 7.38906, sum 11.10734.
  auto p = softmax(std::vector<float>{0.f, 1.f, 2.f});
  EXPECT_NEAR(p[0], 0.0900306, 1e-6);
  EXPECT_NEAR(p[1], 0.2447285, 1e-6);
  EXPECT_NEAR(p[2], 0.6652410, 1e-6);
  // Large logits do not overflow: the maximum is subtracted first.
  auto q = softmax(std::vector<float>{1000.f, 1000.f});
  EXPECT_FLOAT_EQ(q[0], 0.5f);
}

TEST(Classify, TopKBestFirstWithLabelsAndStableTies) {
  auto top = top_k(std::vector<float>{0.1f, 0.4f, 0.1f, 0.4f}, 3, {"a", "b", "c", "d"});
  ASSERT_EQ(top.size(), 3u);
  EXPECT_EQ(top[0].label, "b");  // tie with d: the lower index first
  EXPECT_EQ(top[1].label, "d");
  EXPECT_EQ(top[2].label, "a");
  EXPECT_EQ(top_k(std::vector<float>{1.f, 2.f}, 0).size(), 2u);
  EXPECT_EQ(top_k(std::vector<float>{1.f, 2.f}, 5)[0].label, "class 1");
}

TEST(Embed, L2NormalizeGivesUnitLength) {
  std::vector<float> v{3.f, 4.f};
  l2_normalize(v);
  EXPECT_FLOAT_EQ(v[0], 0.6f);
  EXPECT_FLOAT_EQ(v[1], 0.8f);
  std::vector<float> zero{0.f, 0.f};
  l2_normalize(zero);
  EXPECT_EQ(zero[0], 0.f);
}

// ------------------------------------------------------------------ detection
TEST(Detect, IouOfKnownBoxes) {
  // [0,0,10,10] and [5,0,15,10]: intersection 50, union 150.
  EXPECT_NEAR(iou({0, 0, 10, 10}, {5, 0, 15, 10}), 1.0 / 3, 1e-12);
  EXPECT_EQ(iou({0, 0, 10, 10}, {10, 0, 20, 10}), 0);  // touching edges
  EXPECT_EQ(iou({0, 0, 0, 10}, {0, 0, 10, 10}), 0);    // empty box
}

TEST(Detect, NmsIsClassWiseUnlessAgnostic) {
  // A and B overlap by IoU 81 / 119 = 0.68 > 0.45: B goes. C overlaps A as much, but is
  // another class. D overlaps nothing.
  std::vector<Detection> dets{det(0, 0, 10, 10, 0.9f, 0), det(1, 1, 11, 11, 0.8f, 0), det(1, 1, 11, 11, 0.7f, 1),
                              det(20, 20, 30, 30, 0.6f, 0)};
  EXPECT_EQ(nms(dets, 0.45f), (std::vector<size_t>{0, 2, 3}));
  EXPECT_EQ(nms(dets, 0.45f, true), (std::vector<size_t>{0, 3}));
  EXPECT_EQ(nms(dets, 0.7f), (std::vector<size_t>{0, 1, 2, 3}));  // 0.68 is under 0.7
  EXPECT_EQ(nms(dets, 0.45f, false, 2), (std::vector<size_t>{0, 2}));
}

TEST(Detect, DecodeYoloV5Layout) {
  // Two anchors, two classes: cx, cy, w, h, obj, c0, c1.
  const float rows[] = {50, 40, 20, 10, 0.9f, 0.2f, 0.8f,   // score 0.9 * 0.8 = 0.72, class 1
                        10, 10, 4, 4, 0.3f, 0.9f, 0.1f};    // 0.27 < 0.5: dropped
  auto d = decode_yolo(rows, 2, 7, DetectLayout::YoloV5, 0.5f, {"cat", "dog"});
  ASSERT_EQ(d.size(), 1u);
  expect_box(d[0].box, {40, 35, 60, 45});
  EXPECT_EQ(d[0].label, "dog");
  EXPECT_NEAR(d[0].score, 0.72f, 1e-6);
}

TEST(Detect, DecodeYoloV8LayoutIsTransposedWithoutObjectness) {
  // [4 + C, A] with A = 2: each row is one attribute over both anchors.
  const float cols[] = {50, 10,       // cx
                        40, 10,       // cy
                        20, 4,        // w
                        10, 4,        // h
                        0.6f, 0.1f,   // class 0
                        0.3f, 0.2f};  // class 1
  auto d = decode_yolo(cols, 2, 6, DetectLayout::YoloV8, 0.5f);
  ASSERT_EQ(d.size(), 1u);
  expect_box(d[0].box, {40, 35, 60, 45});
  EXPECT_EQ(d[0].cls, 0);
  EXPECT_FLOAT_EQ(d[0].score, 0.6f);
}

TEST(Detect, PostprocessMapsLetterboxedBoxesBackToSourcePixels) {
  // A 200x100 source letterboxed into 100x100: scale 0.5, 25 rows of padding above.
  ImageOptions o;
  o.width = o.height = 100;
  o.resize = ResizeMode::Letterbox;
  Geometry g = make_geometry(200, 100, o);
  ModelSpec spec;
  spec.name = "toy";
  spec.task = Task::Detect;
  spec.detect.layout = DetectLayout::YoloV5;
  spec.detect.conf = 0.5f;
  spec.labels = {"thing"};
  // One anchor at model (50, 50) of 20 x 10 -> [40, 45, 60, 55] -> source [80, 40, 120, 60].
  std::vector<NamedTensor> out(1);
  out[0].tensor = Tensor::allocate({1, 1, 6}, Layout::NCHW, DType::F32);
  const float row[] = {50, 50, 20, 10, 1.f, 0.9f};
  std::copy(row, row + 6, out[0].tensor.data_as<float>());
  auto preds = postprocess(spec, out, g);
  ASSERT_EQ(preds.size(), 1u);
  ASSERT_EQ(preds[0].objects.size(), 1u);
  expect_box(preds[0].objects[0].box, {80, 40, 120, 60});
}

TEST(Geometry, ResizeInversesRoundTrip) {
  const std::array<double, 4> box{30, 20, 90, 70};  // inside the centre of a 160x120 source
  for (auto mode : {ResizeMode::Stretch, ResizeMode::Letterbox, ResizeMode::Crop, ResizeMode::Short}) {
    ImageOptions o;
    o.width = 64;
    o.height = 48;
    if (mode == ResizeMode::Letterbox || mode == ResizeMode::Crop) o.height = 64;
    o.resize = mode;
    Geometry g = make_geometry(160, 120, o);
    expect_box(g.box_to_source(g.box_to_output(box)), box, 1e-9);
    auto p = g.to_source(g.to_output(123.5, 7.25)[0], g.to_output(123.5, 7.25)[1]);
    EXPECT_NEAR(p[0], 123.5, 1e-9) << to_string(mode);
    EXPECT_NEAR(p[1], 7.25, 1e-9) << to_string(mode);
  }
}

// ------------------------------------------------------------------ smoothing
TEST(Smooth, EmaByHand) {
  // alpha 0.5: [1,0] -> [1,0]; then 0.5*[0,1] + 0.5*[1,0] = [.5,.5]; then [.25,.75].
  ScoreSmoother s(Aggregate::Ema, 0, 0.5f);
  EXPECT_EQ(s.push(std::vector<float>{1, 0}), (std::vector<float>{1, 0}));
  EXPECT_EQ(s.push(std::vector<float>{0, 1}), (std::vector<float>{0.5f, 0.5f}));
  EXPECT_EQ(s.push(std::vector<float>{0, 1}), (std::vector<float>{0.25f, 0.75f}));
}

TEST(Smooth, MajorityVoteOverAWindow) {
  // Best classes 0, 1, 0 -> shares [2/3, 1/3]; then the window drops the first: 1, 0, 1.
  ScoreSmoother s(Aggregate::Vote, 3);
  s.push(std::vector<float>{0.9f, 0.1f});
  s.push(std::vector<float>{0.2f, 0.8f});
  auto v = s.push(std::vector<float>{0.6f, 0.4f});
  EXPECT_NEAR(v[0], 2.0 / 3, 1e-6);
  v = s.push(std::vector<float>{0.3f, 0.7f});
  EXPECT_NEAR(v[1], 2.0 / 3, 1e-6);
}

TEST(Smooth, MeanOfSoftmaxOverAWindow) {
  ScoreSmoother s(Aggregate::Mean, 2);
  s.push(std::vector<float>{0.9f, 0.1f});
  auto v = s.push(std::vector<float>{0.3f, 0.7f});  // (0.9 + 0.3) / 2
  EXPECT_NEAR(v[0], 0.6f, 1e-6);
  v = s.push(std::vector<float>{0.1f, 0.9f});  // (0.3 + 0.1) / 2
  EXPECT_NEAR(v[0], 0.2f, 1e-6);
  EXPECT_THROW(ScoreSmoother(Aggregate::Ema, 1, 0.f), ConfigError);
}

// ------------------------------------------------------------------ segments
TEST(Segments, HysteresisByHand) {
  // One class sampled at t = 0..9 s; on 0.6, off 0.4.
  const float score[] = {0.1f, 0.7f, 0.5f, 0.45f, 0.3f, 0.65f, 0.62f, 0.1f, 0.9f, 0.9f};
  // Opens at 1 (0.7), holds through 0.5 and 0.45 (>= off), closes at 4 (0.3): [1, 4), mean
  // (0.7 + 0.5 + 0.45) / 3 = 0.55. Reopens at 5, closes at 7: [5, 7), 0.635. Opens at 8,
  // closed by the end of the stream at 10: [8, 10), 0.9.
  SegmentBuilder b({0.6f, 0.4f, 0.0}, {"event"});
  std::vector<Segment> got;
  for (int t = 0; t < 10; ++t)
    for (auto& s : b.push(t, t, std::span<const float>(&score[t], 1))) got.push_back(s);
  for (auto& s : b.finish(10)) got.push_back(s);
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0].label, "event");
  EXPECT_DOUBLE_EQ(got[0].start, 1);
  EXPECT_DOUBLE_EQ(got[0].end, 4);
  EXPECT_NEAR(got[0].score, 0.55f, 1e-6);
  EXPECT_EQ(got[0].first_frame, 1);
  EXPECT_EQ(got[0].last_frame, 3);
  EXPECT_DOUBLE_EQ(got[1].start, 5);
  EXPECT_DOUBLE_EQ(got[1].end, 7);
  EXPECT_NEAR(got[1].score, 0.635f, 1e-6);
  EXPECT_DOUBLE_EQ(got[2].start, 8);
  EXPECT_DOUBLE_EQ(got[2].end, 10);

  // A minimum duration of 2.5 s keeps only the first (3 s); the others last 2 s.
  SegmentBuilder m({0.6f, 0.4f, 2.5}, {"event"});
  got.clear();
  for (int t = 0; t < 10; ++t)
    for (auto& s : m.push(t, t, std::span<const float>(&score[t], 1))) got.push_back(s);
  for (auto& s : m.finish(10)) got.push_back(s);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_DOUBLE_EQ(got[0].start, 1);
  EXPECT_THROW(SegmentBuilder({0.4f, 0.6f, 0.0}), ConfigError);
}

TEST(Segments, TemporalNmsKeepsTheBestOfOverlappingSameLabel) {
  auto seg = [](const char* label, double a, double b, float s) {
    Segment x;
    x.label = label;
    x.start = a;
    x.end = b;
    x.score = s;
    return x;
  };
  // [1, 9] inside [0, 10]: temporal IoU 8 / 10 = 0.8 > 0.5, dropped. [20, 30] and the other
  // label stay.
  auto kept = temporal_nms({seg("a", 1, 9, 0.8f), seg("a", 0, 10, 0.9f), seg("a", 20, 30, 0.5f), seg("b", 0, 10, 0.4f)},
                           0.5);
  ASSERT_EQ(kept.size(), 3u);
  EXPECT_EQ(kept[0].start, 0);
  EXPECT_EQ(kept[0].score, 0.9f);
  EXPECT_EQ(kept[1].label, "b");
  EXPECT_EQ(kept[2].start, 20);
}

// ------------------------------------------------------------------ tracking
TEST(Assign, MatchesAsManyPairsAsPossibleWhereGreedyWouldStrandOne) {
  // Row 0 overlaps column 0 best (IoU 0.82) and column 1 (0.43); row 1 overlaps only
  // column 0 (0.05). Greedy takes (0,0) and strands row 1; the assignment takes (0,1), (1,0).
  std::vector<std::array<double, 4>> rows{{0, 0, 10, 10}, {-8, 0, 2, 10}};
  std::vector<std::array<double, 4>> cols{{1, 0, 11, 10}, {4, 0, 14, 10}};
  EXPECT_EQ(assign_by_iou(rows, cols, 0.01), (std::vector<int>{1, 0}));
  EXPECT_EQ(assign_by_iou(rows, cols, 0.1), (std::vector<int>{0, -1}));  // row 1's 0.05 is too low
  EXPECT_EQ(assign_by_iou(rows, {}, 0.1), (std::vector<int>{-1, -1}));
}

TEST(Track, IdsSurviveTwoObjectsCrossing) {
  // A moves right and B left, 10 px a frame, 20 x 40 boxes, B 6 px lower; they pass through
  // each other around frame 10, overlapping for several frames.
  Tracker tracker;
  int64_t id_a = -1, id_b = -1;
  for (int f = 0; f <= 20; ++f) {
    const double xa = 10.0 * f, xb = 200.0 - 10.0 * f;
    auto out = tracker.update({det(xa, 0, xa + 20, 40, 0.9f), det(xb, 6, xb + 20, 46, 0.9f)});
    ASSERT_EQ(out.size(), 2u) << "frame " << f;
    if (f == 0) {
      id_a = out[0].track_id, id_b = out[1].track_id;
      EXPECT_NE(id_a, id_b);
    }
    EXPECT_EQ(out[0].track_id, id_a) << "frame " << f;
    EXPECT_EQ(out[1].track_id, id_b) << "frame " << f;
  }
  EXPECT_EQ(tracker.live_tracks(), 2u);
}

TEST(Track, IdSurvivesAShortOcclusionAndExpiresAfterALongOne) {
  TrackerOptions o;
  o.max_lost = 10;
  Tracker tracker(o);
  int64_t id = -1;
  for (int f = 0; f < 30; ++f) {
    const bool hidden = f >= 10 && f < 16;  // six frames behind something
    const double x = 5.0 * f;
    auto out = tracker.update(hidden ? std::vector<Detection>{} : std::vector<Detection>{det(x, 0, x + 40, 80, 0.9f)});
    if (hidden) {
      EXPECT_TRUE(out.empty()) << "no invented box at frame " << f;
      continue;
    }
    ASSERT_EQ(out.size(), 1u);
    if (id < 0) id = out[0].track_id;
    EXPECT_EQ(out[0].track_id, id) << "frame " << f;
  }
  // Gone for longer than max_lost: the track is dropped and a return gets a new id.
  for (int f = 0; f < 11; ++f) tracker.update({});
  EXPECT_EQ(tracker.live_tracks(), 0u);
  EXPECT_NE(tracker.update({det(0, 0, 40, 80, 0.9f)})[0].track_id, id);
}

TEST(Track, WeakDetectionsKeepATrackButNeverStartOne) {
  Tracker tracker;  // high 0.5, low 0.1, new tracks from 0.6
  auto first = tracker.update({det(0, 0, 40, 80, 0.9f)});
  ASSERT_EQ(first.size(), 1u);
  // Half hidden: the score drops to 0.3, stage 2 keeps the id.
  auto weak = tracker.update({det(1, 0, 41, 80, 0.3f), det(300, 0, 340, 80, 0.3f)});
  ASSERT_EQ(weak.size(), 1u) << "the weak stranger starts no track";
  EXPECT_EQ(weak[0].track_id, first[0].track_id);
  // Below `low`, nothing.
  EXPECT_TRUE(tracker.update({det(2, 0, 42, 80, 0.05f)}).empty());
  // A confident detection of another class does not take this track.
  auto other = tracker.update({det(2, 0, 42, 80, 0.9f, 1)});
  ASSERT_EQ(other.size(), 1u);
  EXPECT_NE(other[0].track_id, first[0].track_id);
}

TEST(Track, BoxesAreSmoothedTowardsTheMeasurement) {
  // smoothing 0.5 (b = 0.25 / 1.5 = 1/6): a still box, then one measurement 12 px to the
  // right: the prediction is the old box, the residual 12, the box moves 0.5 * 12 = 6.
  TrackerOptions o;
  o.smoothing = 0.5f;
  Tracker tracker(o);
  tracker.update({det(0, 0, 40, 80, 0.9f)});
  auto out = tracker.update({det(12, 0, 52, 80, 0.9f)});
  ASSERT_EQ(out.size(), 1u);
  expect_box(out[0].box, {6, 0, 46, 80});
}
