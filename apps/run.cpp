// framepipe run MODEL INPUT...: a model over video files, folders, lists or live streams;
// results as JSON Lines (DESIGN.md), an annotated copy of each file on request.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <csignal>
#include <exception>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <mutex>
#include <thread>
#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "framepipe/error.hpp"
#include "framepipe/image/annotate.hpp"
#include "framepipe/infer/predict.hpp"
#include "framepipe/pipeline/bounded_queue.hpp"
#include "framepipe/pipeline/live_source.hpp"
#include "framepipe/pipeline/metrics.hpp"
#include "framepipe/sinks/npy_appender.hpp"
#include "framepipe/sinks/video_writer.hpp"
#include "framepipe/temporal/temporal.hpp"
#include "progress.hpp"
#include "reader_args.hpp"

namespace framepipe::cli {

void report_damage(const VideoReader& reader, const std::string& file);

namespace {

namespace fs = std::filesystem;
// Keys in the order DESIGN.md names them: video, frame, pts, t, then the payload.
using json = nlohmann::ordered_json;

// Scores to 4 decimals and pixels to 2: enough for any use, and lines stay readable.
double round_to(double v, int decimals) {
  const double scale = std::pow(10.0, decimals);
  return std::round(v * scale) / scale;
}

bool is_video_name(const fs::path& p) {
  static const char* kExt[] = {".mp4", ".mkv", ".webm", ".avi", ".mov", ".ts", ".m4v", ".mpg", ".mpeg", ".flv", ".wmv", ".m2ts", ".mts", ".3gp"};
  std::string ext = p.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return std::find(std::begin(kExt), std::end(kExt), ext) != std::end(kExt);
}

// INPUT arguments to videos: a folder gives its video files (sorted, not recursive), a .txt
// or .list file one video per line (# comments), anything else is itself (a file or a URL).
std::vector<std::string> expand_inputs(const std::vector<std::string>& inputs) {
  std::vector<std::string> out;
  for (const auto& in : inputs) {
    std::error_code ec;
    if (fs::is_directory(in, ec)) {
      std::vector<std::string> found;
      for (const auto& e : fs::directory_iterator(in, ec))
        if (e.is_regular_file() && is_video_name(e.path())) found.push_back(e.path().string());
      if (found.empty()) throw ConfigError("input folder " + in + " holds no video files");
      std::sort(found.begin(), found.end());
      out.insert(out.end(), found.begin(), found.end());
    } else if (const auto ext = fs::path(in).extension(); (ext == ".txt" || ext == ".list") && fs::is_regular_file(in, ec)) {
      std::ifstream list(in);
      for (std::string line; std::getline(list, line);) {
        while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
        if (!line.empty() && line[0] != '#') out.push_back(line);
      }
    } else {
      out.push_back(in);
    }
  }
  return out;
}

json classes_json(const std::vector<ClassScore>& top) {
  json a = json::array();
  for (const auto& c : top) a.push_back({{"label", c.label}, {"index", c.index}, {"score", round_to(c.score, 4)}});
  return a;
}

// Where a result line was taken: one frame, or every frame of a clip.
void put_provenance(json& j, const std::vector<FrameInfo>& frames) {
  if (frames.size() == 1) {
    j["frame"] = frames[0].index;
    j["pts"] = frames[0].pts;
    j["t"] = frames[0].t;
    return;
  }
  json idx = json::array(), pts = json::array(), ts = json::array();
  for (const auto& f : frames) idx.push_back(f.index), pts.push_back(f.pts), ts.push_back(f.t);
  j["frames"] = std::move(idx);
  j["pts"] = std::move(pts);
  j["t"] = std::move(ts);
}

std::atomic<bool> g_stop{false};
extern "C" void on_stop_signal(int sig) {
  g_stop = true;
  std::signal(sig, SIG_DFL);  // a second signal ends the process
}

// CSV: one row per class (classifiers), per box (detectors), per event and per gap, under
// one header; frame, pts and t name where each row was taken (a clip's first frame).
constexpr const char* kCsvHeader = "video,kind,frame,pts,t,label,score,x1,y1,x2,y2,track,start,end";

std::string csv_field(const json& v) {
  if (v.is_null()) return "";
  if (v.is_string()) {
    std::string s = v.get<std::string>(), out = "\"";
    for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
    return out + "\"";
  }
  return v.dump();
}

std::vector<std::string> csv_rows(const json& j) {
  auto first = [&](const char* key) -> json {
    if (!j.contains(key)) return nullptr;
    const json& v = j.at(key);
    return v.is_array() ? (v.empty() ? json(nullptr) : v.front()) : v;
  };
  auto row = [&](const char* kind, const json& label, const json& score, const json& box, const json& track,
                 const json& start, const json& end) {
    std::string r = csv_field(j.at("video")) + "," + kind + "," + csv_field(first(j.contains("frame") ? "frame" : "frames")) +
                    "," + csv_field(first("pts")) + "," + csv_field(first("t")) + "," + csv_field(label) + "," +
                    csv_field(score);
    for (int k = 0; k < 4; ++k) r += "," + (box.is_array() ? csv_field(box[static_cast<size_t>(k)]) : std::string());
    return r + "," + csv_field(track) + "," + csv_field(start) + "," + csv_field(end);
  };
  std::vector<std::string> out;
  const json none = nullptr;
  if (j.contains("classes")) {
    const json& cls = j.contains("smoothed") ? j.at("smoothed") : j.at("classes");
    for (const auto& c : cls) out.push_back(row("class", c.at("label"), c.at("score"), none, none, none, none));
  } else if (j.contains("objects")) {
    for (const auto& o : j.at("objects"))
      out.push_back(row("object", o.at("label"), o.at("score"), o.at("box"), o.value("track", json(nullptr)), none, none));
  } else if (j.contains("segment")) {
    const json& s = j.at("segment");
    out.push_back(row("segment", s.at("label"), s.at("score"), none, none, s.at("start"), s.at("end")));
  } else if (j.contains("gap")) {
    const json& g = j.at("gap");
    out.push_back(row("gap", g.at("reason"), none, none, none, g.at("start"), g.at("end")));
  } else if (j.contains("error")) {
    out.push_back(row("error", j.at("error"), none, none, none, none, none));
  }
  return out;  // embeddings have no CSV form: use JSON Lines
}

// Results go to OUT.part, renamed to OUT when the run ends; "-" is stdout.
class ResultWriter {
 public:
  explicit ResultWriter(std::string path) : path_(std::move(path)) {
    csv_ = fs::path(path_).extension() == ".csv";
    if (path_ != "-") {
      file_.open(path_ + ".part", std::ios::trunc);
      if (!file_) throw IoError("cannot write results to '" + path_ + ".part'");
    }
    if (csv_) out() << kCsvHeader << '\n';
  }
  void line(const json& j) {
    std::ostream& o = out();
    if (csv_) {
      for (const auto& r : csv_rows(j)) o << r << '\n';
    } else {
      o << j.dump() << '\n';
    }
    if (!o) throw IoError("cannot write results to '" + path_ + "'");
  }
  bool csv() const { return csv_; }
  void flush() { (path_ == "-" ? std::cout : file_).flush(); }
  // Success: OUT.part becomes OUT. Failure: OUT.part stays, whole lines only, and is named.
  void close(bool complete) {
    if (path_ == "-") {
      std::cout.flush();
      return;
    }
    file_.close();
    if (!complete) {
      std::fprintf(stderr, "framepipe: results so far kept in %s.part\n", path_.c_str());
      return;
    }
    std::error_code ec;
    fs::rename(path_ + ".part", path_, ec);
    if (ec) throw IoError("cannot rename '" + path_ + ".part' to '" + path_ + "': " + ec.message());
  }

