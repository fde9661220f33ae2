#include "framepipe/sample/sampling.hpp"

#include <algorithm>
#include <cmath>
#include <random>
#include <sstream>
#include <string>

#include "common/named_enum.hpp"
#include "framepipe/error.hpp"
#include "common/words.hpp"
#include "framepipe/reader/video_reader.hpp"

namespace framepipe {

const char* sample_grammar() {
  return "sample specs:\n"
         "  all | every:N | fps:F | keyframes | indices:I,J,... | times:T,U,...\n"
         "  scene[:THRESHOLD[:MIN_LEN]]          (content detector; defaults 27, 15)\n"
         "  scene-adaptive[:RATIO[:MIN_LEN]]     (adaptive detector; defaults 3, 15)\n"
         "  clips:LEN:INTERVAL:COUNT[:uniform|random|sliding[:STRIDE]][:end=loop|repeat-last|drop][:seed=S]";
}

namespace {

constexpr std::array<std::pair<const char*, ClipEnd>, 3> kClipEnds{
    {{"loop", ClipEnd::Loop}, {"repeat-last", ClipEnd::RepeatLast}, {"drop", ClipEnd::Drop}}};

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : s) {
    if (c == sep) {
      out.push_back(cur);
      cur.clear();
    } else {
      cur.push_back(c);
    }
  }
  out.push_back(cur);
  return out;
}

[[noreturn]] void bad_spec(const std::string& text, const std::string& why) {
  std::string msg = "bad sample spec '";
  msg.append(text).append("': ").append(why).append("\n").append(sample_grammar());
  throw ConfigError(msg);
}

template <class T>
T number(const std::string& text, const std::string& part, const char* what) {
  std::istringstream is(part);
  T v{};
  if (part.empty() || !(is >> v) || !is.eof()) {
    std::string why = what;
    bad_spec(text, why.append(" must be a number, got '").append(part).append("'"));
  }
  return v;
}

template <class T>
std::vector<T> number_list(const std::string& text, const std::string& part, const char* what) {
  std::vector<T> out;
  for (const std::string& item : split(part, ','))
    if (!item.empty()) out.push_back(number<T>(text, item, what));
  if (out.empty()) {
    std::string why = "no ";
    bad_spec(text, why.append(what).append(" given"));
  }
  return out;
}

// scene[:THRESHOLD[:MIN_LEN]], scene-adaptive[:RATIO[:MIN_LEN]]
void parse_scene(const std::string& text, const std::vector<std::string>& p, SampleSpec& s) {
  const std::string& head = p[0];
  s.kind = SampleKind::Scene;
  const bool adaptive = head == "scene-adaptive";
  s.scene.method = adaptive ? SceneMethod::Adaptive : SceneMethod::Content;
  if (p.size() > 1) {
    const double v = number<double>(text, p[1], adaptive ? "RATIO" : "THRESHOLD");
    if (!(v > 0)) bad_spec(text, "the threshold must be positive");
    (adaptive ? s.scene.adaptive_threshold : s.scene.threshold) = v;
  }
  if (p.size() > 2) {
    s.scene.min_len = number<int64_t>(text, p[2], "MIN_LEN");
    if (s.scene.min_len < 1) bad_spec(text, "MIN_LEN must be at least 1");
  }
}

// clips:LEN:INTERVAL:COUNT[:uniform|random|sliding[:STRIDE]][:end=...][:seed=S]
void parse_clips(const std::string& text, const std::vector<std::string>& p, SampleSpec& s) {
  if (p.size() < 4) bad_spec(text, "clips needs LEN:INTERVAL:COUNT");
  s.kind = SampleKind::Clips;
  s.clip_len = number<int64_t>(text, p[1], "LEN");
  s.interval = number<int64_t>(text, p[2], "INTERVAL");
  s.count = number<int64_t>(text, p[3], "COUNT");
  if (s.clip_len < 1) bad_spec(text, "LEN must be at least 1");
  if (s.interval < 1) bad_spec(text, "INTERVAL must be at least 1");
  bool mode_seen = false;
  for (size_t k = 4; k < p.size(); ++k) {
    const std::string& part = p[k];
    if (part.rfind("end=", 0) == 0) {
      const std::string v = part.substr(4);
      try {
        s.end = detail::parse_enum(v, kClipEnds, "clip end");
      } catch (const ConfigError& e) {
        bad_spec(text, e.what());
      }
    } else if (part.rfind("seed=", 0) == 0) {
      s.seed = number<uint64_t>(text, part.substr(5), "seed");
    } else if (!mode_seen && (part == "uniform" || part == "random" || part == "sliding")) {
      mode_seen = true;
      s.mode = part == "uniform" ? ClipMode::Uniform : part == "random" ? ClipMode::Random : ClipMode::Sliding;
      if (s.mode == ClipMode::Sliding && k + 1 < p.size() && !p[k + 1].empty() &&
          std::isdigit(static_cast<unsigned char>(p[k + 1][0]))) {
        s.stride = number<int64_t>(text, p[++k], "STRIDE");
        if (s.stride < 1) bad_spec(text, "STRIDE must be at least 1");
      }
    } else {
      bad_spec(text, "unknown clip option '" + part + "'");
    }
  }
  if (s.mode == ClipMode::Sliding) {
    if (s.count < 0) bad_spec(text, "COUNT must be >= 0 (0: every window) for sliding clips");
    if (s.stride == 0) s.stride = s.clip_len * s.interval;  // back to back
  } else if (s.count < 1) {
    bad_spec(text, "COUNT must be at least 1");
  }
}

}  // namespace

