// The audio of a live stream on its way to a recording. The capture side pushes each audio
// packet as the demuxer reads it, already moved onto the recording's clock; the writer pops
// them in order and copies them as they are. The streams are the first connection's: a later
// connection's audio goes in only where its stream matches one of them (same codec, rate,
// channels and codec setup), so the recording never mixes incompatible packets.
//
// Bounded: past `capacity` packets (a writer that has stopped taking them) the oldest are
// dropped and counted.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <vector>

#include "media/av.hpp"

namespace framepipe {

// One stream a writer copies: its codec parameters, time base, tags and disposition.
struct CopiedStream {
  const AVCodecParameters* params = nullptr;
  AVRational time_base{1, 1};
  const AVDictionary* metadata = nullptr;
  int disposition = 0;
};

class AudioRelay {
 public:
  explicit AudioRelay(size_t capacity = 4096) : capacity_(capacity) {}

  // Capture side (one thread at a time). A connection's input opened: the first one's audio
  // streams become the relay's; a later one's are matched to them.
  void connect(const AVFormatContext* input);
  // A packet of the current connection, referenced (not copied), its timestamps moved onto
  // the recording's clock. Packets of streams that did not match are left out. A packet without a
  // time (FFmpeg leaves some live AAC packets without one) follows on from the one before it.
  // `offset_for(stream seconds)` gives the shift onto the recording's clock.
  void push(const AVPacket* packet, const std::function<double(double)>& offset_for);
  void close();  // nothing more will come

  // Writer side.
  std::vector<CopiedStream> streams() const;  // fixed by the first connect()
  // The oldest packet, its stream_index the relay's stream (0..n-1); false when none is
  // waiting (finished() says whether more can come).
  bool pop(AVPacket* out);
  bool finished() const;
  int64_t dropped() const;   // over capacity
  int64_t left_out() const;  // streams of a later connection that did not match

 private:
  struct Stream {
    av::CodecParameters params;
    AVRational time_base;
    av::Dictionary metadata;
    int disposition;
  };
  const size_t capacity_;
  mutable std::mutex mutex_;
  std::vector<Stream> streams_;
  bool connected_ = false, closed_ = false;
  std::vector<int> map_;               // current input's stream -> relay stream, -1: not relayed
  std::vector<const AVStream*> inputs_;  // the current input's streams (alive while it is)
  std::vector<int64_t> next_ts_;       // current input's next packet time, for packets without one
  std::deque<av::PacketPtr> queue_;
  int64_t dropped_ = 0, left_out_ = 0;
};

}  // namespace framepipe
