// The vocabulary of image output: channel order, colour matrix and range, resize modes.
#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>

namespace framepipe {

// Output pixel layout: always 8 bits per channel, rows of W*C bytes, H x W x C.
enum class PixelFormat { Rgb, Bgr, Gray };

inline int channels(PixelFormat p) { return p == PixelFormat::Gray ? 1 : 3; }

// YUV -> RGB matrix. Auto: the stream's own; where it says nothing, BT.709 above 576 lines
// and BT.601 otherwise (the rule of DESIGN.md; ffmpeg's CLI itself always assumes BT.601).
enum class ColorMatrix { Auto, Bt601, Bt709, Bt2020, Smpte240m, Fcc };
// Auto: the stream's own; where it says nothing, full for yuvj*/MJPEG and limited otherwise.
enum class ColorRange { Auto, Limited, Full };

// How a frame is fitted into a requested W x H:
//   stretch   scale to exactly W x H, aspect not kept
//   letterbox scale to fit inside, keep aspect, pad the rest with a colour
//   crop      scale to cover, keep aspect, cut the centre W x H
//   short     scale so the shorter side is N (the requested size's smaller value), keep aspect
enum class ResizeMode { Stretch, Letterbox, Crop, Short };

enum class Interpolation { Bilinear, Bicubic, Area, Lanczos, Nearest };

PixelFormat parse_pixel_format(std::string_view s);
ColorMatrix parse_color_matrix(std::string_view s);
ColorRange parse_color_range(std::string_view s);
ResizeMode parse_resize_mode(std::string_view s);
Interpolation parse_interpolation(std::string_view s);
const char* to_string(PixelFormat p);
const char* to_string(ColorMatrix m);
const char* to_string(ColorRange r);
const char* to_string(ResizeMode m);
const char* to_string(Interpolation i);

// What the caller wants out of each decoded frame.
struct ImageOptions {
  PixelFormat pix = PixelFormat::Rgb;
  int width = 0;   // 0: source size (no resize)
  int height = 0;
  ResizeMode resize = ResizeMode::Stretch;
  Interpolation interpolation = Interpolation::Bicubic;  // bicubic = ffmpeg's scale default
  unsigned char pad_rgb[3] = {0, 0, 0};                  // letterbox padding colour
  ColorMatrix matrix = ColorMatrix::Auto;
  ColorRange range = ColorRange::Auto;
};

// The letterbox pad colour as a pixel of opt.pix (its first channels(opt.pix) bytes).
std::array<unsigned char, 3> pad_pixel(const ImageOptions& opt);

}  // namespace framepipe
