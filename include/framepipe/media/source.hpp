// Where a video comes from, and how FFmpeg is asked to open it.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace framepipe {

// A file path, a URL (anything FFmpeg opens: rtsp://, http://, ...), or bytes in memory.
struct Source {
  std::string location;
  std::shared_ptr<const std::vector<uint8_t>> memory;  // set: read from memory

  Source() = default;
  Source(std::string path_or_url) : location(std::move(path_or_url)) {}  // NOLINT: implicit by design
  Source(const char* path_or_url) : location(path_or_url) {}             // NOLINT
  static Source from_bytes(std::vector<uint8_t> bytes, std::string name = "<memory>");
  bool in_memory() const { return memory != nullptr; }
  const std::string& name() const { return location; }
};

// A location read as a stream, never seeked or scanned: a network URL (anything with a
// scheme but file://) or a capture device.
bool is_stream_location(const std::string& location);
// A V4L2 capture device: /dev/videoN, or v4l2:///dev/videoN.
bool is_device_location(const std::string& location);

// FFmpeg options for opening an input, as the ffmpeg CLI takes them before -i: a V4L2
// camera's video_size, framerate and input_format; a raw H.264 stream's framerate; a
// protocol's options. An option that neither the input's format nor its protocol takes is a
// ConfigError naming it.
using InputOptions = std::vector<std::pair<std::string, std::string>>;

// A stream location that is live: a capture device, rtsp://, udp://, ... and an http(s) URL
// whose server gives no duration and cannot seek (a broadcast); an http(s) URL of a file is a
// file (opened here to ask). An http(s) URL that cannot be opened is an OpenError.
bool is_live_input(const std::string& location, const InputOptions& options = {});

}  // namespace framepipe