 private:
  std::ostream& out() { return path_ == "-" ? std::cout : file_; }
  std::string path_;
  std::ofstream file_;
  bool csv_ = false;
};

// The annotated copy of a video: every source frame, with the latest result drawn on it, the
// source's timestamps and its audio. A second reader streams the video at its own size in
// step with the results (results come in frame order), so memory stays bounded.
class Annotator {
 public:
  Annotator(const std::string& video, std::string out, const ReaderOptions& base) : out_(std::move(out)) {
    ReaderOptions o = base;
    o.image = ImageOptions{};  // RGB at the source size
    reader_ = std::make_unique<VideoReader>(Source(video), o);
    VideoWriterOptions w;
    w.audio_from = video;
    writer_ = std::make_unique<VideoWriter>(out_, reader_->out_width(), reader_->out_height(),
                                            reader_->info().video.time_base, w);
  }
  // Writes the frames before `index` with what was drawn so far, then takes the new result.
  void result(int64_t index, const Prediction& p) {
    advance_to(index);
    last_ = index;
    objects_ = p.objects;
    classes_ = p.top.size() > 3 ? std::vector<ClassScore>(p.top.begin(), p.top.begin() + 3) : p.top;
  }
  // Complete: the frames after the last result get it too. Interrupted: the video ends at the
  // last frame written.
  void finish(bool complete) {
    advance_to(complete ? INT64_MAX : last_ + 1);
    writer_->close();
    if (!writer_->audio_transcoded().empty())
      std::fprintf(stderr, "framepipe: %s cannot hold the audio %s as it is; it was re-encoded to AAC\n",
                   out_.c_str(), writer_->audio_transcoded().c_str());
    if (!writer_->audio_skipped().empty())
      std::fprintf(stderr, "framepipe: %s cannot hold the audio %s; it was left out\n", out_.c_str(),
                   writer_->audio_skipped().c_str());
  }

