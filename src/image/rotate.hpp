// Turning decoded frames upright, as the ffmpeg CLI's autorotate does: 90 degrees clockwise
// is its transpose=clock, 180 is hflip+vflip, 270 is transpose=cclock. Rotating the decoded
// planes before conversion (rather than the RGB after it) keeps the output byte for byte
// equal to the CLI's, chroma siting included.
#pragma once

extern "C" {
#include <libavutil/frame.h>
}

namespace framepipe {

// The clockwise turn (0, 90, 180, 270) that shows a stream upright, from its display matrix
// rotation in degrees counter-clockwise (av_display_rotation_get); 0 for any other angle.
int upright_turn(double display_rotation_ccw);

// dst gets src turned `clockwise` degrees (90, 180 or 270), timestamps and colour fields
// copied. dst's buffers are (re)allocated when its size or format does not fit. Throws
// UnsupportedError for pixel formats whose pixels are not whole bytes.
void rotate_frame(const AVFrame* src, int clockwise, AVFrame* dst);

}  // namespace framepipe
