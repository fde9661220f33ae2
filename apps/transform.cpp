// framepipe transform INPUT OUTPUT [--ops "..."]: every frame through OpenCV operations (or
// none: a re-encode), encoded with the source's timing and audio.
#include <cstdio>

#include "commands.hpp"
#include "reader_args.hpp"
#include "framepipe/error.hpp"
#include "framepipe/pipeline/transform.hpp"
#include "framepipe/pipeline/progress.hpp"

namespace framepipe::cli {

Command add_transform(CLI::App& app) {
  auto* cmd = app.add_subcommand("transform",
                                 "Decode, process every frame with OpenCV operations, encode (H.264 by default) "
                                 "keeping every timestamp and the audio");
  struct Args {
    std::string input, output, ops, codec = "libx264", preset = "veryfast", format;
    int crf = 20, threads = 0, hls_window = 0;
    bool no_audio = false, strict = false, no_autorotate = false;
    std::vector<std::string> input_options;
  };
  auto a = std::make_shared<Args>();
  cmd->add_option("INPUT", a->input, "video file")->required();
  cmd->add_option("OUTPUT", a->output, "output video (.mp4, .mkv, .mov, ...), written as NAME.part.EXT, renamed when done")
      ->required();
  cmd->add_option("--ops", a->ops, std::string(FrameOps::grammar()) + " (none: re-encode, timing and audio kept)");
  cmd->add_option("--codec", a->codec, "video encoder (libx264, libx265, libvpx-vp9, mpeg4, ...)")->capture_default_str();
  cmd->add_option("--crf", a->crf, "x264/x265 quality, lower is better")->capture_default_str();
  cmd->add_option("--preset", a->preset, "x264/x265 speed preset")->capture_default_str();
  cmd->add_option("--threads", a->threads, "decoder and encoder threads (0: FFmpeg's choice)");
  cmd->add_option("--format", a->format,
                  "the output's container (mp4, matroska, mpegts, flv, hls, ...); default: from OUTPUT's name or "
                  "its URL's scheme (rtmp: flv; srt, udp, tcp: mpegts; rtsp)");
  cmd->add_option("--hls-window", a->hls_window, "an .m3u8 OUTPUT keeps only its last N segments (0: all)");
  cmd->add_flag("--no-audio", a->no_audio, "leave the audio out (it is copied by default)");
  cmd->add_flag("--strict", a->strict, "damaged data in the input is an error instead of being concealed");
  cmd->add_flag("--no-autorotate", a->no_autorotate,
                "process frames as stored, not turned upright (the output keeps the display matrix)");
  add_input_options(cmd, a->input_options);

  return [a] {
    const FrameOps ops = a->ops.empty() ? FrameOps{} : FrameOps::parse(a->ops);  // none: a re-encode
    TransformOptions o;
    o.reader.threads = a->threads;
    o.reader.strict = a->strict;
    o.reader.autorotate = !a->no_autorotate;
    o.reader.input_options = parse_input_options(a->input_options);
    o.writer.codec = a->codec;
    o.writer.crf = a->crf;
    o.writer.preset = a->preset;
    o.writer.threads = a->threads;
    o.writer.format = a->format;
    o.writer.hls_window = a->hls_window;
    o.keep_audio = !a->no_audio;
    Progress progress("transform", 0, true, 10, "frames");
    auto result = transform_video(a->input, a->output, ops, o, [&](int64_t done, int64_t) { progress.update(done); });
    progress.finish();
    if (!result.audio_transcoded.empty())
      std::fprintf(stderr, "framepipe: %s cannot hold the audio %s as it is; it was re-encoded to %s\n",
                   a->output.c_str(), result.audio_transcoded.c_str(), result.audio_transcoded_to.c_str());
    if (!result.audio_skipped.empty())
      std::fprintf(stderr, "framepipe: %s cannot hold the audio %s; it was left out\n", a->output.c_str(),
                   result.audio_skipped.c_str());
    std::fprintf(stderr, "framepipe: wrote %lld frames and %lld audio packets to %s\n",
                 static_cast<long long>(result.frames), static_cast<long long>(result.audio_packets), a->output.c_str());
    return 0;
  };
}

}  // namespace framepipe::cli