 private:
  void advance_to(int64_t index) {
    while (next_ < index && reader_->next(frame_)) {
      draw_objects(frame_, objects_);
      draw_classes(frame_, classes_);
      writer_->write(frame_.data(), frame_.info.pts);
      next_ = frame_.info.index + 1;
    }
  }
  std::string out_;
  std::unique_ptr<VideoReader> reader_;
  std::unique_ptr<VideoWriter> writer_;
  Frame frame_;
  int64_t next_ = 0, last_ = -1;
  std::vector<Detection> objects_;
  std::vector<ClassScore> classes_;
};

struct ResultOptions {
  NpyAppender* embeddings = nullptr;  // embed models: rows go here, lines name the row
  Aggregate aggregate = Aggregate::None;
  int window = 5, top_k = 5;
  float alpha = 0.3f;
  bool track = false, segments = false;
  SegmentOptions events;
};

// Predictions to result lines, in order, one video at a time: smoothing, tracking and events
// keep their state from row to row; the annotator (files) gets every result.
class ResultStage {
 public:
  ResultStage(const ModelSpec& spec, std::string video, ResultWriter& writer, const ResultOptions& o,
              Annotator* annotator = nullptr)
      : spec_(spec), video_(std::move(video)), writer_(writer), o_(o), smoother_(o.aggregate, o.window, o.alpha),
        segments_(o.events, spec.labels), annotator_(annotator) {}

