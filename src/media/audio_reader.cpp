// AudioReader: demux one audio stream, decode it, resample to planar float32 at the asked
// rate and layout (swresample with its defaults, as the ffmpeg CLI's aresample), keep it all.
#include "framepipe/media/audio_reader.hpp"

#include <algorithm>
#include <cmath>

#include "framepipe/error.hpp"
#include "media/av.hpp"
#include "media/demuxer.hpp"

namespace framepipe {

namespace {
struct Decoded {
  std::string name, codec;
  int rate = 0, channels = 0, stream = -1;
  double start = 0;
  int64_t damage = 0;
  std::vector<std::vector<float>> data;  // per channel, while decoding
};
}  // namespace

struct AudioReader::Impl : Decoded {
  std::vector<float> packed;  // channel-major: channel c's samples at c * size
  int64_t size = 0;
};

namespace {

class Decoding {
 public:
  Decoding(const AudioOptions& opt, Decoded& out) : opt_(opt), out_(out) {}
  ~Decoding() {
    av_channel_layout_uninit(&in_layout_);
    av_channel_layout_uninit(&out_layout_);
  }
  Decoding(const Decoding&) = delete;
  Decoding& operator=(const Decoding&) = delete;

  void open(AVStream* st) {
    const AVCodec* codec = avcodec_find_decoder(st->codecpar->codec_id);
    if (!codec)
      throw UnsupportedError("cannot decode the audio of '" + out_.name + "': no decoder for " +
                             avcodec_get_name(st->codecpar->codec_id));
    dec_.reset(avcodec_alloc_context3(codec));
    av::check(avcodec_parameters_to_context(dec_.get(), st->codecpar), ErrorKind::Open, "cannot read the audio of",
              out_.name);
    dec_->pkt_timebase = st->time_base;
    counter_.attach(dec_.get());
    av::check(avcodec_open2(dec_.get(), codec, nullptr), ErrorKind::Open, "cannot open the audio decoder of",
              out_.name);
    time_base_ = st->time_base;
    out_.codec = codec->name;
  }

  void send(const AVPacket* p) {
    const int ret = avcodec_send_packet(dec_.get(), p);
    if (ret < 0 && ret != AVERROR_EOF) ++refused_;  // damaged data: its samples are lost, as in the CLI
    for (;;) {
      const int got = avcodec_receive_frame(dec_.get(), frame_.get());
      if (got == AVERROR(EAGAIN) || got == AVERROR_EOF) break;
      if (got < 0) {
        ++refused_;
        break;
      }
      convert(frame_.get());
      av_frame_unref(frame_.get());
    }
  }

  void finish() {
    if (swr_) keep(nullptr, 0);  // what the resampler still holds
    out_.damage = counter_.count() + refused_;
  }

 private:
  void convert(const AVFrame* f) {
    if (!swr_ || f->sample_rate != in_rate_ || f->format != in_format_ ||
        av_channel_layout_compare(&f->ch_layout, &in_layout_) != 0)
      setup(f);
    if (first_) {
      first_ = false;
      const int64_t pts = f->best_effort_timestamp != AV_NOPTS_VALUE ? f->best_effort_timestamp : f->pts;
      out_.start = pts != AV_NOPTS_VALUE ? pts * av_q2d(time_base_) : 0.0;
    }
    keep(const_cast<const uint8_t**>(f->extended_data), f->nb_samples);
  }

  void setup(const AVFrame* f) {
    if (swr_) keep(nullptr, 0);  // the old format's tail first
    av_channel_layout_uninit(&in_layout_);
    av_channel_layout_copy(&in_layout_, &f->ch_layout);
    in_rate_ = f->sample_rate;
    in_format_ = f->format;
    if (out_.rate == 0) out_.rate = opt_.sample_rate > 0 ? opt_.sample_rate : f->sample_rate;
    if (out_.channels == 0) {
      if (opt_.mono) av_channel_layout_default(&out_layout_, 1);
      else av_channel_layout_copy(&out_layout_, &f->ch_layout);
      out_.channels = out_layout_.nb_channels;
      out_.data.assign(static_cast<size_t>(out_.channels), {});
    }
    SwrContext* raw = nullptr;
    if (swr_alloc_set_opts2(&raw, &out_layout_, AV_SAMPLE_FMT_FLTP, out_.rate, const_cast<AVChannelLayout*>(&f->ch_layout),
                            static_cast<AVSampleFormat>(f->format), f->sample_rate, 0, nullptr) < 0 ||
        swr_init(raw) < 0) {
      swr_free(&raw);
      throw UnsupportedError("cannot convert the audio of '" + out_.name + "' to float32 at " +
                             std::to_string(out_.rate) + " Hz");
    }
    swr_.reset(raw);
  }

  void keep(const uint8_t** in, int n) {
    const int room = swr_get_out_samples(swr_.get(), n);
    if (room <= 0) return;
    const size_t have = out_.data[0].size();
    std::vector<uint8_t*> planes(static_cast<size_t>(out_.channels));
    for (int c = 0; c < out_.channels; ++c) {
      out_.data[static_cast<size_t>(c)].resize(have + static_cast<size_t>(room));
      planes[static_cast<size_t>(c)] = reinterpret_cast<uint8_t*>(out_.data[static_cast<size_t>(c)].data() + have);
    }
    const int got = swr_convert(swr_.get(), planes.data(), room, in, n);
    const size_t kept = have + static_cast<size_t>(std::max(got, 0));
    for (auto& ch : out_.data) ch.resize(kept);
    if (static_cast<int64_t>(kept) > opt_.max_samples)
      throw UnsupportedError("the audio of '" + out_.name + "' is longer than max_samples (" +
                             std::to_string(opt_.max_samples) + " samples a channel); read it in parts");
  }

