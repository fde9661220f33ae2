// FrameIndex: every frame of one video stream in presentation order, with its pts, the dts
// of its packet, byte position and keyframe flag. Frame i here is frame i of
// `ffmpeg -i X -vsync passthrough`, and its pts is the best-effort timestamp that ffprobe
// prints (pts_time = pts x time base).
//
// The container's packets are claims: the scan (media/index_scan.hpp) checks them and
// builds the index from them only where they hold (one scan of the packets, no decoding);
// otherwise from one decoding pass, which is the ground truth. provenance() says which, and
// why; the sidecar file keeps it.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include "framepipe/media/rational.hpp"

namespace framepipe {

struct FrameEntry {
  int64_t pts = 0;       // presentation timestamp in the stream's time base
  int64_t dts = 0;       // decode timestamp of the frame's packet (INT64_MIN if unknown)
  int64_t pos = -1;      // byte position of the frame's packet (-1 if unknown)
  int64_t duration = 0;  // in time base units (0 if unknown)
  // The pts of the packet the frame is decoded from, as the decoder hands it on with the
  // frame (AVFrame.pts; its best-effort pts where the packet had none). It names the frame
  // wherever decoding starts; `pts` can differ from it where packets carry decode times.
  int64_t source_pts = 0;
  bool keyframe = false;
  // In a keyframe group that decoded with damage (concealed errors, a lost picture): how it
  // looks depends on what the decoder saw before, so it is reached only by decoding from the
  // start, as a stream would.
  bool damaged = false;
  // A keyframe whose group may open with leading pictures that refer to the group before,
  // and where a decoder that starts on it reports errors in them that are not damage: an
  // H.264 recovery point (HEVC's decoder skips a CRA's leading pictures without a word).
  // Known where the bitstream was read; false otherwise.
  bool open_gop = false;
  // Hash of the decoded picture (media/decoder.hpp frame_hash), where a decoding scan made
  // the index: a later decode of this frame is checked against it. 0: not known.
  uint64_t hash = 0;
};

// Identifies one version of a file, so that a saved index knows when it is stale.
struct FileStamp {
  uint64_t size = 0;
  int64_t mtime_ns = 0;
  bool operator==(const FileStamp&) const = default;
  static std::optional<FileStamp> of(const std::string& path);  // nullopt: not a regular file
};

class FrameIndex {
 public:
  enum class Method : uint8_t { Packets = 1, Decode = 2 };

  FrameIndex() = default;
  // seekable: every frame has a source pts of its own (not guessed) and no two share one, so
  // a frame decoded after a seek can be placed by it. provenance: how the index was made
  // and what was checked ("packets: ..." or "decode: <why the packets were not trusted>").
  // truncated: why the scan found the file cut short ("" where it ended cleanly).
  FrameIndex(int stream_index, Rational time_base, Method method, bool seekable, std::vector<FrameEntry> frames,
             std::string provenance = {}, std::string truncated = {});

  int64_t size() const { return static_cast<int64_t>(frames_.size()); }
  bool empty() const { return frames_.empty(); }
  const FrameEntry& operator[](int64_t i) const { return frames_[static_cast<size_t>(i)]; }
  const std::vector<FrameEntry>& frames() const { return frames_; }
  int stream_index() const { return stream_index_; }
  Rational time_base() const { return time_base_; }
  Method method() const { return method_; }
  const std::string& provenance() const { return provenance_; }
  // Why the file looked cut short when the index was made (Demuxer::cut_short: a read that
  // failed before the end, or the demuxer's own words); "" where it ended cleanly.
  const std::string& truncated() const { return truncated_; }
  // Seekable indexes map decoded frames back to their index by pts, and seek. Others (frames
  // without a pts of their own) are read by counting frames from the start.
  bool timestamps_reliable() const { return seekable_; }
  // Source pts rise with the frame index (they are presentation times): then a packet's pts
  // says whether its frame comes before or after another, which skipping decodes relies on.
  bool source_pts_rise() const { return source_rise_; }
  bool any_damaged() const { return any_damaged_; }

  double seconds(int64_t pts) const;  // pts * time_base, as ffprobe's pts_time
  double time_of(int64_t i) const { return seconds(frames_[static_cast<size_t>(i)].pts); }
  // Measured: the earliest frame's time to the end of the latest.
  double duration_seconds() const;
  double average_fps() const;  // frames / duration
  int64_t keyframe_count() const;

  // Largest keyframe index <= i, or -1 if no keyframe precedes i.
  int64_t keyframe_at_or_before(int64_t i) const;
  // Index of the frame decoded from the packet with this source pts, or -1.
  int64_t locate_source_pts(int64_t source_pts) const;
  // The frame on screen at t seconds: the frame with the largest pts whose seconds(pts) <= t
  // (of equal ones, the later frame); -1 if t precedes every frame. Where pts do not rise
  // (a timestamp discontinuity), that is still the frame whose own time is closest before t.
  // Times past the end map to the last frame; callers check end_seconds().
  int64_t frame_at(double t) const;
  double first_seconds() const;  // the earliest frame's time (frame 0's, unless pts do not rise)
  double end_seconds() const;    // end of the latest frame

  // Sidecar file: `<video>.fpidx`. Versioned binary with a checksum; load() returns nullopt
  // when the file is missing, damaged, of another version, or made for another version
  // (stamp) of the video, so that it is rebuilt, never trusted.
  static std::string sidecar_path(const std::string& video_path);
  void save(const std::string& path, const FileStamp& stamp) const;
  static std::optional<FrameIndex> load(const std::string& path, const FileStamp& expected);
  // The same bytes in memory (a pickled reader carries its index); `expected` unset: any stamp.
  std::string to_bytes(const FileStamp& stamp) const;
  static std::optional<FrameIndex> from_bytes(const std::string& bytes, const std::optional<FileStamp>& expected);

 private:
  int stream_index_ = -1;
  Rational time_base_{};
  Method method_ = Method::Packets;
  bool seekable_ = true;
  bool source_rise_ = true;
  bool any_damaged_ = false;
  std::string provenance_;
  std::string truncated_;
  std::vector<FrameEntry> frames_;          // presentation order
  std::vector<int64_t> keyframes_;          // indices of keyframes, ascending
  std::vector<std::pair<int64_t, int64_t>> by_pts_;     // (pts, index) sorted by pts
  std::vector<std::pair<int64_t, int64_t>> by_source_;  // (source_pts, index) sorted
  void build_lookups();
  void write(std::ostream& os, const FileStamp& stamp) const;
  static std::optional<FrameIndex> read(std::istream& is, const std::optional<FileStamp>& expected);
};

}  // namespace framepipe
