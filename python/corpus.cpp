// framepipe.corpus: plan, work, status and merge of framepipe/corpus/corpus.hpp, and
// run_dask, which hands the units to a Dask client one task each, results on disk, so a
// lost worker costs only the unit it held.
#include <pybind11/eval.h>
#include <pybind11/stl.h>

#include <map>
#include <mutex>

#include "bindings.hpp"
#include "framepipe/corpus/corpus.hpp"

namespace framepipe::python {

namespace {

// framepipe.run's keyword names, for the options that change results.
RunOptions run_options(const py::dict& kw) {
  RunOptions o;
  for (const auto& [key, value] : kw) {
    const std::string k = py::str(key);
    if (k == "sample") o.sample = value.cast<std::string>();
    else if (k == "batch") o.batch = value.cast<int64_t>();
    else if (k == "aggregate") o.aggregate = value.cast<std::string>();
    else if (k == "window") o.window = value.cast<int>();
    else if (k == "alpha") o.alpha = value.cast<float>();
    else if (k == "track") o.track = value.cast<bool>();
    else if (k == "segments") o.segments = value.cast<bool>();
    else if (k == "on") o.on = value.cast<float>();
    else if (k == "off") o.off = value.cast<float>();
    else if (k == "min_duration") o.min_duration = value.cast<double>();
    else if (k == "top_k") o.top_k = value.cast<int>();
    else if (k == "conf") o.conf = value.cast<float>();
    else if (k == "iou") o.iou = value.cast<float>();
    else if (k == "engine") o.engine = value.cast<std::string>();
    else if (k == "model_threads") o.model_threads = value.cast<int>();
    else if (k == "num_threads") o.reader.threads = value.cast<int>();
    else if (k == "workers") o.reader.workers = value.cast<int>();
    else if (k == "strict") o.reader.strict = value.cast<bool>();
    else if (k == "autorotate") o.reader.autorotate = value.cast<bool>();
    else
      throw ConfigError("framepipe.corpus.plan: unknown option '" + k +
                        "' (sample, batch, aggregate, window, alpha, track, segments, on, off, min_duration, top_k, "
                        "conf, iou, engine, model_threads, num_threads, workers, strict, autorotate)");
  }
  return o;
}

py::dict status_dict(const CorpusStatus& s) { return py::module_::import("json").attr("loads")(s.json()); }

// One CorpusWorker a run folder a process: a Dask worker loads the model once.
CorpusWorker& worker_for(const std::string& dir) {
  static std::mutex m;
  static std::map<std::string, std::unique_ptr<CorpusWorker>> workers;
  std::lock_guard lock(m);
  auto& w = workers[dir];
  if (!w) w = std::make_unique<CorpusWorker>(dir);
  return *w;
}

py::dict plan(const std::vector<std::string>& inputs, const std::string& run, const std::string& model,
              double chunk_seconds, int64_t shards, const py::kwargs& kw) {
  CorpusPlanOptions o;
  o.model = model;
  o.run = run_options(kw);
  o.chunk_seconds = chunk_seconds;
  o.shards = shards;
  const CorpusPlan p = [&] {
    py::gil_scoped_release release;
    return plan_corpus(inputs, run, o);
  }();
  py::dict d;
  d["videos"] = p.videos;
  d["units"] = p.units;
  d["shards"] = p.shards;
  d["chunked"] = p.chunked;
  d["fingerprint"] = p.fingerprint;
  d["existed"] = p.existed;
  return d;
}

py::dict work(const std::string& dir, int64_t shard, int jobs, bool retry_failed) {
  CorpusWorkOptions o;
  o.shard = shard;
  o.jobs = jobs;
  o.retry_failed = retry_failed;
  const CorpusWork w = [&] {
    py::gil_scoped_release release;
    return work_corpus(dir, o);
  }();
  py::dict d;
  d["done"] = w.done;
  d["failed"] = w.failed;
  d["skipped"] = w.skipped;
  d["abandoned"] = w.abandoned;
  d["transient"] = w.transient;
  d["rows"] = w.rows;
  return d;
}

std::string work_unit(const std::string& dir, int64_t unit) {
  CorpusWorker& w = worker_for(dir);
  py::gil_scoped_release release;
  return w.run_unit(unit);
}

// The pending units through client.map, one task each; Dask runs a task again on another
// worker when the one holding it is lost (`retries` more times for errors it raised).
py::dict run_dask(const std::string& dir, py::object client, int retries) {
  const std::vector<int64_t> units = corpus_pending(dir);
  py::object fn = py::module_::import("framepipe.corpus").attr("work_unit");
  py::list dirs, ids;
  for (int64_t u : units) {
    dirs.append(dir);
    ids.append(u);
  }
  py::dict outcomes;
  if (!units.empty()) {
    py::object futures = client.attr("map")(fn, dirs, ids, py::arg("pure") = false, py::arg("retries") = retries);
    py::list got = client.attr("gather")(futures);
    for (const auto& g : got) {
      const std::string k = py::str(g);
      outcomes[k.c_str()] = outcomes.contains(k) ? outcomes[k.c_str()].cast<int64_t>() + 1 : 1;
    }
  }
  py::dict status = status_dict(corpus_status(dir));
  status["this_run"] = outcomes;
  return status;
}

py::dict merge(const std::string& dir, const std::string& out, const std::string& table, bool partial) {
  const CorpusMerge m = [&] {
    py::gil_scoped_release release;
    return merge_corpus(dir, out, table, partial);
  }();
  py::dict d;
  d["videos"] = m.videos;
  d["results"] = m.results;
  d["failed_videos"] = m.failed_videos;
  return d;
}

}  // namespace

void bind_corpus(py::module_& m) {
  py::module_ c = m.def_submodule("corpus", "Corpus runs over many machines (framepipe corpus ...): plan, work, status, "
                                            "merge, and run_dask");
  // Workers unpickle framepipe.corpus.work_unit by its module's name.
  py::module_::import("sys").attr("modules")["framepipe.corpus"] = c;
  c.def("plan", &plan, py::arg("inputs"), py::arg("run"), py::arg("model"), py::arg("chunk_seconds") = 0.0,
        py::arg("shards") = 0,
        "Plan a corpus run into the folder `run`: units (videos, or parts of long ones), shards, a fingerprint. "
        "Options as framepipe.run's (sample=, batch=, track=, segments=, ...).");
  c.def("work", &work, py::arg("run"), py::arg("shard") = -1, py::arg("jobs") = 1, py::arg("retry_failed") = false,
        "Run a shard's pending units (-1: every shard), `jobs` at once.");
  c.def("_work_unit", &work_unit, py::arg("run"), py::arg("unit"));
  // A Python function, so that Dask's pickle sends it by name (a bound C++ function cannot be
  // pickled): the worker imports framepipe and finds framepipe.corpus.work_unit.
  py::exec(R"py(
def work_unit(run, unit):
    '''work_unit(run: str, unit: int) -> str

    Run one unit unless it is recorded: 'done', 'failed', 'skipped', 'abandoned' or
    'transient'. The model is loaded once a process.'''
    return _work_unit(run, unit)
)py",
           c.attr("__dict__"));
  c.def("status", [](const std::string& dir) { return status_dict(corpus_status(dir)); }, py::arg("run"),
        "done / failed (by kind) / pending units, rows, rows per second, an ETA");
  c.def("merge", &merge, py::arg("run"), py::arg("out"), py::arg("table") = "", py::arg("partial") = false,
        "Every video's results in manifest order into `out`, as one framepipe.run writes them.");
  c.def("run_dask", &run_dask, py::arg("run"), py::arg("client"), py::arg("retries") = 0,
        "Every pending unit as one task of a dask.distributed Client; returns the status after.");
}

}  // namespace framepipe::python
