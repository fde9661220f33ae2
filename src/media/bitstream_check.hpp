// BitstreamCheck: what a packet's own bytes say about it, for the codecs whose units can be
// read without decoding (H.264 and HEVC NAL units, length-prefixed as in MP4/MKV or with
// Annex B start codes as in MPEG-TS). The index scan uses it to check the container's claims
// packet by packet: a packet that holds no picture decodes to no frame, and a keyframe flag
// on a packet that is no random-access point is false.
#pragma once

#include <cstdint>

extern "C" {
#include <libavcodec/avcodec.h>
}

namespace framepipe {

struct PacketFacts {
  bool read = false;  // the packet's NAL framing held (else a decoder rejects the packet whole)
  bool has_picture = true;   // at least one slice of the base layer that a decoder decodes
  bool random_access = false;  // IDR / recovery-point SEI (H.264), IRAP (HEVC)
  bool clean_start = false;    // IDR (H.264, HEVC): no picture after it refers to one before
  bool intra = false;        // the first slice is an I slice (H.264) or the picture is IRAP
  bool bidirectional = false;  // the first slice is a B slice (H.264 only)
};

class BitstreamCheck {
 public:
  explicit BitstreamCheck(const AVCodecParameters* par);
  // Whether packets of this stream can be read here; inspect() is meaningful only then.
  bool applies() const { return codec_ != Codec::None; }
  const char* name() const;  // "h264 NAL units", ...
  bool reads_slice_types() const { return codec_ == Codec::H264; }  // PacketFacts::bidirectional is known
  PacketFacts inspect(const uint8_t* data, int size) const;

 private:
  enum class Codec { None, H264, Hevc };
  Codec codec_ = Codec::None;
  int length_size_ = 0;  // NAL length prefix in bytes (MP4/MKV); 0: Annex B start codes
};

}  // namespace framepipe
