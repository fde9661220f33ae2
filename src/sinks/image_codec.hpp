// PNG and JPEG files through OpenCV's encoders, which live in a module of their own
// (framepipe_images.so): libopencv_imgcodecs brings GDAL and a hundred libraries whose
// start costs every command ~0.1 s and ~40 MiB, so only a command that writes images loads it.
#pragma once

#include <cstddef>
#include <cstdint>

extern "C" {
// Writes 8-bit pixels (1 channel, or 3 in RGB or BGR order) to `path` as PNG
// (jpeg_quality < 0) or JPEG. 1 when written; 0 with the reason in err.
int framepipe_write_image(const char* path, const uint8_t* pixels, int width, int height, int channels, int rgb,
                          int jpeg_quality, char* err, size_t err_len);
// The interface's version, which the core checks before it calls the module.
int framepipe_images_abi();
}

namespace framepipe::detail {
inline constexpr int kImagesAbi = 1;
// The core's side: the module's writer, loaded once; an IoError names each place tried.
using WriteImage = decltype(&framepipe_write_image);
WriteImage image_writer();
}  // namespace framepipe::detail
