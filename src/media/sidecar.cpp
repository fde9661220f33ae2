#include "media/sidecar.hpp"

#include "framepipe/error.hpp"
#include "media/index_scan.hpp"

namespace framepipe {

namespace {
bool sidecar_allowed(const Source& s) { return !s.in_memory() && !is_stream_location(s.location); }
}  // namespace

std::optional<FrameIndex> load_sidecar(const Source& s, int stream, bool decoded_only) {
  if (!sidecar_allowed(s)) return std::nullopt;
  auto stamp = FileStamp::of(s.location);
  if (!stamp) return std::nullopt;
  auto idx = FrameIndex::load(FrameIndex::sidecar_path(s.location), *stamp);
  if (idx && stream >= 0 && idx->stream_index() != stream) return std::nullopt;
  if (idx && decoded_only && idx->method() != FrameIndex::Method::Decode) return std::nullopt;
  return idx;
}

void refresh_sidecar(const Source& s, const FrameIndex& index) {
  if (!sidecar_allowed(s)) return;
  const std::string path = FrameIndex::sidecar_path(s.location);
  auto stamp = FileStamp::of(s.location);
  if (!stamp || !FileStamp::of(path)) return;
  try {
    index.save(path, *stamp);
  } catch (const IoError&) {
    // Read-only folder: the index still serves this reader.
  }
}

FrameIndex write_sidecar(const std::string& path, int stream, bool decode) {
  auto stamp = FileStamp::of(path);
  if (!stamp) throw OpenError("cannot index '" + path + "': not a regular file");
  FrameIndex idx = scan_frame_index(
      Source(path), ScanOptions{stream, 0, {}, decode ? FrameIndex::Method::Decode : FrameIndex::Method::Packets});
  idx.save(FrameIndex::sidecar_path(path), *stamp);
  return idx;
}

}  // namespace framepipe