  // `extra` fields (live: "wall", "age") go after the provenance.
  void row(RowPrediction& row, const json& extra = json::object()) {
    json j{{"video", video_}};
    put_provenance(j, row.frames);
    for (auto& [k, v] : extra.items()) j[k] = v;
    Prediction& p = row.prediction;
    std::vector<float> scores;
    switch (spec_.task) {
      case Task::Classify:
      case Task::ClipClassify:
        j["classes"] = classes_json(p.top);
        scores = p.scores;
        if (o_.aggregate != Aggregate::None) {
          scores = smoother_.push(p.scores);
          j["smoothed"] = classes_json(top_k(scores, o_.top_k, spec_.labels));
        }
        break;
      case Task::Detect: {
        if (o_.track) p.objects = tracker_.update(p.objects);
        json objs = json::array();
        for (const auto& d : p.objects) {
          json obj{{"box", {round_to(d.box[0], 2), round_to(d.box[1], 2), round_to(d.box[2], 2), round_to(d.box[3], 2)}},
                   {"label", d.label},
                   {"score", round_to(d.score, 4)}};
          if (d.track_id >= 0) obj["track"] = d.track_id;
          objs.push_back(std::move(obj));
        }
        j["objects"] = std::move(objs);
        scores = class_presence(p, std::max<size_t>(spec_.labels.size(), 1));
        break;
      }
      case Task::Embed: {
        if (o_.embeddings) {
          j["embedding_row"] = o_.embeddings->append(p.embedding);
          break;
        }
        json e = json::array();
        for (float v : p.embedding) e.push_back(round_to(v, 6));
        j["embedding"] = std::move(e);
        break;
      }
    }
    writer_.line(j);
    if (annotator_) annotator_->result(row.frames.front().index, p);
    const double t = row.frames.front().t;
    if (o_.segments && !scores.empty()) write_segments(segments_.push(t, row.frames.front().index, scores));
    if (done_ > 0 && t > last_t_) last_step_ = t - last_t_;
    last_t_ = row.frames.back().t;
    ++done_;
  }

  // A live stream's outage.
  void gap(const Gap& g) {
    writer_.line({{"video", video_},
                  {"gap",
                   {{"start", round_to(g.start, 3)}, {"end", round_to(g.end, 3)}, {"last_t", g.last_t},
                    {"next_t", g.next_t}, {"attempts", g.attempts}, {"reason", g.reason}}}});
  }

  // Open events end where the last result's time span ends (one step past its start).
  void finish() {
    if (o_.segments) write_segments(segments_.finish(last_t_ + std::max(last_step_, 0.0)));
  }
  int64_t done() const { return done_; }

 private:
  void write_segments(const std::vector<Segment>& closed) {
    for (const auto& s : closed)
      writer_.line({{"video", video_},
                    {"segment",
                     {{"label", s.label}, {"start", s.start}, {"end", s.end}, {"score", round_to(s.score, 4)},
                      {"first_frame", s.first_frame}, {"last_frame", s.last_frame}}}});
  }

  const ModelSpec& spec_;
  std::string video_;
  ResultWriter& writer_;
  ResultOptions o_;
  ScoreSmoother smoother_;
  SegmentBuilder segments_;
  Tracker tracker_;
  Annotator* annotator_;
  int64_t done_ = 0;
  double last_t_ = 0, last_step_ = 0;
};

// A URL other than file:// is a stream. (V4L2 devices are not wired: that needs libavdevice.)
bool is_live_location(const std::string& s) {
  return s.find("://") != std::string::npos && s.rfind("file://", 0) != 0;
}

struct RunArgs {
  std::string model, sample, out = "-", aggregate = "none", engine = "auto", annotate, metrics, embeddings;
  std::vector<std::string> inputs;
  int64_t batch = 8;
  int top_k = 5, window = 5, model_threads = 0, threads = 0, workers = 0;
  float alpha = 0.3f, on = 0.6f, off = 0.4f, conf = -1.f, iou = -1.f;
  double min_duration = 0.0;
  bool track = false, segments = false, strict = false;
  // live
  bool live = false;
  std::string queue = "latest";
  double duration = 0, timeout = 10, batch_timeout_ms = 0;
  int reconnects = -1;
};

// One `framepipe run`: the model loaded once, then every input through it, one after another,
// into one results file.
class Run {
 public:
  explicit Run(const RunArgs& a)
      : a_(a), spec_(model_spec(a)), backend_(open_backend(spec_, backend_options(a))), sample_(sample_spec(a, spec_)),
        videos_(expand_inputs(a.inputs)), writer_(a.out) {
    const Aggregate aggregate = parse_aggregate(a.aggregate);
    if (a.track && spec_.task != Task::Detect)
      throw ConfigError("--track needs a detector; " + spec_.name + " is a " + to_string(spec_.task) + " model");
    if (aggregate != Aggregate::None && spec_.task == Task::Detect)
      throw ConfigError("--aggregate smooths class scores; for a detector use --track (and --segments)");
    if (a.batch < 1) throw ConfigError("--batch must be at least 1");
    ropt_.aggregate = aggregate;
    ropt_.window = a.window;
    ropt_.alpha = a.alpha;
    ropt_.top_k = a.top_k;
    ropt_.track = a.track;
    ropt_.segments = a.segments;
    ropt_.events = {a.on, a.off, a.min_duration};
    if (!a.embeddings.empty()) {
      if (spec_.task != Task::Embed)
        throw ConfigError("--embeddings needs an embedding model; " + spec_.name + " is a " + to_string(spec_.task) +
                          " model");
      embeddings_ = std::make_unique<NpyAppender>(a.embeddings);
      ropt_.embeddings = embeddings_.get();
    }
  }

