// Runner: a model over video files, folders, lists or live streams (see run.hpp). One input
// after another into one results file; file_run.cpp and live_run.cpp take each one through.
#include "framepipe/pipeline/run.hpp"

#include <chrono>
#include <filesystem>
#include <fstream>
#include <set>

#include "framepipe/infer/backend.hpp"
#include "framepipe/sinks/npy_appender.hpp"
#include "framepipe/sinks/result_path.hpp"
#include "pipeline/run_context.hpp"

namespace framepipe {

namespace {

namespace fs = std::filesystem;

// Clip models default to consecutive clips of their own length, frame models to every frame.
SampleSpec sample_spec(const RunOptions& a, const ModelSpec& spec) {
  if (!a.sample.empty()) return SampleSpec::parse(a.sample);
  if (spec.clip_len <= 1) return SampleSpec::parse("all");
  const std::string len = std::to_string(spec.clip_len);
  return SampleSpec::parse("clips:" + len + ":1:0:sliding:" + len + ":end=drop");
}

// The options that do not fit the model, refused before anything is opened.
ResultOptions result_options(const RunOptions& a, const ModelSpec& spec) {
  const Aggregate aggregate = parse_aggregate(a.aggregate);
  std::string model = spec.name;  // appended: GCC 12 reports a false -Wrestrict on chains of operator+
  model += " is a ";
  model += to_string(spec.task);
  model += " model";
  if (a.track && spec.task != Task::Detect) throw ConfigError("--track needs a detector; " + model);
  if (aggregate != Aggregate::None && spec.task == Task::Detect)
    throw ConfigError("--aggregate smooths class scores; for a detector use --track (and --segments)");
  if (a.batch < 1) throw ConfigError("--batch must be at least 1");
  (void)parse_queue_policy(a.queue);
  if (!a.embeddings.empty() && spec.task != Task::Embed)
    throw ConfigError("--embeddings needs an embedding model; " + model);
  ResultOptions r;
  r.aggregate = aggregate;
  r.window = a.window;
  r.alpha = a.alpha;
  r.top_k = a.top_k;
  r.track = a.track;
  r.segments = a.segments;
  r.events = {a.on, a.off, a.min_duration};
  return r;
}

// With several inputs, an error met on one of them (its file, its annotated copy) is that
// input's: recorded, and the rest go on. A model error stops the run (it would meet every
// input), and so does any error of a single input, or of the results file (run_one asks it).
bool fatal(const Error& e, size_t inputs) { return inputs == 1 || e.kind() == ErrorKind::Model; }

// The results' callback, with the preview's beside it (run --preview): every result line, and
// the stages' metrics at most twice a second.
std::function<void(const std::string&)> preview_tap(RunContext& c, std::function<void(const std::string&)> user) {
  if (!c.preview) return user;
  auto last = std::make_shared<std::chrono::steady_clock::time_point>();
  return [&c, user = std::move(user), last](const std::string& line) {
    c.preview->result(line);
    const auto now = std::chrono::steady_clock::now();
    if (now - *last > std::chrono::milliseconds(500)) {
      *last = now;
      std::string stages = "[";  // (appended: GCC 12 warns falsely on a chain of +)
      for (const StageMetrics* m : {&c.decode, &c.infer, &c.write}) {
        if (stages.size() > 1) stages += ", ";
        stages += m->json();
      }
      stages += "]";
      c.preview->metrics(stages);
    }
    if (user) user(line);
  };
}

}  // namespace

struct Runner::Impl {
  Impl(ModelSpec s, std::unique_ptr<Backend> b, RunOptions o)
      : options(std::move(o)), spec(std::move(s)), backend(std::move(b)), sample(sample_spec(options, spec)),
        results(result_options(options, spec)) {}