  const AudioOptions& opt_;
  Decoded& out_;
  av::DamageCounter counter_;
  av::CodecContext dec_;
  av::SwrPtr swr_;
  av::FramePtr frame_ = av::make_frame();
  AVRational time_base_{1, 1};
  AVChannelLayout in_layout_{}, out_layout_{};
  int in_rate_ = 0, in_format_ = -1;
  bool first_ = true;
  int64_t refused_ = 0;
};

}  // namespace

AudioReader::AudioReader(const Source& source, const AudioOptions& options) : impl_(std::make_unique<Impl>()) {
  av::init_logging();
  impl_->name = source.name();
  if (options.sample_rate < 0) throw ConfigError("AudioReader: sample_rate must be > 0 (or 0: the stream's own)");
  if (options.max_samples <= 0) throw ConfigError("AudioReader: max_samples must be > 0");
  DemuxerOptions d;
  d.require_video = false;
  d.every_stream = true;
  Demuxer demux(source, d);
  AVFormatContext* fmt = demux.format();
  int index = options.stream;
  if (index >= 0) {
    if (index >= static_cast<int>(fmt->nb_streams) || fmt->streams[index]->codecpar->codec_type != AVMEDIA_TYPE_AUDIO)
      throw OpenError("'" + impl_->name + "' has no audio stream " + std::to_string(index));
  } else {
    index = av_find_best_stream(fmt, AVMEDIA_TYPE_AUDIO, -1, -1, nullptr, 0);
    if (index < 0) throw OpenError("'" + impl_->name + "' has no audio stream");
  }
  for (unsigned i = 0; i < fmt->nb_streams; ++i)
    fmt->streams[i]->discard = static_cast<int>(i) == index ? AVDISCARD_DEFAULT : AVDISCARD_ALL;
  impl_->stream = index;
  Decoding decoding(options, *impl_);
  decoding.open(fmt->streams[index]);
  av::PacketPtr p = av::make_packet();
  while (demux.read_any(p.get())) {
    if (p->stream_index == index) decoding.send(p.get());
    av_packet_unref(p.get());
  }
  decoding.send(nullptr);
  decoding.finish();
  if (impl_->channels == 0) {  // not one frame decoded
    impl_->rate = options.sample_rate > 0 ? options.sample_rate : fmt->streams[index]->codecpar->sample_rate;
    impl_->channels = options.mono ? 1 : std::max(av::channel_count(fmt->streams[index]->codecpar), 1);
    impl_->data.assign(static_cast<size_t>(impl_->channels), {});
  }
  // One buffer, channel after channel, so that any range of samples is one strided view.
  impl_->size = static_cast<int64_t>(impl_->data[0].size());
  impl_->packed = std::move(impl_->data[0]);
  impl_->packed.reserve(impl_->packed.size() * static_cast<size_t>(impl_->channels));
  for (size_t c = 1; c < impl_->data.size(); ++c) {
    impl_->packed.insert(impl_->packed.end(), impl_->data[c].begin(), impl_->data[c].end());
    std::vector<float>().swap(impl_->data[c]);
  }
  impl_->data.clear();
}

AudioReader::~AudioReader() = default;
AudioReader::AudioReader(AudioReader&&) noexcept = default;
AudioReader& AudioReader::operator=(AudioReader&&) noexcept = default;

int AudioReader::sample_rate() const { return impl_->rate; }
int AudioReader::channels() const { return impl_->channels; }
int64_t AudioReader::size() const { return impl_->size; }
double AudioReader::start() const { return impl_->start; }
double AudioReader::duration() const { return static_cast<double>(size()) / impl_->rate; }
int AudioReader::stream() const { return impl_->stream; }
const std::string& AudioReader::codec() const { return impl_->codec; }
const std::string& AudioReader::name() const { return impl_->name; }
int64_t AudioReader::damage_reports() const { return impl_->damage; }

const float* AudioReader::channel(int c) const {
  if (c < 0 || c >= impl_->channels)
    throw OutOfRangeError(impl_->name + ": audio channel " + std::to_string(c) + " is out of range [0, " +
                          std::to_string(impl_->channels) + ")");
  return impl_->packed.data() + static_cast<size_t>(c) * static_cast<size_t>(impl_->size);
}

std::vector<float> AudioReader::samples(int64_t begin, int64_t end) const {
  if (begin < 0 || end < begin || end > size())
    throw OutOfRangeError(impl_->name + ": audio samples [" + std::to_string(begin) + ", " + std::to_string(end) +
                          ") are out of range [0, " + std::to_string(size()) + "]");
  const size_t n = static_cast<size_t>(end - begin);
  std::vector<float> out(n * static_cast<size_t>(impl_->channels));
  for (int c = 0; c < impl_->channels; ++c)
    std::copy_n(channel(c) + begin, n, out.begin() + static_cast<ptrdiff_t>(static_cast<size_t>(c) * n));
  return out;
}

int64_t AudioReader::index_at(double seconds) const {
  const double k = std::round((seconds - impl_->start) * impl_->rate);
  return static_cast<int64_t>(std::clamp<double>(k, 0.0, static_cast<double>(size())));
}

std::pair<int64_t, int64_t> AudioReader::range_between(double t0, double t1) const {
  const int64_t a = index_at(t0);
  return {a, std::max(a, index_at(t1))};
}

}  // namespace framepipe
