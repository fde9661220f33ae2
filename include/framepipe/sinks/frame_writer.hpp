// Writes frames as files, one per frame, named frame_<index, 6 digits>.<ext>, with a
// frames.jsonl beside them (index, pts, t of every frame written). Each image is written
// under a temporary name and renamed when complete, and every JSON line is flushed, so an
// interrupted run leaves only whole files behind.
#pragma once

#include <cstdint>
#include <fstream>
#include <string>
#include <vector>

#include "framepipe/image/pixel_format.hpp"
#include "framepipe/media/frame.hpp"

namespace framepipe {

enum class ImageFileFormat { Png, Jpg, Npy, Null };
ImageFileFormat parse_image_file_format(const std::string& s);

// .npy (format 1.0) of uint8 with the given shape, C order.
void write_npy_u8(const std::string& path, const uint8_t* data, const std::vector<int64_t>& shape);

class FrameWriter {
 public:
  FrameWriter(std::string dir, ImageFileFormat format, PixelFormat pix, int jpeg_quality = 95);
  ~FrameWriter();
  void write(const FrameInfo& info, const uint8_t* pixels, int width, int height, int channels,
             const std::string& video = "");
  void write(const Frame& f, const std::string& video = "") {
    write(f.info, f.data(), f.width, f.height, f.channels, video);
  }
  int64_t written() const { return written_; }

 private:
  std::string dir_;
  ImageFileFormat format_;
  PixelFormat pix_;
  int jpeg_quality_;
  std::ofstream jsonl_;
  int64_t written_ = 0;
};

}  // namespace framepipe
