#include "media/index_scan.hpp"

#include <algorithm>

#include "media/decoder.hpp"
#include "media/demuxer.hpp"

namespace framepipe {

namespace {

Rational rational(AVRational r) { return Rational{r.num, r.den}; }

DemuxerOptions demuxer_options(const ScanOptions& o) {
  DemuxerOptions d;
  d.stream = o.stream;
  d.input_options = o.input_options;
  return d;
}

// Frames are what the decoder outputs, in output order, stamped the way ffprobe stamps them
// (best-effort timestamp).
FrameIndex scan_by_decoding(const Source& source, const ScanOptions& options) {
  Demuxer demuxer(source, demuxer_options(options));
  Decoder decoder(demuxer, DecoderOptions{options.threads, false});
  auto frame = av::make_frame();
  std::vector<FrameEntry> frames;
  bool seekable = true;
  while (decoder.next(frame.get())) {
    FrameEntry e;
    e.pts = frame_timestamp(frame.get());
    if (frame->pts == AV_NOPTS_VALUE || (!frames.empty() && e.pts <= frames.back().pts)) seekable = false;
    if (e.pts == AV_NOPTS_VALUE) {
      // No timestamp at all (the last frame out of some AVI decoders): one frame on from the
      // previous, by its duration or else the gap before it.
      const size_t n = frames.size();
      int64_t step = n ? frames[n - 1].duration : 0;
      if (step <= 0 && n >= 2) step = frames[n - 1].pts - frames[n - 2].pts;
      e.pts = n ? frames[n - 1].pts + std::max<int64_t>(step, 1) : 0;
    }
    e.dts = INT64_MIN;  // a frame's pkt_dts is that of the packet that released it: seek by pts
    e.pos = frame_packet_pos(frame.get());
    e.duration = frame_duration(frame.get());
    e.keyframe = frame_is_key(frame.get());
    frames.push_back(e);
  }
  return FrameIndex(demuxer.video_index(), rational(demuxer.video_stream()->time_base),
                    FrameIndex::Method::Decode, seekable, std::move(frames));
}

}  // namespace

FrameIndex scan_frame_index(const Source& source, const ScanOptions& options) {
  Demuxer demuxer(source, demuxer_options(options));
  AVStream* st = demuxer.video_stream();
  auto packet = av::make_packet();
  std::vector<FrameEntry> frames;
  bool missing_pts = false;
  bool damaged = false;
  bool starts_on_keyframe = true;
  while (demuxer.read_video(packet.get())) {
    av::ScopedPacketUnref unref(packet.get());
    // Empty packets decode to nothing; discard-flagged ones (edit-list preroll) are decoded
    // for reference but never output.
    if (packet->size == 0 || (packet->flags & AV_PKT_FLAG_DISCARD)) continue;
    // A packet cut short (truncated file) or flagged damaged may decode to no frame at all.
    if (packet->flags & AV_PKT_FLAG_CORRUPT) damaged = true;
    // A stream cut in the middle of a group (a TS recording joined late) starts with packets
    // whose references are gone: the decoder drops them.
    if (frames.empty() && !(packet->flags & AV_PKT_FLAG_KEY)) starts_on_keyframe = false;
    FrameEntry e;
    e.pts = packet->pts;
    e.dts = packet->dts == AV_NOPTS_VALUE ? INT64_MIN : packet->dts;
    e.pos = packet->pos;
    e.duration = packet->duration;
    e.keyframe = (packet->flags & AV_PKT_FLAG_KEY) != 0;
    if (e.pts == AV_NOPTS_VALUE) {
      missing_pts = true;
      e.pts = packet->dts;  // right only without reordering, checked below
    }
    frames.push_back(e);
  }
  const bool reorders = st->codecpar->video_delay > 0;
  const bool dts_missing = std::any_of(frames.begin(), frames.end(),
                                       [](const FrameEntry& e) { return e.pts == AV_NOPTS_VALUE; });
  if (damaged || !starts_on_keyframe || (missing_pts && (reorders || dts_missing)))
    return scan_by_decoding(source, options);
  std::stable_sort(frames.begin(), frames.end(), [](const FrameEntry& a, const FrameEntry& b) { return a.pts < b.pts; });
  return FrameIndex(demuxer.video_index(), rational(st->time_base), FrameIndex::Method::Packets, true,
                    std::move(frames));
}

}  // namespace framepipe
