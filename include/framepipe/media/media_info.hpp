// What a file holds: container, streams, and for the video stream both what the header
// claims and what a scan measured. Filled by probe() and by VideoReader.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "framepipe/media/frame_index.hpp"

namespace framepipe {

struct VideoStreamInfo {
  int index = -1;
  std::string codec;          // e.g. "h264"
  std::string profile;
  int width = 0, height = 0;
  std::string pix_fmt;        // e.g. "yuv420p"
  int bits_per_sample = 8;
  Rational time_base;
  Rational avg_frame_rate;    // header's average frame rate
  Rational real_frame_rate;   // FFmpeg's r_frame_rate (lowest rate all timestamps fit)
  Rational sample_aspect_ratio{1, 1};
  int64_t frames = -1;        // measured by the index (-1: not measured)
  int64_t frames_header = -1; // what the container says (-1: nothing)
  double fps = 0;             // measured average (frames / measured duration); header's if not measured
  double duration = 0;        // seconds; measured when frames >= 0
  double start_time = 0;      // seconds, pts of the first frame
  int64_t keyframes = -1;     // measured
  std::string color_matrix;   // as the stream says ("unknown" when it does not)
  std::string color_range;
  std::string color_primaries;
  std::string color_transfer;
  std::string color_matrix_used;  // what framepipe applies by the contract's rule
  std::string color_range_used;
  int rotation = 0;           // display matrix, as ffprobe prints it: degrees counter-clockwise
                              // a player turns the picture
  std::array<int32_t, 9> display_matrix{};  // as stored (all 0: none)
  std::string upright;        // what the reader applies to show frames upright, named as the
                              // ffmpeg CLI's autorotate filters ("transpose=clock", "hflip");
                              // empty: nothing (none needed, or autorotate off)
  std::string index_method;   // "packets", "decode" or "header" (not measured)
  std::string index_provenance;  // how the index was made and what was checked (FrameIndex::provenance)
  std::string truncated;         // why the file looks cut short (FrameIndex::truncated); "" if it does not
};

struct AudioStreamInfo {
  int index = -1;
  std::string codec;
  int sample_rate = 0;
  int channels = 0;
  std::string channel_layout;
  std::string sample_fmt;
  Rational time_base;
  double start_time = 0;
  double duration = 0;
  int64_t bit_rate = 0;
};

struct OtherStreamInfo {
  int index = -1;
  std::string type;  // "subtitle", "data", "attachment"
  std::string codec;
};

struct MediaInfo {
  std::string source;          // path or URL as given ("<memory>" for bytes)
  std::string container;       // short name, e.g. "mov,mp4,m4a,3gp,3g2,mj2"
  std::string container_long;
  double duration = 0;         // container's duration, seconds
  double start_time = 0;
  int64_t bit_rate = 0;
  int64_t size_bytes = -1;
  VideoStreamInfo video;       // the selected video stream (index -1 when there is none)
  std::vector<VideoStreamInfo> other_video;
  std::vector<AudioStreamInfo> audio;
  std::vector<OtherStreamInfo> other;
};

// As JSON (`framepipe probe --json`): the selected video stream's fields at the top level
// (frames, frames_header, width, height, fps, duration, codec, pix_fmt, color_*, rotation),
// then video, other_video, audio and other_streams. indent < 0: one line.
std::string media_info_json(const MediaInfo& m, int indent = -1);

}  // namespace framepipe
