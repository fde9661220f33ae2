#include "reader_args.hpp"

#include <algorithm>
#include <cstdio>
#include <filesystem>

#include "common/words.hpp"

namespace framepipe::cli {

namespace {

// "WxH", or "N" (a side; with --resize short, the shorter side).
void parse_size(const std::string& s, ImageOptions& img) {
  int w = 0, h = 0;
  char x = 0;
  std::istringstream is(s);
  if ((is >> w) && is.eof()) {
    if (w <= 0) throw ConfigError("bad --size '" + s + "'");
    img.width = img.height = w;
    if (img.resize != ResizeMode::Short) img.height = 0;  // N alone: width N, aspect kept
    return;
  }
  std::istringstream is2(s);
  if (!(is2 >> w >> x >> h) || (x != 'x' && x != 'X') || !is2.eof() || w < 0 || h < 0 || (w == 0 && h == 0))
    throw ConfigError("bad --size '" + s + "' (expected WxH, e.g. 224x224, or N)");
  img.width = w;
  img.height = h;
}

}  // namespace

int for_each_input(const std::vector<std::string>& inputs, const std::string& out,
                   const std::function<void(const std::string&, const std::string&)>& each) {
  const std::vector<InputVideo> videos = expand_input_videos(inputs);
  if (videos.empty()) throw ConfigError("no input videos given");
  if (videos.size() == 1) {
    each(videos[0].path, out);
    return 0;
  }
  int code = 0, failed = 0;
  for (const auto& v : videos) {
    try {
      each(v.path, out.empty() ? out : (std::filesystem::path(out) / v.name).string());
    } catch (const Error& e) {
      if (e.kind() == ErrorKind::Config || e.kind() == ErrorKind::Io || e.kind() == ErrorKind::Model) throw;
      std::fprintf(stderr, "framepipe: %s: %s error: %s\n", v.path.c_str(), to_string(e.kind()), e.what());
      ++failed;
      if (code == 0) code = e.exit_code();
    }
  }
  if (failed)
    std::fprintf(stderr, "framepipe: %d of %s failed (see above)\n", failed,
                 count_of(static_cast<int64_t>(videos.size()), "video").c_str());
  return code;
}

void add_input_options(CLI::App* cmd, std::vector<std::string>& raw) {
  cmd->add_option("--input-option", raw,
                  "KEY=VALUE, repeatable: an FFmpeg option for opening the input, as the ffmpeg CLI's -KEY VALUE "
                  "before -i (a camera's video_size=1280x720, framerate=30, input_format=mjpeg; a raw stream's "
                  "framerate=50)")
      ->allow_extra_args(false);
}

InputOptions parse_input_options(const std::vector<std::string>& raw) {
  InputOptions out;
  for (const std::string& kv : raw) {
    const auto eq = kv.find('=');
    if (eq == std::string::npos || eq == 0)
      throw ConfigError("bad --input-option '" + kv + "' (expected KEY=VALUE, e.g. video_size=1280x720)");
    out.emplace_back(kv.substr(0, eq), kv.substr(eq + 1));
  }
  return out;
}

void ReaderArgs::add(CLI::App* cmd, bool size_required, bool batches) {
  auto* o = cmd->add_option("--size", size, "output size WxH (or N: width N keeping aspect; with --resize short, the shorter side)");
  if (size_required) o->required();
  cmd->add_option("--resize", resize, "stretch | letterbox | crop | short")->capture_default_str();
  cmd->add_option("--interp", interp, "bilinear | bicubic | area | lanczos | nearest")->capture_default_str();
  cmd->add_option("--pad", pad, "letterbox padding colour r,g,b")->capture_default_str();
  cmd->add_option("--pix", pix, "rgb | bgr | gray")->capture_default_str();
  cmd->add_option("--matrix", matrix, "YUV matrix: auto | bt601 | bt709 | bt2020 | smpte240m | fcc")->capture_default_str();
  cmd->add_option("--range", range, "YUV range: auto | tv | pc")->capture_default_str();
  cmd->add_option("--threads", threads, "decoder threads (0: FFmpeg's choice, as the ffmpeg CLI; more can be faster on few cores)")->capture_default_str();
  cmd->add_option("--workers", workers, "decoders working on separate keyframe groups at once (0: one per core; 1: off)")->capture_default_str();
  cmd->add_option("--max-pixels", max_pixels,
                  "refuse a video larger than this many pixels (width x height; 0: no limit) before memory is taken")
      ->capture_default_str();
  if (batches)
    cmd->add_option("--batch-bytes", batch_bytes,
                    "refuse a batch whose tensor would take more than this many bytes (0: no limit)")
        ->capture_default_str();
  cmd->add_option("--device", device,
                  "decode on: cpu, or cuda / cuda:N (NVDEC; frames are the CPU's; a codec it does not take is decoded "
                  "on the CPU, an error with --strict)")
      ->capture_default_str();
  cmd->add_flag("--strict", strict, "treat corrupt packets as fatal");
  cmd->add_flag("--no-autorotate", no_autorotate, "frames as stored, not turned upright as the display matrix says");
  cmd->add_option("--index", index,
                  "exact: scan the packets and check their claims, decoding where they fail | decode: decode every frame")
      ->capture_default_str();
  add_input_options(cmd, input_options);
}

ReaderOptions ReaderArgs::options() const {
  ReaderOptions ro;
  ro.threads = threads;
  ro.workers = workers;
  ro.strict = strict;
  ro.device = device;
  if (max_pixels < 0) throw ConfigError("--max-pixels must be >= 0, got " + std::to_string(max_pixels));
  ro.max_pixels = max_pixels;
  if (batch_bytes < 0) throw ConfigError("--batch-bytes must be >= 0, got " + std::to_string(batch_bytes));
  ro.batch_bytes = batch_bytes;
  ro.autorotate = !no_autorotate;
  if (index != "exact" && index != "decode") throw ConfigError("--index must be exact or decode, not '" + index + "'");
  ro.index = parse_index_mode(index);
  ro.input_options = parse_input_options(input_options);
  ro.image.pix = parse_pixel_format(pix);
  ro.image.resize = parse_resize_mode(resize);
  ro.image.interpolation = parse_interpolation(interp);
  ro.image.matrix = parse_color_matrix(matrix);
  ro.image.range = parse_color_range(range);
  auto p = parse_list<int>(pad, "padding colour");
  if (p.size() != 3) throw ConfigError("--pad takes r,g,b");
  for (int k = 0; k < 3; ++k) ro.image.pad_rgb[k] = static_cast<unsigned char>(std::clamp(p[k], 0, 255));
  if (!size.empty()) parse_size(size, ro.image);
  return ro;
}

}  // namespace framepipe::cli
