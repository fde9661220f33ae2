#include "media/bitstream_check.hpp"

#include <vector>

namespace framepipe {

namespace {

// Emulation-prevention bytes (00 00 03) removed from at most `limit` bytes of a NAL unit.
std::vector<uint8_t> unescape(const uint8_t* p, int n, int limit) {
  std::vector<uint8_t> out;
  out.reserve(static_cast<size_t>(std::min(n, limit)));
  int zeros = 0;
  for (int i = 0; i < n && static_cast<int>(out.size()) < limit; ++i) {
    if (zeros >= 2 && p[i] == 3) {
      zeros = 0;
      continue;
    }
    zeros = p[i] == 0 ? zeros + 1 : 0;
    out.push_back(p[i]);
  }
  return out;
}

// Exp-Golomb reader over an unescaped buffer; reading past the end yields -1.
class Bits {
 public:
  Bits(const std::vector<uint8_t>& b, size_t byte) : b_(b), pos_(byte * 8) {}
  int64_t ue() {
    int zeros = 0;
    while (bit() == 0) {
      if (++zeros > 31 || pos_ > b_.size() * 8) return -1;
    }
    int64_t v = 1;
    for (int i = 0; i < zeros; ++i) v = (v << 1) | bit();
    return pos_ > b_.size() * 8 ? -1 : v - 1;
  }

 private:
  int bit() {
    if (pos_ >= b_.size() * 8) {
      ++pos_;
      return 1;  // ends any run of zeros
    }
    const int v = (b_[pos_ / 8] >> (7 - pos_ % 8)) & 1;
    ++pos_;
    return v;
  }
  const std::vector<uint8_t>& b_;
  size_t pos_;
};

bool h264_recovery_point(const uint8_t* nal, int n) {
  const std::vector<uint8_t> rbsp = unescape(nal + 1, n - 1, 1 << 16);
  size_t i = 0;
  while (i + 2 <= rbsp.size() && rbsp[i] != 0x80) {  // 0x80: rbsp trailing bits
    int type = 0, size = 0;
    while (i < rbsp.size() && rbsp[i] == 0xFF) type += 255, ++i;
    if (i >= rbsp.size()) return false;
    type += rbsp[i++];
    while (i < rbsp.size() && rbsp[i] == 0xFF) size += 255, ++i;
    if (i >= rbsp.size()) return false;
    size += rbsp[i++];
    if (type == 6) return true;
    i += static_cast<size_t>(size);
  }
  return false;
}

// Calls f(nal, size) for each NAL unit of the packet; false where the framing does not hold.
template <class F>
bool each_nal(const uint8_t* data, int size, int length_size, F&& f) {
  if (length_size > 0) {
    int off = 0;
    while (off < size) {
      if (size - off < length_size) return false;
      uint32_t n = 0;
      for (int k = 0; k < length_size; ++k) n = (n << 8) | data[off + k];
      off += length_size;
      if (n == 0 || n > static_cast<uint32_t>(size - off)) return false;  // as FFmpeg: the packet fails
      f(data + off, static_cast<int>(n));
      off += static_cast<int>(n);
    }
    return true;
  }
  // Annex B: units between 00 00 01 start codes (a leading zero of 00 00 00 01 is trailing
  // padding of the unit before; a trailing zero byte of a unit is stripped as well).
  int start = -1;
  bool found = false;
  for (int i = 0; i + 2 < size; ++i) {
    if (data[i] == 0 && data[i + 1] == 0 && data[i + 2] == 1) {
      if (start >= 0) {
        int end = i;
        while (end > start && data[end - 1] == 0) --end;
        if (end > start) f(data + start, end - start);
      }
      start = i + 3;
      found = true;
      i += 2;
    }
  }
  if (start >= 0 && start < size) f(data + start, size - start);
  return found;
}

}  // namespace

BitstreamCheck::BitstreamCheck(const AVCodecParameters* par) {
  const uint8_t* x = par->extradata;
  const int n = par->extradata_size;
  if (par->codec_id == AV_CODEC_ID_H264) {
    codec_ = Codec::H264;
    if (n >= 7 && x[0] == 1) length_size_ = (x[4] & 3) + 1;  // avcC
  } else if (par->codec_id == AV_CODEC_ID_HEVC) {
    codec_ = Codec::Hevc;
    if (n >= 23 && x[0] == 1) length_size_ = (x[21] & 3) + 1;  // hvcC
  }
  if (length_size_ == 3) codec_ = Codec::None;  // not allowed by either format: leave it alone
}

const char* BitstreamCheck::name() const {
  switch (codec_) {
    case Codec::H264: return "h264 NAL units";
    case Codec::Hevc: return "hevc NAL units";
    default: return "none";
  }
}

PacketFacts BitstreamCheck::inspect(const uint8_t* data, int size) const {
  PacketFacts seen;  // filled as the NAL units are read; kept only if the framing holds
  seen.has_picture = false;
  bool first_slice = true;
  auto on_nal = [&](const uint8_t* nal, int n) {
    if (codec_ == Codec::H264) {
      if (n < 1 || (nal[0] & 0x80)) return;  // forbidden_zero_bit set: the decoder drops it
      const int type = nal[0] & 0x1f;
      if (type >= 1 && type <= 5) {
        seen.has_picture = true;
        if (type == 5) seen.random_access = seen.clean_start = true;
        if (first_slice && n > 1) {
          const std::vector<uint8_t> head = unescape(nal + 1, n - 1, 16);
          Bits bits(head, 0);
          bits.ue();  // first_mb_in_slice
          const int64_t slice_type = bits.ue();
          seen.intra = slice_type >= 0 && (slice_type % 5 == 2 || slice_type % 5 == 4);
          seen.bidirectional = slice_type >= 0 && slice_type % 5 == 1;
          first_slice = false;
        }
      } else if (type == 6 && h264_recovery_point(nal, n)) {
        seen.random_access = true;
      }
    } else {
      if (n < 2 || (nal[0] & 0x80)) return;
      const int type = (nal[0] >> 1) & 0x3f;
      const int layer = ((nal[0] & 1) << 5) | (nal[1] >> 3);
      if (layer != 0) return;
      if (type <= 9 || (type >= 16 && type <= 21)) seen.has_picture = true;
      if (type >= 16 && type <= 21) seen.random_access = seen.intra = true;
      if (type == 19 || type == 20) seen.clean_start = true;
    }
  };
  if (!each_nal(data, size, length_size_, on_nal)) return PacketFacts{};  // framing unknown: claim nothing
  seen.read = true;
  return seen;
}

}  // namespace framepipe
