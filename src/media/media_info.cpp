// MediaInfo as JSON: what `framepipe probe --json` prints and Python's `metadata` holds.
#include <nlohmann/json.hpp>

#include "common/json_text.hpp"
#include "framepipe/media/media_info.hpp"

namespace framepipe {

namespace {

std::string rate(Rational r) { return std::to_string(r.num) + "/" + std::to_string(r.den); }

// A count that is not known (-1) is null.
nlohmann::ordered_json count_or_null(int64_t n) { return n >= 0 ? nlohmann::ordered_json(n) : nlohmann::ordered_json(nullptr); }

nlohmann::ordered_json video_json(const VideoStreamInfo& v) {
  nlohmann::ordered_json j;
  j["index"] = v.index;
  j["codec"] = v.codec;
  j["profile"] = v.profile;
  j["width"] = v.width;
  j["height"] = v.height;
  j["pix_fmt"] = v.pix_fmt;
  j["bits_per_sample"] = v.bits_per_sample;
  j["frames"] = count_or_null(v.frames);
  j["frames_header"] = count_or_null(v.frames_header);
  j["keyframes"] = count_or_null(v.keyframes);
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
  if (!v.upright.empty()) j["upright"] = v.upright;
  j["index_method"] = v.index_method;
  if (!v.index_provenance.empty()) j["index_provenance"] = v.index_provenance;
  if (!v.truncated.empty()) j["truncated"] = v.truncated;
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

}  // namespace

std::string media_info_json(const MediaInfo& m, int indent) { return json_text(probe_json(m), indent); }

}  // namespace framepipe
