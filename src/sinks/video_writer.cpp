#include "framepipe/sinks/video_writer.hpp"

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <vector>

extern "C" {
#include <libavutil/opt.h>
}

#include "framepipe/error.hpp"
#include "media/audio_relay.hpp"
#include "media/av.hpp"

namespace framepipe {

namespace fs = std::filesystem;

namespace {

// out.mp4 -> out.part.mp4: the extension stays last so that FFmpeg picks the same muxer.
std::string part_name(const std::string& path) {
  fs::path p(path);
  return (p.parent_path() / (p.stem().string() + ".part" + p.extension().string())).string();
}

struct OutputDeleter {  // an output context and the file it opened
  void operator()(AVFormatContext* p) const {
    if (!p) return;
    if (p->pb && !(p->oformat->flags & AVFMT_NOFILE)) avio_closep(&p->pb);
    avformat_free_context(p);
  }
};

// An audio stream the container cannot hold as it is, re-encoded to AAC: decode, convert to
// the encoder's sample format (same rate and channels), cut into the encoder's frame size,
// encode. Timestamps count samples from the first packet's time, so sync is kept.
struct AudioTranscoder {
  av::CodecContext dec, enc;
  av::SwrPtr swr;
  av::AudioFifo fifo;
  av::FramePtr in = av::make_frame(), out = av::make_frame();
  av::FramePtr conv = av::make_frame();  // resampler output, grown as needed and reused
  av::PacketPtr pkt = av::make_packet();
  int64_t next_pts = AV_NOPTS_VALUE;  // in 1 / sample_rate
  int out_index = -1;
};

}  // namespace

struct VideoWriter::Impl {
  std::string path, part;
  VideoWriterOptions opt;
  int width = 0, height = 0;
  std::unique_ptr<AVFormatContext, OutputDeleter> out;
  av::CodecContext enc;
  AVStream* video = nullptr;
  av::SwsPtr sws;
  av::FramePtr frame = av::make_frame();
  av::PacketPtr packet = av::make_packet();
  int64_t frames = 0, last_pts = INT64_MIN;
  std::map<int64_t, int64_t> durations;  // pts -> duration of frames the encoder still holds
  bool header_written = false, closed = false;

  // Audio copied from a file or a live source's relay, read one packet ahead.
  av::FormatInput audio_in;            // the file
  std::shared_ptr<AudioRelay> relay;   // or the relay
  std::vector<CopiedStream> audio_streams;  // every stream of the input (only audio is copied)
  std::vector<int> audio_map;  // input stream -> output stream, -1 for not copied
  av::PacketPtr audio_pkt = av::make_packet();
  bool audio_pending = false, audio_done = true;
  int64_t audio_packets = 0;
  std::string audio_skipped;
  std::map<int, std::unique_ptr<AudioTranscoder>> transcoders;  // input stream -> AAC encoder
  std::string audio_transcoded;
  std::string audio_lost;

  [[noreturn]] void fail(int err, const std::string& what) { av::throw_error(ErrorKind::Io, err, what, path); }

