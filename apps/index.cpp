#include <cstdio>

#include "commands.hpp"
#include "framepipe/reader/video_reader.hpp"

namespace framepipe::cli {

Command add_index(CLI::App& app) {
  auto* cmd = app.add_subcommand("index", "Scan a video once and save its frame index beside it (FILE.fpidx); later opens load it");
  auto file = std::make_shared<std::string>();
  auto stream = std::make_shared<int>(-1);
  auto decode = std::make_shared<bool>(false);
  cmd->add_option("FILE", *file, "video file")->required();
  cmd->add_option("--stream", *stream, "video stream index (default: the best video stream)");
  cmd->add_flag("--decode", *decode, "decode every frame (the ground truth) instead of checking the packets' claims");
  return [=] {
    FrameIndex idx = write_index_sidecar(*file, *stream, *decode);
    std::printf("%s: %lld frames, %lld keyframes, %.6f s (%s scan)\n  %s\n", FrameIndex::sidecar_path(*file).c_str(),
                static_cast<long long>(idx.size()), static_cast<long long>(idx.keyframe_count()),
                idx.duration_seconds(), idx.method() == FrameIndex::Method::Packets ? "packet" : "decode",
                idx.provenance().c_str());
    return 0;
  };
}

}  // namespace framepipe::cli
