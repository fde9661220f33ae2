#include <algorithm>
#include <cstdio>
#include <sstream>

#include "commands.hpp"
#include "framepipe/error.hpp"
#include "framepipe/reader/video_reader.hpp"
#include "framepipe/sample/sampling.hpp"
#include "framepipe/sinks/frame_writer.hpp"
#include "progress.hpp"

namespace framepipe::cli {

namespace {

template <class T>
std::vector<T> parse_list(const std::string& text, const char* what) {
  std::vector<T> out;
  std::stringstream ss(text);
  std::string item;
  while (std::getline(ss, item, ',')) {
    if (item.empty()) continue;
    std::istringstream is(item);
    T v{};
    if (!(is >> v) || !is.eof()) throw ConfigError(std::string("bad ") + what + " '" + item + "' in '" + text + "'");
    out.push_back(v);
  }
  if (out.empty()) throw ConfigError(std::string("no ") + what + " given");
  return out;
}

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

Runner add_frames(CLI::App& app) {
  auto* cmd = app.add_subcommand("frames", "Extract exact frames as PNG, JPEG or .npy files (or decode only, for timing)");
  struct Args {
    std::string file, out, format = "png", size, resize = "stretch", pix = "rgb", interp = "bicubic";
    std::string indices, times, matrix = "auto", range = "auto", pad = "0,0,0";
    int64_t every = 0;
    double fps = 0;
    bool all = false, strict = false;
    int threads = 0, quality = 95;
  };
  auto a = std::make_shared<Args>();
  cmd->add_option("FILE", a->file, "video file, URL")->required();
  auto* o_idx = cmd->add_option("--indices", a->indices, "frame indices, comma separated (negative: from the end)");
  auto* o_times = cmd->add_option("--times", a->times, "times in seconds, comma separated: the frame on screen at each");
  auto* o_every = cmd->add_option("--every", a->every, "every N-th frame: 0, N, 2N, ...");
  auto* o_fps = cmd->add_option("--fps", a->fps, "F frames a second, by timestamps (variable frame rate safe)");
  auto* o_all = cmd->add_flag("--all", a->all, "every frame, streamed in bounded memory");
  std::vector<CLI::Option*> sel{o_idx, o_times, o_every, o_fps, o_all};
  for (auto* p : sel)
    for (auto* q : sel)
      if (p != q) p->excludes(q);
  cmd->add_option("--out", a->out, "output folder (not needed with --format null)");
  cmd->add_option("--format", a->format, "png | jpg | npy | null (decode and convert, write nothing)")->capture_default_str();
  cmd->add_option("--size", a->size, "output size WxH (or N: width N keeping aspect; with --resize short, the shorter side)");
  cmd->add_option("--resize", a->resize, "stretch | letterbox | crop | short")->capture_default_str();
  cmd->add_option("--interp", a->interp, "bilinear | bicubic | area | lanczos | nearest")->capture_default_str();
  cmd->add_option("--pad", a->pad, "letterbox padding colour r,g,b")->capture_default_str();
  cmd->add_option("--pix", a->pix, "rgb | bgr | gray")->capture_default_str();
  cmd->add_option("--matrix", a->matrix, "YUV matrix: auto | bt601 | bt709 | bt2020 | smpte240m | fcc")->capture_default_str();
  cmd->add_option("--range", a->range, "YUV range: auto | tv | pc")->capture_default_str();
  cmd->add_option("--threads", a->threads, "decoder threads (0: FFmpeg's choice, as the ffmpeg CLI; more can be faster on few cores)")->capture_default_str();
  cmd->add_option("--quality", a->quality, "JPEG quality")->capture_default_str();
  cmd->add_flag("--strict", a->strict, "treat corrupt packets as fatal");

  return [a, sel, o_every] {
    if (std::none_of(sel.begin(), sel.end(), [](CLI::Option* o) { return o->count() > 0; }))
      throw ConfigError("choose the frames: --indices, --times, --every, --fps or --all");
    ReaderOptions ro;
    ro.threads = a->threads;
    ro.strict = a->strict;
    ro.image.pix = parse_pixel_format(a->pix);
    ro.image.resize = parse_resize_mode(a->resize);
    ro.image.interpolation = parse_interpolation(a->interp);
    ro.image.matrix = parse_color_matrix(a->matrix);
    ro.image.range = parse_color_range(a->range);
    auto pad = parse_list<int>(a->pad, "padding colour");
    if (pad.size() != 3) throw ConfigError("--pad takes r,g,b");
    for (int k = 0; k < 3; ++k) ro.image.pad_rgb[k] = static_cast<unsigned char>(std::clamp(pad[k], 0, 255));
    if (!a->size.empty()) parse_size(a->size, ro.image);
    const ImageFileFormat format = parse_image_file_format(a->format);
    if (format != ImageFileFormat::Null && a->out.empty()) throw ConfigError("--out DIR is required (or --format null)");
    // --all streams and needs no index up front.
    if (a->all) ro.index = IndexMode::Header;

    VideoReader reader(Source(a->file), ro);
    FrameWriter writer(a->out, format, ro.image.pix, a->quality);
    Frame frame;
    if (a->all) {
      Progress progress("frames", reader.size());
      while (reader.next(frame)) {
        writer.write(frame);
        progress.update(writer.written());
      }
    } else {
      std::vector<int64_t> wanted;
      if (!a->indices.empty()) {
        for (int64_t i : parse_list<int64_t>(a->indices, "index")) wanted.push_back(i < 0 ? reader.size() + i : i);
      } else if (!a->times.empty()) {
        for (double t : parse_list<double>(a->times, "time")) wanted.push_back(reader.index_at(t));
      } else if (o_every->count() > 0) {
        wanted = sample_every(reader.size(), a->every);
      } else {
        wanted = sample_fps(reader.index(), a->fps);
      }
      std::sort(wanted.begin(), wanted.end());
      wanted.erase(std::unique(wanted.begin(), wanted.end()), wanted.end());
      Progress progress("frames", static_cast<int64_t>(wanted.size()));
      // Sorted chunks of at most ~32 MB keep memory bounded whatever the frame size; the
      // reader still decodes each keyframe group once across chunks.
      const size_t frame_bytes = static_cast<size_t>(reader.out_width()) * reader.out_height() * reader.out_channels();
      const size_t kChunk = std::clamp<size_t>((size_t{32} << 20) / std::max<size_t>(frame_bytes, 1), 1, 64);
      Batch batch;
      for (size_t s = 0; s < wanted.size(); s += kChunk) {
        std::vector<int64_t> chunk(wanted.begin() + static_cast<ptrdiff_t>(s),
                                   wanted.begin() + static_cast<ptrdiff_t>(std::min(wanted.size(), s + kChunk)));
        reader.frames(chunk, batch);
        for (size_t k = 0; k < batch.size(); ++k)
          writer.write(batch.info[k], batch.frame_data(k), batch.width, batch.height, batch.channels);
        progress.update(writer.written());
      }
    }
    if (reader.damage_reports() > 0)
      std::fprintf(stderr, "framepipe: %s: the decoder met damaged data %lld times (concealed or skipped; --strict makes it fatal)\n",
                   a->file.c_str(), static_cast<long long>(reader.damage_reports()));
    if (format == ImageFileFormat::Null)
      std::fprintf(stderr, "framepipe: decoded %lld frames\n", static_cast<long long>(writer.written()));
    return 0;
  };
}

}  // namespace framepipe::cli
