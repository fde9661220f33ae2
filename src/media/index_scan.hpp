// Building a FrameIndex from a file: one packet scan, or one decoding pass where the packets
// cannot be trusted to say when each frame is shown.
#pragma once

#include "framepipe/media/frame_index.hpp"
#include "framepipe/reader/video_reader.hpp"

namespace framepipe {

struct ScanOptions {
  int stream = -1;
  int threads = 0;  // for the decoding pass
  InputOptions input_options;  // as the reader opens it
};

// Opens `source` on its own (the caller's demuxer stays where it is) and scans it.
FrameIndex scan_frame_index(const Source& source, const ScanOptions& options);

}  // namespace framepipe
