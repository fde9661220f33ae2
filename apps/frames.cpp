#include <algorithm>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <optional>

#include <nlohmann/json.hpp>

#include "common/json_text.hpp"
#include "commands.hpp"
#include "framepipe/error.hpp"
#include "framepipe/media/source.hpp"
#include "common/part_file.hpp"
#include "framepipe/reader/video_reader.hpp"
#include "framepipe/sample/sampling.hpp"
#include "framepipe/sinks/frame_writer.hpp"
#include "framepipe/pipeline/progress.hpp"
#include "reader_args.hpp"

namespace framepipe::cli {

void report_damage(const VideoReader& reader, const std::string& file) {
  if (const std::string& cut = reader.info().video.truncated; !cut.empty())
    std::fprintf(stderr, "framepipe: %s: the file is truncated (%s); the frames before the cut are all there is\n",
                 file.c_str(), cut.c_str());
  if (reader.damage_reports() > 0)
    std::fprintf(stderr, "framepipe: %s: the decoder met damaged data %lld times (concealed or skipped; --strict makes it fatal)\n",
                 file.c_str(), static_cast<long long>(reader.damage_reports()));
}

void write_scenes(const std::string& dir, const std::vector<Scene>& scenes) {
  const std::string path = dir + "/scenes.jsonl";
  std::string lines;
  for (size_t k = 0; k < scenes.size(); ++k) {
    nlohmann::json j{{"scene", k},          {"start", scenes[k].start}, {"end", scenes[k].end},
                     {"start_t", scenes[k].start_t}, {"end_t", scenes[k].end_t}};
    lines += json_text(j) + '\n';
  }
  write_file(path, lines);
}

// The frames of a plan, each once, written as they are decoded: the worker pool decodes its
// keyframe groups at once and hands each frame over when it is ready (VideoReader::for_each),
// and each worker encodes its own frames, so images are encoded on every core while the pool
// decodes, memory is a frame per worker whatever the request, and no group waits for
// another. frames.jsonl still lists them in frame order.
void write_sampled(VideoReader& reader, const SamplePlan& plan, FrameWriter& writer) {
  std::vector<int64_t> wanted = plan.frames;
  std::sort(wanted.begin(), wanted.end());
  wanted.erase(std::unique(wanted.begin(), wanted.end()), wanted.end());
  Progress progress("frames", static_cast<int64_t>(wanted.size()), true, 10, "frames");
  std::mutex progress_mu;
  writer.expect(wanted);
  reader.for_each(
      wanted,
      [&](const Frame& f) {
        writer.write(f);
        std::lock_guard lock(progress_mu);
        progress.update(writer.written());
      },
      VideoReader::Calls::Concurrent);
}

Command add_frames(CLI::App& app) {
  auto* cmd = app.add_subcommand("frames", "Extract exact frames as PNG, JPEG or .npy files (or decode only, for timing)");
  struct Args {
    std::vector<std::string> inputs;
    std::string out, format = "png", sample, indices, times;
    int64_t every = 0;
    double fps = 0;
    bool all = false;
    int quality = 95;
    ReaderArgs reader;
  };
  auto a = std::make_shared<Args>();
  cmd->add_option("INPUT", a->inputs,
                  "video files, URLs, folders (with sub-folders) or .txt lists; with several, OUT/NAME for each")
      ->required();
  auto* o_sample = cmd->add_option("--sample", a->sample, std::string("which frames, as a sample spec:\n") + sample_grammar());
  auto* o_idx = cmd->add_option("--indices", a->indices, "frame indices, comma separated (negative: from the end)");
  auto* o_times = cmd->add_option("--times", a->times, "times in seconds, comma separated: the frame on screen at each");
  auto* o_every = cmd->add_option("--every", a->every, "every N-th frame: 0, N, 2N, ...");
  auto* o_fps = cmd->add_option("--fps", a->fps, "F frames a second, by timestamps (variable frame rate safe)");
  auto* o_all = cmd->add_flag("--all", a->all, "every frame, streamed in bounded memory");
  std::vector<CLI::Option*> sel{o_sample, o_idx, o_times, o_every, o_fps, o_all};
  for (auto* p : sel)
    for (auto* q : sel)
      if (p != q) p->excludes(q);
  cmd->add_option("--out", a->out, "output folder (not needed with --format null)");
  cmd->add_option("--format", a->format, "png | jpg | npy | null (decode and convert, write nothing)")->capture_default_str();
  cmd->add_option("--quality", a->quality, "JPEG quality")->capture_default_str();
  a->reader.add(cmd);

  return [a, sel, o_every, o_fps] {
    if (std::none_of(sel.begin(), sel.end(), [](CLI::Option* o) { return o->count() > 0; }))
      throw ConfigError("choose the frames: --sample, --indices, --times, --every, --fps or --all");
    // Every selection is a sample spec; the older options are spelled as one.
    SampleSpec spec;
    if (!a->sample.empty()) spec = SampleSpec::parse(a->sample);
    else if (!a->indices.empty()) spec = SampleSpec::parse("indices:" + a->indices);
    else if (!a->times.empty()) spec = SampleSpec::parse("times:" + a->times);
    else if (o_every->count() > 0) spec = SampleSpec::parse("every:" + std::to_string(a->every));
    else if (o_fps->count() > 0) {
      spec.kind = SampleKind::Fps;
      spec.fps = a->fps;
      if (!(a->fps > 0)) throw ConfigError("--fps must be positive");
    }
    ReaderOptions ro = a->reader.options();
    const ImageFileFormat format = parse_image_file_format(a->format);
    if (format != ImageFileFormat::Null && a->out.empty()) throw ConfigError("--out DIR is required (or --format null)");
    // All frames stream; the index's packet scan (~0.5% of a full decode) gives progress the
    // measured count, not the header's claim (a header said 238 frames of a file of 200).
    const bool stream_all = spec.kind == SampleKind::All;

    return for_each_input(a->inputs, a->out, [&](const std::string& file, const std::string& out) {
      // A live stream (a URL, a FIFO, a pipe) has no end to plan to: it is sampled frame by
      // frame as it comes, and left when the spec can take nothing more (times).
      const bool live = is_live_input(file, ro.input_options);
      std::optional<StreamSampler> sampler;
      if (live && !stream_all) sampler.emplace(spec);
      VideoReader reader(Source(file), ro);
      FrameWriter writer(out, format, ro.image.pix, a->quality);
      Frame frame;
      if (stream_all || live) {
        Progress progress("frames", live ? -1 : reader.size(), true, 10, "frames");
        while (!(sampler && sampler->done()) && reader.next(frame)) {
          if (sampler && !sampler->accept(frame.info)) continue;
          writer.write(frame);
          progress.update(writer.written());
        }
      } else {
        const SamplePlan plan = plan_sample(spec, reader);
        if (spec.kind == SampleKind::Scene && format != ImageFileFormat::Null) write_scenes(out, plan.scenes);
        write_sampled(reader, plan, writer);
      }
      report_damage(reader, file);
      if (format == ImageFileFormat::Null)
        std::fprintf(stderr, "framepipe: decoded %lld frames\n", static_cast<long long>(writer.written()));
    });
  };
}

}  // namespace framepipe::cli