SampleSpec SampleSpec::parse(const std::string& text) {
  const std::vector<std::string> p = split(text, ':');
  const std::string& head = p[0];
  SampleSpec s;
  auto arity = [&](size_t lo, size_t hi) {
    if (p.size() - 1 < lo || p.size() - 1 > hi) bad_spec(text, "wrong number of parts for '" + head + "'");
  };
  if (head == "all") {
    arity(0, 0);
    s.kind = SampleKind::All;
  } else if (head == "every") {
    arity(1, 1);
    s.kind = SampleKind::Every;
    s.every = number<int64_t>(text, p[1], "N");
    if (s.every <= 0) bad_spec(text, "N must be positive");
  } else if (head == "fps") {
    arity(1, 1);
    s.kind = SampleKind::Fps;
    s.fps = number<double>(text, p[1], "F");
    if (!(s.fps > 0) || !std::isfinite(s.fps)) bad_spec(text, "F must be a positive number");
  } else if (head == "keyframes") {
    arity(0, 0);
    s.kind = SampleKind::Keyframes;
  } else if (head == "indices") {
    arity(1, 1);
    s.kind = SampleKind::Indices;
    s.indices = number_list<int64_t>(text, p[1], "indices");
  } else if (head == "times") {
    arity(1, 1);
    s.kind = SampleKind::Times;
    s.times = number_list<double>(text, p[1], "times");
    for (double t : s.times)
      if (!std::isfinite(t)) bad_spec(text, "times must be finite");
  } else if (head == "scene" || head == "scene-adaptive") {
    arity(0, 2);
    parse_scene(text, p, s);
  } else if (head == "clips") {
    parse_clips(text, p, s);
  } else {
    bad_spec(text, head.empty() ? "empty spec" : "unknown kind '" + head + "'");
  }
  return s;
}

std::string SampleSpec::to_string() const {
  std::ostringstream os;
  auto list = [&os](const auto& v) {
    for (size_t k = 0; k < v.size(); ++k) os << (k ? "," : "") << v[k];
  };
  switch (kind) {
    case SampleKind::All: os << "all"; break;
    case SampleKind::Every: os << "every:" << every; break;
    case SampleKind::Fps: os << "fps:" << fps; break;
    case SampleKind::Keyframes: os << "keyframes"; break;
    case SampleKind::Indices: os << "indices:"; list(indices); break;
    case SampleKind::Times: os << "times:"; list(times); break;
    case SampleKind::Scene:
      if (scene.method == SceneMethod::Content) os << "scene:" << scene.threshold << ":" << scene.min_len;
      else os << "scene-adaptive:" << scene.adaptive_threshold << ":" << scene.min_len;
      break;
    case SampleKind::Clips:
      os << "clips:" << clip_len << ":" << interval << ":" << count << ":"
         << (mode == ClipMode::Uniform ? "uniform" : mode == ClipMode::Random ? "random" : "sliding");
      if (mode == ClipMode::Sliding) os << ":" << stride;
      os << ":end=" << detail::enum_name(end, kClipEnds);
      if (mode == ClipMode::Random) os << ":seed=" << seed;
      break;
  }
  return os.str();
}

std::vector<int64_t> sample_every(int64_t size, int64_t n) {
  if (n <= 0) throw ConfigError("every: N must be positive, got " + std::to_string(n));
  std::vector<int64_t> out;
  for (int64_t i = 0; i < size; i += n) out.push_back(i);
  return out;
}

