#include "framepipe/sinks/annotate.hpp"

#include <cstdio>
#include <opencv2/imgproc.hpp>

namespace framepipe {

namespace {

// Well-separated colours (RGB), picked by track id or class.
constexpr unsigned char kPalette[][3] = {{230, 25, 75},  {60, 180, 75},  {255, 225, 25}, {0, 130, 200},
                                         {245, 130, 48}, {145, 30, 180}, {70, 240, 240}, {240, 50, 230},
                                         {210, 245, 60}, {250, 190, 212}, {0, 128, 128}, {170, 110, 40}};

cv::Scalar colour(int64_t key, PixelFormat order) {
  const auto& c = kPalette[static_cast<size_t>(key < 0 ? -key : key) % (sizeof kPalette / sizeof kPalette[0])];
  return order == PixelFormat::Bgr ? cv::Scalar(c[2], c[1], c[0]) : cv::Scalar(c[0], c[1], c[2]);
}

cv::Mat view(Frame& f) { return cv::Mat(f.height, f.width, f.channels == 3 ? CV_8UC3 : CV_8UC1, f.pixels.data()); }

// Text on a filled box of `bg`, black or white text by the box's brightness.
void label(cv::Mat& img, const std::string& text, cv::Point at, const cv::Scalar& bg, double scale) {
  int base = 0;
  const int thick = std::max(1, static_cast<int>(scale * 2));
  cv::Size size = cv::getTextSize(text, cv::FONT_HERSHEY_SIMPLEX, scale, thick, &base);
  at.x = std::clamp(at.x, 0, std::max(0, img.cols - size.width - 4));
  at.y = std::clamp(at.y, size.height + 4, std::max(size.height + 4, img.rows));
  cv::rectangle(img, cv::Point(at.x, at.y - size.height - 4), cv::Point(at.x + size.width + 4, at.y + base - 2), bg,
                cv::FILLED);
  const double luma = 0.299 * bg[0] + 0.587 * bg[1] + 0.114 * bg[2];
  cv::putText(img, text, cv::Point(at.x + 2, at.y - 2), cv::FONT_HERSHEY_SIMPLEX, scale,
              luma > 140 ? cv::Scalar(0, 0, 0) : cv::Scalar(255, 255, 255), thick, cv::LINE_AA);
}

double text_scale(const Frame& f) { return std::clamp(std::min(f.width, f.height) / 800.0, 0.35, 1.2); }

}  // namespace

void draw_objects(Frame& frame, const std::vector<Detection>& objects, PixelFormat order) {
  cv::Mat img = view(frame);
  const int thick = std::max(1, std::min(frame.width, frame.height) / 300);
  for (const auto& d : objects) {
    const cv::Scalar c = colour(d.track_id >= 0 ? d.track_id : d.cls, order);
    const cv::Point p1(static_cast<int>(std::lround(d.box[0])), static_cast<int>(std::lround(d.box[1])));
    const cv::Point p2(static_cast<int>(std::lround(d.box[2])), static_cast<int>(std::lround(d.box[3])));
    cv::rectangle(img, p1, p2, c, thick, cv::LINE_AA);
    char text[160];
    if (d.track_id >= 0)
      std::snprintf(text, sizeof text, "#%lld %s %.2f", static_cast<long long>(d.track_id), d.label.c_str(), d.score);
    else
      std::snprintf(text, sizeof text, "%s %.2f", d.label.c_str(), d.score);
    label(img, text, p1, c, text_scale(frame));
  }
}

void draw_classes(Frame& frame, const std::vector<ClassScore>& classes, PixelFormat order) {
  cv::Mat img = view(frame);
  const double scale = text_scale(frame) * 1.2;
  int y = 0;
  for (const auto& c : classes) {
    char text[160];
    std::snprintf(text, sizeof text, "%s %.2f", c.label.c_str(), c.score);
    int base = 0;
    y += cv::getTextSize(text, cv::FONT_HERSHEY_SIMPLEX, scale, 2, &base).height + 10;
    label(img, text, cv::Point(4, y), colour(c.index, order), scale);
  }
}

}  // namespace framepipe
