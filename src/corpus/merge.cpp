// framepipe corpus merge: every unit once, in manifest order; the result stage (smoothing,
// tracking, events) run over each whole video, so the lines are a single run's.
#include <fstream>
#include <memory>

#include "corpus/run_dir.hpp"
#include "corpus/unit_rows.hpp"
#include "framepipe/corpus/corpus.hpp"
#include "common/part_file.hpp"
#include "pipeline/run_context.hpp"

namespace framepipe {

namespace {

using corpus::Json;
using corpus::Unit;

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string q = "\"";
  for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
  return q + "\"";
}

class Merger {
 public:
  Merger(const corpus::RunDir& dir, const std::string& out, const std::string& table, bool partial)
      : dir_(dir), info_(dir.info()), spec_(run_model_spec(info_.model, info_.options)),
        results_(run_result_options(info_.options, spec_)), partial_(partial),
        writer_(out, [this](const std::string&) { ++lines_; }), table_(table) {
    if (!table.empty()) {
      table_out_.open(table_.part(), std::ios::trunc);
      if (!table_out_) throw IoError("cannot write " + table_.part());
      table_out_ << "video,status,units,frames,results,seconds,error\n";
    }
  }

  CorpusMerge run() {
    try {
      dir_.for_each_unit([this](const Unit& u) {
        unit(u);
        return true;
      });
      end_video();
    } catch (...) {
      writer_.close(false);
      throw;
    }
    writer_.close(true);
    if (!partial_) sum_.stale_parts = corpus::remove_all_parts(dir_.path());  // every unit done: what killed workers left
    if (!table_.path().empty()) {
      table_out_.close();
      if (!table_out_) throw IoError("cannot write " + table_.part());
      table_.commit();
    }
    sum_.results = lines_;
    return sum_;
  }

 private:
  struct Video {
    int64_t id = -1, units = 0, frames = 0, first_line = 0;
    std::string label, status = "done", error;
    double seconds = 0;
    bool stopped = false;  // a unit failed or is pending: the video's later units are left out
  };

  void unit(const Unit& u) {
    if (u.video != v_.id) {
      end_video();
      v_ = Video();
      v_.id = u.video;
      v_.first_line = lines_;
      v_.label = u.label;
      stage_ = std::make_unique<ResultStage>(spec_, u.label, writer_, results_);
    }
    ++v_.units;
    if (v_.stopped) return;
    const auto rec = dir_.read_record(u.id);
    if (!rec) {
      if (!partial_)
        throw ConfigError("unit " + std::to_string(u.id) + " (" + u.label + ") is not done yet: `framepipe corpus status " +
                          dir_.path() + "` says what is pending (or merge with --partial)");
      v_.status = "pending";
      v_.stopped = true;
      return;
    }
    v_.seconds += rec->value("seconds", 0.0);
    if (rec->value("status", "") != "done") {
      v_.status = "failed";
      v_.error = rec->value("error", "");
      v_.stopped = true;
      const std::string kind = rec->value("kind", "unknown");
      writer_.line({{"video", u.label}, {"error", v_.error}, {"kind", kind}});
      for (ErrorKind k : {ErrorKind::Open, ErrorKind::Decode, ErrorKind::OutOfRange, ErrorKind::Unsupported,
                          ErrorKind::Transient, ErrorKind::Internal})
        if (!sum_.first_error && kind == to_string(k)) sum_.first_error = k;
      return;
    }
    std::ifstream in(dir_.rows(u.id));
    if (!in)
      throw IoError("unit " + std::to_string(u.id) + " is recorded done but " + dir_.rows(u.id) +
                    " is missing: remove its record " + dir_.record(u.id) + " and run its shard again");
    int64_t n = 0;
    for (std::string line; std::getline(in, line); ++n) {
      RowPrediction row = corpus::row_from(Json::parse(line));
      stage_->row(row);
    }
    if (n != rec->value("rows", int64_t{-1}))
      throw IoError(dir_.rows(u.id) + " holds " + std::to_string(n) + " rows, its record says " +
                    std::to_string(rec->value("rows", int64_t{-1})));
    v_.frames += n;
  }

  void end_video() {
    if (v_.id < 0) return;
    if (v_.status == "done") stage_->finish();
    stage_.reset();
    ++sum_.videos;
    if (v_.status == "failed") ++sum_.failed_videos;
    if (!table_out_.is_open()) return;
    table_out_ << csv_field(v_.label) << ',' << v_.status << ',' << v_.units << ',' << v_.frames << ','
               << lines_ - v_.first_line << ',' << v_.seconds << ',' << csv_field(v_.error) << '\n';
  }

  const corpus::RunDir& dir_;
  corpus::RunInfo info_;
  ModelSpec spec_;
  ResultOptions results_;
  bool partial_;
  int64_t lines_ = 0;
  ResultWriter writer_;
  PartFile table_;
  std::ofstream table_out_;
  std::unique_ptr<ResultStage> stage_;
  Video v_;
  CorpusMerge sum_;
};

}  // namespace

CorpusMerge merge_corpus(const std::string& dir, const std::string& out, const std::string& table, bool partial) {
  if (out.empty()) throw ConfigError("corpus merge: give --out (results.jsonl, results.csv, or - for stdout)");
  const corpus::RunDir d(dir);
  return Merger(d, out, table, partial).run();
}

}  // namespace framepipe
