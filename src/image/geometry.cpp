#include "framepipe/image/geometry.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include "framepipe/error.hpp"

namespace framepipe {

std::array<double, 2> Geometry::to_output(double x, double y) const {
  return {(x - src_rect.x) * scale_x + dst_rect.x, (y - src_rect.y) * scale_y + dst_rect.y};
}

std::array<double, 2> Geometry::to_source(double x, double y) const {
  return {(x - dst_rect.x) / scale_x + src_rect.x, (y - dst_rect.y) / scale_y + src_rect.y};
}

std::array<double, 4> Geometry::box_to_output(const std::array<double, 4>& b) const {
  auto p = to_output(b[0], b[1]);
  auto q = to_output(b[2], b[3]);
  return {p[0], p[1], q[0], q[1]};
}

std::array<double, 4> Geometry::box_to_source(const std::array<double, 4>& b) const {
  auto p = to_source(b[0], b[1]);
  auto q = to_source(b[2], b[3]);
  auto cx = [this](double v) { return std::clamp(v, 0.0, static_cast<double>(src_width)); };
  auto cy = [this](double v) { return std::clamp(v, 0.0, static_cast<double>(src_height)); };
  return {cx(p[0]), cy(p[1]), cx(q[0]), cy(q[1])};
}

namespace {
// A side computed from an aspect ratio, at least 1; sides past the limit stop at a value the
// output check below refuses (so no double overflows an int).
int round_pos(double v) { return static_cast<int>(std::clamp(std::lround(std::min(v, 1e9)), 1L, 1L << 30)); }
}  // namespace

Geometry make_geometry(int sw, int sh, const ImageOptions& opt, int align_x, int align_y) {
  if (sw <= 0 || sh <= 0) throw ConfigError("cannot resize a frame of size " + std::to_string(sw) + "x" + std::to_string(sh));
  if (opt.width < 0 || opt.height < 0)
    throw ConfigError("output size must be positive, got " + std::to_string(opt.width) + "x" + std::to_string(opt.height));
  Geometry g;
  g.src_width = sw;
  g.src_height = sh;
  g.src_rect = {0, 0, sw, sh};
  int W = opt.width, H = opt.height;

  if (W == 0 && H == 0) {
    W = sw;
    H = sh;
  } else if (opt.resize == ResizeMode::Short) {
    const int n = (W > 0 && H > 0) ? std::min(W, H) : std::max(W, H);
    if (sw <= sh) {
      W = n;
      H = round_pos(static_cast<double>(sh) * n / sw);
    } else {
      H = n;
      W = round_pos(static_cast<double>(sw) * n / sh);
    }
  } else if (W == 0 || H == 0) {
    // One side given: the other keeps the aspect ratio, whatever the mode.
    if (W == 0) W = round_pos(static_cast<double>(sw) * H / sh);
    else H = round_pos(static_cast<double>(sh) * W / sw);
  }
  if ((opt.width > 0 || opt.height > 0) && static_cast<int64_t>(W) * H > kMaxOutputPixels)
    throw ConfigError("output size " + std::to_string(W) + "x" + std::to_string(H) + " for a " + std::to_string(sw) + "x" +
                      std::to_string(sh) + " frame is over the limit of " + std::to_string(kMaxOutputPixels) +
                      " pixels (8192x8192)");
  g.out_width = W;
  g.out_height = H;
  g.dst_rect = {0, 0, W, H};

  if (opt.resize == ResizeMode::Letterbox && (opt.width > 0 && opt.height > 0)) {
    const double s = std::min(static_cast<double>(W) / sw, static_cast<double>(H) / sh);
    const int dw = std::min(W, round_pos(sw * s)), dh = std::min(H, round_pos(sh * s));
    g.dst_rect = {(W - dw) / 2, (H - dh) / 2, dw, dh};
  } else if (opt.resize == ResizeMode::Crop && (opt.width > 0 && opt.height > 0)) {
    const double s = std::max(static_cast<double>(W) / sw, static_cast<double>(H) / sh);
    const int cw = std::min(sw, round_pos(W / s)), ch = std::min(sh, round_pos(H / s));
    int x = (sw - cw) / 2, y = (sh - ch) / 2;
    x -= x % std::max(1, align_x);
    y -= y % std::max(1, align_y);
    g.src_rect = {x, y, cw, ch};
  }
  g.scale_x = static_cast<double>(g.dst_rect.width) / g.src_rect.width;
  g.scale_y = static_cast<double>(g.dst_rect.height) / g.src_rect.height;
  return g;
}

}  // namespace framepipe
