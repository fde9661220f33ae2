#include "framepipe/media/frame_index.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <limits>

#include "framepipe/error.hpp"

namespace framepipe {

std::optional<FileStamp> FileStamp::of(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return std::nullopt;
  return FileStamp{static_cast<uint64_t>(st.st_size),
                   int64_t{st.st_mtim.tv_sec} * 1000000000 + st.st_mtim.tv_nsec};
}

FrameIndex::FrameIndex(int stream_index, Rational time_base, Method method, bool seekable,
                       std::vector<FrameEntry> frames)
    : stream_index_(stream_index), time_base_(time_base), method_(method), seekable_(seekable),
      frames_(std::move(frames)) {
  build_lookups();
}

void FrameIndex::build_lookups() {
  keyframes_.clear();
  by_pts_.clear();
  by_pts_.reserve(frames_.size());
  for (size_t i = 0; i < frames_.size(); ++i) {
    if (frames_[i].keyframe) keyframes_.push_back(static_cast<int64_t>(i));
    by_pts_.emplace_back(frames_[i].pts, static_cast<int64_t>(i));
  }
  std::stable_sort(by_pts_.begin(), by_pts_.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
}

double FrameIndex::seconds(int64_t pts) const {
  return static_cast<double>(pts) * time_base_.num / time_base_.den;
}

double FrameIndex::end_seconds() const {
  if (frames_.empty()) return 0;
  const FrameEntry& last = frames_.back();
  int64_t d = last.duration;
  if (d <= 0 && frames_.size() > 1) d = last.pts - frames_[frames_.size() - 2].pts;  // assume steady
  return seconds(last.pts + std::max<int64_t>(d, 0));
}

double FrameIndex::duration_seconds() const {
  return frames_.empty() ? 0 : end_seconds() - seconds(frames_.front().pts);
}

double FrameIndex::average_fps() const {
  const double d = duration_seconds();
  return d > 0 ? static_cast<double>(frames_.size()) / d : 0;
}

int64_t FrameIndex::keyframe_count() const { return static_cast<int64_t>(keyframes_.size()); }

int64_t FrameIndex::keyframe_at_or_before(int64_t i) const {
  auto it = std::upper_bound(keyframes_.begin(), keyframes_.end(), i);
  return it == keyframes_.begin() ? -1 : *std::prev(it);
}

int64_t FrameIndex::locate_pts(int64_t pts) const {
  auto it = std::lower_bound(by_pts_.begin(), by_pts_.end(), pts,
                             [](const auto& e, int64_t v) { return e.first < v; });
  return it != by_pts_.end() && it->first == pts ? it->second : -1;
}

int64_t FrameIndex::frame_at(double t) const {
  // Largest pts whose pts_time <= t, compared the way ffprobe computes pts_time.
  auto it = std::upper_bound(by_pts_.begin(), by_pts_.end(), t,
                             [this](double v, const auto& e) { return v < seconds(e.first); });
  return it == by_pts_.begin() ? -1 : std::prev(it)->second;
}

std::string FrameIndex::sidecar_path(const std::string& video_path) { return video_path + ".fpidx"; }

// --- sidecar file ------------------------------------------------------------------------
// Layout (little endian): "FPIDX\0\0\0", u32 version, u64 video size, i64 video mtime (ns),
// i32 stream, i32 tb.num, i32 tb.den, u8 method, u8 seekable, u64 count, count x {i64 pts, dts, pos,
// duration; u8 keyframe}.
namespace {
constexpr char kMagic[8] = {'F', 'P', 'I', 'D', 'X', 0, 0, 0};
constexpr uint32_t kVersion = 1;

template <class T>
void put(std::ostream& os, T v) {
  os.write(reinterpret_cast<const char*>(&v), sizeof v);
}
template <class T>
bool get(std::istream& is, T& v) {
  return static_cast<bool>(is.read(reinterpret_cast<char*>(&v), sizeof v));
}
}  // namespace

void FrameIndex::write(std::ostream& os, const FileStamp& stamp) const {
  os.write(kMagic, sizeof kMagic);
  put(os, kVersion);
  put(os, stamp.size);
  put(os, stamp.mtime_ns);
  put(os, int32_t{stream_index_});
  put(os, int32_t{time_base_.num});
  put(os, int32_t{time_base_.den});
  put(os, static_cast<uint8_t>(method_));
  put(os, static_cast<uint8_t>(seekable_));
  put(os, static_cast<uint64_t>(frames_.size()));
  for (const FrameEntry& e : frames_) {
    put(os, e.pts);
    put(os, e.dts);
    put(os, e.pos);
    put(os, e.duration);
    put(os, static_cast<uint8_t>(e.keyframe));
  }
}

std::optional<FrameIndex> FrameIndex::read(std::istream& is, const std::optional<FileStamp>& expected) {
  char magic[8];
  uint32_t version = 0;
  FileStamp stamp;
  int32_t stream = 0, num = 0, den = 0;
  uint8_t method = 0, seekable = 0;
  uint64_t count = 0;
  if (!is.read(magic, sizeof magic) || std::memcmp(magic, kMagic, sizeof kMagic) != 0) return std::nullopt;
  if (!get(is, version) || version != kVersion) return std::nullopt;
  if (!get(is, stamp.size) || !get(is, stamp.mtime_ns) || (expected && !(stamp == *expected))) return std::nullopt;
  if (!get(is, stream) || !get(is, num) || !get(is, den) || !get(is, method) || !get(is, seekable) || !get(is, count))
    return std::nullopt;
  if (den <= 0 || (method != 1 && method != 2) || count > (uint64_t{1} << 34)) return std::nullopt;
  std::vector<FrameEntry> frames(count);
  for (FrameEntry& e : frames) {
    uint8_t key = 0;
    if (!get(is, e.pts) || !get(is, e.dts) || !get(is, e.pos) || !get(is, e.duration) || !get(is, key))
      return std::nullopt;
    e.keyframe = key != 0;
  }
  return FrameIndex(stream, Rational{num, den}, static_cast<Method>(method), seekable != 0, std::move(frames));
}

void FrameIndex::save(const std::string& path, const FileStamp& stamp) const {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream os(tmp, std::ios::binary | std::ios::trunc);
    if (!os) throw IoError("cannot write index '" + tmp + "': " + std::strerror(errno));
    write(os, stamp);
    if (!os.flush()) throw IoError("cannot write index '" + tmp + "': " + std::strerror(errno));
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    throw IoError("cannot write index '" + path + "': " + std::strerror(errno));
  }
}

std::optional<FrameIndex> FrameIndex::load(const std::string& path, const FileStamp& expected) {
  std::ifstream is(path, std::ios::binary);
  if (!is) return std::nullopt;
  return read(is, expected);
}

std::string FrameIndex::to_bytes(const FileStamp& stamp) const {
  std::ostringstream os(std::ios::binary);
  write(os, stamp);
  return std::move(os).str();
}

std::optional<FrameIndex> FrameIndex::from_bytes(const std::string& bytes, const std::optional<FileStamp>& expected) {
  std::istringstream is(bytes, std::ios::binary);
  return read(is, expected);
}

}  // namespace framepipe
