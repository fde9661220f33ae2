#include <cstdio>
#include <iostream>

#include "commands.hpp"
#include "framepipe/reader/video_reader.hpp"

namespace framepipe::cli {

namespace {

std::string rate(Rational r) { return std::to_string(r.num) + "/" + std::to_string(r.den); }

void print_human(const MediaInfo& m) {
  std::printf("%s\n", m.source.c_str());
  std::printf("  container: %s (%s), %.3f s, %lld bytes, %lld b/s\n", m.container.c_str(), m.container_long.c_str(),
              m.duration, static_cast<long long>(m.size_bytes), static_cast<long long>(m.bit_rate));
  auto video = [](const VideoStreamInfo& v, const char* tag) {
    std::printf("  video #%d%s: %s%s%s %dx%d %s\n", v.index, tag, v.codec.c_str(), v.profile.empty() ? "" : " ",
                v.profile.c_str(), v.width, v.height, v.pix_fmt.c_str());
    if (v.frames >= 0) {
      std::printf("    frames: %lld measured (%s scan), %lld in header; keyframes: %lld\n",
                  static_cast<long long>(v.frames), v.index_method.c_str(), static_cast<long long>(v.frames_header),
                  static_cast<long long>(v.keyframes));
      if (!v.index_provenance.empty()) std::printf("    index: %s\n", v.index_provenance.c_str());
      if (!v.truncated.empty()) std::printf("    truncated: %s\n", v.truncated.c_str());
    } else {
      std::printf("    frames: not measured, %lld in header\n", static_cast<long long>(v.frames_header));
    }
    std::printf("    fps: %.6g (avg %s, real %s); start %.6f s; duration %.6f s\n", v.fps,
                rate(v.avg_frame_rate).c_str(), rate(v.real_frame_rate).c_str(), v.start_time, v.duration);
    std::printf("    colour: matrix %s, range %s, primaries %s, transfer %s (converted as %s / %s)\n",
                v.color_matrix.c_str(), v.color_range.c_str(), v.color_primaries.c_str(), v.color_transfer.c_str(),
                v.color_matrix_used.c_str(), v.color_range_used.c_str());
    if (v.rotation)
      std::printf("    rotation: %d (players turn the picture %d degrees counter-clockwise)\n", v.rotation, v.rotation);
    if (!v.upright.empty())
      std::printf("    upright: %s (as the ffmpeg CLI's autorotate; --no-autorotate gives frames as stored)\n",
                  v.upright.c_str());
  };
  if (m.video.index >= 0) video(m.video, " (selected)");
  else std::printf("  no video stream\n");
  for (const auto& v : m.other_video) video(v, "");
  for (const auto& a : m.audio)
    std::printf("  audio #%d: %s %d Hz %s (%d ch) %s\n", a.index, a.codec.c_str(), a.sample_rate,
                a.channel_layout.c_str(), a.channels, a.sample_fmt.c_str());
  for (const auto& o : m.other) std::printf("  %s #%d: %s\n", o.type.c_str(), o.index, o.codec.c_str());
}

}  // namespace

Command add_probe(CLI::App& app) {
  auto* cmd = app.add_subcommand("probe", "Describe a video: container, streams, measured and header frame counts");
  auto file = std::make_shared<std::string>();
  auto json = std::make_shared<bool>(false);
  auto header = std::make_shared<bool>(false);
  cmd->add_option("FILE", *file, "video file or URL")->required();
  cmd->add_flag("--json", *json, "print JSON");
  cmd->add_flag("--header-only", *header, "do not scan the packets (frame count not measured)");
  return [=] {
    MediaInfo m = probe(Source(*file), *header);
    if (*json) std::cout << media_info_json(m, 2) << std::endl;
    else print_human(m);
    return 0;
  };
}

}  // namespace framepipe::cli