  void open_audio() {
    if (opt.audio_relay) {
      relay = opt.audio_relay;
      audio_streams = relay->streams();
    } else {
      AVFormatContext* raw = nullptr;
      av::check(avformat_open_input(&raw, opt.audio_from.c_str(), nullptr, nullptr), ErrorKind::Open,
                "cannot open the audio source", opt.audio_from);
      audio_in.reset(raw);
      av::check(avformat_find_stream_info(raw, nullptr), ErrorKind::Open, "cannot read the streams of", opt.audio_from);
      for (unsigned i = 0; i < raw->nb_streams; ++i) {
        const AVStream* st = raw->streams[i];
        audio_streams.push_back({st->codecpar, st->time_base, st->metadata, st->disposition});
      }
    }
    audio_map.assign(audio_streams.size(), -1);
    for (size_t i = 0; i < audio_streams.size(); ++i) {
      const AVCodecParameters* par = audio_streams[i].params;
      if (par->codec_type != AVMEDIA_TYPE_AUDIO) continue;
      if (avformat_query_codec(out->oformat, par->codec_id, FF_COMPLIANCE_NORMAL) != 1) {
        const std::string what = "stream " + std::to_string(i) + " (" + avcodec_get_name(par->codec_id) + ")";
        if (add_transcoder(static_cast<int>(i))) {
          audio_transcoded += (audio_transcoded.empty() ? "" : ", ") + what;
        } else {
          audio_skipped += (audio_skipped.empty() ? "" : ", ") + what;
        }
        continue;
      }
      AVStream* s = avformat_new_stream(out.get(), nullptr);
      if (!s) fail(AVERROR(ENOMEM), "cannot add an audio stream to");
      if (int r = avcodec_parameters_copy(s->codecpar, par); r < 0) fail(r, "cannot copy the audio parameters into");
      s->codecpar->codec_tag = 0;  // let the muxer choose its own tag for the codec
      s->time_base = audio_streams[i].time_base;
      av_dict_copy(&s->metadata, audio_streams[i].metadata, 0);
      s->disposition = audio_streams[i].disposition;
      audio_map[i] = s->index;
    }
    audio_done = false;
  }

  // Sets up AAC for input stream i; false where that cannot be done (no decoder, say).
  bool add_transcoder(int i) {
    const CopiedStream& st = audio_streams[static_cast<size_t>(i)];
    const AVCodec* dcodec = avcodec_find_decoder(st.params->codec_id);
    const AVCodec* ecodec = avcodec_find_encoder(AV_CODEC_ID_AAC);
    if (!dcodec || !ecodec || avformat_query_codec(out->oformat, AV_CODEC_ID_AAC, FF_COMPLIANCE_NORMAL) != 1) return false;
    auto t = std::make_unique<AudioTranscoder>();
    t->dec.reset(avcodec_alloc_context3(dcodec));
    if (avcodec_parameters_to_context(t->dec.get(), st.params) < 0) return false;
    t->dec->pkt_timebase = st.time_base;
    if (avcodec_open2(t->dec.get(), dcodec, nullptr) < 0) return false;
    AVCodecContext* e = nullptr;
    t->enc.reset(e = avcodec_alloc_context3(ecodec));
    e->sample_rate = t->dec->sample_rate;
    // Containers often leave the layout unnamed (just a channel count); the encoder wants one.
    if (t->dec->ch_layout.order == AV_CHANNEL_ORDER_UNSPEC) {
      const int channels = t->dec->ch_layout.nb_channels;
      av_channel_layout_uninit(&t->dec->ch_layout);
      av_channel_layout_default(&t->dec->ch_layout, channels);
    }
    if (av_channel_layout_copy(&e->ch_layout, &t->dec->ch_layout) < 0) return false;
    e->sample_fmt = AV_SAMPLE_FMT_FLTP;  // what FFmpeg's AAC encoder takes
    e->bit_rate = 64000 * std::max(1, e->ch_layout.nb_channels);
    e->time_base = AVRational{1, e->sample_rate};
    if (out->oformat->flags & AVFMT_GLOBALHEADER) e->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
    if (avcodec_open2(e, ecodec, nullptr) < 0) return false;
    SwrContext* swr = nullptr;
    if (swr_alloc_set_opts2(&swr, &e->ch_layout, e->sample_fmt, e->sample_rate, &t->dec->ch_layout,
                            t->dec->sample_fmt, t->dec->sample_rate, 0, nullptr) < 0 || swr_init(swr) < 0) {
      swr_free(&swr);
      return false;
    }
    t->swr.reset(swr);
    t->fifo.reset(av_audio_fifo_alloc(e->sample_fmt, e->ch_layout.nb_channels, e->frame_size * 4));
    AVStream* s = avformat_new_stream(out.get(), nullptr);
    if (!s || avcodec_parameters_from_context(s->codecpar, e) < 0) return false;
    s->time_base = e->time_base;
    av_dict_copy(&s->metadata, st.metadata, 0);
    t->out_index = s->index;
    audio_map[static_cast<size_t>(i)] = s->index;
    transcoders[i] = std::move(t);
    return true;
  }

