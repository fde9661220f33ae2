// The reader's plan (src/reader/read_plan.hpp) on hand-made indexes: closed and open GOP,
// long groups, intra-only streams, damage marks, frames counted without reliable pts.
// Each expectation is worked out by hand from the rule the header states.
#include <gtest/gtest.h>

#include "reader/read_plan.hpp"

namespace {

using framepipe::FrameEntry;
using framepipe::FrameIndex;
namespace plan = framepipe::plan;

// n frames, pts 0..n-1; keyframes at `keys`; those in `open` are open GOP's keyframes.
FrameIndex make_index(int64_t n, const std::vector<int64_t>& keys, const std::vector<int64_t>& open = {},
                      bool reliable = true) {
  std::vector<FrameEntry> frames(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    FrameEntry& e = frames[static_cast<size_t>(i)];
    e.pts = e.source_pts = e.dts = i;
    e.duration = 1;
  }
  for (int64_t k : keys) frames[static_cast<size_t>(k)].keyframe = true;
  for (int64_t k : open) frames[static_cast<size_t>(k)].open_gop = true;
  return FrameIndex(0, framepipe::Rational{1, 25}, FrameIndex::Method::Packets, reliable, std::move(frames));
}

plan::Position at(int64_t cursor, int in_flight = 4) {
  plan::Position p;
  p.fresh = false;
  p.cursor = cursor;
  p.in_flight = in_flight;
  return p;
}

plan::Position fresh() { return plan::Position{}; }

// --- decodes_forward: the seek-or-decode-forward rule ------------------------------------

TEST(PlanSeekOrForward, AFreshDecoderReachesTheFirstGroupOnlyByDecoding) {
  const FrameIndex idx = make_index(100, {0, 25, 50, 75});
  EXPECT_TRUE(plan::decodes_forward(idx, fresh(), 0, false));
  EXPECT_TRUE(plan::decodes_forward(idx, fresh(), 24, false));
  EXPECT_FALSE(plan::decodes_forward(idx, fresh(), 25, false));
  EXPECT_FALSE(plan::decodes_forward(idx, fresh(), 99, false));
}

TEST(PlanSeekOrForward, ForwardWhileTheGroupBeginsWithinWhatTheDecoderHoldsInFlight) {
  const FrameIndex idx = make_index(100, {0, 25, 50, 75});
  EXPECT_TRUE(plan::decodes_forward(idx, at(10), 24, false));  // same group: never a seek
  EXPECT_TRUE(plan::decodes_forward(idx, at(20), 30, false));   // group 25 begins 4 frames on
  EXPECT_FALSE(plan::decodes_forward(idx, at(19), 30, false));  // 5 frames on: a seek
  EXPECT_TRUE(plan::decodes_forward(idx, at(15, 10), 30, false));  // frame threads hold more
}

TEST(PlanSeekOrForward, BackwardOrOntoASkippedPacketIsASeek) {
  const FrameIndex idx = make_index(100, {0, 25, 50, 75});
  EXPECT_FALSE(plan::decodes_forward(idx, at(30), 30, false));  // t already passed
  EXPECT_FALSE(plan::decodes_forward(idx, at(30), 26, false));
  plan::Position skipped = at(27);
  skipped.skipped_pts = true;  // t's packet went in skipped: going on cannot give it
  EXPECT_FALSE(plan::decodes_forward(idx, skipped, 28, false));
}

TEST(PlanSeekOrForward, CountedFramesAreNeverSkippedOver) {
  const FrameIndex idx = make_index(100, {0, 25, 50, 75}, {}, false);
  EXPECT_TRUE(plan::decodes_forward(idx, at(1), 99, false));
  EXPECT_TRUE(plan::decodes_forward(idx, fresh(), 99, false));  // counted from the start
  EXPECT_FALSE(plan::decodes_forward(idx, at(-1), 99, false));  // lost count: read again
}

TEST(PlanSeekOrForward, KeyFramesOnlySeekPastUnaskedKeyframesAndIntoOpenGops) {
  const FrameIndex closed = make_index(200, {0, 50, 100, 150});
  EXPECT_TRUE(plan::decodes_forward(closed, at(0), 50, true));    // next keyframe: packets only
  EXPECT_FALSE(plan::decodes_forward(closed, at(0), 100, true));  // 50 unasked between: a seek
  EXPECT_TRUE(plan::decodes_forward(closed, at(30), 50, true));   // from inside a closed group
  const FrameIndex open = make_index(200, {0, 50, 100, 150}, {50, 100, 150});
  // x264 open_gop: fed right after skipped references, the keyframe comes out of order.
  EXPECT_FALSE(plan::decodes_forward(open, at(0), 50, true));
  EXPECT_FALSE(plan::decodes_forward(open, at(30), 50, true));
  const FrameIndex intra = make_index(4, {0, 1, 2, 3}, {1, 2, 3});
  EXPECT_TRUE(plan::decodes_forward(intra, at(1), 2, true));  // adjacent: nothing left out
}

// --- seek_start ------------------------------------------------------------------------

TEST(PlanSeekStart, AnOpenGopSeekBeginsAGroupEarlierUnlessKeyFramesOnly) {
  const FrameIndex idx = make_index(200, {0, 50, 100, 150}, {100, 150});
  EXPECT_EQ(plan::seek_start(idx, 50, false), 50);    // closed
  EXPECT_EQ(plan::seek_start(idx, 100, false), 50);   // its leading pictures need group 50
  EXPECT_EQ(plan::seek_start(idx, 150, false), 100);  // a group earlier, open or not
  EXPECT_EQ(plan::seek_start(idx, 150, true), 150);   // key frames only decode no leading picture
  EXPECT_EQ(plan::seek_start(idx, 0, false), 0);
}

// --- split_runs ------------------------------------------------------------------------

TEST(PlanRuns, ASeekStartsARunAndAClosedKeyframeToo) {
  const FrameIndex idx = make_index(100, {0, 25, 50, 75});
  const std::vector<int64_t> t = {3, 10, 24, 25, 26, 60, 99};
  // 24 -> 25: a closed group's keyframe starts a run; 26 goes on; 60 is past group 50's start
  // by more than the depth; 99 in another group.
  const std::vector<plan::Range> want = {{0, 3}, {3, 5}, {5, 6}, {6, 7}};
  EXPECT_EQ(plan::split_runs(idx, t, false), want);
}

TEST(PlanRuns, AnOpenGopKeyframeRightAfterTheLastTargetDoesNotStartARun) {
  const FrameIndex idx = make_index(100, {0, 25, 50, 75}, {25, 50, 75});
  // 24 -> 26: group 25 (open) begins right after 24: going on is cheaper than a seek, which
  // would begin a group earlier anyway. 40 -> 55: group 50 begins 9 past 40: a run.
  const std::vector<int64_t> t = {20, 24, 26, 40, 55};
  const std::vector<plan::Range> want = {{0, 4}, {4, 5}};
  EXPECT_EQ(plan::split_runs(idx, t, false), want);
}

TEST(PlanRuns, KeyFramesOnlySplitWhereAnUnaskedKeyframeLiesBetween) {
  const FrameIndex idx = make_index(200, {0, 50, 100, 150});
  const std::vector<plan::Range> want = {{0, 2}, {2, 3}};
  EXPECT_EQ(plan::split_runs(idx, {0, 50, 150}, true), want);
}

TEST(PlanRuns, KeyFramesOnlyGiveEachOpenGopKeyframeAStretchOfItsOwn) {
  const FrameIndex idx = make_index(200, {0, 50, 100, 150}, {50, 150});
  const std::vector<plan::Range> want = {{0, 1}, {1, 3}, {3, 4}};
  EXPECT_EQ(plan::key_segments(idx, {0, 50, 100, 150}, true), want);
  const std::vector<plan::Range> one = {{0, 4}};
  EXPECT_EQ(plan::key_segments(idx, {0, 50, 100, 150}, false), one);  // not key frames only
}

TEST(PlanRuns, DamageMarksDoNotChangeTheRuns) {
  // Damage marks send a group's targets to a read from the start (the reader's fallback), not
  // to another run: the same runs as without them.
  FrameIndex plain = make_index(60, {0, 12, 24, 36, 48});
  std::vector<FrameEntry> marked = plain.frames();
  for (int64_t i = 12; i < 24; ++i) marked[static_cast<size_t>(i)].damaged = true;
  const FrameIndex damaged(0, framepipe::Rational{1, 25}, FrameIndex::Method::Decode, true, marked);
  const std::vector<int64_t> t = {1, 13, 30, 59};
  EXPECT_EQ(plan::split_runs(plain, t, false), plan::split_runs(damaged, t, false));
}

// --- assign_runs -----------------------------------------------------------------------

TEST(PlanWorkers, AWorkerThatCanGoOnTakesItsRunAndTheRestGoCostliestFirst) {
  const FrameIndex idx = make_index(300, {0, 50, 100, 150, 200, 250});
  const std::vector<int64_t> t = {10, 20, 120, 140, 260};
  const std::vector<plan::Range> runs = {{0, 2}, {2, 4}, {4, 5}};
  // Worker 0 stands at frame 5: it goes on to run 0 (same group). Runs 1 (frames 100..140:
  // 41) and 2 (250..260: 11) are shared, the costlier first.
  const auto p = plan::assign_runs(idx, t, runs, {5, -1});
  ASSERT_TRUE(p);
  EXPECT_EQ(p->pinned[0], std::vector<size_t>{0});
  EXPECT_TRUE(p->pinned[1].empty());
  EXPECT_EQ(p->shared, (std::vector<size_t>{1, 2}));
  // Planned loads: worker 0 has 20 - 5 = 15; the worker with the least takes each shared
  // run: 41 to worker 1 (0), then 11 to worker 0 (15).
  EXPECT_EQ(p->load, (std::vector<int64_t>{26, 41}));
}

TEST(PlanWorkers, NoPoolWhereOneWorkerWouldCarryNearlyAll) {
  const FrameIndex idx = make_index(300, {0, 250});
  const std::vector<int64_t> t = {240, 260};
  const std::vector<plan::Range> runs = {{0, 1}, {1, 2}};
  // Run 0 costs 241 frames (from keyframe 0), run 1 costs 11: 241 > 4/5 of 252.
  EXPECT_FALSE(plan::assign_runs(idx, t, runs, {-1, -1}));
}

}  // namespace
