// The OpenCV C++ peer of bench/run.sh:
//   cv_capture_bench FILE all            read every frame, cvtColor to RGB
//   cv_capture_bench FILE every N        grab every frame, retrieve + RGB every N-th
//   cv_capture_bench FILE seek I,J,...   CAP_PROP_POS_FRAMES then read, for each index
// Prints the number of frames it delivered.
#include <cstdio>
#include <cstdlib>
#include <opencv2/imgproc.hpp>
#include <opencv2/videoio.hpp>
#include <sstream>
#include <string>
#include <vector>

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s FILE all | every N | seek I,J,...\n", argv[0]);
    return 2;
  }
  cv::VideoCapture cap(argv[1], cv::CAP_FFMPEG);
  if (!cap.isOpened()) {
    std::fprintf(stderr, "cannot open %s\n", argv[1]);
    return 3;
  }
  const std::string mode = argv[2];
  cv::Mat bgr, rgb;
  long delivered = 0;
  if (mode == "all") {
    while (cap.read(bgr)) {
      cv::cvtColor(bgr, rgb, cv::COLOR_BGR2RGB);
      ++delivered;
    }
  } else if (mode == "every" && argc > 3) {
    const long n = std::atol(argv[3]);
    for (long i = 0; cap.grab(); ++i)
      if (i % n == 0 && cap.retrieve(bgr)) {
        cv::cvtColor(bgr, rgb, cv::COLOR_BGR2RGB);
        ++delivered;
      }
  } else if (mode == "seek" && argc > 3) {
    std::stringstream ss(argv[3]);
    std::string item;
    while (std::getline(ss, item, ',')) {
      cap.set(cv::CAP_PROP_POS_FRAMES, std::atof(item.c_str()));
      if (cap.read(bgr)) {
        cv::cvtColor(bgr, rgb, cv::COLOR_BGR2RGB);
        ++delivered;
      }
    }
  } else {
    std::fprintf(stderr, "unknown mode %s\n", mode.c_str());
    return 2;
  }
  std::printf("%ld\n", delivered);
  return 0;
}
