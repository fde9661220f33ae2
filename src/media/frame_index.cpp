#include "framepipe/media/frame_index.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <limits>

#include "framepipe/error.hpp"
#include "common/part_file.hpp"

namespace framepipe {

std::optional<FileStamp> FileStamp::of(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return std::nullopt;
  return FileStamp{static_cast<uint64_t>(st.st_size),
                   int64_t{st.st_mtim.tv_sec} * 1000000000 + st.st_mtim.tv_nsec};
}

FrameIndex::FrameIndex(int stream_index, Rational time_base, Method method, bool seekable,
                       std::vector<FrameEntry> frames, std::string provenance, std::string truncated)
    : stream_index_(stream_index), time_base_(time_base), method_(method), seekable_(seekable),
      provenance_(std::move(provenance)), truncated_(std::move(truncated)), frames_(std::move(frames)) {
  build_lookups();
}

void FrameIndex::build_lookups() {
  keyframes_.clear();
  by_pts_.clear();
  by_source_.clear();
  by_pts_.reserve(frames_.size());
  by_source_.reserve(frames_.size());
  source_rise_ = true;
  any_damaged_ = false;
  for (size_t i = 0; i < frames_.size(); ++i) {
    any_damaged_ = any_damaged_ || frames_[i].damaged;
    if (i > 0 && frames_[i].source_pts <= frames_[i - 1].source_pts) source_rise_ = false;
    if (frames_[i].keyframe) keyframes_.push_back(static_cast<int64_t>(i));
    by_pts_.emplace_back(frames_[i].pts, static_cast<int64_t>(i));
    by_source_.emplace_back(frames_[i].source_pts, static_cast<int64_t>(i));
  }
  auto by_first = [](const auto& a, const auto& b) { return a.first < b.first; };
  std::stable_sort(by_pts_.begin(), by_pts_.end(), by_first);
  std::stable_sort(by_source_.begin(), by_source_.end(), by_first);
}

double FrameIndex::seconds(int64_t pts) const {
  return static_cast<double>(pts) * time_base_.num / time_base_.den;
}

double FrameIndex::first_seconds() const { return frames_.empty() ? 0 : seconds(by_pts_.front().first); }

double FrameIndex::end_seconds() const {
  if (frames_.empty()) return 0;
  // The latest frame in time (the last one, unless pts do not rise) and its time on screen.
  const size_t n = by_pts_.size();
  const FrameEntry& last = frames_[static_cast<size_t>(by_pts_[n - 1].second)];
  int64_t d = last.duration, end = 0;
  if (d <= 0 && n > 1 && __builtin_sub_overflow(by_pts_[n - 1].first, by_pts_[n - 2].first, &d)) d = INT64_MAX;  // assume steady
  if (!__builtin_add_overflow(last.pts, std::max<int64_t>(d, 0), &end)) return seconds(end);
  return seconds(last.pts) + static_cast<double>(d) * time_base_.num / time_base_.den;  // a hostile index's pts
}

double FrameIndex::duration_seconds() const { return end_seconds() - first_seconds(); }

double FrameIndex::average_fps() const {
  const double d = duration_seconds();
  return d > 0 ? static_cast<double>(frames_.size()) / d : 0;
}

int64_t FrameIndex::keyframe_count() const { return static_cast<int64_t>(keyframes_.size()); }

int64_t FrameIndex::keyframe_at_or_before(int64_t i) const {
  auto it = std::upper_bound(keyframes_.begin(), keyframes_.end(), i);
  return it == keyframes_.begin() ? -1 : *std::prev(it);
}

int64_t FrameIndex::locate_source_pts(int64_t source_pts) const {
  auto it = std::lower_bound(by_source_.begin(), by_source_.end(), source_pts,
                             [](const auto& e, int64_t v) { return e.first < v; });
  return it != by_source_.end() && it->first == source_pts ? it->second : -1;
}

int64_t FrameIndex::frame_at(double t) const {
  // Largest pts whose pts_time <= t, compared the way ffprobe computes pts_time.
  auto it = std::upper_bound(by_pts_.begin(), by_pts_.end(), t,
                             [this](double v, const auto& e) { return v < seconds(e.first); });
  return it == by_pts_.begin() ? -1 : std::prev(it)->second;
}

std::string FrameIndex::sidecar_path(const std::string& video_path) { return video_path + ".fpidx"; }

// --- sidecar file ------------------------------------------------------------------------
// Layout (little endian): "FPIDX\0\0\0", u32 version, then the body: u64 video size, i64 video
// mtime (ns), i32 stream, i32 tb.num, i32 tb.den, u8 method, u8 seekable, u32 provenance
// length, provenance bytes, u32 truncated length, its bytes, u64 count, count x {i64 pts, dts, pos, duration, source_pts; u64 hash;
// u8 flags (1 keyframe, 2 damaged, 4 open GOP)}; then u64 FNV-1a of the body. A sidecar is input like any other: every field
// is bounds-checked and the checksum must match, or the index is rebuilt.
namespace {
constexpr char kMagic[8] = {'F', 'P', 'I', 'D', 'X', 0, 0, 0};
constexpr uint32_t kVersion = 5;  // 3: picture hashes cover size, format and colour too; 4: truncated;
                                  // 5: a cut MPEG-TS is truncated (indexes of v4 may not say so)
constexpr size_t kEntryBytes = 6 * 8 + 1;
constexpr uint32_t kMaxProvenance = 1 << 16;

template <class T>
void put(std::string& out, T v) {
  out.append(reinterpret_cast<const char*>(&v), sizeof v);
}

class Cursor {
 public:
  Cursor(const std::string& s, size_t pos, size_t end) : s_(s), pos_(pos), end_(end) {}
  template <class T>
  bool get(T& v) {
    if (end_ - pos_ < sizeof v) return false;
    std::memcpy(&v, s_.data() + pos_, sizeof v);
    pos_ += sizeof v;
    return true;
  }
  bool get_string(std::string& v, size_t n) {
    if (end_ - pos_ < n) return false;
    v.assign(s_.data() + pos_, n);
    pos_ += n;
    return true;
  }
  size_t left() const { return end_ - pos_; }

