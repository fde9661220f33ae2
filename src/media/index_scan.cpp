#include "media/index_scan.hpp"

#include <algorithm>
#include <atomic>
#include <future>
#include <string>

#include "media/bitstream_check.hpp"
#include "media/decoder.hpp"
#include "media/demuxer.hpp"

namespace framepipe {

// Note: how the index is made, and why.
// The packets say, for each frame, when it is shown (pts), whether decoding can start there
// (the key flag), and, implicitly, that each holds one frame. Reading them costs a fraction
// of a decode, but each claim can be false: muxers write decode times as pts, a damaged
// packet holds no picture, a key flag sits on a P frame, a recording starts mid-group, a
// transport stream restarts its clock. So the packet scan is kept only when every check
// below passes; the first that fails sends the scan to a decoding pass, which sees what
// the ffmpeg CLI sees. The checks, cheapest first:
//   1. per packet: the container's damage flag; pts present; for H.264 and HEVC the NAL
//      units themselves (a picture is there; a keyframe is a random-access point);
//   2. over the scan: pts distinct; pts in decode order where the stream reorders (then
//      they are decode times); no frame displaced further than any decoder reorders
//      (a discontinuity or a clock restart);
//   3. a decode of the first frames (kVerifyFrames) gives exactly the frames and pts the
//      packets promise (catches what the bytes alone do not show: fields coded as
//      separate packets, decoders that drop or add frames).
// Whatever slips past all three is caught when a decode contradicts the index (the reader
// then raises, naming the frame; see video_reader.cpp).

namespace {

// Frames decoded at open for check 3. In the media set only field-coded (PAFF) files fail it,
// at frame 2; what later frames would show is caught wherever a decode contradicts the index.
// 32 cost 0.13 s of a 1080p open on one core, 8 cost 0.04 s (the loop filter skipped: the
// check reads frames and timestamps, not pixels).
constexpr int64_t kVerifyFrames = 8;
constexpr int64_t kMaxReorder = 32;  // no decoder holds back more frames than this

Rational rational(AVRational r) { return Rational{r.num, r.den}; }

DemuxerOptions demuxer_options(const ScanOptions& o) {
  DemuxerOptions d;
  d.stream = o.stream;
  d.input_options = o.input_options;
  return d;
}

// The key that places a decoded frame in the index: its packet's pts, which the decoder
// hands on with the frame; where the packet had none, the best-effort pts.
int64_t placement_key(const AVFrame* f) { return f->pts != AV_NOPTS_VALUE ? f->pts : frame_timestamp(f); }

// A damaged frame taints its keyframe group, and the group after it (whose leading
// pictures may refer back); damage reported late by frame threads falls a frame or two after
// its cause, which the group before covers.
void mark_damaged_groups(std::vector<FrameEntry>& frames) {
  const size_t n = frames.size();
  std::vector<size_t> starts;  // group starts: keyframes, and frame 0
  for (size_t i = 0; i < n; ++i)
    if (i == 0 || frames[i].keyframe) starts.push_back(i);
  std::vector<bool> bad(starts.size(), false);
  for (size_t g = 0; g < starts.size(); ++g) {
    const size_t end = g + 1 < starts.size() ? starts[g + 1] : n;
    for (size_t i = starts[g]; i < end; ++i)
      if (frames[i].damaged) bad[g] = true;
  }
  for (size_t g = 0; g < starts.size(); ++g) {
    const bool taint = bad[g] || (g > 0 && bad[g - 1]) || (g + 1 < starts.size() && bad[g + 1]);
    if (!taint) continue;
    const size_t end = g + 1 < starts.size() ? starts[g + 1] : n;
    for (size_t i = starts[g]; i < end; ++i) frames[i].damaged = true;
  }
}

// Frames are what the decoder outputs, in output order, stamped the way ffprobe stamps them
// (best-effort timestamp).
FrameIndex scan_by_decoding(const Source& source, const ScanOptions& options, const std::string& why) {
  Demuxer demuxer(source, demuxer_options(options));
  Decoder decoder(demuxer, DecoderOptions{options.threads, false, options.max_pixels});
  auto frame = av::make_frame();
  std::vector<FrameEntry> frames;
  bool placeable = true;
  int64_t damage = 0;
  while (decoder.next(frame.get())) {
    FrameEntry e;
    e.damaged = decoder.damage() > damage;  // reported since the frame before, or flagged
    damage = decoder.damage();
    e.pts = frame_timestamp(frame.get());
    if (frame->pts == AV_NOPTS_VALUE) placeable = false;
    if (e.pts == AV_NOPTS_VALUE) {
      // No timestamp at all (the last frame out of some AVI decoders): one frame on from the
      // previous, by its duration or else the gap before it.
      const size_t n = frames.size();
      int64_t step = n ? frames[n - 1].duration : 0;
      if (step <= 0 && n >= 2) step = frames[n - 1].pts - frames[n - 2].pts;
      e.pts = n ? frames[n - 1].pts + std::max<int64_t>(step, 1) : 0;
    }
    e.source_pts = frame->pts != AV_NOPTS_VALUE ? frame->pts : e.pts;
    e.dts = INT64_MIN;  // a frame's pkt_dts is that of the packet that released it: seek by pts
    e.pos = frame_packet_pos(frame.get());
    e.duration = frame_duration(frame.get());
    e.keyframe = frame_is_key(frame.get());
    e.hash = frame_hash(frame.get());
    frames.push_back(e);
  }
  if (damage > 0 && decoder.frame_threaded()) {
    // Frame threads conceal damage by timing; the reader decodes damaged files on one
    // thread (VideoReader::Impl::redecode_on_one_thread), and so does its index.
    ScanOptions one = options;
    one.threads = 1;
    return scan_by_decoding(source, one, why);
  }
  mark_damaged_groups(frames);
  // A damaged frame's concealment depends on the decoder's threads and history: its picture
  // is no fact to check against (those are read from the start instead).
  for (FrameEntry& e : frames)
    if (e.damaged) e.hash = 0;
  if (placeable) {  // every frame named by its packet, no two alike
    std::vector<int64_t> keys;
    keys.reserve(frames.size());
    for (const FrameEntry& e : frames) keys.push_back(e.source_pts);
    std::sort(keys.begin(), keys.end());
    placeable = std::adjacent_find(keys.begin(), keys.end()) == keys.end();
  }
  std::string note = "decode: " + why;
  if (!placeable) note += "; frames have no distinct packet pts, so they are counted from the start";
  return FrameIndex(demuxer.video_index(), rational(demuxer.video_stream()->time_base), FrameIndex::Method::Decode,
                    placeable, std::move(frames), std::move(note), demuxer.cut_short());
}

// Check 3, its decoding half: the first frames (up to kVerifyFrames) a decoder outputs, as
// they come out. It needs nothing of the packet scan, so it runs beside it, on a thread of
// its own (the two took 0.07 s of a 1080p open one after the other), until `stop`. Its
// decoder has one thread whatever the reader's: frame threads gain nothing on eight frames
// that each wait for the one before, and their contexts' buffers cost a 1080p open ~35 ms of
// CPU.
struct FirstFrames {
  struct Seen {
    int64_t key;   // placement_key
    int64_t pts;   // frame_timestamp
    bool damaged;  // the decoder reported damage since the frame before
  };
  std::vector<Seen> seen;
};

FirstFrames decode_first_frames(const Source& source, const ScanOptions& options, const std::atomic<bool>& stop) {
  DemuxerOptions dopt = demuxer_options(options);
  dopt.probed = options.probed;
  Demuxer demuxer(source, dopt);
  DecoderOptions d{1, false, options.max_pixels};
  d.timing_only = true;
  Decoder decoder(demuxer, d);
  auto frame = av::make_frame();
  FirstFrames first;
  int64_t damage = 0;
  while (static_cast<int64_t>(first.seen.size()) < kVerifyFrames && !stop.load() && decoder.next(frame.get())) {
    first.seen.push_back({placement_key(frame.get()), frame_timestamp(frame.get()), decoder.damage() > damage});
    damage = decoder.damage();
  }
  return first;
}

// Check 3: the first frames a decoder outputs are the index's first frames. Empty: they are;
// otherwise what differs.
// Damage the decoder reported on the way marks those frames' groups, as a decode scan marks
// them: they are read from the start, never by seeking to them.
std::string check_first_frames(const FirstFrames& first, std::vector<FrameEntry>& frames) {
  const int64_t want = std::min<int64_t>(kVerifyFrames, static_cast<int64_t>(frames.size()));
  const auto got = std::min<int64_t>(want, static_cast<int64_t>(first.seen.size()));
  bool damaged = false;
  for (int64_t n = 0; n < got; ++n) {
    const FirstFrames::Seen& s = first.seen[static_cast<size_t>(n)];
    FrameEntry& e = frames[static_cast<size_t>(n)];
    if (s.damaged) e.damaged = damaged = true;
    if (s.key != e.source_pts || s.pts != e.pts)
      return "decoded frame " + std::to_string(n) + " has pts " + std::to_string(s.pts) +
             " where the packets promise " + std::to_string(e.pts);
  }
  if (got < want) return "the decoder gave " + std::to_string(got) + " frames where the packets promise " + std::to_string(want);
  if (damaged) mark_damaged_groups(frames);
  return {};
}

struct PacketScan {
  std::vector<FrameEntry> frames;  // decode order until sorted
  std::string doubt;               // the first claim that failed, empty if none
  int64_t demoted_keys = 0;        // key flags on packets that are no random-access point
  const char* bitstream = nullptr;  // what was read of every packet (BitstreamCheck::name), if anything
  bool b_slices = false;           // the bitstream shows B slices (H.264): frames are reordered
};

PacketScan scan_packets(Demuxer& demuxer) {
  AVStream* st = demuxer.video_stream();
  const BitstreamCheck check(st->codecpar);
  PacketScan scan;
  if (check.applies()) scan.bitstream = check.name();
  auto packet = av::make_packet();
  auto doubt = [&](std::string why) {
    if (scan.doubt.empty()) scan.doubt = std::move(why);
  };
  bool missing_pts = false, first = true;
  while (demuxer.read_video(packet.get())) {
    av::ScopedPacketUnref unref(packet.get());
    if (packet->size == 0) continue;  // empty packets decode to nothing
    // A stream cut in the middle of a group (a TS recording joined late) starts with packets
    // whose references are gone: the decoder drops them.
    if (first && !(packet->flags & AV_PKT_FLAG_KEY)) doubt("the stream does not start on a keyframe");
    first = false;
    // Discard-flagged packets (edit-list preroll) are decoded for reference, never output.
    if (packet->flags & AV_PKT_FLAG_DISCARD) continue;
    const int64_t n = static_cast<int64_t>(scan.frames.size());
    // A packet cut short (truncated file) or flagged damaged may decode to no frame at all.
    if (packet->flags & AV_PKT_FLAG_CORRUPT) doubt("packet " + std::to_string(n) + " is flagged damaged");
    FrameEntry e;
    e.pts = packet->pts;
    e.dts = packet->dts == AV_NOPTS_VALUE ? INT64_MIN : packet->dts;
    e.pos = packet->pos;
    e.duration = packet->duration;
    e.keyframe = (packet->flags & AV_PKT_FLAG_KEY) != 0;
    if (check.applies()) {
      const PacketFacts facts = check.inspect(packet->data, packet->size);
      if (!facts.read)
        doubt("packet " + std::to_string(n) + " (pts " + std::to_string(packet->pts) + ") is not whole " +
              check.name());
      else if (!facts.has_picture)
        doubt("packet " + std::to_string(n) + " (pts " + std::to_string(packet->pts) + ") holds no picture");
      scan.b_slices = scan.b_slices || facts.bidirectional;
      e.open_gop = e.keyframe && facts.read && !facts.clean_start && check.reads_slice_types();
      if (facts.read && e.keyframe && !facts.random_access && !facts.intra) {
        e.keyframe = false;  // decoding cannot start on a P or B frame, whatever the flag says
        ++scan.demoted_keys;
      }
    }
    if (e.pts == AV_NOPTS_VALUE) {
      missing_pts = true;
      e.pts = packet->dts;  // right only without reordering, checked below
    }
    e.source_pts = e.pts;
    scan.frames.push_back(e);
  }
  // Reordering as the codec's header says it may, and as the slices show where they are read.
  const bool reorders = st->codecpar->video_delay > 0 && (!check.reads_slice_types() || scan.b_slices);
  auto& frames = scan.frames;
  if (std::any_of(frames.begin(), frames.end(), [](const FrameEntry& e) { return e.pts == AV_NOPTS_VALUE; }))
    doubt("packets carry neither pts nor dts");
  else if (missing_pts && reorders)
    doubt("packets carry no pts and the stream reorders frames");
  if (reorders && frames.size() > 2 && scan.doubt.empty() &&
      std::is_sorted(frames.begin(), frames.end(), [](const FrameEntry& a, const FrameEntry& b) { return a.pts < b.pts; }))
    doubt("the stream reorders frames but the packets' pts are in decode order (decode times stored as pts)");
  return scan;
}

// Check 2 on the packets in decode order; sorts them into presentation order.
std::string sort_and_check(std::vector<FrameEntry>& frames) {
  std::vector<int64_t> order(frames.size());
  for (size_t i = 0; i < frames.size(); ++i) order[i] = static_cast<int64_t>(i);
  std::stable_sort(order.begin(), order.end(),
                   [&](int64_t a, int64_t b) { return frames[static_cast<size_t>(a)].pts < frames[static_cast<size_t>(b)].pts; });
  std::vector<FrameEntry> sorted;
  sorted.reserve(frames.size());
  std::string doubt;
  for (size_t k = 0; k < order.size(); ++k) {
    sorted.push_back(frames[static_cast<size_t>(order[k])]);
    if (doubt.empty() && k > 0 && sorted[k].pts == sorted[k - 1].pts)
      doubt = "two packets share pts " + std::to_string(sorted[k].pts);
    if (doubt.empty() && std::abs(order[k] - static_cast<int64_t>(k)) > kMaxReorder)
      doubt = "packet " + std::to_string(order[k]) + " would be shown as frame " + std::to_string(k) +
              " (timestamps jump: a discontinuity or a clock restart)";
  }
  frames = std::move(sorted);
  return doubt;
}

}  // namespace

FrameIndex scan_frame_index(const Source& source, const ScanOptions& options) {
  if (options.method == FrameIndex::Method::Decode) return scan_by_decoding(source, options, "asked for");
  std::atomic<bool> stop{false};
  // Joined before it goes out of scope, however this returns (std::async's future waits).
  std::future<FirstFrames> first =
      std::async(std::launch::async, [&source, &options, &stop] { return decode_first_frames(source, options, stop); });
  auto decode_instead = [&](const std::string& why) {
    stop = true;  // not needed now: it stops at its next frame
    return scan_by_decoding(source, options, why);
  };
  struct StopFirst {
    std::atomic<bool>& stop;
    ~StopFirst() { stop = true; }  // the scan failed: do not wait for 8 frames
  } stop_first{stop};
  Demuxer demuxer(source, demuxer_options(options));
  PacketScan scan = scan_packets(demuxer);
  if (!scan.doubt.empty()) return decode_instead(scan.doubt);
  if (std::string doubt = sort_and_check(scan.frames); !doubt.empty()) return decode_instead(doubt);
  if (std::string doubt = check_first_frames(first.get(), scan.frames); !doubt.empty()) return decode_instead(doubt);
  std::string note = "packets: pts, flags and count checked";
  if (scan.bitstream) note += ", every packet's " + std::string(scan.bitstream) + " read";
  note += ", the first " + std::to_string(std::min<int64_t>(kVerifyFrames, static_cast<int64_t>(scan.frames.size()))) +
          " frames decoded and matched";
  if (scan.demoted_keys) note += "; " + std::to_string(scan.demoted_keys) + " false keyframe flags dropped";
  return FrameIndex(demuxer.video_index(), rational(demuxer.video_stream()->time_base), FrameIndex::Method::Packets,
                    true, std::move(scan.frames), std::move(note), demuxer.cut_short());
}

}  // namespace framepipe