  int execute() {
    // Ctrl-C / SIGTERM: stop taking batches, let the write stage finish what it holds, close
    // every output. A second signal ends the process at once.
    g_stop = false;
    std::signal(SIGINT, on_stop_signal);
    std::signal(SIGTERM, on_stop_signal);
    for (const auto& video : videos_) {
      try {
        ReaderOptions ro;
        ro.threads = a_.threads;
        ro.workers = a_.workers;
        ro.strict = a_.strict;
        if (a_.live || is_live_location(video)) {
          run_live(video, ro);
        } else {
          run_file(video, ro);
        }
        if (interrupted_) break;
      } catch (const Error& e) {
        if (videos_.size() == 1 || e.kind() == ErrorKind::Model || e.kind() == ErrorKind::Config ||
            e.kind() == ErrorKind::Io) {
          writer_.close(false);
          throw;
        }
        // One bad video among many: say so in the results and on stderr, go on with the rest.
        std::fprintf(stderr, "framepipe: %s: %s error: %s\n", video.c_str(), to_string(e.kind()), e.what());
        writer_.line({{"video", video}, {"error", e.what()}, {"kind", to_string(e.kind())}});
        if (rc_ == 0) rc_ = e.exit_code();
      }
    }
    writer_.close(true);
    if (embeddings_) embeddings_->close();
    std::signal(SIGINT, SIG_DFL);
    std::signal(SIGTERM, SIG_DFL);
    report_metrics();
    if (interrupted_) {
      std::fprintf(stderr, "framepipe: interrupted; every output written so far is complete and closed\n");
      return 130;
    }
    return rc_;
  }

 private:
  static ModelSpec model_spec(const RunArgs& a) {
    ModelSpec spec = load_model_spec(a.model);
    if (a.conf >= 0) spec.detect.conf = a.conf;
    if (a.iou >= 0) spec.detect.iou = a.iou;
    return spec;
  }
  static BackendOptions backend_options(const RunArgs& a) {
    BackendOptions bo;
    bo.engine = a.engine;
    bo.threads = a.model_threads;
    return bo;
  }
  // Clip models default to consecutive clips of their own length, frame models to every frame.
  static SampleSpec sample_spec(const RunArgs& a, const ModelSpec& spec) {
    if (!a.sample.empty()) return SampleSpec::parse(a.sample);
    if (spec.clip_len <= 1) return SampleSpec::parse("all");
    const std::string len = std::to_string(spec.clip_len);
    return SampleSpec::parse("clips:" + len + ":1:0:sliding:" + len + ":end=drop");
  }

  std::string annotated_name(const std::string& video) const {
    if (videos_.size() == 1) return a_.annotate;
    std::error_code ec;
    fs::create_directories(a_.annotate, ec);
    return (fs::path(a_.annotate) / (fs::path(video).stem().string() + ".mp4")).string();
  }

