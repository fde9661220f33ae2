// framepipe corpus status: what the records say, read one at a time.
#include <cmath>
#include <cstdio>

#include "common/json_text.hpp"
#include "corpus/run_dir.hpp"
#include "framepipe/corpus/corpus.hpp"

namespace framepipe {

CorpusStatus corpus_status(const std::string& dir_path) {
  const corpus::RunDir dir(dir_path);
  const corpus::RunInfo info = dir.info();
  CorpusStatus s;
  s.shards = info.shards;
  s.videos = info.videos;
  dir.for_each_unit([&](const corpus::Unit& u) {
    ++s.units;
    const auto rec = dir.read_record(u.id);
    if (!rec) {
      ++s.pending;
      return true;
    }
    const double finished = rec->value("finished", 0.0);
    if (finished > 0) {
      s.first = s.first == 0 ? finished : std::min(s.first, finished);
      s.last = std::max(s.last, finished);
    }
    s.unit_seconds += rec->value("seconds", 0.0);
    if (rec->value("status", "") == "done") {
      ++s.done;
      s.rows += rec->value("rows", int64_t{0});
    } else {
      ++s.failed;
      ++s.failed_by_kind[rec->value("kind", "unknown")];
    }
    return true;
  });
  return s;
}

double CorpusStatus::rows_per_second() const {
  const double wall = last - first;
  return wall > 0 ? static_cast<double>(rows) / wall : 0;
}

double CorpusStatus::eta_seconds() const {
  const int64_t recorded = done + failed;
  if (pending == 0) return 0;
  if (recorded < 2 || last <= first) return -1;
  return (last - first) / static_cast<double>(recorded - 1) * static_cast<double>(pending);
}

std::string CorpusStatus::json() const {
  corpus::Json j{{"units", units},   {"done", done},     {"failed", failed},         {"pending", pending},
                 {"shards", shards}, {"videos", videos}, {"failed_by_kind", failed_by_kind},
                 {"rows", rows},     {"unit_seconds", unit_seconds}};
  j["rows_per_second"] = rows_per_second();
  const double eta = eta_seconds();
  j["eta_seconds"] = eta >= 0 ? corpus::Json(eta) : corpus::Json(nullptr);
  return json_text(j);
}

std::string CorpusStatus::text() const {
  char line[512];
  std::snprintf(line, sizeof line, "%lld units of %lld videos in %lld shards: %lld done, %lld failed, %lld pending\n",
                static_cast<long long>(units), static_cast<long long>(videos), static_cast<long long>(shards),
                static_cast<long long>(done), static_cast<long long>(failed), static_cast<long long>(pending));
  std::string out = line;
  for (const auto& [kind, n] : failed_by_kind) out += "  failed (" + kind + "): " + std::to_string(n) + "\n";
  std::snprintf(line, sizeof line, "%lld predictions, %.1f rows/s over the records' wall time", static_cast<long long>(rows),
                rows_per_second());
  out += line;
  const double eta = eta_seconds();
  if (pending == 0) {
    out += "; complete\n";
  } else if (eta >= 0) {
    std::snprintf(line, sizeof line, "; about %.0f s to go at this rate\n", eta);
    out += line;
  } else {
    out += "; no rate yet\n";
  }
  return out;
}

}  // namespace framepipe
