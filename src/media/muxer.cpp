#include "media/muxer.hpp"

namespace framepipe {

namespace {

// The container a network destination's scheme calls for: FLV for RTMP, MPEG-TS for SRT,
// UDP and TCP, RTSP for publishing to an RTSP server; empty for a file.
std::string container_of_scheme(const std::string& path) {
  const size_t colon = path.find("://");
  if (colon == std::string::npos) return {};
  const std::string scheme = path.substr(0, colon);
  if (scheme == "rtmp" || scheme == "rtmps") return "flv";
  if (scheme == "srt" || scheme == "udp" || scheme == "tcp") return "mpegts";
  if (scheme == "rtsp") return "rtsp";
  return {};
}

bool is_playlist(const std::string& path) {
  return path.size() > 5 && path.compare(path.size() - 5, 5, ".m3u8") == 0;
}

}  // namespace

Muxer::Muxer(const std::string& path, const std::string& format, int hls_window)
    : file_(path, "", is_playlist(path)) {
  av::init_logging();
  AVFormatContext* raw = nullptr;
  const std::string chosen = format.empty() ? container_of_scheme(path) : format;
  const char* name = chosen.empty() ? nullptr : chosen.c_str();
  if (int r = avformat_alloc_output_context2(&raw, nullptr, name, file_.part().c_str()); r < 0 || !raw)
    throw ConfigError("video writer " + path + ": " +
                      (name ? "no container named '" + format + "' in this FFmpeg (" + av::error_text(r) +
                                  "); try mp4, matroska, mov, mpegts, flv, hls, webm, nut"
                            : "no container for this file name (" + av::error_text(r) + "); use .mp4, .mkv, .mov, .ts, ..."));
  out_.reset(raw);
  // HLS: segments and the playlist written as they close, so that players follow the run;
  // hls_window > 0 keeps the last that many segments (older ones deleted), 0 keeps all.
  if (std::string(raw->oformat->name) == "hls") {
    av_dict_set(&header_options_, "hls_time", "2", 0);
    av_dict_set(&header_options_, "hls_list_size", std::to_string(hls_window).c_str(), 0);
    if (hls_window > 0) av_dict_set(&header_options_, "hls_flags", "delete_segments", 0);
  }
  if (std::string(raw->oformat->name) == "rtsp") av_dict_set(&header_options_, "rtsp_transport", "tcp", 0);
}

Muxer::~Muxer() {
  av_dict_free(&header_options_);
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
    // SRT in live mode drops what is still unsent when the socket closes: a writer that ends
    // (a transform done in a second) lingers until it is delivered, unless the URL says.
    AVDictionary* protocol = nullptr;
    const std::string& url = file_.part();
    if (url.rfind("srt://", 0) == 0 && url.find("linger=") == std::string::npos)
      av_dict_set(&protocol, "linger", "10", 0);
    const int r = avio_open2(&out_->pb, url.c_str(), AVIO_FLAG_WRITE, nullptr, &protocol);
    av_dict_free(&protocol);
    if (r < 0) av::throw_error(ErrorKind::Io, r, "cannot create", file_.part());
  }
  AVDictionary* options = header_options_;
  header_options_ = nullptr;
  const int r = avformat_write_header(out_.get(), &options);
  av_dict_free(&options);
  if (r < 0) fail(r, "cannot start");
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
