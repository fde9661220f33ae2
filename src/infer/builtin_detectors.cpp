// Detectors that need no model file, from what OpenCV ships: the HOG people detector,
// MOG2 background subtraction turned into boxes of moving regions, and the frontal-face
// Haar cascade of Debian's opencv-data. Each takes BGR uint8 frames at the source size and
// answers in the "boxes" layout: [K, 7] rows of (row, x1, y1, x2, y2, score, class).
#include <filesystem>
#include <opencv2/imgproc.hpp>
#include <opencv2/objdetect.hpp>
#include <opencv2/video/background_segm.hpp>

#include "framepipe/error.hpp"
#include "infer/engines.hpp"

namespace framepipe::detail {

namespace {

using BoxRows = std::vector<std::array<float, 7>>;
using ScoredBoxes = std::vector<std::pair<cv::Rect, float>>;

// OpenCV's detectors give boxes and, beside them, their weights (1 where a weight is missing).
ScoredBoxes with_scores(const std::vector<cv::Rect>& found, const std::vector<double>& weights) {
  ScoredBoxes out;
  for (size_t i = 0; i < found.size(); ++i)
    out.emplace_back(found[i], i < weights.size() ? static_cast<float>(weights[i]) : 1.f);
  return out;
}

class BuiltinDetector : public Backend {
 public:
  using Backend::Backend;
  const char* engine() const override { return "builtin"; }
  void set_threads(int threads) override { cv::setNumThreads(threads); }

 protected:
  std::vector<NamedTensor> forward(const Tensor& batch) override {
    const auto& s = batch.shape();  // N, H, W, 3
    const int h = static_cast<int>(s[1]), w = static_cast<int>(s[2]);
    const size_t frame_bytes = static_cast<size_t>(h) * static_cast<size_t>(w) * 3;
    BoxRows rows;
    for (int64_t n = 0; n < s[0]; ++n) {
      auto* data = static_cast<const uint8_t*>(batch.data()) + static_cast<size_t>(n) * frame_bytes;
      cv::Mat frame(h, w, CV_8UC3, const_cast<uint8_t*>(data));
      for (const auto& [box, score] : detect(frame)) {
        cv::Rect r = box & cv::Rect(0, 0, w, h);  // the detectors may reach past the border
        if (r.area() <= 0) continue;
        rows.push_back({static_cast<float>(n), static_cast<float>(r.x), static_cast<float>(r.y),
                        static_cast<float>(r.x + r.width), static_cast<float>(r.y + r.height), score, 0.f});
      }
    }
    std::vector<NamedTensor> out;
    out.push_back(copy_output("boxes", rows.empty() ? nullptr : rows[0].data(), {static_cast<int64_t>(rows.size()), 7}));
    return out;
  }
  virtual ScoredBoxes detect(const cv::Mat& bgr) = 0;
};

// Dalal-Triggs HOG + linear SVM, OpenCV's default people detector (64 x 128 window).
// People shorter than about 100 pixels are missed; scores are the SVM margins.
class HogPeople final : public BuiltinDetector {
 public:
  explicit HogPeople(ModelSpec spec) : BuiltinDetector(std::move(spec)) {
    hog_.setSVMDetector(cv::HOGDescriptor::getDefaultPeopleDetector());
  }

 protected:
  ScoredBoxes detect(const cv::Mat& bgr) override {
    std::vector<cv::Rect> found;
    std::vector<double> weights;
    hog_.detectMultiScale(bgr, found, weights, 0, cv::Size(8, 8), cv::Size(), 1.05, 2, false);
    return with_scores(found, weights);
  }

 private:
  cv::HOGDescriptor hog_;
};

// MOG2 background subtraction: the foreground mask (shadows left out), opened and dilated,
// its connected regions of at least 0.1% of the frame as boxes. Score: the share of the box
// that is foreground. Stateful: frames must come in order; the first frames teach it the
// background and give few boxes.
class MotionBoxes final : public BuiltinDetector {
 public:
  explicit MotionBoxes(ModelSpec spec)
      : BuiltinDetector(std::move(spec)), mog_(cv::createBackgroundSubtractorMOG2(500, 16, true)) {}

 protected:
  ScoredBoxes detect(const cv::Mat& bgr) override {
    mog_->apply(bgr, mask_);
    cv::threshold(mask_, fg_, 200, 255, cv::THRESH_BINARY);  // shadows are 127
    const cv::Mat kernel = cv::getStructuringElement(cv::MORPH_ELLIPSE, cv::Size(3, 3));
    cv::morphologyEx(fg_, fg_, cv::MORPH_OPEN, kernel);
    cv::dilate(fg_, fg_, kernel, cv::Point(-1, -1), 2);
    std::vector<std::vector<cv::Point>> contours;
    cv::findContours(fg_, contours, cv::RETR_EXTERNAL, cv::CHAIN_APPROX_SIMPLE);
    const double min_area = 0.001 * bgr.cols * bgr.rows;
    ScoredBoxes out;
    for (const auto& c : contours) {
      cv::Rect r = cv::boundingRect(c);
      if (r.area() < min_area) continue;
      out.emplace_back(r, static_cast<float>(cv::countNonZero(fg_(r))) / static_cast<float>(r.area()));
    }
    return out;
  }

 private:
  cv::Ptr<cv::BackgroundSubtractorMOG2> mog_;
  cv::Mat mask_, fg_;
};

// Viola-Jones frontal faces, the Haar cascade that Debian's opencv-data installs. Scores are
// the cascade's last-stage weights.
class Faces final : public BuiltinDetector {
 public:
  explicit Faces(ModelSpec spec) : BuiltinDetector(std::move(spec)) {
    const char* candidates[] = {"/usr/share/opencv4/haarcascades/haarcascade_frontalface_default.xml",
                                "/usr/share/opencv/haarcascades/haarcascade_frontalface_default.xml",
                                "/usr/local/share/opencv4/haarcascades/haarcascade_frontalface_default.xml"};
    for (const char* path : candidates) {
      std::error_code ec;
      if (std::filesystem::is_regular_file(path, ec) && cascade_.load(path)) return;
    }
    throw ModelError(
        "model builtin:faces: the Haar cascade haarcascade_frontalface_default.xml was not found; install Debian's "
        "opencv-data");
  }

 protected:
  ScoredBoxes detect(const cv::Mat& bgr) override {
    cv::cvtColor(bgr, gray_, cv::COLOR_BGR2GRAY);
    cv::equalizeHist(gray_, gray_);
    std::vector<cv::Rect> found;
    std::vector<int> levels;
    std::vector<double> weights;
    cascade_.detectMultiScale(gray_, found, levels, weights, 1.1, 4, 0, cv::Size(24, 24), cv::Size(), true);
    return with_scores(found, weights);
  }

 private:
  cv::CascadeClassifier cascade_;
  cv::Mat gray_;
};

}  // namespace

std::unique_ptr<Backend> open_builtin(const ModelSpec& spec) {
  if (spec.path == "builtin:hog-people") return std::make_unique<HogPeople>(spec);
  if (spec.path == "builtin:motion") return std::make_unique<MotionBoxes>(spec);
  if (spec.path == "builtin:faces") return std::make_unique<Faces>(spec);
  throw ModelError("model " + spec.path + ": no such built-in detector");
}

}  // namespace framepipe::detail
