// An index kept beside its video (VIDEO.fpidx, see FrameIndex::save): loaded only while it
// matches the file's size and time and names the stream asked for.
#pragma once

#include <optional>
#include <string>

#include "framepipe/media/frame_index.hpp"
#include "framepipe/media/source.hpp"

namespace framepipe {

// A fresh sidecar of `s` for `stream` (-1: any); `decoded_only`: one made by a decoding scan.
// None for memory, streams, missing or stale sidecars.
std::optional<FrameIndex> load_sidecar(const Source& s, int stream, bool decoded_only = false);
// Rewrites a sidecar that exists but is stale; none is created unasked, and a folder that
// cannot be written is no error (the index still serves its reader).
void refresh_sidecar(const Source& s, const FrameIndex& index);
// Scans `path` (a regular file) and writes its sidecar.
FrameIndex write_sidecar(const std::string& path, int stream, bool decode);

}  // namespace framepipe
