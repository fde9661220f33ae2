#include <algorithm>
#include <cstdio>
#include <optional>
#include <fstream>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "common/json_text.hpp"
#include "commands.hpp"
#include "framepipe/error.hpp"
#include "common/part_file.hpp"
#include "framepipe/media/audio_reader.hpp"
#include "framepipe/reader/audio_for_frames.hpp"
#include "framepipe/reader/video_reader.hpp"
#include "framepipe/sample/sampling.hpp"
#include "framepipe/tensor/tensor.hpp"
#include "framepipe/pipeline/progress.hpp"
#include "reader_args.hpp"

namespace framepipe::cli {

void report_damage(const VideoReader& reader, const std::string& file);

namespace {

std::array<float, 3> triple(const std::string& text, const char* what) {
  auto v = parse_list<float>(text, what);
  if (v.size() == 1) v = {v[0], v[0], v[0]};
  if (v.size() != 3) throw ConfigError(std::string(what) + " takes r,g,b (or one value)");
  return {v[0], v[1], v[2]};
}

// Where row r of a batch was taken: its frame, or its clip's number and frames.
void put_row(nlohmann::json& j, const std::vector<FrameInfo>& rows, int64_t r, int64_t T, int64_t clip) {
  if (clip < 0) {
    const FrameInfo& fi = rows[static_cast<size_t>(r)];
    j["frame"] = fi.index;
    j["pts"] = fi.pts;
    j["t"] = fi.t;
    return;
  }
  nlohmann::json frames = nlohmann::json::array(), pts = nlohmann::json::array(), ts = nlohmann::json::array();
  for (int64_t k = 0; k < T; ++k) {
    const FrameInfo& fi = rows[static_cast<size_t>(r * T + k)];
    frames.push_back(fi.index);
    pts.push_back(fi.pts);
    ts.push_back(fi.t);
  }
  j["clip"] = clip;
  j["frames"] = std::move(frames);
  j["pts"] = std::move(pts);
  j["t"] = std::move(ts);
}

// The audio that plays during each row (a frame, or a clip from its first frame to the end of
// its last), and the longest of them, which every row is padded to with zeros.
struct RowAudio {
  std::vector<std::pair<int64_t, int64_t>> spans;
  int64_t length = 0;
};

RowAudio row_audio(VideoReader& reader, const AudioReader& audio, const SamplePlan& plan) {
  RowAudio out;
  const auto T = static_cast<size_t>(plan.clip_len);
  for (size_t r = 0; r < plan.rows(); ++r) {
    const auto ends = audio_for_frames(reader, audio, {plan.frames[r * T], plan.frames[r * T + T - 1]});
    out.spans.emplace_back(ends[0].first, std::max(ends[0].first, ends[1].second));
    out.length = std::max(out.length, out.spans.back().second - out.spans.back().first);
  }
  return out;
}

// Rows [first, first + n) of the audio as (n, channels, length) float32, zero-padded.
void write_audio(const std::string& path, const AudioReader& audio, const RowAudio& rows, int64_t first, int64_t n) {
  const auto C = static_cast<size_t>(audio.channels()), L = static_cast<size_t>(rows.length);
  std::vector<float> data(static_cast<size_t>(n) * C * L, 0.0f);
  for (int64_t r = 0; r < n; ++r) {
    const auto [a, b] = rows.spans[static_cast<size_t>(first + r)];
    for (size_t c = 0; c < C; ++c)
      std::copy(audio.channel(static_cast<int>(c)) + a, audio.channel(static_cast<int>(c)) + b,
                data.begin() + static_cast<ptrdiff_t>((static_cast<size_t>(r) * C + c) * L));
  }
  write_npy(path, data.data(), DType::F32, {n, static_cast<int64_t>(C), static_cast<int64_t>(L)});
}

struct TensorsArgs {
  std::vector<std::string> inputs;
  std::string out, sample, layout, dtype = "f32", mean, std;
  int64_t batch = 16;
  bool clip_norm = false, no_scale = false, audio_channels = false;
  int audio = -1;
  ReaderArgs reader;
};

// One input's batches (and audio) into `out`.
void write_tensors(const TensorsArgs& args, const SampleSpec& spec, const TensorOptions& t, const std::string& file,
                   const std::string& out) {
  const TensorsArgs* a = &args;
  VideoReader reader(Source(file), a->reader.options());
  SamplePlan plan = plan_sample(spec, reader);
  std::optional<AudioReader> audio;
  RowAudio spans;
  if (a->audio >= 0) {
    AudioOptions ao;
    ao.sample_rate = a->audio;
    ao.mono = !a->audio_channels;
    audio.emplace(Source(file), ao);
    spans = row_audio(reader, *audio, plan);
  }
  // Writing a batch out takes little next to decoding it: requests span several batches.
  TensorLoader loader(reader, std::move(plan), t, a->batch, true, kRequestBytes);
  std::error_code ec;
  std::filesystem::create_directories(out, ec);
  if (ec) throw IoError("cannot create output folder '" + out + "': " + ec.message());
  const std::string jsonl = out + "/batches.jsonl";
  const PartFile lines_file(jsonl);
  std::ofstream lines(lines_file.part());
  if (!lines) throw IoError("cannot write '" + jsonl + "'");
  Progress progress("tensors", loader.total_rows());
  Tensor batch;
  std::vector<FrameInfo> rows;
  const int64_t T = loader.clip_len();
  int64_t done = 0;
  for (int64_t b = 0; loader.next(batch, rows); ++b) {
    char name[32];
    std::snprintf(name, sizeof name, "batch_%06lld.npy", static_cast<long long>(b));
    write_npy(out + "/" + name, batch);
    const int64_t n = batch.shape()[0];
    char audio_name[32];
    std::snprintf(audio_name, sizeof audio_name, "audio_%06lld.npy", static_cast<long long>(b));
    if (audio) write_audio(out + "/" + audio_name, *audio, spans, done, n);
    for (int64_t r = 0; r < n; ++r) {
      nlohmann::json j{{"video", file}, {"batch", b}, {"row", r}, {"file", name}};
      put_row(j, rows, r, T, spec.is_clips() ? done + r : -1);
      if (audio) {
        const auto [first, end] = spans.spans[static_cast<size_t>(done + r)];
        j["audio_file"] = audio_name;
        j["audio"] = {first, end};
        j["audio_rate"] = audio->sample_rate();
      }
      lines << json_text(j) << '\n';
    }
    lines.flush();
    done += n;
    progress.update(done);
  }
  lines.close();
  if (!lines) throw IoError("cannot write '" + jsonl + "'");
  lines_file.commit();
  report_damage(reader, file);
  std::fprintf(stderr, "framepipe: wrote %lld rows to %s\n", static_cast<long long>(done), out.c_str());
}

}  // namespace

Command add_tensors(CLI::App& app) {
  auto* cmd = app.add_subcommand("tensors", "Write sampled frames or clips as model-ready .npy batches");
  auto a = std::make_shared<TensorsArgs>();
  cmd->add_option("INPUT", a->inputs, "video files, folders (with sub-folders) or .txt lists; with several, OUT/NAME for each")
      ->required();
  cmd->add_option("--sample", a->sample, std::string("which frames or clips, as a sample spec:\n") + sample_grammar())
      ->required();
  cmd->add_option("--out", a->out, "output folder: batch_NNNNNN.npy and batches.jsonl")->required();
  cmd->add_option("--layout", a->layout, "nchw | nhwc | ncthw (default: ncthw for clips, nchw otherwise)");
  cmd->add_option("--dtype", a->dtype, "f32 | u8")->capture_default_str();
  cmd->add_option("--mean", a->mean, "per-channel mean r,g,b, subtracted after scaling to [0,1]");
  cmd->add_option("--std", a->std, "per-channel std r,g,b, divided by after the mean");
  cmd->add_flag("--clip-norm", a->clip_norm, "normalise each clip by its own per-channel mean and std");
  cmd->add_flag("--no-scale", a->no_scale, "f32 values stay 0..255 (no division by 255)");
  cmd->add_option("--batch", a->batch, "rows (frames or clips) per batch file")->capture_default_str();
  cmd->add_option("--audio", a->audio,
                  "also write audio_NNNNNN.npy: per row, (channels, samples) float32 of what plays during it, "
                  "at this rate in Hz (0: the stream's own), mono; rows are zero-padded to the longest")
      ->check(CLI::NonNegativeNumber);
  cmd->add_flag("--audio-channels", a->audio_channels, "with --audio: keep the stream's channels (default: mono)");
  a->reader.add(cmd, true, true);

  return [a] {
    const SampleSpec spec = SampleSpec::parse(a->sample);
    TensorOptions t;
    t.layout = !a->layout.empty() ? parse_layout(a->layout) : spec.is_clips() ? Layout::NCTHW : Layout::NCHW;
    t.dtype = parse_dtype(a->dtype);
    t.scale = !a->no_scale;
    if (!a->mean.empty()) t.mean = triple(a->mean, "--mean");
    if (!a->std.empty()) t.std = triple(a->std, "--std");
    t.clip_norm = a->clip_norm;
    if (t.clip_norm && (!a->mean.empty() || !a->std.empty())) throw ConfigError("--clip-norm replaces --mean/--std");
    if (t.layout == Layout::NCTHW && !spec.is_clips()) throw ConfigError("--layout ncthw needs a clips:... sample");
    if (a->batch < 1) throw ConfigError("--batch must be at least 1");
    return for_each_input(a->inputs, a->out, [&](const std::string& file, const std::string& out) {
      write_tensors(*a, spec, t, file, out);
    });
  };
}

}  // namespace framepipe::cli
