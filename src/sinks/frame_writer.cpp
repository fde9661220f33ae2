#include "framepipe/sinks/frame_writer.hpp"
#include "framepipe/tensor/tensor.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>

#include "common/named_enum.hpp"
#include "framepipe/error.hpp"
#include "common/part_file.hpp"
#include "sinks/image_codec.hpp"
#include "common/json_text.hpp"

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

FrameWriter::~FrameWriter() {
  std::lock_guard lock(mu_);
  for (const auto& [index, line] : held_) jsonl_ << line;
  jsonl_.flush();
}

void FrameWriter::expect(std::vector<int64_t> sorted_indices) {
  std::lock_guard lock(mu_);
  order_ = std::move(sorted_indices);
  next_ = 0;
}

void FrameWriter::put_line(const std::string& line) {
  jsonl_ << line << std::flush;
  if (!jsonl_) throw IoError("cannot write '" + dir_ + "/frames.jsonl': " + std::strerror(errno ? errno : EIO), errno);
}

void FrameWriter::write(const FrameInfo& info, const uint8_t* pixels, int width, int height, int channels,
                        const std::string& video) {
  if (format_ == ImageFileFormat::Null) {
    ++written_;
    return;
  }
  char name[32];
  const char* ext = format_ == ImageFileFormat::Png ? "png" : format_ == ImageFileFormat::Jpg ? "jpg" : "npy";
  std::snprintf(name, sizeof name, "frame_%06lld.%s", static_cast<long long>(info.index), ext);
  const std::string path = dir_ + "/" + name;
  if (format_ == ImageFileFormat::Npy) {
    write_npy_u8(path, pixels, {height, width, channels});
  } else {
    const detail::WriteImage write_image = detail::image_writer();
    const PartFile out(path);
    char why[512] = "";
    if (!write_image(out.part().c_str(), pixels, width, height, channels, pix_ == PixelFormat::Rgb,
                     format_ == ImageFileFormat::Jpg ? jpeg_quality_ : -1, why, sizeof why)) {
      out.discard();
      throw IoError("cannot write '" + path + "': " + why);
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
  std::string text = json_text(line) + '\n';
  std::lock_guard lock(mu_);
  ++written_;
  const bool ordered = next_ < order_.size();
  if (ordered && order_[next_] != info.index) {  // not its turn yet
    held_.emplace(info.index, std::move(text));
    return;
  }
  put_line(text);
  if (!ordered) return;
  ++next_;
  for (auto it = held_.begin(); next_ < order_.size() && it != held_.end() && it->first == order_[next_];) {
    put_line(it->second);
    it = held_.erase(it);
    ++next_;
  }
}

}  // namespace framepipe
