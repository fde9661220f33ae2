// A page to watch a run as it goes (`run --preview [HOST:]PORT`): one self-contained page at
// /, the newest annotated picture at /video (multipart JPEG, which a browser shows in an
// <img>), and the latest results and stage metrics at /results (JSON). It listens on
// 127.0.0.1 unless told another address, serves up to kMaxViewers at once, each on a thread
// of its own, and never makes the run wait: the run hands over its newest picture (encoded
// only while someone watches, at most kFps a second) and each viewer is sent the newest there
// is when it is ready for one, so a slow viewer skips pictures instead of holding anything.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "framepipe/image/pixel_format.hpp"

namespace framepipe {

class PreviewServer {
 public:
  static constexpr int kMaxViewers = 16;
  static constexpr int kFps = 15;
  // `where`: "PORT" or "HOST:PORT" (PORT 0: any free one). ConfigError for a bad address,
  // IoError where it cannot listen.
  explicit PreviewServer(const std::string& where);
  ~PreviewServer();
  PreviewServer(const PreviewServer&) = delete;
  PreviewServer& operator=(const PreviewServer&) = delete;

  std::string url() const;  // http://HOST:PORT/
  bool watched() const;     // a viewer is on /video
  // The newest picture, packed rows (3 channels in `order`, or gray).
  void picture(const uint8_t* pixels, int width, int height, PixelFormat order);
  void result(const std::string& json_line);  // a result line (the last kResults are kept)
  void metrics(const std::string& json);      // the stages' metrics, a JSON array

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace framepipe
