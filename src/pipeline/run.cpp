// Runner: a model over video files, folders, lists or live streams (see run.hpp).
#include "framepipe/pipeline/run.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <exception>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <mutex>
#include <optional>
#include <thread>
#include <nlohmann/json.hpp>

#include "framepipe/error.hpp"
#include "framepipe/image/annotate.hpp"
#include "framepipe/image/frame_ops.hpp"
#include "framepipe/infer/predict.hpp"
#include "framepipe/pipeline/bounded_queue.hpp"
#include "framepipe/pipeline/live_source.hpp"
#include "framepipe/pipeline/metrics.hpp"
#include "framepipe/sinks/npy_appender.hpp"
#include "framepipe/sinks/video_writer.hpp"
#include "framepipe/temporal/temporal.hpp"
#include "framepipe/pipeline/progress.hpp"

namespace framepipe {

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
    // Appended field by field: GCC 12 reports a false -Wrestrict on chains of operator+.
    std::string r;
    auto field = [&r](const std::string& f) {
      if (!r.empty()) r += ',';
      r += f;
    };
    field(csv_field(j.at("video")));
    field(kind);
    field(csv_field(first(j.contains("frame") ? "frame" : "frames")));
    field(csv_field(first("pts")));
    field(csv_field(first("t")));
    field(csv_field(label));
    field(csv_field(score));
    for (size_t k = 0; k < 4; ++k) field(box.is_array() ? csv_field(box[k]) : std::string());
    field(csv_field(track));
    field(csv_field(start));
    field(csv_field(end));
    return r;
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

// Results go to OUT.part, renamed to OUT when the run ends; "-" is stdout; "" no file. Every
// line also goes to the callback, when there is one.
class ResultWriter {
 public:
  ResultWriter(std::string path, std::function<void(const std::string&)> callback)
      : path_(std::move(path)), callback_(std::move(callback)) {
    csv_ = fs::path(path_).extension() == ".csv";
    if (!path_.empty() && path_ != "-") {
      file_.open(path_ + ".part", std::ios::trunc);
      if (!file_) throw IoError("cannot write results to '" + path_ + ".part'");
    }
    if (csv_) out() << kCsvHeader << '\n';
  }
  void line(const json& j) {
    const std::string text = j.dump();
    if (!path_.empty()) {
      std::ostream& o = out();
      if (csv_) {
        for (const auto& r : csv_rows(j)) o << r << '\n';
      } else {
        o << text << '\n';
      }
      if (!o) throw IoError("cannot write results to '" + path_ + "'");
    }
    if (callback_) callback_(text);
  }
  void flush() {
    if (!path_.empty()) out().flush();
  }
  // Success: OUT.part becomes OUT. Failure: OUT.part stays, whole lines only, and is named.
  void close(bool complete, bool report) {
    if (path_.empty() || closed_) return;
    if (path_ == "-") {
      std::cout.flush();
      return;
    }
    closed_ = true;
    file_.close();
    if (!complete) {
      if (report) std::fprintf(stderr, "framepipe: results so far kept in %s.part\n", path_.c_str());
      return;
    }
    std::error_code ec;
    fs::rename(path_ + ".part", path_, ec);
    if (ec) throw IoError("cannot rename '" + path_ + ".part' to '" + path_ + "': " + ec.message());
  }

