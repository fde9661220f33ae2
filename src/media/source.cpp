#include "framepipe/media/source.hpp"

#include <sys/stat.h>

namespace framepipe {

Source Source::from_bytes(std::vector<uint8_t> bytes, std::string name) {
  Source s;
  s.location = std::move(name);
  s.memory = std::make_shared<const std::vector<uint8_t>>(std::move(bytes));
  return s;
}

bool is_device_location(const std::string& location) {
  return location.rfind("/dev/video", 0) == 0 || location.rfind("v4l2://", 0) == 0;
}

bool is_stream_location(const std::string& location) {
  if (is_device_location(location)) return true;
  auto p = location.find("://");
  if (p == std::string::npos) {
    // A FIFO, a socket or a character device (/dev/stdin from a pipe) is read once, as it
    // comes: a stream, whose end may never come, not a file to scan before reading.
    struct stat st{};
    return ::stat(location.c_str(), &st) == 0 && (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode) || S_ISCHR(st.st_mode));
  }
  return location.compare(0, p, "file") != 0;
}

}  // namespace framepipe
