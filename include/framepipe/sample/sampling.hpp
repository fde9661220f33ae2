// Which frames to take: one text spec, the same in C++, on the command line (--sample) and
// in Python.
//
//   all                      every frame
//   every:N                  frames 0, N, 2N, ...
//   fps:F                    the frame on screen at each tick of 1/F s, from the timestamps
//   keyframes                key frames only (decodes nothing else)
//   indices:I,J,...          these frames (negative: from the end), in this order
//   times:T,U,...            the frame on screen at each time in seconds
//   scene[:THRESHOLD[:MIN_LEN]]           first frame of each scene, content detector
//   scene-adaptive[:RATIO[:MIN_LEN]]      first frame of each scene, adaptive detector
//   clips:LEN:INTERVAL:COUNT[:uniform|random|sliding[:STRIDE]][:end=loop|repeat-last|drop][:seed=S]
//
// Everything is planned over the index's timestamps (frame i is frame i of the reader), never
// from frame number / fps.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "framepipe/media/frame_index.hpp"

namespace framepipe {

class VideoReader;
struct FrameInfo;

enum class SampleKind { All, Every, Fps, Keyframes, Indices, Times, Scene, Clips };
enum class SceneMethod { Content, Adaptive };
enum class ClipMode { Uniform, Random, Sliding };
// What a clip does where it runs past the last frame (MMAction2's out_of_bound_opt).
enum class ClipEnd { Loop, RepeatLast, Drop };

// PySceneDetect's detectors and their defaults.
struct SceneOptions {
  SceneMethod method = SceneMethod::Content;
  double threshold = 27.0;           // content: mean |delta| of H, S, V (0..255 scale)
  int64_t min_len = 15;              // frames between cuts, at least
  double adaptive_threshold = 3.0;   // adaptive: score / mean score of the neighbours
  double min_content = 15.0;         // adaptive: a cut also needs this content score
  int window = 2;                    // adaptive: neighbours on each side
  int width = 0;                     // analysis width (0: the source width / ceil(w / 256))
};

struct SampleSpec {
  SampleKind kind = SampleKind::All;
  int64_t every = 1;
  double fps = 0;
  std::vector<int64_t> indices;
  std::vector<double> times;
  SceneOptions scene;
  // clips
  int64_t clip_len = 0, interval = 1, count = 1, stride = 0;
  ClipMode mode = ClipMode::Uniform;
  ClipEnd end = ClipEnd::Loop;
  uint64_t seed = 0;

  // Throws ConfigError naming the spec, the part that is wrong, and the grammar.
  static SampleSpec parse(const std::string& text);
  std::string to_string() const;
  bool is_clips() const { return kind == SampleKind::Clips; }
};

// The grammar above, for error messages and --help.
const char* sample_grammar();

struct Scene {
  int64_t start = 0, end = 0;    // frames [start, end)
  double start_t = 0, end_t = 0;  // seconds: start frame's t, end of the scene's last frame
};

// A sample over one file: the frames to read in output order. For clips, clip k is
// frames[k * clip_len, (k + 1) * clip_len).
struct SamplePlan {
  std::vector<int64_t> frames;
  int64_t clip_len = 1;
  std::vector<Scene> scenes;  // scene specs only
  size_t rows() const { return clip_len > 0 ? frames.size() / static_cast<size_t>(clip_len) : 0; }
};

// The most frames one plan may list (128 MiB of indices; a day of 60 fps video is 5.2 million):
// a clips spec past it is a ConfigError before anything is allocated.
inline constexpr int64_t kMaxPlannedFrames = int64_t{1} << 24;

// Plans every spec but scene from the index alone.
SamplePlan plan_sample(const SampleSpec& spec, const FrameIndex& index);
// Plans any spec; scene decodes the video once at a small size to find the cuts.
SamplePlan plan_sample(const SampleSpec& spec, VideoReader& reader);

// The simple rules, also used by the plans.
// 0, n, 2n, ... < size.
std::vector<int64_t> sample_every(int64_t size, int64_t n);
// The frame on screen at each tick t0 + k / fps (t0: the first frame's time) up to the end,
// from the index's timestamps, so variable frame rate is handled; consecutive ticks that
// land on the same frame yield it once.
std::vector<int64_t> sample_fps(const FrameIndex& index, double fps);

// Clip start offsets, MMAction2's SampleFrames rule. Uniform (test time):
// avg = (n - LEN*INTERVAL + 1) / COUNT; offset k = int(avg * k + avg / 2) when
// n > LEN*INTERVAL - 1, else 0. Random (train time): the same segments, one random offset in
// each (seeded). Sliding: 0, STRIDE, 2 STRIDE, ... (COUNT 0: all).
std::vector<int64_t> clip_offsets(const SampleSpec& spec, int64_t frames);
// Frame indices of the clips at these offsets, with the spec's end rule (Drop removes clips
// that run past the end).
std::vector<int64_t> clip_frames(const SampleSpec& spec, const std::vector<int64_t>& offsets, int64_t frames);

// Scene detection on frames as they come (files and live streams alike): push() each frame
// (RGB, any size; it is reduced to the analysis width) and learn whether a scene starts.
class SceneDetector {
 public:
  explicit SceneDetector(const SceneOptions& options = {});
  ~SceneDetector();
  SceneDetector(SceneDetector&&) noexcept;
  SceneDetector& operator=(SceneDetector&&) noexcept;

  // The analysis size for a source of this size.
  static void analysis_size(const SceneOptions& o, int src_w, int src_h, int& w, int& h);
  // Feeds frame `index` (RGB24, packed rows). Returns the indices of scene starts decided by
  // this frame: the content detector decides on the frame itself, the adaptive one
  // `window` frames later. The first frame always starts a scene.
  std::vector<int64_t> push(int64_t index, const uint8_t* rgb, int width, int height);
  // At the end of the stream: decisions still pending (adaptive).
  std::vector<int64_t> finish();
  // Content score of the last frame pushed (mean |delta H, S, V|), for inspection.
  double last_score() const;

 private:
  struct Impl;
  Impl* impl_;
};

// A streaming predicate for live sources, where there is no index to plan over: all, every,
// fps, keyframes and times decide frame by frame from its index and t. Scene and clips need
// the pixels or the whole video: use SceneDetector, or plan over a file.
class StreamSampler {
 public:
  explicit StreamSampler(const SampleSpec& spec);
  bool accept(const FrameInfo& frame);
  // Nothing more can be accepted (times: every one taken), so a stream need not be read on.
  bool done() const { return spec_.kind == SampleKind::Times && next_time_ >= spec_.times.size(); }

 private:
  SampleSpec spec_;
  double next_tick_ = 0, first_tick_ = 0;
  bool started_ = false;
  size_t next_time_ = 0;
};

}  // namespace framepipe
