#include "framepipe/image/frame_ops.hpp"

#include <opencv2/imgproc.hpp>
#include <opencv2/photo.hpp>
#include <sstream>

#include "framepipe/error.hpp"

namespace framepipe {

struct FrameOps::Op {
  std::string name;
  std::vector<double> args;
  int w = 0, h = 0;  // resize
};

const char* FrameOps::grammar() {
  return "operations, comma separated, arguments after '=' separated by ':'\n"
         "  resize=WxH            scale to W x H (area when shrinking, bicubic when growing)\n"
         "  crop=X:Y:W:H          keep the W x H rectangle at X,Y (clipped to the frame)\n"
         "  rotate=90|180|270     turn clockwise by that many degrees\n"
         "  flip=h|v              mirror left-right (h) or top-bottom (v)\n"
         "  blur=K                box blur, K x K\n"
         "  gaussian=K[:SIGMA]    Gaussian blur, K odd (SIGMA 0: from K)\n"
         "  median=K              median filter, K odd\n"
         "  bilateral=D[:SC:SS]   edge-preserving smoothing (defaults 75, 75)\n"
         "  canny=LOW:HIGH        edges, white on black\n"
         "  gray                  grey, in all three channels\n"
         "  sharpen               unsharp 3x3 kernel\n"
         "  brightness=B          add B (-255..255)\n"
         "  contrast=C            multiply by C around 0 (1: unchanged)\n"
         "  denoise[=H]           non-local means (strength H, default 10; slow)";
}

namespace {

[[noreturn]] void bad(const std::string& text, const std::string& why) {
  throw ConfigError("bad --ops '" + text + "': " + why + "\n" + FrameOps::grammar());
}

int odd_size(double v, const std::string& text, const std::string& op) {
  const int k = static_cast<int>(v);
  if (k < 1 || k % 2 == 0 || k != v) bad(text, op + " needs an odd kernel size, not " + std::to_string(v));
  return k;
}

}  // namespace

FrameOps FrameOps::parse(const std::string& text) {
  FrameOps ops;
  std::stringstream items(text);
  for (std::string item; std::getline(items, item, ',');) {
    if (item.empty()) continue;
    auto op = std::make_shared<Op>();
    const size_t eq = item.find('=');
    op->name = item.substr(0, eq);
    const std::string args = eq == std::string::npos ? "" : item.substr(eq + 1);
    if (op->name == "resize") {
      if (std::sscanf(args.c_str(), "%dx%d", &op->w, &op->h) != 2 || op->w < 1 || op->h < 1)
        bad(text, "resize takes WxH, e.g. resize=640x360");
    } else if (op->name == "flip") {
      if (args != "h" && args != "v") bad(text, "flip takes h or v");
      op->args = {args == "h" ? 1.0 : 0.0};
    } else if (!args.empty()) {
      std::stringstream parts(args);
      for (std::string p; std::getline(parts, p, ':');) {
        try {
          size_t used = 0;
          op->args.push_back(std::stod(p, &used));
          if (used != p.size()) throw std::invalid_argument(p);
        } catch (const std::exception&) {
          bad(text, "'" + p + "' in " + op->name + " is not a number");
        }
      }
    }
    const auto n = op->args.size();
    const std::string& name = op->name;
    if (name == "crop") {
      if (n != 4 || op->args[2] < 1 || op->args[3] < 1) bad(text, "crop takes X:Y:W:H");
    } else if (name == "rotate") {
      if (n != 1 || (op->args[0] != 90 && op->args[0] != 180 && op->args[0] != 270)) bad(text, "rotate takes 90, 180 or 270");
    } else if (name == "blur") {
      if (n != 1 || op->args[0] < 1) bad(text, "blur takes a kernel size K >= 1");
    } else if (name == "gaussian") {
      if (n < 1 || n > 2) bad(text, "gaussian takes K[:SIGMA]");
      odd_size(op->args[0], text, name);
    } else if (name == "median") {
      if (n != 1) bad(text, "median takes K");
      odd_size(op->args[0], text, name);
    } else if (name == "bilateral") {
      if (n < 1 || n > 3) bad(text, "bilateral takes D[:SIGMA_COLOR:SIGMA_SPACE]");
      op->args.resize(3, 75.0);
    } else if (name == "canny") {
      if (n != 2) bad(text, "canny takes LOW:HIGH");
    } else if (name == "brightness" || name == "contrast") {
      if (n != 1) bad(text, name + " takes one number");
    } else if (name == "denoise") {
      if (n > 1) bad(text, "denoise takes [H]");
      op->args.resize(1, 10.0);
    } else if (name == "gray" || name == "sharpen") {
      if (n != 0) bad(text, name + " takes no arguments");
    } else if (name != "resize" && name != "flip") {
      bad(text, "unknown operation '" + name + "'");
    }
    ops.ops_.push_back(std::move(op));
  }
  if (ops.ops_.empty()) bad(text, "no operation given");
  return ops;
}

void FrameOps::apply(Frame& frame, PixelFormat order) const {
  if (frame.channels != 3) throw ConfigError("frame operations take 3-channel frames");
  cv::Mat img(frame.height, frame.width, CV_8UC3, frame.pixels.data());
  cv::Mat cur = img.clone();
  cv::Mat next;
  for (const auto& op : ops_) {
    const auto& a = op->args;
    const std::string& n = op->name;
    if (n == "resize") {
      const bool shrink = op->w < cur.cols && op->h < cur.rows;
      cv::resize(cur, next, cv::Size(op->w, op->h), 0, 0, shrink ? cv::INTER_AREA : cv::INTER_CUBIC);
    } else if (n == "crop") {
      cv::Rect r = cv::Rect(int(a[0]), int(a[1]), int(a[2]), int(a[3])) & cv::Rect(0, 0, cur.cols, cur.rows);
      if (r.area() <= 0) throw ConfigError("crop " + std::to_string(int(a[0])) + ":" + std::to_string(int(a[1])) + " lies outside the " + std::to_string(cur.cols) + "x" + std::to_string(cur.rows) + " frame");
      next = cur(r).clone();
    } else if (n == "rotate") {
      cv::rotate(cur, next, a[0] == 90 ? cv::ROTATE_90_CLOCKWISE : a[0] == 180 ? cv::ROTATE_180 : cv::ROTATE_90_COUNTERCLOCKWISE);
    } else if (n == "flip") {
      cv::flip(cur, next, a[0] == 1.0 ? 1 : 0);
    } else if (n == "blur") {
      cv::blur(cur, next, cv::Size(int(a[0]), int(a[0])));
    } else if (n == "gaussian") {
      cv::GaussianBlur(cur, next, cv::Size(int(a[0]), int(a[0])), a.size() > 1 ? a[1] : 0);
    } else if (n == "median") {
      cv::medianBlur(cur, next, int(a[0]));
    } else if (n == "bilateral") {
      cv::bilateralFilter(cur, next, int(a[0]), a[1], a[2]);
    } else if (n == "canny" || n == "gray") {
      cv::Mat gray, edges;
      cv::cvtColor(cur, gray, order == PixelFormat::Bgr ? cv::COLOR_BGR2GRAY : cv::COLOR_RGB2GRAY);
      if (n == "canny") cv::Canny(gray, edges, a[0], a[1]);
      cv::cvtColor(n == "canny" ? edges : gray, next, cv::COLOR_GRAY2BGR);  // same in all channels
    } else if (n == "sharpen") {
      const cv::Mat k = (cv::Mat_<float>(3, 3) << 0, -1, 0, -1, 5, -1, 0, -1, 0);
      cv::filter2D(cur, next, -1, k);
    } else if (n == "brightness") {
      cur.convertTo(next, -1, 1.0, a[0]);
    } else if (n == "contrast") {
      cur.convertTo(next, -1, a[0], 0.0);
    } else if (n == "denoise") {
      cv::fastNlMeansDenoisingColored(cur, next, float(a[0]), float(a[0]), 7, 21);
    }
    std::swap(cur, next);
  }
  frame.width = cur.cols;
  frame.height = cur.rows;
  frame.pixels.resize(frame.size_bytes());
  cur.copyTo(cv::Mat(cur.rows, cur.cols, CV_8UC3, frame.pixels.data()));
}

namespace {
int cv_interpolation(Interpolation i) {
  switch (i) {
    case Interpolation::Bilinear: return cv::INTER_LINEAR;
    case Interpolation::Area: return cv::INTER_AREA;
    case Interpolation::Lanczos: return cv::INTER_LANCZOS4;
    case Interpolation::Nearest: return cv::INTER_NEAREST;
    case Interpolation::Bicubic: break;
  }
  return cv::INTER_CUBIC;
}
}  // namespace

void resize_frame(const Frame& src, const Geometry& g, const ImageOptions& opt, Frame& dst) {
  const int c = channels(opt.pix);
  if (src.channels != c || src.width != g.src_width || src.height != g.src_height)
    throw ConfigError("resize_frame: a " + std::to_string(src.width) + "x" + std::to_string(src.height) + "x" +
                      std::to_string(src.channels) + " frame does not match the geometry's " +
                      std::to_string(g.src_width) + "x" + std::to_string(g.src_height) + "x" + std::to_string(c));
  dst.info = src.info;
  dst.width = g.out_width;
  dst.height = g.out_height;
  dst.channels = c;
  dst.pixels.resize(dst.size_bytes());
  const int type = CV_8UC(c);
  const cv::Mat in(src.height, src.width, type, const_cast<uint8_t*>(src.data()));
  cv::Mat out(dst.height, dst.width, type, dst.data());
  const Rect& r = g.dst_rect;
  if (r.x != 0 || r.y != 0 || r.width != g.out_width || r.height != g.out_height) {
    const auto px = pad_pixel(opt);
    out.setTo(cv::Scalar(px[0], px[1], px[2]));
  }
  const Rect& s = g.src_rect;
  cv::Mat roi = out(cv::Rect(r.x, r.y, r.width, r.height));
  cv::resize(in(cv::Rect(s.x, s.y, s.width, s.height)), roi, roi.size(), 0, 0, cv_interpolation(opt.interpolation));
}

}  // namespace framepipe