std::vector<int64_t> sample_fps(const FrameIndex& index, double fps) {
  if (!(fps > 0) || !std::isfinite(fps)) throw ConfigError("fps: F must be a positive number, got " + number_text(fps));
  std::vector<int64_t> out;
  if (index.empty()) return out;
  const double t0 = index.first_seconds(), end = index.end_seconds();
  // Sample k is at t0 + k / fps. Runs of samples that land on one frame are skipped over: from
  // a sample the next one worth taking is the first at or past the next frame's time (one
  // earlier, for rounding), so the work follows the frames, not fps x duration (fps:1e9, or
  // timestamps a year apart, would loop for ever).
  std::vector<double> times;
  times.reserve(static_cast<size_t>(index.size()));
  for (int64_t i = 0; i < index.size(); ++i) times.push_back(index.time_of(i));
  std::sort(times.begin(), times.end());
  for (double k = 0;;) {
    const double t = t0 + k / fps;
    if (!(t < end)) break;
    const int64_t i = index.frame_at(t);
    if (i >= 0 && (out.empty() || out.back() != i)) out.push_back(i);
    const auto next = std::upper_bound(times.begin(), times.end(), t);
    if (next == times.end()) break;  // every later sample shows the last frame, taken now
    const double jump = std::ceil((*next - t0) * fps) - 1;
    const double k1 = std::max(k + 1, jump);
    if (!(k1 > k) || !std::isfinite(k1)) break;  // past double's resolution: no later sample differs
    k = k1;
  }
  return out;
}

std::vector<int64_t> clip_offsets(const SampleSpec& s, int64_t n) {
  const int64_t span = s.clip_len * s.interval;  // MMAction2's ori_clip_len
  std::vector<int64_t> off;
  if (s.mode == ClipMode::Sliding) {
    const int64_t last = s.end == ClipEnd::Drop ? n - span : n - 1;  // last start allowed
    for (int64_t o = 0; o <= last && (s.count == 0 || static_cast<int64_t>(off.size()) < s.count); o += s.stride)
      off.push_back(o);
    return off;
  }
  const int64_t c = s.count;
  if (s.mode == ClipMode::Uniform) {
    const double avg = static_cast<double>(n - span + 1) / static_cast<double>(c);
    for (int64_t k = 0; k < c; ++k)
      off.push_back(n > span - 1 ? static_cast<int64_t>(static_cast<double>(k) * avg + avg / 2.0) : 0);
    return off;
  }
  // Random, as MMAction2's _get_train_clips, with its own seeded generator.
  std::mt19937_64 rng(s.seed);
  auto below = [&rng](int64_t m) { return std::uniform_int_distribution<int64_t>(0, m - 1)(rng); };
  // Python's floor division: where room is negative only the sign of the result matters.
  const int64_t room = n - span + 1;
  const int64_t avg = room >= 0 ? room / c : -1;
  if (avg > 0) {
    for (int64_t k = 0; k < c; ++k) off.push_back(k * avg + below(avg));
  } else if (n > std::max(c, span)) {
    for (int64_t k = 0; k < c; ++k) off.push_back(below(room));
    std::sort(off.begin(), off.end());
  } else if (avg == 0) {
    const double ratio = (static_cast<double>(n - span) + 1.0) / static_cast<double>(c);
    for (int64_t k = 0; k < c; ++k) off.push_back(static_cast<int64_t>(std::nearbyint(static_cast<double>(k) * ratio)));
  } else {
    off.assign(static_cast<size_t>(c), 0);
  }
  return off;
}

std::vector<int64_t> clip_frames(const SampleSpec& s, const std::vector<int64_t>& offsets, int64_t n) {
  std::vector<int64_t> out;
  if (n <= 0) return out;
  for (int64_t o : offsets) {
    const int64_t last_in = o + (s.clip_len - 1) * s.interval;
    if (s.end == ClipEnd::Drop && last_in >= n) continue;
    int64_t last_safe = -1;
    for (int64_t j = 0; j < s.clip_len; ++j) {
      int64_t f = o + j * s.interval;
      if (f < n) {
        last_safe = std::max(last_safe, f);
      } else if (s.end == ClipEnd::Loop) {
        f %= n;
      } else {
        // repeat-last: the clip's last frame inside the video (0 when none is, as
        // MMAction2's max over masked indices gives).
        f = std::max<int64_t>(last_safe, 0);
      }
      out.push_back(f);
    }
  }
  return out;
}

