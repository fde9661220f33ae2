// Turning decoded frames upright as the ffmpeg CLI's autorotate does (FFmpeg 5.1): from the
// display matrix it picks transpose (clock, cclock, or with a mirror cclock_flip / clock_flip),
// hflip and/or vflip, or, for an angle that is no quarter turn, its rotate filter. Turning the
// decoded planes before conversion (rather than the RGB after it) keeps the output byte for
// byte equal to the CLI's, chroma siting included; where the CLI's transpose cannot take the
// pixel format (chroma subsampled unevenly, 4:2:2), the CLI converts to the output format
// first and turns that, and so does the reader (turns_planes false).
#pragma once

#include <cstdint>
#include <string>

extern "C" {
#include <libavutil/frame.h>
}

namespace framepipe {

// Output pixel (x, y) of an upright frame comes from source pixel (sx, sy), where without a
// swap sx = x, sy = y, with a swap sx = y, sy = x, and then each mirrored coordinate counts
// from the far edge (sx = w-1-sx, sy = h-1-sy).
struct Upright {
  bool swap = false;      // a quarter turn: width and height exchange
  bool mirror_x = false;
  bool mirror_y = false;
  double degrees = 0;     // an angle that is no quarter turn (the CLI's rotate filter,
                          // image/angle_rotator.hpp); 0 if none
  bool identity() const { return !swap && !mirror_x && !mirror_y && degrees == 0; }
  bool planar() const { return !identity() && degrees == 0; }  // a pixel shuffle this file does
  // The CLI's filters for it: "transpose=clock", "hflip,vflip", "rotate=45", "" for none.
  std::string filters() const;
};

// From a display matrix (nullptr: none), as ffmpeg 5.1's autorotate decides.
Upright upright_of(const int32_t* display_matrix);

// Whether rotate_frame can turn this pixel format's planes as the CLI does: false for a swap
// of unevenly subsampled chroma (the CLI converts those to the output format first).
bool turns_planes(int pixel_format, const Upright& u);

// The pixel format libavfilter converts `pixel_format` to in front of the CLI's transpose
// filter when transpose cannot take it: the best (av_find_best_pix_fmt_of_2, in enum order)
// of the formats transpose takes. -1 if none.
int transpose_input_format(int pixel_format);

// Gives `f` buffers for a w x h picture of `format`, reallocated only when it has none or
// they are of another size or format (scratch frames reused frame after frame).
void ensure_frame_buffer(AVFrame* f, int w, int h, int format);

// dst gets src made upright (u.planar()), timestamps and colour fields copied. dst's buffers
// are (re)allocated when its size or format does not fit. Throws UnsupportedError for pixel
// formats whose pixels are not whole bytes.
void rotate_frame(const AVFrame* src, const Upright& u, AVFrame* dst);

}  // namespace framepipe