 private:
  const std::string& s_;
  size_t pos_, end_;
};

uint64_t fnv1a(const char* p, size_t n) {
  uint64_t h = 1469598103934665603ull;
  for (size_t i = 0; i < n; ++i) h = (h ^ static_cast<uint8_t>(p[i])) * 1099511628211ull;
  return h;
}
}  // namespace

void FrameIndex::write(std::ostream& os, const FileStamp& stamp) const {
  std::string body;
  body.reserve(64 + provenance_.size() + frames_.size() * kEntryBytes);
  put(body, stamp.size);
  put(body, stamp.mtime_ns);
  put(body, int32_t{stream_index_});
  put(body, int32_t{time_base_.num});
  put(body, int32_t{time_base_.den});
  put(body, static_cast<uint8_t>(method_));
  put(body, static_cast<uint8_t>(seekable_));
  const std::string note = provenance_.substr(0, kMaxProvenance);
  put(body, static_cast<uint32_t>(note.size()));
  body += note;
  const std::string cut = truncated_.substr(0, kMaxProvenance);
  put(body, static_cast<uint32_t>(cut.size()));
  body += cut;
  put(body, static_cast<uint64_t>(frames_.size()));
  for (const FrameEntry& e : frames_) {
    put(body, e.pts);
    put(body, e.dts);
    put(body, e.pos);
    put(body, e.duration);
    put(body, e.source_pts);
    put(body, e.hash);
    put(body, static_cast<uint8_t>((e.keyframe ? 1 : 0) | (e.damaged ? 2 : 0) | (e.open_gop ? 4 : 0)));
  }
  std::string head(kMagic, sizeof kMagic);
  put(head, kVersion);
  os.write(head.data(), static_cast<std::streamsize>(head.size()));
  os.write(body.data(), static_cast<std::streamsize>(body.size()));
  std::string tail;
  put(tail, fnv1a(body.data(), body.size()));
  os.write(tail.data(), static_cast<std::streamsize>(tail.size()));
}

std::optional<FrameIndex> FrameIndex::read(std::istream& is, const std::optional<FileStamp>& expected) {
  std::ostringstream all;
  all << is.rdbuf();
  const std::string s = std::move(all).str();
  const size_t head = sizeof kMagic + sizeof(uint32_t);
  if (s.size() < head + sizeof(uint64_t) || std::memcmp(s.data(), kMagic, sizeof kMagic) != 0) return std::nullopt;
  uint32_t version = 0;
  std::memcpy(&version, s.data() + sizeof kMagic, sizeof version);
  if (version != kVersion) return std::nullopt;
  const size_t body_end = s.size() - sizeof(uint64_t);
  uint64_t sum = 0;
  std::memcpy(&sum, s.data() + body_end, sizeof sum);
  if (sum != fnv1a(s.data() + head, body_end - head)) return std::nullopt;
  Cursor c(s, head, body_end);
  FileStamp stamp;
  int32_t stream = 0, num = 0, den = 0;
  uint8_t method = 0, seekable = 0;
  uint32_t note_size = 0, cut_size = 0;
  std::string note, cut;
  uint64_t count = 0;
  if (!c.get(stamp.size) || !c.get(stamp.mtime_ns) || (expected && !(stamp == *expected))) return std::nullopt;
  if (!c.get(stream) || !c.get(num) || !c.get(den) || !c.get(method) || !c.get(seekable) || !c.get(note_size))
    return std::nullopt;
  if (note_size > kMaxProvenance || !c.get_string(note, note_size) || !c.get(cut_size) || cut_size > kMaxProvenance ||
      !c.get_string(cut, cut_size) || !c.get(count))
    return std::nullopt;
  if (stream < 0 || num <= 0 || den <= 0 || (method != 1 && method != 2) || seekable > 1) return std::nullopt;
  if (count != c.left() / kEntryBytes || c.left() % kEntryBytes != 0) return std::nullopt;
  std::vector<FrameEntry> frames(count);
  for (FrameEntry& e : frames) {
    uint8_t key = 0;
    if (!c.get(e.pts) || !c.get(e.dts) || !c.get(e.pos) || !c.get(e.duration) || !c.get(e.source_pts) || !c.get(e.hash) ||
        !c.get(key) || key > 7)
      return std::nullopt;
    e.keyframe = (key & 1) != 0;
    e.damaged = (key & 2) != 0;
    e.open_gop = (key & 4) != 0;
  }
  return FrameIndex(stream, Rational{num, den}, static_cast<Method>(method), seekable != 0, std::move(frames),
                    std::move(note), std::move(cut));
}

void FrameIndex::save(const std::string& path, const FileStamp& stamp) const {
  std::ostringstream os;
  write(os, stamp);
  write_file(path, os.str());
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
