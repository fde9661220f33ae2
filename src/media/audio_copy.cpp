#include "media/audio_copy.hpp"

#include <cmath>
#include <cstdlib>

#include "media/demuxer.hpp"
#include "media/encoder.hpp"
#include "media/muxer.hpp"

namespace framepipe {

// A stream re-encoded to a codec the container holds (AAC for MP4 and MOV, Opus for WebM, ...):
// decode, convert to the encoder's sample format and rate (Opus: 48 kHz where the source's
// rate is not one of its own), cut into the encoder's frame size, encode. Timestamps count
// samples from the first packet's time, so sync is kept.
struct AudioTranscoder {
  av::CodecContext dec;
  std::unique_ptr<Encoder> enc;
  av::SwrPtr swr;
  av::AudioFifo fifo;
  av::FramePtr in = av::make_frame(), out = av::make_frame();
  av::FramePtr conv = av::make_frame();  // resampler output, grown as needed and reused
  int64_t next_pts = AV_NOPTS_VALUE;     // in 1 / sample_rate
  int out_index = -1;
  AVRational in_time_base{1, 1};

  // One source packet (nullptr: the end) through decoder, resampler and FIFO; false where
  // the decoder refused it (its samples are lost).
  bool decode(AVPacket* p, const std::function<void(AVPacket*)>& write);
  // Encodes what the FIFO holds in whole encoder frames (all of it when flushing).
  void drain(bool flush, const std::function<void(AVPacket*)>& write);

