#include "framepipe/image/pixel_format.hpp"

#include <array>
#include <utility>

#include "common/named_enum.hpp"
#include "framepipe/error.hpp"

namespace framepipe {

namespace {
using detail::enum_name;
using detail::parse_enum;

constexpr std::array<std::pair<const char*, PixelFormat>, 3> kPix{
    {{"rgb", PixelFormat::Rgb}, {"bgr", PixelFormat::Bgr}, {"gray", PixelFormat::Gray}}};
constexpr std::array<std::pair<const char*, ColorMatrix>, 6> kMatrix{{{"auto", ColorMatrix::Auto},
                                                                       {"bt601", ColorMatrix::Bt601},
                                                                       {"bt709", ColorMatrix::Bt709},
                                                                       {"bt2020", ColorMatrix::Bt2020},
                                                                       {"smpte240m", ColorMatrix::Smpte240m},
                                                                       {"fcc", ColorMatrix::Fcc}}};
constexpr std::array<std::pair<const char*, ColorRange>, 7> kRange{{{"auto", ColorRange::Auto},
                                                                     {"tv", ColorRange::Limited},
                                                                     {"pc", ColorRange::Full},
                                                                     {"limited", ColorRange::Limited},
                                                                     {"mpeg", ColorRange::Limited},
                                                                     {"full", ColorRange::Full},
                                                                     {"jpeg", ColorRange::Full}}};
constexpr std::array<std::pair<const char*, ResizeMode>, 4> kResize{{{"stretch", ResizeMode::Stretch},
                                                                      {"letterbox", ResizeMode::Letterbox},
                                                                      {"crop", ResizeMode::Crop},
                                                                      {"short", ResizeMode::Short}}};
constexpr std::array<std::pair<const char*, Interpolation>, 5> kInterp{{{"bilinear", Interpolation::Bilinear},
                                                                         {"bicubic", Interpolation::Bicubic},
                                                                         {"area", Interpolation::Area},
                                                                         {"lanczos", Interpolation::Lanczos},
                                                                         {"nearest", Interpolation::Nearest}}};
}  // namespace

PixelFormat parse_pixel_format(std::string_view s) { return parse_enum(s, kPix, "pixel format"); }
ColorMatrix parse_color_matrix(std::string_view s) { return parse_enum(s, kMatrix, "colour matrix"); }
ColorRange parse_color_range(std::string_view s) { return parse_enum(s, kRange, "colour range"); }
ResizeMode parse_resize_mode(std::string_view s) { return parse_enum(s, kResize, "resize mode"); }
Interpolation parse_interpolation(std::string_view s) { return parse_enum(s, kInterp, "interpolation"); }
const char* to_string(PixelFormat p) { return enum_name(p, kPix); }
const char* to_string(ColorMatrix m) { return enum_name(m, kMatrix); }
const char* to_string(ColorRange r) { return enum_name(r, kRange); }
const char* to_string(ResizeMode m) { return enum_name(m, kResize); }
const char* to_string(Interpolation i) { return enum_name(i, kInterp); }

std::array<unsigned char, 3> pad_pixel(const ImageOptions& opt) {
  std::array<unsigned char, 3> px{opt.pad_rgb[0], opt.pad_rgb[1], opt.pad_rgb[2]};
  if (opt.pix == PixelFormat::Bgr) std::swap(px[0], px[2]);
  if (opt.pix == PixelFormat::Gray)
    px[0] = static_cast<unsigned char>((299 * opt.pad_rgb[0] + 587 * opt.pad_rgb[1] + 114 * opt.pad_rgb[2] + 500) / 1000);
  return px;
}

}  // namespace framepipe
