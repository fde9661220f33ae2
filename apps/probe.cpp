#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "framepipe/reader/video_reader.hpp"

namespace framepipe::cli {

namespace {

std::string rate(Rational r) { return std::to_string(r.num) + "/" + std::to_string(r.den); }

nlohmann::ordered_json video_json(const VideoStreamInfo& v) {
  nlohmann::ordered_json j;
  j["index"] = v.index;
  j["codec"] = v.codec;
  j["profile"] = v.profile;
  j["width"] = v.width;
  j["height"] = v.height;
  j["pix_fmt"] = v.pix_fmt;
  j["bits_per_sample"] = v.bits_per_sample;
  j["frames"] = v.frames >= 0 ? nlohmann::ordered_json(v.frames) : nlohmann::ordered_json(nullptr);
  j["frames_header"] = v.frames_header >= 0 ? nlohmann::ordered_json(v.frames_header) : nlohmann::ordered_json(nullptr);
  j["keyframes"] = v.keyframes >= 0 ? nlohmann::ordered_json(v.keyframes) : nlohmann::ordered_json(nullptr);
  j["fps"] = v.fps;
  j["avg_frame_rate"] = rate(v.avg_frame_rate);
  j["r_frame_rate"] = rate(v.real_frame_rate);
  j["time_base"] = rate(v.time_base);
  j["start_time"] = v.start_time;
  j["duration"] = v.duration;
  j["sample_aspect_ratio"] = rate(v.sample_aspect_ratio);
  j["color_matrix"] = v.color_matrix;
  j["color_range"] = v.color_range;
  j["color_primaries"] = v.color_primaries;
  j["color_transfer"] = v.color_transfer;
  j["color_matrix_used"] = v.color_matrix_used;
  j["color_range_used"] = v.color_range_used;
  j["rotation"] = v.rotation;
  j["index_method"] = v.index_method;
  return j;
}

nlohmann::ordered_json probe_json(const MediaInfo& m) {
  nlohmann::ordered_json j;
  j["source"] = m.source;
  j["container"] = m.container;
  j["container_long"] = m.container_long;
  j["size_bytes"] = m.size_bytes;
  j["bit_rate"] = m.bit_rate;
  j["container_duration"] = m.duration;
  j["container_start_time"] = m.start_time;
  // The selected video stream's fields at the top level too, for `jq .frames` and the like.
  const nlohmann::ordered_json video = m.video.index >= 0 ? video_json(m.video) : nlohmann::ordered_json(nullptr);
  if (!video.is_null())
    for (auto it = video.begin(); it != video.end(); ++it) j[it.key()] = *it;
  j["video"] = video;
  j["other_video"] = nlohmann::ordered_json::array();
  for (const auto& v : m.other_video) j["other_video"].push_back(video_json(v));
  j["audio"] = nlohmann::ordered_json::array();
  for (const auto& a : m.audio) {
    nlohmann::ordered_json aj;
    aj["index"] = a.index;
    aj["codec"] = a.codec;
    aj["sample_rate"] = a.sample_rate;
    aj["channels"] = a.channels;
    aj["channel_layout"] = a.channel_layout;
    aj["sample_fmt"] = a.sample_fmt;
    aj["time_base"] = rate(a.time_base);
    aj["start_time"] = a.start_time;
    aj["duration"] = a.duration;
    aj["bit_rate"] = a.bit_rate;
    j["audio"].push_back(aj);
  }
  j["other_streams"] = nlohmann::ordered_json::array();
  for (const auto& o : m.other) j["other_streams"].push_back({{"index", o.index}, {"type", o.type}, {"codec", o.codec}});
  return j;
}

void print_human(const MediaInfo& m) {
  std::printf("%s\n", m.source.c_str());
  std::printf("  container: %s (%s), %.3f s, %lld bytes, %lld b/s\n", m.container.c_str(), m.container_long.c_str(),
              m.duration, static_cast<long long>(m.size_bytes), static_cast<long long>(m.bit_rate));
  auto video = [](const VideoStreamInfo& v, const char* tag) {
    std::printf("  video #%d%s: %s%s%s %dx%d %s\n", v.index, tag, v.codec.c_str(), v.profile.empty() ? "" : " ",
                v.profile.c_str(), v.width, v.height, v.pix_fmt.c_str());
    if (v.frames >= 0)
      std::printf("    frames: %lld measured (%s scan), %lld in header; keyframes: %lld\n",
                  static_cast<long long>(v.frames), v.index_method.c_str(), static_cast<long long>(v.frames_header),
                  static_cast<long long>(v.keyframes));
    else
      std::printf("    frames: not measured, %lld in header\n", static_cast<long long>(v.frames_header));
    std::printf("    fps: %.6g (avg %s, real %s); start %.6f s; duration %.6f s\n", v.fps,
                rate(v.avg_frame_rate).c_str(), rate(v.real_frame_rate).c_str(), v.start_time, v.duration);
    std::printf("    colour: matrix %s, range %s, primaries %s, transfer %s (converted as %s / %s)\n",
                v.color_matrix.c_str(), v.color_range.c_str(), v.color_primaries.c_str(), v.color_transfer.c_str(),
                v.color_matrix_used.c_str(), v.color_range_used.c_str());
    if (v.rotation)
      std::printf("    rotation: %d (players turn the picture %d degrees counter-clockwise; frames are returned unrotated)\n",
                  v.rotation, v.rotation);
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

Runner add_probe(CLI::App& app) {
  auto* cmd = app.add_subcommand("probe", "Describe a video: container, streams, measured and header frame counts");
  auto file = std::make_shared<std::string>();
  auto json = std::make_shared<bool>(false);
  auto header = std::make_shared<bool>(false);
  cmd->add_option("FILE", *file, "video file or URL")->required();
  cmd->add_flag("--json", *json, "print JSON");
  cmd->add_flag("--header-only", *header, "do not scan the packets (frame count not measured)");
  return [=] {
    MediaInfo m = probe(Source(*file), *header);
    if (*json) std::cout << probe_json(m).dump(2) << std::endl;
    else print_human(m);
    return 0;
  };
}

}  // namespace framepipe::cli
