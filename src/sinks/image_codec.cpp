// The module's side of image_codec.hpp.
#include "sinks/image_codec.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <vector>

extern "C" __attribute__((visibility("default"))) int framepipe_images_abi() { return framepipe::detail::kImagesAbi; }

extern "C" __attribute__((visibility("default"))) int framepipe_write_image(const char* path, const uint8_t* pixels,
                                                                          int width, int height, int channels,
                                                                          int rgb, int jpeg_quality, char* err,
                                                                          size_t err_len) {
  try {
    // OpenCV's encoders take BGR: an RGB frame is swapped here, never in the caller's data.
    const cv::Mat view(height, width, channels == 1 ? CV_8UC1 : CV_8UC3, const_cast<uint8_t*>(pixels));
    cv::Mat bgr;
    if (rgb && channels == 3) cv::cvtColor(view, bgr, cv::COLOR_RGB2BGR);
    else bgr = view;
    std::vector<int> params;
    if (jpeg_quality >= 0) params = {cv::IMWRITE_JPEG_QUALITY, jpeg_quality};
    // Encoded in memory, then written here, so that a full disk or a vanished folder is told
    // by its errno rather than as "the encoder failed".
    const char* dot = std::strrchr(path, '.');
    std::vector<uchar> bytes;
    if (!dot || !cv::imencode(dot, bgr, bytes, params)) {
      std::snprintf(err, err_len, "the %s encoder failed", dot ? dot + 1 : "image");
      return 0;
    }
    errno = 0;
    FILE* f = std::fopen(path, "wb");
    if (!f) {
      std::snprintf(err, err_len, "%s", std::strerror(errno));
      return 0;
    }
    const bool wrote = std::fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size() && std::fflush(f) == 0;
    const int why = errno;
    if (std::fclose(f) == 0 && wrote) return 1;
    std::snprintf(err, err_len, "%s", std::strerror(why ? why : errno ? errno : EIO));
  } catch (const cv::Exception& e) {
    std::snprintf(err, err_len, "%s", e.what());
  }
  return 0;
}