  // A file: decode + pack on the loader's thread, the model here, results on a write thread
  // behind a bounded queue (block: nothing dropped).
  void run_file(const std::string& video, const ReaderOptions& ro) {
    VideoReader reader(Source(video), reader_options_for(spec_, ro));
    const SamplePlan plan = plan_sample(sample_, reader);
    std::unique_ptr<Annotator> annotator;
    if (!a_.annotate.empty()) annotator = std::make_unique<Annotator>(video, annotated_name(video), ro);
    ResultStage stage(spec_, video, writer_, ropt_, annotator.get());
    Progress progress("run " + fs::path(video).filename().string(), static_cast<int64_t>(plan.rows()));
    auto write_rows = [&](std::vector<RowPrediction>& rows) {
      const auto t0 = std::chrono::steady_clock::now();
      for (auto& row : rows) stage.row(row);
      results_ += static_cast<int64_t>(rows.size());
      writer_.flush();
      progress.update(stage.done());
      write_metrics_.record(seconds_since(t0), static_cast<int64_t>(rows.size()));
    };
    BoundedQueue<std::vector<RowPrediction>> queue(4, QueuePolicy::Block);
    std::exception_ptr write_error;
    std::thread write_stage([&] {
      try {
        while (auto rows = queue.pop()) write_rows(*rows);
      } catch (...) {
        write_error = std::current_exception();
        queue.close();  // the infer stage stops at its next push
      }
    });
    auto join_write_stage = [&] {
      queue.close();  // the write stage drains what is queued, then ends
      write_stage.join();
      if (write_error) std::rethrow_exception(write_error);
    };
    PredictHooks hooks;
    hooks.cancel = &g_stop;
    hooks.decoded = [&](double sec, int64_t n) { decode_metrics_.record(sec, n); };
    hooks.inferred = [&](double sec, int64_t n) { infer_metrics_.record(sec, n); };
    bool complete = false;
    try {
      complete = predict(
          reader, *backend_, plan, a_.batch,
          [&](std::vector<RowPrediction>& rows) {
            if (!queue.push(std::move(rows))) throw IoError("the write stage stopped");
          },
          a_.top_k, hooks);
    } catch (...) {
      join_write_stage();
      throw;
    }
    join_write_stage();
    write_metrics_.set_queue(queue.max_depth(), queue.capacity(), queue.dropped());
    stage.finish();
    if (annotator) annotator->finish(complete);
    progress.finish();
    if (!complete) {
      interrupted_ = true;
      return;
    }
    report_damage(reader, video);
  }

