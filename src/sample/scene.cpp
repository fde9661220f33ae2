// Scene detection: PySceneDetect's content and adaptive detectors, written for frames that
// arrive one at a time. The score of a frame is the mean absolute difference of hue,
// saturation and value from the previous frame (OpenCV's 8-bit HSV: H in 0..179), on a copy
// about 256 pixels wide.
#include <algorithm>
#include <cmath>
#include <deque>

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include "framepipe/error.hpp"
#include "framepipe/reader/video_reader.hpp"
#include "framepipe/sample/sampling.hpp"

namespace framepipe {

struct SceneDetector::Impl {
  SceneOptions opt;
  cv::Mat prev_hsv, hsv, small;
  bool have_prev = false;
  double score = 0;
  int64_t last_cut = INT64_MIN;
  std::deque<std::pair<int64_t, double>> window;  // adaptive: (index, score)

  bool min_len_met(int64_t i) const { return last_cut == INT64_MIN || i - last_cut >= opt.min_len; }

  double content_score(const uint8_t* rgb, int w, int h) {
    const cv::Mat in(h, w, CV_8UC3, const_cast<uint8_t*>(rgb));
    int aw = 0, ah = 0;
    SceneDetector::analysis_size(opt, w, h, aw, ah);
    const cv::Mat* src = &in;
    if (aw != w || ah != h) {
      cv::resize(in, small, cv::Size(aw, ah), 0, 0, cv::INTER_AREA);
      src = &small;
    }
    cv::cvtColor(*src, hsv, cv::COLOR_RGB2HSV);
    double s = 0;
    if (have_prev && prev_hsv.size() == hsv.size()) {
      cv::Mat diff;
      cv::absdiff(hsv, prev_hsv, diff);
      const cv::Scalar m = cv::mean(diff);
      s = (m[0] + m[1] + m[2]) / 3.0;
    }
    std::swap(prev_hsv, hsv);
    have_prev = true;
    return s;
  }

  // Adaptive: decides the frame in the middle of a full window.
  void decide_middle(std::vector<int64_t>& cuts) {
    const size_t mid = static_cast<size_t>(opt.window);
    const auto [idx, s] = window[mid];
    double sum = 0;
    for (size_t k = 0; k < window.size(); ++k)
      if (k != mid) sum += window[k].second;
    const double avg = sum / static_cast<double>(window.size() - 1);
    const double ratio = avg > 1e-5 ? s / avg : (s >= opt.min_content ? 255.0 : 0.0);
    if (ratio >= opt.adaptive_threshold && s >= opt.min_content && min_len_met(idx)) {
      cuts.push_back(idx);
      last_cut = idx;
    }
  }
};

SceneDetector::SceneDetector(const SceneOptions& options) : impl_(new Impl) {
  if (!(options.threshold > 0) || options.min_len < 1 || options.window < 1 || !(options.adaptive_threshold > 0))
    throw ConfigError("scene detector: thresholds must be positive, min_len and window at least 1");
  impl_->opt = options;
}
SceneDetector::~SceneDetector() { delete impl_; }
SceneDetector::SceneDetector(SceneDetector&& o) noexcept : impl_(o.impl_) { o.impl_ = nullptr; }
SceneDetector& SceneDetector::operator=(SceneDetector&& o) noexcept {
  std::swap(impl_, o.impl_);
  return *this;
}

void SceneDetector::analysis_size(const SceneOptions& o, int src_w, int src_h, int& w, int& h) {
  if (o.width > 0) {
    w = std::min(o.width, src_w);
  } else {
    const int factor = std::max(1, src_w / 256);  // PySceneDetect's downscale factor
    w = src_w / factor;
  }
  w = std::max(1, w);
  h = std::max(1, static_cast<int>(std::lround(static_cast<double>(src_h) * w / src_w)));
}

double SceneDetector::last_score() const { return impl_->score; }

std::vector<int64_t> SceneDetector::push(int64_t index, const uint8_t* rgb, int width, int height) {
  Impl& m = *impl_;
  std::vector<int64_t> cuts;
  const bool first = !m.have_prev;
  m.score = m.content_score(rgb, width, height);
  if (first) {
    cuts.push_back(index);
    m.last_cut = index;
  }
  if (m.opt.method == SceneMethod::Content) {
    if (!first && m.score >= m.opt.threshold && m.min_len_met(index)) {
      cuts.push_back(index);
      m.last_cut = index;
    }
    return cuts;
  }
  if (!first) {  // the first frame has no score to compare
    m.window.emplace_back(index, m.score);
    if (m.window.size() == static_cast<size_t>(2 * m.opt.window + 1)) {
      m.decide_middle(cuts);
      m.window.pop_front();
    }
  }
  return cuts;
}

std::vector<int64_t> SceneDetector::finish() {
  // The last `window` frames have no right-hand neighbours: PySceneDetect leaves them
  // undecided too.
  impl_->window.clear();
  return {};
}

namespace {

std::vector<Scene> scenes_from_starts(const std::vector<int64_t>& starts, const FrameIndex& index) {
  std::vector<Scene> out;
  for (size_t k = 0; k < starts.size(); ++k) {
    Scene s;
    s.start = starts[k];
    s.end = k + 1 < starts.size() ? starts[k + 1] : index.size();
    s.start_t = index.time_of(s.start);
    s.end_t = s.end < index.size() ? index.time_of(s.end) : index.end_seconds();
    out.push_back(s);
  }
  return out;
}

}  // namespace

SamplePlan plan_sample(const SampleSpec& spec, VideoReader& reader) {
  if (spec.kind != SampleKind::Scene) return plan_sample(spec, reader.index());
  const FrameIndex& index = reader.index();
  // One pass over the video at the analysis size, in a reader of its own: the resize is
  // fused into the colour conversion.
  ReaderOptions o = reader.options();
  o.image = ImageOptions{};
  SceneDetector::analysis_size(spec.scene, reader.info().video.width, reader.info().video.height, o.image.width,
                               o.image.height);
  o.image.interpolation = Interpolation::Area;
  VideoReader small(reader.source(), o);
  SceneDetector detector(spec.scene);
  std::vector<int64_t> starts;
  Frame f;
  while (small.next(f)) {
    for (int64_t c : detector.push(f.info.index, f.data(), f.width, f.height)) starts.push_back(c);
  }
  for (int64_t c : detector.finish()) starts.push_back(c);
  SamplePlan plan;
  plan.frames = starts;
  plan.scenes = scenes_from_starts(starts, index);
  return plan;
}

}  // namespace framepipe
