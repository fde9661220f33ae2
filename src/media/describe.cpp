#include "media/describe.hpp"

extern "C" {
#include <libavutil/pixdesc.h>
}

#include <cmath>

namespace framepipe {

namespace {

Rational rational(AVRational r) { return Rational{r.num, r.den}; }

double seconds(int64_t ts, AVRational tb) {
  return ts == AV_NOPTS_VALUE ? 0.0 : static_cast<double>(ts) * tb.num / tb.den;
}

VideoStreamInfo describe_video(const AVStream* st, const AVFormatContext* fmt, const FrameIndex* index) {
  const AVCodecParameters* par = st->codecpar;
  VideoStreamInfo v;
  v.index = st->index;
  v.codec = avcodec_get_name(par->codec_id);
  if (const char* p = avcodec_profile_name(par->codec_id, par->profile)) v.profile = p;
  v.width = par->width;
  v.height = par->height;
  const auto pf = static_cast<AVPixelFormat>(par->format);
  if (const char* name = av_get_pix_fmt_name(pf)) v.pix_fmt = name;
  else v.pix_fmt = "unknown";
  if (const AVPixFmtDescriptor* d = av_pix_fmt_desc_get(pf)) v.bits_per_sample = d->comp[0].depth;
  v.time_base = rational(st->time_base);
  v.avg_frame_rate = rational(st->avg_frame_rate);
  v.real_frame_rate = rational(st->r_frame_rate);
  if (par->sample_aspect_ratio.num > 0) v.sample_aspect_ratio = rational(par->sample_aspect_ratio);
  v.frames_header = st->nb_frames > 0 ? st->nb_frames : -1;
  v.color_matrix = av::color_space_name(par->color_space);
  v.color_range = av::color_range_name(par->color_range);
  v.color_primaries = av::color_primaries_name(par->color_primaries);
  v.color_transfer = av::color_transfer_name(par->color_trc);
  v.rotation = av::display_rotation(st);
  if (const int32_t* m = av::display_matrix(st)) std::copy(m, m + 9, v.display_matrix.begin());
  if (index) {
    v.frames = index->size();
    v.duration = index->duration_seconds();
    v.fps = index->average_fps();
    v.start_time = index->first_seconds();
    v.keyframes = index->keyframe_count();
    v.index_method = index->method() == FrameIndex::Method::Packets ? "packets" : "decode";
    v.index_provenance = index->provenance();
    v.truncated = index->truncated();
  } else {
    v.fps = st->avg_frame_rate.num > 0 ? av_q2d(st->avg_frame_rate) : av_q2d(st->r_frame_rate);
    v.duration = st->duration != AV_NOPTS_VALUE ? seconds(st->duration, st->time_base)
                                                : (fmt->duration > 0 ? fmt->duration / double(AV_TIME_BASE) : 0);
    v.start_time = seconds(st->start_time, st->time_base);
    v.index_method = "header";
  }
  return v;
}

}  // namespace

MediaInfo describe(const Demuxer& demuxer, const FrameIndex* index) {
  const AVFormatContext* fmt = demuxer.format();
  MediaInfo m;
  m.source = demuxer.name();
  m.container = fmt->iformat->name;
  m.container_long = fmt->iformat->long_name ? fmt->iformat->long_name : "";
  m.duration = fmt->duration > 0 ? fmt->duration / double(AV_TIME_BASE) : 0;
  m.start_time = fmt->start_time != AV_NOPTS_VALUE ? fmt->start_time / double(AV_TIME_BASE) : 0;
  m.bit_rate = fmt->bit_rate;
  m.size_bytes = fmt->pb ? avio_size(fmt->pb) : -1;
  for (unsigned i = 0; i < fmt->nb_streams; ++i) {
    const AVStream* st = fmt->streams[i];
    const AVCodecParameters* par = st->codecpar;
    if (par->codec_type == AVMEDIA_TYPE_VIDEO) {
      const bool selected = static_cast<int>(i) == demuxer.video_index();
      VideoStreamInfo v = describe_video(st, fmt, selected ? index : nullptr);
      if (selected) m.video = std::move(v);
      else m.other_video.push_back(std::move(v));
    } else if (par->codec_type == AVMEDIA_TYPE_AUDIO) {
      AudioStreamInfo a;
      a.index = st->index;
      a.codec = avcodec_get_name(par->codec_id);
      a.sample_rate = par->sample_rate;
      a.channels = av::channel_count(par);
      a.channel_layout = av::channel_layout_name(par);
      const char* sf = av_get_sample_fmt_name(static_cast<AVSampleFormat>(par->format));
      a.sample_fmt = sf ? sf : "unknown";
      a.time_base = rational(st->time_base);
      a.start_time = seconds(st->start_time, st->time_base);
      a.duration = st->duration != AV_NOPTS_VALUE ? seconds(st->duration, st->time_base) : 0;
      a.bit_rate = par->bit_rate;
      m.audio.push_back(std::move(a));
    } else {
      const char* type = av_get_media_type_string(par->codec_type);
      m.other.push_back(OtherStreamInfo{st->index, type ? type : "unknown", avcodec_get_name(par->codec_id)});
    }
  }
  return m;
}

}  // namespace framepipe
