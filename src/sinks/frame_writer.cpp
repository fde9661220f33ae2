#include "framepipe/sinks/frame_writer.hpp"
#include "framepipe/tensor/tensor.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <sstream>

#include "common/named_enum.hpp"
#include "framepipe/error.hpp"
#include "framepipe/part_file.hpp"

namespace framepipe {

namespace {
constexpr std::array<std::pair<const char*, ImageFileFormat>, 5> kImageFormats{{{"png", ImageFileFormat::Png},
                                                                               {"jpg", ImageFileFormat::Jpg},
                                                                               {"npy", ImageFileFormat::Npy},
                                                                               {"null", ImageFileFormat::Null},
                                                                               {"jpeg", ImageFileFormat::Jpg}}};
}  // namespace

ImageFileFormat parse_image_file_format(const std::string& s) {
  return detail::parse_enum(s, kImageFormats, "frame format");
}

void write_npy_u8(const std::string& path, const uint8_t* data, const std::vector<int64_t>& shape) {
  write_npy(path, data, DType::U8, shape);
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
    const PartFile out(path);
    bool ok = false;
    try {
      ok = cv::imwrite(out.part(), bgr, params);
    } catch (const cv::Exception& e) {
      out.discard();
      throw IoError("cannot write '" + path + "': " + e.what());
    }
    if (!ok) {
      out.discard();
      throw IoError("cannot write '" + path + "'");
    }
    out.commit();
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
