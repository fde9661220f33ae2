// FrameIndex: every frame of one video stream in presentation order, with its pts, the dts
// of its packet, byte position and keyframe flag. Built by one scan of the packets (no
// decoding) when the packets can be trusted to be one frame each with its own pts; by one
// decoding pass otherwise: streams that carry no pts and reorder frames (MPEG-4 Part 2 with
// B-frames in AVI), files with damaged or cut packets, which may decode to no frame, and
// streams that start in the middle of a group of pictures.
// Frame i here is frame i of `ffmpeg -i X -vsync passthrough`.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

namespace framepipe {

struct Rational {
  int num = 0;
  int den = 1;
  double value() const { return den ? static_cast<double>(num) / den : 0.0; }
  bool operator==(const Rational&) const = default;
};

struct FrameEntry {
  int64_t pts = 0;       // presentation timestamp in the stream's time base
  int64_t dts = 0;       // decode timestamp of the frame's packet (INT64_MIN if unknown)
  int64_t pos = -1;      // byte position of the frame's packet (-1 if unknown)
  int64_t duration = 0;  // in time base units (0 if unknown)
  bool keyframe = false;
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
  // seekable: every frame has a pts of its own (not guessed) and the pts rise in
  // presentation order, so a decoded frame can be placed by its pts after a seek.
  FrameIndex(int stream_index, Rational time_base, Method method, bool seekable, std::vector<FrameEntry> frames);

  int64_t size() const { return static_cast<int64_t>(frames_.size()); }
  bool empty() const { return frames_.empty(); }
  const FrameEntry& operator[](int64_t i) const { return frames_[static_cast<size_t>(i)]; }
  const std::vector<FrameEntry>& frames() const { return frames_; }
  int stream_index() const { return stream_index_; }
  Rational time_base() const { return time_base_; }
  Method method() const { return method_; }
  // Seekable indexes map decoded frames back to their index by pts, and seek. Others (frames
  // without a pts of their own) are read by counting frames from the start.
  bool timestamps_reliable() const { return seekable_; }

  double seconds(int64_t pts) const;  // pts * time_base, as ffprobe's pts_time
  double time_of(int64_t i) const { return seconds(frames_[static_cast<size_t>(i)].pts); }
  // Measured: first pts to the end of the last frame.
  double duration_seconds() const;
  double average_fps() const;  // frames / duration
  int64_t keyframe_count() const;

  // Largest keyframe index <= i, or -1 if no keyframe precedes i.
  int64_t keyframe_at_or_before(int64_t i) const;
  // Index of the frame with this pts, or -1.
  int64_t locate_pts(int64_t pts) const;
  // The frame on screen at t seconds: largest pts with seconds(pts) <= t; -1 if t precedes
  // the first frame. Times past the end map to the last frame; callers check end_seconds().
  int64_t frame_at(double t) const;
  double end_seconds() const;  // end of the last frame

  // Sidecar file: `<video>.fpidx`. Versioned binary; load() returns nullopt when the file is
  // missing, of another version, or made for another version (stamp) of the video.
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
  std::vector<FrameEntry> frames_;          // presentation order
  std::vector<int64_t> keyframes_;          // indices of keyframes, ascending
  std::vector<std::pair<int64_t, int64_t>> by_pts_;  // (pts, index) sorted by pts
  void build_lookups();
  void write(std::ostream& os, const FileStamp& stamp) const;
  static std::optional<FrameIndex> read(std::istream& is, const std::optional<FileStamp>& expected);
};

}  // namespace framepipe
