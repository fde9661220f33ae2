// Encoding: an opened encoder and the send/receive loop, written once for video and audio.
// Each frame sent (nullptr: the end) hands every packet the encoder has ready to a callback,
// in the encoder's time base.
#pragma once

#include <functional>
#include <string>

#include "media/av.hpp"

namespace framepipe {

class Encoder {
 public:
  // Opens `ctx` (configured by the caller) with `codec` and `options` (the ones it takes are
  // removed from it). `output` names the file in errors.
  Encoder(av::CodecContext ctx, const AVCodec* codec, av::Dictionary& options, std::string output);
  AVCodecContext* context() const { return ctx_.get(); }
  // IoError naming the output where the encoder refuses the frame or fails.
  void send(const AVFrame* frame, const std::function<void(AVPacket*)>& on_packet);

 private:
  av::CodecContext ctx_;
  av::PacketPtr packet_ = av::make_packet();
  std::string output_;
  bool flushed_ = false;
};

}  // namespace framepipe
