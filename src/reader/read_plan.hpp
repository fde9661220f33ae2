// The reader's plan: which runs a request makes, which worker takes each, where each run's
// decoding begins, and when decoding on beats a seek. Pure functions of the request, the
// index and where the decoders stand, so that every rule is unit-tested on hand-made indexes
// (tests/test_plan.cpp); the reader (reader_seek.cpp, reader_batch.cpp) carries the plan out
// and decides nothing of its own beyond it, save where the decoder contradicts it (then it
// reads again with less trust: VideoReader::Impl::goto_frame).
//
//   targets (sorted, distinct) --split_runs--> runs --assign_runs--> workers
//   each run: key_segments (key frames only) --> per target: decodes_forward or seek_start
#pragma once

#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

#include "framepipe/media/frame_index.hpp"

namespace framepipe::plan {

// Where a decoder stands.
struct Position {
  bool fresh = true;         // opened and nothing read: decoding starts at the file's start
  int64_t cursor = -1;       // the frame it last put out, -1 if none is known
  int in_flight = 1;         // frames it holds in flight (threads and reordering)
  bool skipped_pts = false;  // the target's packet went in skipped earlier (only a seek brings it)
};

// The seek-or-decode-forward rule: whether frame t, in the keyframe group that starts at
// `group`, is reached by decoding on from `at` rather than by a seek.
// - From a fresh decoder, only the first group is reached without a seek.
// - Frames counted rather than placed by pts (the index cannot trust its timestamps) are
//   never skipped over: always forward.
// - Key frames only: forward unless a keyframe nobody asked for lies between (reading past it
//   costs packets, not decoding, but a seek costs less), or t is an open GOP's keyframe and
//   references before it would be left out (FFmpeg's H.264 decoder then puts it out of order).
// - Otherwise forward while t's group begins within the frames the decoder holds in flight.
bool decodes_forward(const FrameIndex& index, const Position& at, int64_t t, bool key_only);

// Where the seek for a run in the group that starts at `group` begins: a group earlier where
// that group opens with an open GOP's keyframe whose leading pictures will be decoded (they
// refer to the group before); key frames only decode no leading picture.
int64_t seek_start(const FrameIndex& index, int64_t group, bool key_only);

// Frames a single-threaded worker decoder holds in flight (reordering), about: reaching a
// target fewer than these past a keyframe costs less decoding forward than a seek.
inline constexpr int64_t kWorkerDepth = 4;

// Sorted, distinct targets split into runs [begin, end) that one decoder reads forward: a
// new run where the next target is better reached by a seek. With key frames only, where
// an unrequested keyframe lies between; otherwise where the next target's group begins more
// than kWorkerDepth frames past the last target, or is a closed group's keyframe (a worker
// starting there decodes nothing more than one going on, and dense requests get their groups
// spread over the workers); an open GOP's keyframe right after the last target does not
// start one (its seek would begin a group earlier).
using Range = std::pair<size_t, size_t>;
std::vector<Range> split_runs(const FrameIndex& index, const std::vector<int64_t>& targets, bool keys);

// Key frames only: the stretches [begin, end) of a run whose targets may be wanted together
// (one set of packets to skip around): each open GOP's keyframe starts a stretch of its own.
std::vector<Range> key_segments(const FrameIndex& index, const std::vector<int64_t>& targets, bool keys);

struct RunPlan {
  std::vector<std::vector<size_t>> pinned;  // worker -> runs it reaches by decoding forward
  std::vector<size_t> shared;               // the other runs, costliest first, to whoever is free
  std::vector<int64_t> load;                // worker -> frames to decode, as planned
};

// Plans the runs over `positions.size()` workers (positions[w]: where worker w's decoder
// stands, cursor -1 if it has none to go on from). A worker that can reach a run by decoding
// forward from where it stopped takes it (a sorted request split into chunks keeps each group
// on one decoder); the rest are taken, costliest first, by whichever worker is free (cost:
// frames to decode from the run's keyframe). None where one worker would carry over 4/5 of the
// frames even so: one multi-threaded decoder then does better.
std::optional<RunPlan> assign_runs(const FrameIndex& index, const std::vector<int64_t>& targets,
                                   const std::vector<Range>& runs, const std::vector<int64_t>& positions);

}  // namespace framepipe::plan