  // A live stream: capture thread -> queue (latest by default) -> batch -> model -> lines.
  void run_live(const std::string& url, const ReaderOptions& ro) {
    if (spec_.clip_len > 1) throw ConfigError("live input runs frame models; " + spec_.name + " takes clips");
    if (sample_.kind == SampleKind::Clips || sample_.kind == SampleKind::Scene || sample_.kind == SampleKind::Indices)
      throw ConfigError("live input samples with all, every:N, fps:F, keyframes or times:..., not " + sample_.to_string());
    LiveOptions lo;
    lo.reader = reader_options_for(spec_, ro);
    lo.reader.open_timeout_ms = lo.reader.read_timeout_ms = static_cast<int>(a_.timeout * 1000);
    lo.policy = parse_queue_policy(a_.queue);
    lo.max_reconnects = a_.reconnects;
    std::mutex gap_mutex;
    std::vector<Gap> gaps;  // from the capture thread, written out here
    auto live = std::make_unique<LiveSource>(url, lo, [&](const Gap& g) {
      std::lock_guard lock(gap_mutex);
      gaps.push_back(g);
    });
    ResultStage stage(spec_, url, writer_, ropt_);
    auto write_gaps = [&] {
      std::vector<Gap> ready;
      {
        std::lock_guard lock(gap_mutex);
        ready.swap(gaps);
      }
      for (const auto& g : ready) stage.gap(g);
    };
    StreamSampler sampler(sample_);
    Progress progress("run " + url, 0);
    const auto started = std::chrono::steady_clock::now();
    auto out_of_time = [&] { return a_.duration > 0 && seconds_since(started) >= a_.duration; };
    Tensor buffer;
    std::vector<LiveFrame> batch;
    std::vector<const Frame*> frames;
    while (!g_stop && !out_of_time()) {
      write_gaps();
      auto first = live->next(std::chrono::milliseconds(100));
      if (!first) {
        if (live->ended()) break;
        continue;
      }
      if (!sampler.accept(first->frame.info)) continue;
      batch.clear();
      batch.push_back(std::move(*first));
      const auto fill_until =
          std::chrono::steady_clock::now() + std::chrono::duration<double, std::milli>(a_.batch_timeout_ms);
      while (static_cast<int64_t>(batch.size()) < a_.batch) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(fill_until - std::chrono::steady_clock::now());
        auto more = live->next(std::max(left, std::chrono::milliseconds(0)));
        if (!more) break;
        if (sampler.accept(more->frame.info)) batch.push_back(std::move(*more));
      }
      const auto t0 = std::chrono::steady_clock::now();
      frames.clear();
      for (const auto& lf : batch) frames.push_back(&lf.frame);
      auto preds = predict_frames(*backend_, frames, live->geometry(), buffer, a_.top_k);
      const auto t1 = std::chrono::steady_clock::now();
      const auto n = static_cast<int64_t>(batch.size());
      infer_metrics_.record(std::chrono::duration<double>(t1 - t0).count(), n);
      for (size_t r = 0; r < batch.size(); ++r) {
        const double age = std::chrono::duration<double>(t1 - batch[r].arrived).count();
        write_metrics_.record_age(age);
        RowPrediction row{{batch[r].frame.info}, std::move(preds[r])};
        stage.row(row, json{{"wall", round_to(batch[r].wall, 3)},
                            {"age_ms", round_to(age * 1e3, 1)},
                            {"connection", batch[r].connection}});
      }
      results_ += n;
      writer_.flush();
      write_metrics_.record(seconds_since(t1), n);
      progress.update(stage.done());
    }
    const bool source_gave_up = !g_stop && !out_of_time() && live->ended();
    write_metrics_.set_queue(live->queue_max_depth(), live->queue_capacity(), live->dropped());
    live.reset();  // ends the capture thread; a last outage is reported
    write_gaps();
    stage.finish();
    progress.finish();
    if (g_stop) interrupted_ = true;
    if (source_gave_up) {  // a scheduler may retry: exit 4 (transient)
      std::fprintf(stderr, "framepipe: %s: the stream ended and did not come back\n", url.c_str());
      if (rc_ == 0) rc_ = exit_code_for(ErrorKind::Transient);
    }
  }

  void report_metrics() const {
    for (const StageMetrics* m : {&decode_metrics_, &infer_metrics_, &write_metrics_})
      std::fprintf(stderr, "framepipe: %s\n", m->line().c_str());
    if (!a_.metrics.empty()) {
      std::ofstream m(a_.metrics);
      m << "[" << decode_metrics_.json() << ",\n " << infer_metrics_.json() << ",\n " << write_metrics_.json() << "]\n";
      if (!m) throw IoError("cannot write metrics to '" + a_.metrics + "'");
    }
    if (a_.out != "-")
      std::fprintf(stderr, "framepipe: %lld results from %zu videos in %s\n", static_cast<long long>(results_),
                   videos_.size(), a_.out.c_str());
  }

  static double seconds_since(std::chrono::steady_clock::time_point t) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
  }

  const RunArgs& a_;
  ModelSpec spec_;
  std::unique_ptr<Backend> backend_;
  SampleSpec sample_;
  std::vector<std::string> videos_;
  ResultWriter writer_;
  std::unique_ptr<NpyAppender> embeddings_;
  ResultOptions ropt_;
  StageMetrics decode_metrics_{"decode"}, infer_metrics_{"infer"}, write_metrics_{"write"};
  bool interrupted_ = false;
  int rc_ = 0;
  int64_t results_ = 0;
};

}  // namespace