  // Encodes what the FIFO holds in whole encoder frames (all of it when flushing), and the
  // encoder's packets go to the file.
  void drain_transcoder(AudioTranscoder& t, bool flush) {
    AVCodecContext* e = t.enc.get();
    while (av_audio_fifo_size(t.fifo.get()) >= e->frame_size || (flush && av_audio_fifo_size(t.fifo.get()) > 0)) {
      const int n = std::min(av_audio_fifo_size(t.fifo.get()), e->frame_size);
      av_frame_unref(t.out.get());
      t.out->nb_samples = n;
      t.out->format = e->sample_fmt;
      t.out->sample_rate = e->sample_rate;
      av_channel_layout_copy(&t.out->ch_layout, &e->ch_layout);
      if (int r = av_frame_get_buffer(t.out.get(), 0); r < 0) fail(r, "cannot allocate audio for");
      av_audio_fifo_read(t.fifo.get(), reinterpret_cast<void**>(t.out->data), n);
      t.out->pts = t.next_pts;
      t.next_pts += n;
      send_audio(t, t.out.get());
    }
    if (flush) send_audio(t, nullptr);
  }

  void send_audio(AudioTranscoder& t, AVFrame* f) {
    if (int r = avcodec_send_frame(t.enc.get(), f); r < 0 && r != AVERROR_EOF) fail(r, "cannot encode audio for");
    for (;;) {
      int r = avcodec_receive_packet(t.enc.get(), t.pkt.get());
      if (r == AVERROR(EAGAIN) || r == AVERROR_EOF) return;
      if (r < 0) fail(r, "cannot encode audio for");
      av_packet_rescale_ts(t.pkt.get(), t.enc->time_base, out->streams[t.out_index]->time_base);
      t.pkt->stream_index = t.out_index;
      if ((r = av_interleaved_write_frame(out.get(), t.pkt.get())) < 0) fail(r, "cannot write audio to");
      ++audio_packets;
    }
  }

  // One source packet (nullptr: the end) through decoder, resampler and FIFO.
  void transcode(AudioTranscoder& t, AVRational time_base, AVPacket* p) {
    if (avcodec_send_packet(t.dec.get(), p) < 0) return;  // a damaged packet: its samples are lost
    while (avcodec_receive_frame(t.dec.get(), t.in.get()) >= 0) {
      const int64_t ts = t.in->best_effort_timestamp;
      const int64_t at = ts == AV_NOPTS_VALUE ? AV_NOPTS_VALUE : av_rescale_q(ts, time_base, t.enc->time_base);
      if (t.next_pts == AV_NOPTS_VALUE) {
        t.next_pts = at == AV_NOPTS_VALUE ? 0 : at;
      } else if (at != AV_NOPTS_VALUE &&
                 std::abs(at - (t.next_pts + av_audio_fifo_size(t.fifo.get()))) > t.enc->sample_rate / 10) {
        // A jump in the source's time (a live stream's outage): the samples go on from there, so
        // sound and picture stay together; what the FIFO held (less than a frame) is dropped.
        av_audio_fifo_reset(t.fifo.get());
        t.next_pts = at;
      }
      const int max_out = swr_get_out_samples(t.swr.get(), t.in->nb_samples);
      if (t.conv->nb_samples < max_out) {
        av_frame_unref(t.conv.get());
        t.conv->nb_samples = max_out;
        t.conv->format = t.enc->sample_fmt;
        av_channel_layout_copy(&t.conv->ch_layout, &t.enc->ch_layout);
        t.conv->sample_rate = t.enc->sample_rate;
        if (int r = av_frame_get_buffer(t.conv.get(), 0); r < 0) fail(r, "cannot allocate audio for");
      }
      const int got = swr_convert(t.swr.get(), t.conv->data, max_out,
                                  const_cast<const uint8_t**>(t.in->extended_data), t.in->nb_samples);
      if (got > 0) av_audio_fifo_write(t.fifo.get(), reinterpret_cast<void**>(t.conv->data), got);
      av_frame_unref(t.in.get());
      drain_transcoder(t, false);
    }
  }

