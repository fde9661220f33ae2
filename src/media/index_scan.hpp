// Building a FrameIndex from a file: one packet scan whose claims are checked (see the note
// in index_scan.cpp), or one decoding pass where they do not hold.
#pragma once

#include <memory>

#include "framepipe/media/frame_index.hpp"
#include "framepipe/media/source.hpp"

namespace framepipe {

class ProbedStreams;

struct ScanOptions {
  int stream = -1;
  int threads = 0;  // for the decoding pass
  InputOptions input_options;  // as the reader opens it
  // Packets: the packet scan where its checks pass (the default). Decode: always decode.
  FrameIndex::Method method = FrameIndex::Method::Packets;
  int64_t max_pixels = int64_t{8192} * 8192;  // the decoding pass's limit (DecoderOptions)
  // The source as the reader's demuxer probed it (Demuxer::probed): the check that decodes
  // the first frames opens it without probing again. Null: it probes.
  std::shared_ptr<const ProbedStreams> probed = nullptr;
};

// Opens `source` on its own (the caller's demuxer stays where it is) and scans it.
FrameIndex scan_frame_index(const Source& source, const ScanOptions& options);

}  // namespace framepipe