 private:
  std::ostream& out() { return path_ == "-" ? std::cout : file_; }
  std::string path_;
  std::function<void(const std::string&)> callback_;
  std::ofstream file_;
  bool csv_ = false, closed_ = false;
};

// The classes an annotated frame shows: the best three.
std::vector<ClassScore> drawn_classes(const Prediction& p) {
  return {p.top.begin(), p.top.begin() + static_cast<ptrdiff_t>(std::min<size_t>(p.top.size(), 3))};
}

// What became of the source's audio in an annotated copy, where not all of it was copied as it is.
void report_audio(const VideoWriter& w) {
  const char* out = w.path().c_str();
  if (!w.audio_transcoded().empty())
    std::fprintf(stderr, "framepipe: %s cannot hold the audio %s as it is; it was re-encoded to AAC\n", out,
                 w.audio_transcoded().c_str());
  if (!w.audio_skipped().empty())
    std::fprintf(stderr, "framepipe: %s cannot hold the audio %s; it was left out\n", out, w.audio_skipped().c_str());
  if (!w.audio_lost().empty()) std::fprintf(stderr, "framepipe: %s lacks %s\n", out, w.audio_lost().c_str());
}

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
    classes_ = drawn_classes(p);
  }
  // Complete: the frames after the last result get it too. Interrupted: the video ends at the
  // last frame written.
  void finish(bool complete, bool report) {
    advance_to(complete ? INT64_MAX : last_ + 1);
    writer_->close();
    if (report) report_audio(*writer_);
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

// A live stream's annotated copy: the frames the model was given, at the source's size, with
// its results drawn, and the stream's audio, all on the recording's clock (LiveFrame::
// recording_offset), so a reconnect that restarts the stream's clock follows on after a pause
// as long as the outage. Frames the queue dropped are not in it; the audio is all there.
class LiveAnnotator {
 public:
  LiveAnnotator(std::string out, PixelFormat order, std::shared_ptr<AudioRelay> audio)
      : out_(std::move(out)), order_(order), audio_(std::move(audio)) {}
  void frame(LiveFrame& lf, const Prediction& p, const Geometry& g, Rational time_base) {
    Frame& f = lf.frame;
    if (!writer_) {
      VideoWriterOptions w;
      w.input = order_;
      w.tune = "zerolatency";  // frames reach the file as they come, with the audio beside them
      w.audio_relay = audio_;
      writer_ = std::make_unique<VideoWriter>(out_, f.width, f.height, time_base, w);
      width_ = f.width;
      height_ = f.height;
      time_base_ = time_base;
    }
    if (f.width != width_ || f.height != height_) return;  // a reconnect at another size: not this file's
    std::vector<Detection> objects = p.objects;
    for (auto& d : objects) d.box = g.box_to_output(d.box);
    draw_objects(f, objects, order_);
    draw_classes(f, drawn_classes(p), order_);
    // In this file's time base, on the recording's clock (the same shift as the connection's
    // audio); never at or before the frame written last.
    const int64_t pts = rescale_pts(f.info.pts, time_base, time_base_) +
                        std::llround(lf.recording_offset * time_base_.den / time_base_.num);
    last_ = std::max(pts, last_ + 1);
    writer_->write(f.data(), last_);
  }
  void finish(bool report) {
    if (!writer_) return;
    writer_->close();
    if (report) report_audio(*writer_);
  }

 private:
  // Another connection may have another time base (rare): rounded to the nearest unit.
  static int64_t rescale_pts(int64_t pts, Rational from, Rational to) {
    if (from == to) return pts;
    const long double seconds = static_cast<long double>(pts) * from.num / from.den;
    return static_cast<int64_t>(std::llround(seconds * to.den / to.num));
  }
  std::string out_;
  PixelFormat order_;
  std::shared_ptr<AudioRelay> audio_;
  std::unique_ptr<VideoWriter> writer_;
  int width_ = 0, height_ = 0;
  Rational time_base_;
  int64_t last_ = INT64_MIN + 1;
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

// A URL other than file://, or a V4L2 capture device (/dev/videoN, v4l2://...), is a stream.
bool is_live_location(const std::string& s) {
  return s.rfind("/dev/video", 0) == 0 || (s.find("://") != std::string::npos && s.rfind("file://", 0) != 0);
}

}  // namespace

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

struct Runner::Impl {
  Impl(ModelSpec spec, std::unique_ptr<Backend> backend, RunOptions options)
      : a_(std::move(options)), spec_(std::move(spec)), backend_(std::move(backend)), sample_(sample_spec(a_, spec_)) {
    if (a_.cancel) cancel_ = a_.cancel;
    const Aggregate aggregate = parse_aggregate(a_.aggregate);
    if (a_.track && spec_.task != Task::Detect)
      throw ConfigError("--track needs a detector; " + spec_.name + " is a " + to_string(spec_.task) + " model");
    if (aggregate != Aggregate::None && spec_.task == Task::Detect)
      throw ConfigError("--aggregate smooths class scores; for a detector use --track (and --segments)");
    if (a_.batch < 1) throw ConfigError("--batch must be at least 1");
    (void)parse_queue_policy(a_.queue);
    ropt_.aggregate = aggregate;
    ropt_.window = a_.window;
    ropt_.alpha = a_.alpha;
    ropt_.top_k = a_.top_k;
    ropt_.track = a_.track;
    ropt_.segments = a_.segments;
    ropt_.events = {a_.on, a_.off, a_.min_duration};
    if (!a_.embeddings.empty() && spec_.task != Task::Embed)
      throw ConfigError("--embeddings needs an embedding model; " + spec_.name + " is a " + to_string(spec_.task) +
                        " model");
  }

  RunSummary run(const std::vector<std::string>& inputs) {
    videos_ = expand_inputs(inputs);
    if (videos_.empty()) throw ConfigError("no input videos given");
    ResultWriter writer(a_.out, a_.on_result);
    writer_ = &writer;
    std::unique_ptr<NpyAppender> embeddings;
    if (!a_.embeddings.empty()) {
      embeddings = std::make_unique<NpyAppender>(a_.embeddings);
      ropt_.embeddings = embeddings.get();
    }
    RunSummary summary;
    summary.videos = static_cast<int64_t>(videos_.size());
    for (const auto& video : videos_) {
      try {
        if (a_.live || is_live_location(video)) {
          run_live(video, a_.reader);
        } else {
          run_file(video, a_.reader);
        }
        if (interrupted_) break;
      } catch (const Error& e) {
        if (videos_.size() == 1 || e.kind() == ErrorKind::Model || e.kind() == ErrorKind::Config ||
            e.kind() == ErrorKind::Io) {
          writer.close(false, a_.report);
          throw;
        }
        // One bad video among many: say so in the results and on stderr, go on with the rest.
        if (a_.report) std::fprintf(stderr, "framepipe: %s: %s error: %s\n", video.c_str(), to_string(e.kind()), e.what());
        writer.line({{"video", video}, {"error", e.what()}, {"kind", to_string(e.kind())}});
        if (rc_ == 0) rc_ = e.exit_code();
      } catch (...) {
        writer.close(false, a_.report);
        throw;
      }
    }
    writer.close(true, a_.report);
    if (embeddings) embeddings->close();
    ropt_.embeddings = nullptr;
    writer_ = nullptr;
    summary.metrics_json = metrics_json();
    report_metrics(summary.metrics_json);
    summary.results = results_;
    summary.interrupted = interrupted_;
    summary.exit_code = interrupted_ ? 130 : rc_;
    return summary;
  }

  bool stopped() const { return cancel_->load(); }

  // Clip models default to consecutive clips of their own length, frame models to every frame.
  static SampleSpec sample_spec(const RunOptions& a, const ModelSpec& spec) {
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
    ResultStage stage(spec_, video, *writer_, ropt_, annotator.get());
    Progress progress("run " + fs::path(video).filename().string(), static_cast<int64_t>(plan.rows()), a_.report);
    auto write_rows = [&](std::vector<RowPrediction>& rows) {
      const auto t0 = std::chrono::steady_clock::now();
      for (auto& row : rows) stage.row(row);
      results_ += static_cast<int64_t>(rows.size());
      writer_->flush();
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
    hooks.cancel = cancel_;
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
    if (annotator) annotator->finish(complete, a_.report);
    progress.finish();
    if (!complete) {
      interrupted_ = true;
      return;
    }
    if (a_.report && reader.damage_reports() > 0)
      std::fprintf(stderr, "framepipe: %s: the decoder met damaged data %lld times (concealed or skipped; --strict makes it fatal)\n",
                   video.c_str(), static_cast<long long>(reader.damage_reports()));
  }

  // A live stream: capture thread -> queue (latest by default) -> batch -> model -> lines.
  void run_live(const std::string& url, const ReaderOptions& ro) {
    if (spec_.clip_len > 1) throw ConfigError("live input runs frame models; " + spec_.name + " takes clips");
    if (sample_.kind == SampleKind::Clips || sample_.kind == SampleKind::Scene || sample_.kind == SampleKind::Indices)
      throw ConfigError("live input samples with all, every:N, fps:F, keyframes or times:..., not " + sample_.to_string());
    LiveOptions lo;
    lo.reader = reader_options_for(spec_, ro);
    // An annotated copy is recorded at the source's size: frames are captured at that size
    // and each one the model takes is resized to its input here (the decoder's fused resize
    // serves runs without a copy).
    const ImageOptions model_image = lo.reader.image;
    const bool resize_here = !a_.annotate.empty() && model_image.width > 0;
    if (resize_here) lo.reader.image.width = lo.reader.image.height = 0;  // colour options stay
    lo.reader.open_timeout_ms = lo.reader.read_timeout_ms = static_cast<int>(a_.timeout * 1000);
    lo.policy = parse_queue_policy(a_.queue);
    lo.max_reconnects = a_.reconnects;
    lo.audio = !a_.annotate.empty();  // the annotated copy keeps the stream's audio
    std::mutex gap_mutex;
    std::vector<Gap> gaps;  // from the capture thread, written out here
    auto live = std::make_unique<LiveSource>(url, lo, [&](const Gap& g) {
      std::lock_guard lock(gap_mutex);
      gaps.push_back(g);
    });
    ResultStage stage(spec_, url, *writer_, ropt_);
    std::unique_ptr<LiveAnnotator> annotator;
    if (!a_.annotate.empty()) {
      if (spec_.channels == PixelFormat::Gray)
        throw ConfigError("--annotate draws on colour frames; " + spec_.name + " takes gray ones");
      annotator = std::make_unique<LiveAnnotator>(annotated_name(url), spec_.channels, live->audio());
    }
    auto write_gaps = [&] {
      std::vector<Gap> ready;
      {
        std::lock_guard lock(gap_mutex);
        ready.swap(gaps);
      }
      for (const auto& g : ready) stage.gap(g);
    };
    StreamSampler sampler(sample_);
    Progress progress("run " + url, 0, a_.report);
    const auto started = std::chrono::steady_clock::now();
    auto out_of_time = [&] { return a_.duration > 0 && seconds_since(started) >= a_.duration; };
    Tensor buffer;
    std::vector<LiveFrame> batch;
    std::vector<Frame> resized;  // the model's input, when frames come at the source size
    std::optional<LiveFrame> carried;  // accepted, but of another size than the batch before it
    std::vector<const Frame*> frames;
    while (!stopped() && !out_of_time()) {
      write_gaps();
      std::optional<LiveFrame> first;
      const bool was_carried = carried.has_value();  // then the sampler has taken it already
      if (was_carried) first.swap(carried);
      else first = live->next(std::chrono::milliseconds(100));
      if (!first) {
        if (live->ended()) break;
        continue;
      }
      if (!was_carried && !sampler.accept(first->frame.info)) continue;
      batch.clear();
      batch.push_back(std::move(*first));
      const auto fill_until =
          std::chrono::steady_clock::now() + std::chrono::duration<double, std::milli>(a_.batch_timeout_ms);
      while (static_cast<int64_t>(batch.size()) < a_.batch) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(fill_until - std::chrono::steady_clock::now());
        auto more = live->next(std::max(left, std::chrono::milliseconds(0)));
        if (!more) break;
        if (!sampler.accept(more->frame.info)) continue;
        const Frame& f0 = batch.front().frame;
        if (more->frame.width != f0.width || more->frame.height != f0.height) {
          carried = std::move(more);  // a reconnect at another size: the next batch's first
          break;
        }
        batch.push_back(std::move(*more));
      }
      const auto t0 = std::chrono::steady_clock::now();
      frames.clear();
      Geometry model_geometry = live->geometry();
      if (resize_here) {
        const Frame& f0 = batch.front().frame;
        model_geometry = make_geometry(f0.width, f0.height, model_image);
        resized.resize(batch.size());
        for (size_t r = 0; r < batch.size(); ++r) {
          resize_frame(batch[r].frame, model_geometry, model_image, resized[r]);
          frames.push_back(&resized[r]);
        }
      } else {
        for (const auto& lf : batch) frames.push_back(&lf.frame);
      }
      auto preds = predict_frames(*backend_, frames, model_geometry, buffer, a_.top_k);
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
        if (annotator)
          annotator->frame(batch[r], row.prediction, resize_here ? Geometry{} : model_geometry, live->time_base());
      }
      results_ += n;
      writer_->flush();
      write_metrics_.record(seconds_since(t1), n);
      progress.update(stage.done());
    }
    const bool source_gave_up = !stopped() && !out_of_time() && live->ended();
    write_metrics_.set_queue(live->queue_max_depth(), live->queue_capacity(), live->dropped());
    live.reset();  // ends the capture thread; a last outage is reported
    write_gaps();
    stage.finish();
    if (annotator) annotator->finish(a_.report);
    progress.finish();
    if (stopped()) interrupted_ = true;
    if (source_gave_up) {  // a scheduler may retry: exit 4 (transient)
      if (a_.report) std::fprintf(stderr, "framepipe: %s: the stream ended and did not come back\n", url.c_str());
      if (rc_ == 0) rc_ = exit_code_for(ErrorKind::Transient);
    }
  }

  std::string metrics_json() const {
    std::string m = "[";  // appended: GCC 12 reports a false -Wrestrict on chains of operator+
    m += decode_metrics_.json();
    m += ",\n ";
    m += infer_metrics_.json();
    m += ",\n ";
    m += write_metrics_.json();
    m += "]\n";
    return m;
  }

  void report_metrics(const std::string& metrics_json) const {
    if (!a_.metrics.empty()) {
      std::ofstream m(a_.metrics);
      m << metrics_json;
      if (!m) throw IoError("cannot write metrics to '" + a_.metrics + "'");
    }
    if (!a_.report) return;
    for (const StageMetrics* m : {&decode_metrics_, &infer_metrics_, &write_metrics_})
      std::fprintf(stderr, "framepipe: %s\n", m->line().c_str());
    if (!a_.out.empty() && a_.out != "-")
      std::fprintf(stderr, "framepipe: %lld results from %zu videos in %s\n", static_cast<long long>(results_),
                   videos_.size(), a_.out.c_str());
  }

  static double seconds_since(std::chrono::steady_clock::time_point t) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
  }

  static inline const std::atomic<bool> kNever{false};
  RunOptions a_;
  ModelSpec spec_;
  std::unique_ptr<Backend> backend_;
  SampleSpec sample_;
  const std::atomic<bool>* cancel_ = &kNever;
  std::vector<std::string> videos_;
  ResultWriter* writer_ = nullptr;
  ResultOptions ropt_;
  StageMetrics decode_metrics_{"decode"}, infer_metrics_{"infer"}, write_metrics_{"write"};
  bool interrupted_ = false;
  int rc_ = 0;
  int64_t results_ = 0;
};

namespace {
ModelSpec spec_with_overrides(ModelSpec spec, const RunOptions& o) {
  if (o.conf >= 0) spec.detect.conf = o.conf;
  if (o.iou >= 0) spec.detect.iou = o.iou;
  return spec;
}
BackendOptions backend_options(const RunOptions& o) {
  BackendOptions bo;
  bo.engine = o.engine;
  bo.threads = o.model_threads;
  return bo;
}
}  // namespace

Runner::Runner(const std::string& model, RunOptions options) {
  ModelSpec spec = spec_with_overrides(load_model_spec(model), options);
  auto backend = open_backend(spec, backend_options(options));
  impl_ = std::make_unique<Impl>(std::move(spec), std::move(backend), std::move(options));
}

Runner::Runner(std::unique_ptr<Backend> backend, RunOptions options) {
  if (!backend) throw ConfigError("Runner: no backend given");
  ModelSpec spec = backend->spec();  // conf and iou are the backend's own here
  impl_ = std::make_unique<Impl>(std::move(spec), std::move(backend), std::move(options));
}

Runner::~Runner() = default;

RunSummary Runner::run(const std::vector<std::string>& inputs) { return impl_->run(inputs); }

}  // namespace framepipe