  // The next audio packet: 1, or 0 when a live relay has none yet, or -1 at the end (of a
  // file, or of a relay whose source has stopped).
  int read_audio(AVPacket* p) {
    if (relay) return relay->pop(p) ? 1 : relay->finished() ? -1 : 0;
    return av_read_frame(audio_in.get(), p) < 0 ? -1 : 1;  // a read error ends the audio too
  }

  // Copies source audio packets whose time is at or before `seconds` (all with infinity).
  void copy_audio_until(double seconds) {
    while (!audio_done) {
      if (!audio_pending) {
        const int r = read_audio(audio_pkt.get());
        if (r == 0) return;  // the rest has not arrived yet
        if (r < 0) {
          audio_done = true;
          return;
        }
        if (audio_map[static_cast<size_t>(audio_pkt->stream_index)] < 0) {
          av_packet_unref(audio_pkt.get());
          continue;
        }
        audio_pending = true;
      }
      const AVRational in_tb = audio_streams[static_cast<size_t>(audio_pkt->stream_index)].time_base;
      const int64_t ts = audio_pkt->dts != AV_NOPTS_VALUE ? audio_pkt->dts : audio_pkt->pts;
      if (ts != AV_NOPTS_VALUE && ts * av_q2d(in_tb) > seconds) return;
      const int o = audio_map[static_cast<size_t>(audio_pkt->stream_index)];
      if (auto t = transcoders.find(audio_pkt->stream_index); t != transcoders.end()) {
        transcode(*t->second, in_tb, audio_pkt.get());
        av_packet_unref(audio_pkt.get());
        audio_pending = false;
        continue;
      }
      av_packet_rescale_ts(audio_pkt.get(), in_tb, out->streams[o]->time_base);
      audio_pkt->stream_index = o;
      audio_pkt->pos = -1;
      int r = av_interleaved_write_frame(out.get(), audio_pkt.get());  // takes the packet's reference
      audio_pending = false;
      if (r < 0) fail(r, "cannot write audio to");
      ++audio_packets;
    }
  }

  void note_relay_losses() {
    auto add = [&](int64_t n, const std::string& what) {
      if (n == 0) return;
      if (!audio_lost.empty()) audio_lost += "; ";
      audio_lost += std::to_string(n);
      audio_lost += what;
    };
    add(relay->dropped(), " audio packets that came while the writer was behind");
    add(relay->left_out(), " audio streams of a later connection whose codec setup changed");
  }

  // Sends a frame (or nullptr to flush) and writes every packet the encoder has ready.
  void encode(AVFrame* f) {
    if (int r = avcodec_send_frame(enc.get(), f); r < 0) fail(r, "cannot encode a frame for");
    for (;;) {
      int r = avcodec_receive_packet(enc.get(), packet.get());
      if (r == AVERROR(EAGAIN) || r == AVERROR_EOF) return;
      if (r < 0) fail(r, "cannot encode a frame for");
      // Not every encoder carries the frame's duration over to its packet (FFmpeg 5.1's
      // libx264 does not); the muxer needs it for the last frame.
      if (auto d = durations.find(packet->pts); d != durations.end()) {
        if (packet->duration == 0) packet->duration = d->second;
        durations.erase(d);
      }
      av_packet_rescale_ts(packet.get(), enc->time_base, video->time_base);
      packet->stream_index = video->index;
      const int64_t ts = packet->dts != AV_NOPTS_VALUE ? packet->dts : packet->pts;
      if (!audio_done && ts != AV_NOPTS_VALUE) copy_audio_until(ts * av_q2d(video->time_base));
      if ((r = av_interleaved_write_frame(out.get(), packet.get())) < 0) fail(r, "cannot write video to");
    }
  }

