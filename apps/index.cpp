#include <cstdio>

#include "commands.hpp"
#include "framepipe/reader/video_reader.hpp"

namespace framepipe::cli {

Runner add_index(CLI::App& app) {
  auto* cmd = app.add_subcommand("index", "Scan a video once and save its frame index beside it (FILE.fpidx); later opens load it");
  auto file = std::make_shared<std::string>();
  auto stream = std::make_shared<int>(-1);
  cmd->add_option("FILE", *file, "video file")->required();
  cmd->add_option("--stream", *stream, "video stream index (default: the best video stream)");
  return [=] {
    FrameIndex idx = write_index_sidecar(*file, *stream);
    std::printf("%s: %lld frames, %lld keyframes, %.6f s (%s scan)\n", FrameIndex::sidecar_path(*file).c_str(),
                static_cast<long long>(idx.size()), static_cast<long long>(idx.keyframe_count()),
                idx.duration_seconds(), idx.method() == FrameIndex::Method::Packets ? "packet" : "decode");
    return 0;
  };
}

}  // namespace framepipe::cli
