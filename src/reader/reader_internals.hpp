// What the library itself needs of a VideoReader beyond its public face: the input's other
// streams, for the live pipeline that records a stream's audio beside its video.
#pragma once

#include <functional>

#include "framepipe/reader/video_reader.hpp"
#include "media/av.hpp"

namespace framepipe {

struct ReaderInternals {
  // Packets of the input's other streams, passed as the demuxer reads them (on the read-ahead
  // thread while streaming): the callback may take a reference. Set it before reading.
  static void tap_other_packets(VideoReader& reader, std::function<void(AVPacket*)> tap);
  static const AVFormatContext* format(const VideoReader& reader);
};

}  // namespace framepipe