  void finish() {
    if (closed) return;
    closed = true;
    if (header_written) {
      encode(nullptr);
      copy_audio_until(1e300);
      for (auto& [i, t] : transcoders) {
        transcode(*t, audio_streams[static_cast<size_t>(i)].time_base, nullptr);  // the decoder's last frames
        drain_transcoder(*t, true);
      }
      if (int r = av_write_trailer(out.get()); r < 0) fail(r, "cannot finish");
      if (relay) note_relay_losses();
    }
    out.reset();  // closes the file
    if (!header_written) {
      std::error_code ec;
      fs::remove(part, ec);
      return;
    }
    std::error_code ec;
    fs::rename(part, path, ec);
    if (ec) throw IoError("cannot rename '" + part + "' to '" + path + "': " + ec.message());
  }
};

VideoWriter::VideoWriter(std::string path, int width, int height, Rational time_base, VideoWriterOptions options)
    : impl_(std::make_unique<Impl>()) {
  try {
    open(std::move(path), width, height, time_base, std::move(options));
  } catch (...) {
    impl_->closed = true;
    impl_->out.reset();
    std::error_code ec;
    fs::remove(impl_->part, ec);  // nothing worth keeping was written
    throw;
  }
}

void VideoWriter::open(std::string path, int width, int height, Rational time_base, VideoWriterOptions options) {
  av::init_logging();
  Impl& m = *impl_;
  m.path = std::move(path);
  m.part = part_name(m.path);
  m.opt = std::move(options);
  m.width = width;
  m.height = height;
  if (width <= 0 || height <= 0) throw ConfigError("video writer " + m.path + ": bad size " + std::to_string(width) + "x" + std::to_string(height));
  if (time_base.num <= 0 || time_base.den <= 0) throw ConfigError("video writer " + m.path + ": bad time base");
  if (m.opt.input == PixelFormat::Gray) throw ConfigError("video writer " + m.path + ": input must be rgb or bgr");

  AVFormatContext* raw = nullptr;
  if (int r = avformat_alloc_output_context2(&raw, nullptr, nullptr, m.part.c_str()); r < 0 || !raw)
    throw ConfigError("video writer " + m.path + ": no container for this file name (" + av::error_text(r) +
                      "); use .mp4, .mkv, .mov, ...");
  m.out.reset(raw);

  const AVCodec* codec = avcodec_find_encoder_by_name(m.opt.codec.c_str());
  if (!codec) throw UnsupportedError("video writer " + m.path + ": this FFmpeg has no encoder '" + m.opt.codec + "'");
  m.enc.reset(avcodec_alloc_context3(codec));
  AVCodecContext* c = m.enc.get();
  c->width = width;
  c->height = height;
  c->time_base = AVRational{time_base.num, time_base.den};
  // 4:2:0 needs even sizes; odd ones keep full chroma (4:4:4) rather than lose a row.
  c->pix_fmt = (width % 2 || height % 2) ? AV_PIX_FMT_YUV444P : AV_PIX_FMT_YUV420P;
  // The colour contract: BT.709 above 576 lines, BT.601 otherwise; limited range; tagged.
  const bool hd = height > 576;
  c->colorspace = hd ? AVCOL_SPC_BT709 : AVCOL_SPC_SMPTE170M;
  c->color_primaries = hd ? AVCOL_PRI_BT709 : AVCOL_PRI_SMPTE170M;
  c->color_trc = hd ? AVCOL_TRC_BT709 : AVCOL_TRC_SMPTE170M;
  c->color_range = AVCOL_RANGE_MPEG;
  c->thread_count = m.opt.threads;
  if (m.out->oformat->flags & AVFMT_GLOBALHEADER) c->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
  av::Dictionary opts;
  {
    AVDictionary* d = nullptr;
    if (m.opt.codec == "libx264" || m.opt.codec == "libx265") {
      av_dict_set(&d, "crf", std::to_string(m.opt.crf).c_str(), 0);
      av_dict_set(&d, "preset", m.opt.preset.c_str(), 0);
      if (!m.opt.tune.empty()) av_dict_set(&d, "tune", m.opt.tune.c_str(), 0);
    }
    opts.reset(d);
  }
  {
    AVDictionary* d = opts.release();
    int r = avcodec_open2(c, codec, &d);
    opts.reset(d);
    if (r < 0) av::throw_error(ErrorKind::Unsupported, r, "cannot open the " + m.opt.codec + " encoder for", m.path);
  }
  m.video = avformat_new_stream(m.out.get(), nullptr);
  if (!m.video) m.fail(AVERROR(ENOMEM), "cannot add a video stream to");
  m.video->time_base = c->time_base;
  if (int r = avcodec_parameters_from_context(m.video->codecpar, c); r < 0) m.fail(r, "cannot set up the video stream of");

  if (!m.opt.audio_from.empty() && m.opt.audio_relay)
    throw ConfigError("video writer " + m.path + ": audio from a file or from a live source, not both");
  if (!m.opt.audio_from.empty() || m.opt.audio_relay) m.open_audio();

  m.sws.reset(sws_getContext(width, height, m.opt.input == PixelFormat::Bgr ? AV_PIX_FMT_BGR24 : AV_PIX_FMT_RGB24, width,
                             height, c->pix_fmt, SWS_BICUBIC | SWS_ACCURATE_RND | SWS_FULL_CHR_H_INT, nullptr, nullptr,
                             nullptr));
  if (!m.sws) throw UnsupportedError("video writer " + m.path + ": no RGB to YUV conversion");
  const int* coeffs = sws_getCoefficients(hd ? SWS_CS_ITU709 : SWS_CS_ITU601);
  sws_setColorspaceDetails(m.sws.get(), coeffs, 1, coeffs, 0, 0, 1 << 16, 1 << 16);
  m.frame->format = c->pix_fmt;
  m.frame->width = width;
  m.frame->height = height;
  if (int r = av_frame_get_buffer(m.frame.get(), 0); r < 0) m.fail(r, "cannot allocate a frame for");

  if (!(m.out->oformat->flags & AVFMT_NOFILE)) {
    if (int r = avio_open(&m.out->pb, m.part.c_str(), AVIO_FLAG_WRITE); r < 0)
      av::throw_error(ErrorKind::Io, r, "cannot create", m.part);
  }
  if (int r = avformat_write_header(m.out.get(), nullptr); r < 0) m.fail(r, "cannot start");
  m.header_written = true;
}

VideoWriter::~VideoWriter() {
  try {
    impl_->finish();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "framepipe: %s\n", e.what());
  }
}