  RunSummary run(const std::vector<std::string>& inputs) {
    const std::vector<InputVideo> videos = expand_input_videos(inputs);
    if (videos.empty()) throw ConfigError("no input videos given");
    RunContext c(options, spec, *backend, sample, options.cancel ? *options.cancel : kNever);
    c.results = results;
    std::unique_ptr<PreviewServer> preview;
    if (!options.preview.empty()) {
      preview = std::make_unique<PreviewServer>(options.preview);
      c.preview = preview.get();
      c.note("preview at " + preview->url());
    }
    ResultWriter writer(options.out, preview_tap(c, options.on_result));
    c.writer = &writer;
    std::unique_ptr<NpyAppender> embeddings;
    if (!options.embeddings.empty()) {
      embeddings = std::make_unique<NpyAppender>(options.embeddings);
      c.results.embeddings = embeddings.get();
    }
    RunSummary summary;
    summary.videos = static_cast<int64_t>(videos.size());
    bool cut_short = false;  // a file stopped part way: its results are not the whole answer
    try {
      for (const auto& video : videos)
        if (run_one(c, video, videos.size(), summary, cut_short)) break;
    } catch (...) {
      writer.close(false);
      if (const std::string kept = writer.kept_part(); !kept.empty()) c.note("results so far kept in " + kept);
      throw;
    }
    writer.close(!cut_short);
    if (const std::string kept = writer.kept_part(); cut_short && !kept.empty())
      c.note("results so far kept in " + kept + " (the run was interrupted)");
    if (embeddings) embeddings->close();
    finish(c, summary);
    return summary;
  }

  // One input; true when the run stops here (interrupted; `cut_short` for a file, whose
  // results then stop part way: a live stream has no end to reach).
  bool run_one(RunContext& c, const InputVideo& input, size_t inputs, RunSummary& summary, bool& cut_short) {
    const std::string& video = input.path;
    try {
      const std::string annotated = annotated_name(input, inputs);
      const bool live = options.live || is_live_input(video, options.reader.input_options);
      const InputOutcome out = live ? run_live(c, video, annotated) : run_file(c, video, annotated);
      if (out.gave_up) fail(summary, ErrorKind::Transient);  // a scheduler may retry
      summary.interrupted = out.interrupted;
      cut_short = out.interrupted && !live;
      return out.interrupted;
    } catch (const Error& e) {
      if (fatal(e, inputs) || c.writer->broken()) throw;
      // One bad video among many: say so in the results and in a note, go on with the rest.
      std::string note = video;  // appended, as above
      note += ": ";
      note += to_string(e.kind());
      note += " error: ";
      note += e.what();
      c.note(note);
      c.writer->line({{"video", video}, {"error", e.what()}, {"kind", to_string(e.kind())}});
      fail(summary, e.kind());
      return false;
    }
  }

  static void fail(RunSummary& s, ErrorKind kind) {
    ++s.failed;
    if (!s.error) s.error = kind;
  }

  // With several inputs, ANNOTATE/NAME.mp4 where NAME keeps the video's relative path, so that
  // a/clip.mp4 and b/clip.mp4 do not meet; clip.mkv beside clip.mp4 becomes clip.mkv.mp4.
  std::string annotated_name(const InputVideo& input, size_t inputs) {
    if (options.annotate.empty() || inputs == 1) return options.annotate;
    fs::path rel(input.name);
    fs::path out = fs::path(options.annotate) / rel.replace_extension(".mp4");
    if (!annotated_.insert(out.string()).second) out = fs::path(options.annotate) / (input.name + ".mp4");
    annotated_.insert(out.string());
    std::error_code ec;
    fs::create_directories(out.parent_path(), ec);
    return out.string();
  }

  void finish(const RunContext& c, RunSummary& s) const {
    s.results = c.rows;
    std::string m = "[";  // appended: GCC 12 reports a false -Wrestrict on chains of operator+
    m += c.decode.json();
    m += ",\n ";
    m += c.infer.json();
    m += ",\n ";
    m += c.write.json();
    m += "]\n";
    s.metrics_json = std::move(m);
    for (const StageMetrics* stage : {&c.decode, &c.infer, &c.write}) s.metrics_lines.push_back(stage->line());
    if (options.metrics.empty()) return;
    std::ofstream file(options.metrics);
    file << s.metrics_json;
    if (!file) throw IoError("cannot write metrics to '" + options.metrics + "'");
  }

