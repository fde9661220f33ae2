// Writes frames as files, one per frame, named frame_<index, 6 digits>.<ext>, with a
// frames.jsonl beside them (index, pts, t of every frame written). Each image is written
// under a temporary name and renamed when complete, and every JSON line is flushed, so an
// interrupted run leaves only whole files behind. write() may be called from several threads
// at once: each encodes its own image, and frames.jsonl is written under a lock.
#pragma once

#include <atomic>
#include <cstdint>
#include <fstream>
#include <map>
#include <mutex>
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
  int64_t written() const { return written_.load(); }
  // The frames to come, sorted: their lines go to frames.jsonl in this order whatever order
  // they are written in (a frame written early holds its line until those before it are in;
  // lines still held when the writer is destroyed, after an error, are written then).
  void expect(std::vector<int64_t> sorted_indices);

 private:
  void put_line(const std::string& line);
  std::string dir_;
  ImageFileFormat format_;
  PixelFormat pix_;
  int jpeg_quality_;
  std::mutex mu_;  // frames.jsonl, and the line order below
  std::ofstream jsonl_;
  std::atomic<int64_t> written_{0};
  std::vector<int64_t> order_;            // expect(): frames in the order of their lines
  size_t next_ = 0;                       // the first of them whose line is not out yet
  std::map<int64_t, std::string> held_;   // lines that came before their turn
};

}  // namespace framepipe