void VideoWriter::write(const uint8_t* pixels, int64_t pts) {
  Impl& m = *impl_;
  if (m.closed) throw IoError("video writer " + m.path + ": write after close");
  if (pts <= m.last_pts)
    throw ConfigError("video writer " + m.path + ": pts " + std::to_string(pts) + " after " + std::to_string(m.last_pts) +
                      " (timestamps must increase)");
  if (int r = av_frame_make_writable(m.frame.get()); r < 0) m.fail(r, "cannot reuse a frame for");
  const uint8_t* src[1] = {pixels};
  const int stride[1] = {m.width * 3};
  sws_scale(m.sws.get(), src, stride, 0, m.height, m.frame->data, m.frame->linesize);
  m.frame->pts = pts;
  // The next frame's time is not known yet: the gap to the previous one stands in for this
  // frame's duration (as the ffmpeg CLI does), so the last frame keeps its time on screen.
  const int64_t duration = m.frames > 0 ? pts - m.last_pts : 0;
  av::set_frame_duration(m.frame.get(), duration);
  m.durations[pts] = duration;
  m.encode(m.frame.get());
  m.last_pts = pts;
  ++m.frames;
}

void VideoWriter::close() { impl_->finish(); }
int64_t VideoWriter::frames_written() const { return impl_->frames; }
int64_t VideoWriter::audio_packets_copied() const { return impl_->audio_packets; }
const std::string& VideoWriter::audio_skipped() const { return impl_->audio_skipped; }
const std::string& VideoWriter::audio_lost() const { return impl_->audio_lost; }
const std::string& VideoWriter::audio_transcoded() const { return impl_->audio_transcoded; }
const std::string& VideoWriter::path() const { return impl_->path; }

}  // namespace framepipe
