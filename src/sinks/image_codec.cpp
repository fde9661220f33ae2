// The module's side of image_codec.hpp.
#include "sinks/image_codec.hpp"

#include <cstdio>
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
    if (cv::imwrite(path, bgr, params)) return 1;
    std::snprintf(err, err_len, "the encoder failed");
  } catch (const cv::Exception& e) {
    std::snprintf(err, err_len, "%s", e.what());
  }
  return 0;
}