SamplePlan plan_sample(const SampleSpec& s, const FrameIndex& index) {
  SamplePlan plan;
  const int64_t n = index.size();
  switch (s.kind) {
    case SampleKind::All:
      plan.frames.resize(static_cast<size_t>(n));
      for (int64_t i = 0; i < n; ++i) plan.frames[static_cast<size_t>(i)] = i;
      break;
    case SampleKind::Every: plan.frames = sample_every(n, s.every); break;
    case SampleKind::Fps: plan.frames = sample_fps(index, s.fps); break;
    case SampleKind::Keyframes:
      for (int64_t i = 0; i < n; ++i)
        if (index[i].keyframe) plan.frames.push_back(i);
      break;
    case SampleKind::Indices:
      for (int64_t i : s.indices) {
        const int64_t j = i < 0 ? n + i : i;
        if (j < 0 || j >= n)
          throw OutOfRangeError("sample index " + std::to_string(i) + " is out of range: valid indices are 0.." +
                                std::to_string(n - 1) + " (or -" + std::to_string(n) + "..-1)");
        plan.frames.push_back(j);
      }
      break;
    case SampleKind::Times:
      for (double t : s.times) {
        const double first = n ? index.first_seconds() : 0, end = n ? index.end_seconds() : 0;
        if (n == 0 || t < first || t > end) {
          std::ostringstream os;
          os << "sample time " << t << " s is out of range: valid times are " << first << " .. " << end << " s";
          throw OutOfRangeError(os.str());
        }
        plan.frames.push_back(std::max<int64_t>(index.frame_at(t), 0));
      }
      break;
    case SampleKind::Scene:
      throw ConfigError("scene sampling decodes the video: plan it with a VideoReader");
    case SampleKind::Clips: {
      // The plan's size before it is made: clips x frames per clip, within kMaxPlannedFrames.
      const int64_t clips = s.mode == ClipMode::Sliding && s.count == 0 ? n / std::max<int64_t>(s.stride, 1) + 1 : s.count;
      if (clips > kMaxPlannedFrames / std::max<int64_t>(s.clip_len, 1))
        throw ConfigError("sample '" + s.to_string() + "' plans " + std::to_string(clips) + " clips of " +
                          std::to_string(s.clip_len) + " frames, over the limit of " + std::to_string(kMaxPlannedFrames) +
                          " frames in one plan");
      plan.clip_len = s.clip_len;
      plan.frames = clip_frames(s, clip_offsets(s, n), n);
      break;
    }
  }
  return plan;
}

StreamSampler::StreamSampler(const SampleSpec& spec) : spec_(spec) {
  if (spec.kind == SampleKind::Scene || spec.kind == SampleKind::Clips || spec.kind == SampleKind::Indices)
    throw ConfigError("sample spec '" + spec.to_string() +
                      "' cannot be decided frame by frame on a live stream (all, every, fps, keyframes and times can)");
  std::sort(spec_.times.begin(), spec_.times.end());
}

bool StreamSampler::accept(const FrameInfo& f) {
  switch (spec_.kind) {
    case SampleKind::All: return true;
    case SampleKind::Every: return f.index % spec_.every == 0;
    case SampleKind::Keyframes: return f.keyframe;
    case SampleKind::Fps: {
      // The frame on screen at a tick is the last one with t <= tick: take each frame that
      // is the first at or past a tick (live, the next frame's time is not known yet).
      // Tick k is at first + k / fps, as plan_sample's; the next tick is computed, not stepped
      // to (a gap of hours at fps:1000, or fps:1e18, would loop for ever).
      if (!started_) {
        started_ = true;
        first_tick_ = next_tick_ = f.t;
      }
      if (f.t + 1e-9 < next_tick_) return false;
      const double k = std::floor((f.t + 1e-9 - first_tick_) * spec_.fps) + 1;
      next_tick_ = first_tick_ + k / spec_.fps;
      if (!(next_tick_ > f.t + 1e-9)) next_tick_ = std::nextafter(f.t + 1e-9, HUGE_VAL);
      return true;
    }
    case SampleKind::Times: {
      bool take = false;
      while (next_time_ < spec_.times.size() && spec_.times[next_time_] <= f.t + 1e-9) {
        take = true;
        ++next_time_;
      }
      return take;
    }
    default: return false;
  }
}

}  // namespace framepipe
