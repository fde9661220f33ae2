#include "framepipe/sinks/frame_writer.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <sstream>

#include "framepipe/error.hpp"

namespace framepipe {

ImageFileFormat parse_image_file_format(const std::string& s) {
  if (s == "png") return ImageFileFormat::Png;
  if (s == "jpg" || s == "jpeg") return ImageFileFormat::Jpg;
  if (s == "npy") return ImageFileFormat::Npy;
  if (s == "null") return ImageFileFormat::Null;
  throw ConfigError("unknown frame format '" + s + "' (one of: png, jpg, npy, null)");
}

namespace {

void commit(const std::string& tmp, const std::string& path) {
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    throw IoError("cannot write '" + path + "': " + std::strerror(errno));
  }
}

}  // namespace

void write_npy_u8(const std::string& path, const uint8_t* data, const std::vector<int64_t>& shape) {
  std::ostringstream dict;
  dict << "{'descr': '|u1', 'fortran_order': False, 'shape': (";
  size_t count = 1;
  for (size_t i = 0; i < shape.size(); ++i) {
    dict << shape[i] << (shape.size() == 1 || i + 1 < shape.size() ? ", " : "");
    count *= static_cast<size_t>(shape[i]);
  }
  dict << "), }";
  std::string header = dict.str();
  // magic (6) + version (2) + header length (2) + header, padded with spaces to a multiple of
  // 64 and ended by a newline.
  const size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header.push_back('\n');
  const std::string tmp = path + ".tmp";
  FILE* f = std::fopen(tmp.c_str(), "wb");
  if (!f) throw IoError("cannot write '" + path + "': " + std::strerror(errno));
  const uint16_t hlen = static_cast<uint16_t>(header.size());
  const unsigned char magic[8] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0};
  bool ok = std::fwrite(magic, 1, 8, f) == 8 && std::fwrite(&hlen, 2, 1, f) == 1 &&
            std::fwrite(header.data(), 1, header.size(), f) == header.size() &&
            std::fwrite(data, 1, count, f) == count;
  ok = (std::fclose(f) == 0) && ok;
  if (!ok) {
    std::remove(tmp.c_str());
    throw IoError("cannot write '" + path + "': " + std::strerror(errno));
  }
  commit(tmp, path);
}

FrameWriter::FrameWriter(std::string dir, ImageFileFormat format, PixelFormat pix, int jpeg_quality)
    : dir_(std::move(dir)), format_(format), pix_(pix), jpeg_quality_(jpeg_quality) {
  if (format_ == ImageFileFormat::Null) return;
  std::error_code ec;
  std::filesystem::create_directories(dir_, ec);
  if (ec) throw IoError("cannot create output folder '" + dir_ + "': " + ec.message());
  jsonl_.open(dir_ + "/frames.jsonl", std::ios::trunc);
  if (!jsonl_) throw IoError("cannot write '" + dir_ + "/frames.jsonl': " + std::strerror(errno));
}

FrameWriter::~FrameWriter() = default;

void FrameWriter::write(const FrameInfo& info, const uint8_t* pixels, int width, int height, int channels,
                        const std::string& video) {
  ++written_;
  if (format_ == ImageFileFormat::Null) return;
  char name[32];
  const char* ext = format_ == ImageFileFormat::Png ? "png" : format_ == ImageFileFormat::Jpg ? "jpg" : "npy";
  std::snprintf(name, sizeof name, "frame_%06lld.%s", static_cast<long long>(info.index), ext);
  const std::string path = dir_ + "/" + name;
  if (format_ == ImageFileFormat::Npy) {
    write_npy_u8(path, pixels, {height, width, channels});
  } else {
    // OpenCV's encoders take BGR: an RGB frame is swapped here, never in the caller's data.
    const cv::Mat view(height, width, channels == 1 ? CV_8UC1 : CV_8UC3, const_cast<uint8_t*>(pixels));
    cv::Mat bgr;
    if (pix_ == PixelFormat::Rgb) cv::cvtColor(view, bgr, cv::COLOR_RGB2BGR);
    else bgr = view;
    std::vector<int> params;
    if (format_ == ImageFileFormat::Jpg) params = {cv::IMWRITE_JPEG_QUALITY, jpeg_quality_};
    const std::string tmp = dir_ + "/." + name;  // same extension, so OpenCV picks the codec
    bool ok = false;
    try {
      ok = cv::imwrite(tmp, bgr, params);
    } catch (const cv::Exception& e) {
      throw IoError("cannot write '" + path + "': " + e.what());
    }
    if (!ok) throw IoError("cannot write '" + path + "'");
    commit(tmp, path);
  }
  nlohmann::ordered_json line;
  if (!video.empty()) line["video"] = video;
  line["frame"] = info.index;
  line["pts"] = info.pts;
  line["t"] = info.t;
  line["keyframe"] = info.keyframe;
  line["file"] = name;
  jsonl_ << line.dump() << '\n' << std::flush;
  if (!jsonl_) throw IoError("cannot write '" + dir_ + "/frames.jsonl'");
}

}  // namespace framepipe
