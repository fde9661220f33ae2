#include "media/audio_relay.hpp"

#include <cmath>
#include <cstring>
#include <functional>

namespace framepipe {

namespace {
bool same_setup(const AVCodecParameters* a, const AVCodecParameters* b) {
  return a->codec_id == b->codec_id && a->sample_rate == b->sample_rate &&
         av::channel_count(a) == av::channel_count(b) && a->extradata_size == b->extradata_size &&
         (a->extradata_size == 0 || std::memcmp(a->extradata, b->extradata, static_cast<size_t>(a->extradata_size)) == 0);
}
}  // namespace

void AudioRelay::connect(const AVFormatContext* input) {
  std::lock_guard lock(mutex_);
  map_.assign(input->nb_streams, -1);
  inputs_.assign(input->streams, input->streams + input->nb_streams);
  next_ts_.assign(input->nb_streams, AV_NOPTS_VALUE);
  std::vector<bool> taken(streams_.size(), false);
  for (unsigned i = 0; i < input->nb_streams; ++i) {
    const AVStream* st = input->streams[i];
    if (st->codecpar->codec_type != AVMEDIA_TYPE_AUDIO) continue;
    if (!connected_) {
      Stream s{av::CodecParameters(avcodec_parameters_alloc()), st->time_base, nullptr, st->disposition};
      if (!s.params || avcodec_parameters_copy(s.params.get(), st->codecpar) < 0) continue;
      AVDictionary* d = nullptr;
      av_dict_copy(&d, st->metadata, 0);
      s.metadata.reset(d);
      map_[i] = static_cast<int>(streams_.size());
      streams_.push_back(std::move(s));
      continue;
    }
    for (size_t j = 0; j < streams_.size(); ++j) {
      if (!taken[j] && same_setup(streams_[j].params.get(), st->codecpar)) {
        taken[j] = true;
        map_[i] = static_cast<int>(j);
        break;
      }
    }
    if (map_[i] < 0) ++left_out_;
  }
  connected_ = true;
}

void AudioRelay::push(const AVPacket* packet, const std::function<double(double)>& offset_for) {
  std::lock_guard lock(mutex_);
  const auto i = static_cast<size_t>(packet->stream_index);
  if (closed_ || i >= map_.size() || map_[i] < 0) return;
  const AVRational in_tb = inputs_[i]->time_base;
  const AVCodecParameters* par = inputs_[i]->codecpar;
  int64_t ts = packet->dts != AV_NOPTS_VALUE ? packet->dts : packet->pts;
  if (ts == AV_NOPTS_VALUE) ts = next_ts_[i];
  int64_t duration = packet->duration;
  if (duration <= 0 && par->sample_rate > 0) {
    const int samples = av_get_audio_frame_duration2(const_cast<AVCodecParameters*>(par), packet->size);
    duration = av_rescale_q(samples > 0 ? samples : par->frame_size, AVRational{1, par->sample_rate}, in_tb);
  }
  next_ts_[i] = ts != AV_NOPTS_VALUE && duration > 0 ? ts + duration : AV_NOPTS_VALUE;
  if (ts == AV_NOPTS_VALUE) return;  // no place on the clock yet
  av::PacketPtr p = av::make_packet();
  if (av_packet_ref(p.get(), packet) < 0) return;
  if (p->dts == AV_NOPTS_VALUE) p->dts = ts;
  if (p->pts == AV_NOPTS_VALUE) p->pts = ts;
  if (p->duration <= 0) p->duration = duration;
  const double offset_s = offset_for(static_cast<double>(ts) * av_q2d(in_tb));
  const Stream& s = streams_[static_cast<size_t>(map_[i])];
  av_packet_rescale_ts(p.get(), in_tb, s.time_base);
  // The same whole number of ticks for every packet of a connection: their spacing is kept.
  const auto shift = static_cast<int64_t>(std::llround(offset_s * s.time_base.den / s.time_base.num));
  p->pts += shift;
  p->dts += shift;
  p->stream_index = map_[i];
  p->pos = -1;
  if (queue_.size() >= capacity_) {
    queue_.pop_front();
    ++dropped_;
  }
  queue_.push_back(std::move(p));
}

void AudioRelay::close() {
  std::lock_guard lock(mutex_);
  closed_ = true;
}

std::vector<CopiedStream> AudioRelay::streams() const {
  std::lock_guard lock(mutex_);
  std::vector<CopiedStream> out;
  for (const Stream& s : streams_) out.push_back({s.params.get(), s.time_base, s.metadata.get(), s.disposition});
  return out;
}

bool AudioRelay::pop(AVPacket* out) {
  std::lock_guard lock(mutex_);
  if (queue_.empty()) return false;
  av_packet_move_ref(out, queue_.front().get());
  queue_.pop_front();
  return true;
}

bool AudioRelay::finished() const {
  std::lock_guard lock(mutex_);
  return closed_ && queue_.empty();
}

int64_t AudioRelay::dropped() const {
  std::lock_guard lock(mutex_);
  return dropped_;
}

int64_t AudioRelay::left_out() const {
  std::lock_guard lock(mutex_);
  return left_out_;
}

}  // namespace framepipe