  static inline const std::atomic<bool> kNever{false};
  RunOptions options;
  ModelSpec spec;
  std::unique_ptr<Backend> backend;
  SampleSpec sample;
  ResultOptions results;
  std::set<std::string> annotated_;  // the annotated copies' paths so far
};

ModelSpec spec_with_overrides(ModelSpec spec, const RunOptions& o) {
  if (o.conf >= 0) spec.detect.conf = o.conf;
  if (o.iou >= 0) spec.detect.iou = o.iou;
  return spec;
}

namespace {
BackendOptions backend_options(const RunOptions& o) {
  BackendOptions bo;
  bo.engine = o.engine;
  bo.threads = o.model_threads;
  return bo;
}
}  // namespace

Runner::Runner(const std::string& model, RunOptions options) {
  check_results_path(options.out);  // before the model loads
  ModelSpec spec = load_model_spec(model, options.spec);  // before options move: the order of arguments is unspecified
  open(std::move(spec), std::move(options));
}

Runner::Runner(ModelSpec spec, RunOptions options) {
  check_results_path(options.out);
  open(std::move(spec), std::move(options));
}

void Runner::open(ModelSpec spec, RunOptions options) {
  spec = spec_with_overrides(std::move(spec), options);
  auto backend = open_backend(spec, backend_options(options));
  impl_ = std::make_unique<Impl>(std::move(spec), std::move(backend), std::move(options));
}

Runner::Runner(std::unique_ptr<Backend> backend, RunOptions options) {
  if (!backend) throw ConfigError("Runner: no backend given");
  check_results_path(options.out);
  ModelSpec spec = backend->spec();  // conf and iou are the backend's own here
  impl_ = std::make_unique<Impl>(std::move(spec), std::move(backend), std::move(options));
}

Runner::~Runner() = default;

RunSummary Runner::run(const std::vector<std::string>& inputs) { return impl_->run(inputs); }

const ModelSpec& Runner::spec() const { return impl_->spec; }

RowsOutcome Runner::predict_rows(const std::string& video, int64_t begin, int64_t end,
                                 const std::function<void(std::vector<RowPrediction>&)>& sink,
                                 std::shared_ptr<const FrameIndex> index) {
  const Impl& m = *impl_;
  ReaderOptions ro = reader_options_for(m.spec, m.options.reader);
  ro.known_index = std::move(index);
  VideoReader reader(Source(video), ro);
  const SamplePlan plan = plan_sample(m.sample, reader);
  RowsOutcome out;
  out.plan_rows = static_cast<int64_t>(plan.rows());
  if (end < 0) end = out.plan_rows;
  if (begin < 0 || begin > end || end > out.plan_rows)
    throw OutOfRangeError(video + ": rows [" + std::to_string(begin) + ", " + std::to_string(end) +
                          ") are outside its sample plan's " + std::to_string(out.plan_rows) +
                          " rows (has the video changed since the corpus was planned?)");
  SamplePlan part;
  part.clip_len = plan.clip_len;
  part.frames.assign(plan.frames.begin() + begin * plan.clip_len, plan.frames.begin() + end * plan.clip_len);
  PredictHooks hooks;
  hooks.cancel = m.options.cancel;
  out.complete = predict(reader, *m.backend, part, m.options.batch, sink, m.options.top_k, hooks);
  out.damage = reader.damage_reports();
  return out;
}

SampleSpec run_sample_spec(const RunOptions& o, const ModelSpec& spec) { return sample_spec(o, spec); }
ResultOptions run_result_options(const RunOptions& o, const ModelSpec& spec) { return result_options(o, spec); }
ModelSpec run_model_spec(const std::string& model, const RunOptions& o) {
  return spec_with_overrides(load_model_spec(model, o.spec), o);
}

}  // namespace framepipe