Runner add_run(CLI::App& app) {
  auto* cmd = app.add_subcommand("run", "Run a model over videos: sample, batch, infer, post-process, aggregate over time; "
                                        "results as JSON Lines");
  auto a = std::make_shared<RunArgs>();
  std::string builtins;
  for (const auto& b : builtin_models()) builtins += (builtins.empty() ? "" : ", ") + b;
  cmd->add_option("MODEL", a->model,
                  "a TorchScript (.pt) or ONNX (.onnx) model with its description (.json) beside it, or one of: " +
                      builtins)
      ->required();
  cmd->add_option("INPUT", a->inputs, "video files, folders of them, or .txt lists (one per line)")->required();
  cmd->add_option("--sample", a->sample,
                  "which frames or clips (default: every frame; for clip models, consecutive clips of the model's "
                  "length):\n" + std::string(sample_grammar()));
  cmd->add_option("--batch", a->batch, "rows (frames or clips) per model call")->capture_default_str();
  cmd->add_option("--out", a->out,
                  "results file: JSON Lines, or CSV when it ends in .csv; written as OUT.part and renamed when done; "
                  "- for stdout")
      ->capture_default_str();
  cmd->add_option("--annotate", a->annotate,
                  "write a copy of the video with the results drawn on every frame (H.264, the source's timestamps "
                  "and audio); with several inputs, a folder for NAME.mp4 files");
  cmd->add_option("--embeddings", a->embeddings,
                  "embedding models: every embedding as one N x D float32 .npy here (the result lines name their "
                  "row as embedding_row) instead of inline");
  cmd->add_option("--metrics", a->metrics,
                  "write per-stage metrics (rows/s, latency p50/p95, queue depth, drops) as JSON here; they are "
                  "printed on stderr in any case");
  cmd->add_option("--top-k", a->top_k, "classes kept per result")->capture_default_str();
  cmd->add_option("--aggregate", a->aggregate, "none | vote | mean | ema: smooth class scores over time")
      ->capture_default_str();
  cmd->add_option("--window", a->window, "vote and mean: results in the window")->capture_default_str();
  cmd->add_option("--alpha", a->alpha, "ema: weight of the newest result")->capture_default_str();
  cmd->add_flag("--segments", a->segments,
                "write events {label, start, end, score}: a class's (smoothed) score reaching --on opens one, falling "
                "below --off closes it; detectors score a class by its best box");
  cmd->add_option("--on", a->on, "segments: opening score")->capture_default_str();
  cmd->add_option("--off", a->off, "segments: closing score")->capture_default_str();
  cmd->add_option("--min-duration", a->min_duration, "segments: shortest event kept, seconds")->capture_default_str();
  cmd->add_flag("--track", a->track, "detectors: give boxes track ids that last (ByteTrack-style), boxes smoothed");
  cmd->add_option("--conf", a->conf, "detectors: least score kept (default: the model description's)");
  cmd->add_option("--iou", a->iou, "detectors: NMS overlap (default: the model description's)");
  cmd->add_option("--engine", a->engine, "auto | torchscript | opencv")->capture_default_str();
  cmd->add_option("--model-threads", a->model_threads, "threads of the model engine (0: every core)");
  cmd->add_option("--threads", a->threads, "decoder threads (0: FFmpeg's choice)");
  cmd->add_option("--workers", a->workers, "decoders for separate keyframe groups (0: one per core, 1: off)");
  cmd->add_flag("--strict", a->strict, "damaged data in a video is an error instead of being concealed");
  cmd->add_flag("--live", a->live,
                "read INPUT as a live stream (implied by a URL): captured on its own thread, "
                "reconnected with back-off when it drops, a \"gap\" line for each outage");
  cmd->add_option("--queue", a->queue,
                  "live: latest (the model always gets the newest frame) | drop-oldest | block")
      ->capture_default_str();
  cmd->add_option("--duration", a->duration, "live: stop after this many seconds (0: until the stream ends or Ctrl-C)");
  cmd->add_option("--timeout", a->timeout, "live: seconds to wait for the stream to open or deliver data")
      ->capture_default_str();
  cmd->add_option("--reconnects", a->reconnects, "live: tries per outage before giving up (-1: keep trying)")
      ->capture_default_str();
  cmd->add_option("--batch-timeout", a->batch_timeout_ms,
                  "live: milliseconds to wait for a batch to fill once its first frame is in (0: run what is there)")
      ->capture_default_str();

  return [a] { return Run(*a).execute(); };
}

}  // namespace framepipe::cli
