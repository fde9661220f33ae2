// AngleRotator: a display matrix that turns the picture by an angle that is no quarter turn
// is shown by the ffmpeg CLI's autorotate through libavfilter's rotate filter
// ("rotate=THETA*PI/180", bilinear, corners black, the stored size). framepipe runs that very
// filter, so the frames are the CLI's byte for byte. libavfilter is loaded on first use, not
// linked: it brings dozens of libraries whose start-up every command would pay for otherwise.
#pragma once

#include <memory>
#include <string>

extern "C" {
#include <libavutil/frame.h>
}

namespace framepipe {

class AngleRotator {
 public:
  // `clockwise_degrees` as Upright::degrees. Throws UnsupportedError naming `source` when
  // libavfilter cannot be loaded.
  AngleRotator(double clockwise_degrees, std::string source);
  ~AngleRotator();
  AngleRotator(const AngleRotator&) = delete;
  AngleRotator& operator=(const AngleRotator&) = delete;

  // `frame` turned; the result is the rotator's and lives until the next call.
  const AVFrame* apply(const AVFrame* frame);

 private:
  struct Graph;
  void rebuild(const AVFrame* frame);
  double degrees_;
  std::string source_;
  std::unique_ptr<Graph> graph_;
};

}  // namespace framepipe