 private:
  void follow_time(int64_t at);
  void convert();
  void write_fifo(int samples);
};

namespace {

// The codec a container's audio is re-encoded to: the first of these it holds and this FFmpeg
// can encode (AAC for MP4, MOV, MKV; Opus for WebM; ...).
const AVCodec* target_codec(const Muxer& mux) {
  struct Choice {
    AVCodecID id;
    const char* encoder;  // preferred encoder, else FFmpeg's default for the codec
  };
  constexpr Choice kChoices[] = {{AV_CODEC_ID_AAC, "aac"},
                                 {AV_CODEC_ID_OPUS, "libopus"},
                                 {AV_CODEC_ID_VORBIS, "libvorbis"},
                                 {AV_CODEC_ID_MP3, "libmp3lame"},
                                 {AV_CODEC_ID_AC3, "ac3"}};
  for (const auto& c : kChoices) {
    if (!mux.holds(c.id)) continue;
    const AVCodec* e = avcodec_find_encoder_by_name(c.encoder);
    if (!e) e = avcodec_find_encoder(c.id);
    if (e && !(e->capabilities & AV_CODEC_CAP_EXPERIMENTAL)) return e;
  }
  return nullptr;
}

const char* codec_title(AVCodecID id) {
  switch (id) {
    case AV_CODEC_ID_AAC: return "AAC";
    case AV_CODEC_ID_OPUS: return "Opus";
    case AV_CODEC_ID_VORBIS: return "Vorbis";
    case AV_CODEC_ID_MP3: return "MP3";
    case AV_CODEC_ID_AC3: return "AC-3";
    default: return avcodec_get_name(id);
  }
}

// The encoder's own sample format (planar float where it takes it) and rate (the source's
// where it takes it, else 48 kHz, else its first).
AVSampleFormat encoder_format(const AVCodec* c) {
  if (!c->sample_fmts) return AV_SAMPLE_FMT_FLTP;
  for (const AVSampleFormat* f = c->sample_fmts; *f != AV_SAMPLE_FMT_NONE; ++f)
    if (*f == AV_SAMPLE_FMT_FLTP) return *f;
  return c->sample_fmts[0];
}
int encoder_rate(const AVCodec* c, int source) {
  if (!c->supported_samplerates) return source;
  int fallback = c->supported_samplerates[0];
  for (const int* r = c->supported_samplerates; *r; ++r) {
    if (*r == source) return source;
    if (*r == 48000) fallback = 48000;
  }
  return fallback;
}

// The decoder and encoder of a transcoder for a stream; null where that cannot be done.
std::unique_ptr<AudioTranscoder> open_transcoder(const CopiedStream& st, const Muxer& mux) {
  const AVCodec* dcodec = avcodec_find_decoder(st.params->codec_id);
  const AVCodec* ecodec = target_codec(mux);
  if (!dcodec || !ecodec) return nullptr;
  auto t = std::make_unique<AudioTranscoder>();
  t->in_time_base = st.time_base;
  t->dec.reset(avcodec_alloc_context3(dcodec));
  if (avcodec_parameters_to_context(t->dec.get(), st.params) < 0) return nullptr;
  t->dec->pkt_timebase = st.time_base;
  if (avcodec_open2(t->dec.get(), dcodec, nullptr) < 0) return nullptr;
  // Containers often leave the layout unnamed (just a channel count); the encoder wants one.
  if (t->dec->ch_layout.order == AV_CHANNEL_ORDER_UNSPEC) {
    const int channels = t->dec->ch_layout.nb_channels;
    av_channel_layout_uninit(&t->dec->ch_layout);
    av_channel_layout_default(&t->dec->ch_layout, channels);
  }
  av::CodecContext e(avcodec_alloc_context3(ecodec));
  e->sample_rate = encoder_rate(ecodec, t->dec->sample_rate);
  if (av_channel_layout_copy(&e->ch_layout, &t->dec->ch_layout) < 0) return nullptr;
  e->sample_fmt = encoder_format(ecodec);
  e->bit_rate = 64000 * std::max(1, e->ch_layout.nb_channels);
  e->time_base = AVRational{1, e->sample_rate};
  if (mux.global_header()) e->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
  try {
    av::Dictionary none;
    t->enc = std::make_unique<Encoder>(std::move(e), ecodec, none, mux.path());
  } catch (const Error&) {
    return nullptr;
  }
  AVCodecContext* ec = t->enc->context();
  SwrContext* swr = nullptr;
  if (swr_alloc_set_opts2(&swr, &ec->ch_layout, ec->sample_fmt, ec->sample_rate, &t->dec->ch_layout,
                          t->dec->sample_fmt, t->dec->sample_rate, 0, nullptr) < 0 || swr_init(swr) < 0) {
    swr_free(&swr);
    return nullptr;
  }
  t->swr.reset(swr);
  if (ec->frame_size <= 0) ec->frame_size = 1024;  // encoders of any frame size (Vorbis, FLAC): 1024 a frame
  t->fifo.reset(av_audio_fifo_alloc(ec->sample_fmt, ec->ch_layout.nb_channels, ec->frame_size * 4));
  return t;
}

void alloc_audio(AVFrame* f, int samples, const AVCodecContext* enc) {
  av_frame_unref(f);
  f->nb_samples = samples;
  f->format = enc->sample_fmt;
  f->sample_rate = enc->sample_rate;
  av_channel_layout_copy(&f->ch_layout, &enc->ch_layout);
  if (int r = av_frame_get_buffer(f, 0); r < 0) av::throw_error(ErrorKind::Io, r, "cannot allocate audio", "");
}

}  // namespace

bool AudioTranscoder::decode(AVPacket* p, const std::function<void(AVPacket*)>& write) {
  if (avcodec_send_packet(dec.get(), p) < 0) return false;
  while (avcodec_receive_frame(dec.get(), in.get()) >= 0) {
    const int64_t ts = in->best_effort_timestamp;
    follow_time(ts == AV_NOPTS_VALUE ? AV_NOPTS_VALUE : av_rescale_q(ts, in_time_base, enc->context()->time_base));
    convert();
    av_frame_unref(in.get());
    drain(false, write);
  }
  return true;
}

// The first frame sets the clock; a jump in the source's time (a live stream's outage) moves
// it, so sound and picture stay together (what the FIFO held, less than a frame, is dropped).
void AudioTranscoder::follow_time(int64_t at) {
  const AVCodecContext* e = enc->context();
  if (next_pts == AV_NOPTS_VALUE) {
    next_pts = at == AV_NOPTS_VALUE ? 0 : at;
  } else if (at != AV_NOPTS_VALUE && std::abs(at - (next_pts + av_audio_fifo_size(fifo.get()))) > e->sample_rate / 10) {
    av_audio_fifo_reset(fifo.get());
    next_pts = at;
  }
}

void AudioTranscoder::convert() { write_fifo(in->nb_samples); }

// `samples` of `in` through the resampler into the FIFO; 0: what the resampler still holds
// (a change of rate keeps a few samples back).
void AudioTranscoder::write_fifo(int samples) {
  const int max_out = swr_get_out_samples(swr.get(), samples);
  if (max_out <= 0) return;
  if (conv->nb_samples < max_out) alloc_audio(conv.get(), max_out, enc->context());
  const int got = samples ? swr_convert(swr.get(), conv->data, max_out, const_cast<const uint8_t**>(in->extended_data), samples)
                          : swr_convert(swr.get(), conv->data, max_out, nullptr, 0);
  if (got > 0) av_audio_fifo_write(fifo.get(), reinterpret_cast<void**>(conv->data), got);
}

void AudioTranscoder::drain(bool flush, const std::function<void(AVPacket*)>& write) {
  const AVCodecContext* e = enc->context();
  if (flush) write_fifo(0);
  while (av_audio_fifo_size(fifo.get()) >= e->frame_size || (flush && av_audio_fifo_size(fifo.get()) > 0)) {
    const int n = std::min(av_audio_fifo_size(fifo.get()), e->frame_size);
    alloc_audio(out.get(), n, e);
    av_audio_fifo_read(fifo.get(), reinterpret_cast<void**>(out->data), n);
    out->pts = next_pts;
    next_pts += n;
    enc->send(out.get(), write);
  }
  if (flush) enc->send(nullptr, write);
}

AudioCopy::AudioCopy(Muxer& mux, const std::string& file) : mux_(mux) {
  DemuxerOptions o;
  o.require_video = false;
  o.every_stream = true;
  file_ = std::make_unique<Demuxer>(Source(file), o);
  const AVFormatContext* f = file_->format();
  for (unsigned i = 0; i < f->nb_streams; ++i) {
    const AVStream* st = f->streams[i];
    streams_.push_back({st->codecpar, st->time_base, st->metadata, st->disposition});
  }
  map_streams();
}

AudioCopy::AudioCopy(Muxer& mux, std::shared_ptr<AudioRelay> relay) : mux_(mux), relay_(std::move(relay)) {
  streams_ = relay_->streams();
  map_streams();
}

AudioCopy::~AudioCopy() = default;

void AudioCopy::map_streams() {
  map_.assign(streams_.size(), -1);
  for (size_t i = 0; i < streams_.size(); ++i) {
    const AVCodecParameters* par = streams_[i].params;
    if (par->codec_type != AVMEDIA_TYPE_AUDIO) continue;
    if (!mux_.holds(par->codec_id)) {
      const bool re_encoded = add_transcoder(static_cast<int>(i));
    if (re_encoded) {
      const std::string to = codec_title(transcoders_.at(static_cast<int>(i))->enc->context()->codec_id);
      if (transcoded_to_.find(to) == std::string::npos) transcoded_to_ += (transcoded_to_.empty() ? "" : ", ") + to;
    }
    std::string& list = re_encoded ? transcoded_ : skipped_;
      if (!list.empty()) list += ", ";
      list += "stream " + std::to_string(i) + " (" + avcodec_get_name(par->codec_id) + ")";
      continue;
    }
    AVStream* s = mux_.add_stream();
    if (int r = avcodec_parameters_copy(s->codecpar, par); r < 0)
      av::throw_error(ErrorKind::Io, r, "cannot copy the audio parameters into", mux_.path());
    s->codecpar->codec_tag = 0;  // let the muxer choose its own tag for the codec
    s->time_base = streams_[i].time_base;
    av_dict_copy(&s->metadata, streams_[i].metadata, 0);
    s->disposition = streams_[i].disposition;
    map_[i] = s->index;
  }
}

bool AudioCopy::add_transcoder(int i) {
  const CopiedStream& st = streams_[static_cast<size_t>(i)];
  auto t = open_transcoder(st, mux_);
  if (!t) return false;
  AVStream* s = mux_.add_stream();
  if (avcodec_parameters_from_context(s->codecpar, t->enc->context()) < 0) return false;
  s->time_base = t->enc->context()->time_base;
  av_dict_copy(&s->metadata, st.metadata, 0);
  t->out_index = s->index;
  map_[static_cast<size_t>(i)] = s->index;
  transcoders_[i] = std::move(t);
  return true;
}

int AudioCopy::read(AVPacket* p) {
  if (relay_) return relay_->pop(p) ? 1 : relay_->finished() ? -1 : 0;
  return file_->read_any(p) ? 1 : -1;  // a read error ends the audio too
}

bool AudioCopy::next_pending() {
  while (!pending_ && !done_) {
    const int r = read(pkt_.get());
    if (r == 0) return false;  // the rest has not arrived yet
    if (r < 0) {
      done_ = true;
      return false;
    }
    if (map_[static_cast<size_t>(pkt_->stream_index)] < 0) {
      av_packet_unref(pkt_.get());
      continue;
    }
    pending_ = true;
  }
  return pending_;
}

bool AudioCopy::pending_after(double seconds) const {
  const AVRational in_tb = streams_[static_cast<size_t>(pkt_->stream_index)].time_base;
  const int64_t ts = pkt_->dts != AV_NOPTS_VALUE ? pkt_->dts : pkt_->pts;
  return ts != AV_NOPTS_VALUE && ts * av_q2d(in_tb) > seconds;
}

void AudioCopy::skip_until(double seconds) {
  while (next_pending() && !pending_after(seconds)) {
    pending_ = false;
    av_packet_unref(pkt_.get());
  }
}

void AudioCopy::copy_until(double seconds) {
  while (next_pending() && !pending_after(seconds)) {
    pending_ = false;
    const AVRational in_tb = streams_[static_cast<size_t>(pkt_->stream_index)].time_base;
    if (auto t = transcoders_.find(pkt_->stream_index); t != transcoders_.end()) {
      AudioTranscoder& tr = *t->second;
      if (!tr.decode(pkt_.get(), [&](AVPacket* p) { mux_.write(p, tr.enc->context()->time_base, tr.out_index), ++packets_; }))
        ++undecodable_;
      av_packet_unref(pkt_.get());
      continue;
    }
    mux_.write(pkt_.get(), in_tb, map_[static_cast<size_t>(pkt_->stream_index)]);  // takes the reference
    ++packets_;
  }
}

void AudioCopy::finish() {
  copy_until(1e300);
  for (auto& [i, t] : transcoders_) {
    AudioTranscoder& tr = *t;
    auto write = [&](AVPacket* p) { mux_.write(p, tr.enc->context()->time_base, tr.out_index), ++packets_; };
    tr.decode(nullptr, write);  // the decoder's last frames
    tr.drain(true, write);
  }
  note_losses();
}

void AudioCopy::note_losses() {
  auto add = [&](int64_t n, const std::string& what) {
    if (n == 0) return;
    if (!lost_.empty()) lost_ += "; ";
    lost_ += std::to_string(n);
    lost_ += what;
  };
  add(undecodable_, " audio packets that could not be decoded for re-encoding");
  if (!relay_) return;
  add(relay_->dropped(), " audio packets that came while the writer was behind");
  add(relay_->left_out(), " audio streams of a later connection whose codec setup changed");
}

}  // namespace framepipe
