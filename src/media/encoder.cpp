#include "media/encoder.hpp"

namespace framepipe {

Encoder::Encoder(av::CodecContext ctx, const AVCodec* codec, av::Dictionary& options, std::string output)
    : ctx_(std::move(ctx)), output_(std::move(output)) {
  AVDictionary* d = options.release();
  const int r = avcodec_open2(ctx_.get(), codec, &d);
  options.reset(d);
  if (r < 0)
    av::throw_error(ErrorKind::Unsupported, r, std::string("cannot open the ") + codec->name + " encoder for", output_);
}

void Encoder::send(const AVFrame* frame, const std::function<void(AVPacket*)>& on_packet) {
  if (flushed_) return;
  flushed_ = frame == nullptr;
  const char* what = ctx_->codec_type == AVMEDIA_TYPE_AUDIO ? "cannot encode audio for" : "cannot encode a frame for";
  if (int r = avcodec_send_frame(ctx_.get(), frame); r < 0 && r != AVERROR_EOF) av::throw_error(ErrorKind::Io, r, what, output_);
  for (;;) {
    const int r = avcodec_receive_packet(ctx_.get(), packet_.get());
    if (r == AVERROR(EAGAIN) || r == AVERROR_EOF) return;
    if (r < 0) av::throw_error(ErrorKind::Io, r, what, output_);
    on_packet(packet_.get());
    av_packet_unref(packet_.get());
  }
}

}  // namespace framepipe
