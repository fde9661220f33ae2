#include "media/muxer.hpp"

namespace framepipe {

Muxer::Muxer(const std::string& path, const std::string& format) : file_(path) {
  av::init_logging();
  AVFormatContext* raw = nullptr;
  const char* name = format.empty() ? nullptr : format.c_str();
  if (int r = avformat_alloc_output_context2(&raw, nullptr, name, file_.part().c_str()); r < 0 || !raw)
    throw ConfigError("video writer " + path + ": " +
                      (name ? "no container named '" + format + "' in this FFmpeg (" + av::error_text(r) +
                                  "); try mp4, matroska, mov, mpegts, webm, nut"
                            : "no container for this file name (" + av::error_text(r) + "); use .mp4, .mkv, .mov, .ts, ..."));
  out_.reset(raw);
}

Muxer::~Muxer() {
  if (finished_) return;
  out_.reset();  // closes the file
  file_.discard();
}

bool Muxer::holds(AVCodecID codec) const {
  return avformat_query_codec(out_->oformat, codec, FF_COMPLIANCE_NORMAL) != 0;
}

AVStream* Muxer::add_stream() {
  AVStream* s = avformat_new_stream(out_.get(), nullptr);
  if (!s) fail(AVERROR(ENOMEM), "cannot add a stream to");
  return s;
}

void Muxer::start() {
  if (!(out_->oformat->flags & AVFMT_NOFILE)) {
    if (int r = avio_open(&out_->pb, file_.part().c_str(), AVIO_FLAG_WRITE); r < 0)
      av::throw_error(ErrorKind::Io, r, "cannot create", file_.part());
  }
  if (int r = avformat_write_header(out_.get(), nullptr); r < 0) fail(r, "cannot start");
  started_ = true;
}

void Muxer::write(AVPacket* packet, AVRational from, int stream) {
  AVStream* s = out_->streams[stream];
  av_packet_rescale_ts(packet, from, s->time_base);
  packet->stream_index = stream;
  packet->pos = -1;
  const bool audio = s->codecpar->codec_type == AVMEDIA_TYPE_AUDIO;
  if (int r = av_interleaved_write_frame(out_.get(), packet); r < 0)
    fail(r, audio ? "cannot write audio to" : "cannot write video to");
}

void Muxer::finish(bool complete) {
  if (finished_) return;
  if (!started_) {
    out_.reset();
    file_.discard();
    finished_ = true;
    return;
  }
  finished_ = true;  // whatever happens below, the file is not removed: it holds what was written
  if (int r = av_write_trailer(out_.get()); r < 0) fail(r, "cannot finish");
  out_.reset();  // closes the file
  if (complete) file_.commit();
}

void Muxer::fail(int err, const std::string& what) const { av::throw_error(ErrorKind::Io, err, what, file_.path()); }

}  // namespace framepipe
