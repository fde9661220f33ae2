// framepipe.run: the CLI's `framepipe run` (framepipe::Runner) on a thread of its own, with
// results coming back as an iterator of dicts. The model is a file, a builtin: detector, or
// any Python callable; decoding, sampling, packing, post-processing, temporal aggregation and
// the sinks stay in C++ threads, and only the callable itself takes the GIL.
#include <atomic>
#include <chrono>
#include <cerrno>
#include <exception>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "bindings.hpp"
#include "framepipe/error.hpp"
#include "framepipe/infer/backend.hpp"
#include "framepipe/bounded_queue.hpp"
#include "framepipe/pipeline/run.hpp"

namespace framepipe::python {

namespace {

// A Python object that may be released from any thread (it takes the GIL to do so).
std::shared_ptr<py::object> shared_object(py::object o) {
  return std::shared_ptr<py::object>(new py::object(std::move(o)), [](py::object* p) {
    py::gil_scoped_acquire gil;
    delete p;
  });
}

// A batch for the callable: its own float32 (or uint8) array, so it may keep it.
py::array batch_for_python(const Tensor& t) {
  const auto& shape = t.shape();
  std::vector<py::ssize_t> shp(shape.begin(), shape.end());
  if (t.dtype() == DType::F32) {
    py::array_t<float> a(shp);
    std::memcpy(a.mutable_data(), t.data(), t.nbytes());
    return a;
  }
  py::array_t<uint8_t> a(shp);
  std::memcpy(a.mutable_data(), t.data(), t.nbytes());
  return a;
}

NamedTensor output_from_python(py::handle value, const std::string& name, const std::string& model) {
  py::object v = py::reinterpret_borrow<py::object>(value);
  if (py::hasattr(v, "detach") && py::hasattr(v, "cpu")) v = v.attr("detach")().attr("cpu")();  // a torch tensor
  py::array_t<float, py::array::c_style | py::array::forcecast> a;
  try {
    a = py::array_t<float, py::array::c_style | py::array::forcecast>::ensure(py::module_::import("numpy").attr("asarray")(v));
  } catch (const py::error_already_set& e) {
    throw ModelError("model " + model + ": output '" + name + "' is not an array of numbers: " + e.what());
  }
  if (!a) {
    PyErr_Clear();
    throw ModelError("model " + model + ": output '" + name + "' is not an array of numbers");
  }
  std::vector<int64_t> shape(a.shape(), a.shape() + a.ndim());
  NamedTensor out{name, Tensor::allocate(shape, Layout::NCHW, DType::F32)};
  std::memcpy(out.tensor.data(), a.data(), out.tensor.nbytes());
  return out;
}

bool is_container(py::handle v) {
  if (py::isinstance<py::dict>(v)) return true;
  if (!py::isinstance<py::tuple>(v) && !py::isinstance<py::list>(v)) return false;
  for (auto item : py::reinterpret_borrow<py::sequence>(v))  // a list of numbers is an array
    if (!py::isinstance<py::dict>(item) && !py::isinstance<py::tuple>(item) && !py::isinstance<py::list>(item) &&
        !py::hasattr(item, "shape"))
      return false;
  return true;
}

// Named as TorchScript's outputs are: a tuple's or list's items NAME0, NAME1, ..., a dict's
// entries by their keys (a list of dicts, as torchvision's detectors answer, repeats them).
void collect_python(py::handle value, const std::string& name, const std::string& model, std::vector<NamedTensor>& out) {
  if (py::isinstance<py::dict>(value)) {
    for (auto item : py::reinterpret_borrow<py::dict>(value))
      collect_python(item.second, py::str(item.first).cast<std::string>(), model, out);
  } else if (is_container(value)) {
    size_t k = 0;
    for (auto item : py::reinterpret_borrow<py::sequence>(value)) collect_python(item, name + std::to_string(k++), model, out);
  } else {
    out.push_back(output_from_python(value, name, model));
  }
}

// The callable's answer: one array, a tuple or list of arrays, or a dict of named arrays
// (nested as deep as the model likes).
std::vector<NamedTensor> outputs_from_python(py::handle result, const std::string& model) {
  if (result.is_none())
    throw ModelError("model " + model + ": the callable returned None (it must return an array, a tuple of arrays "
                     "or a dict of them)");
  std::vector<NamedTensor> out;
  if (py::isinstance<py::dict>(result) || is_container(result)) {
    collect_python(result, "output", model, out);
  } else {
    out.push_back(output_from_python(result, "output0", model));
  }
  return out;
}

// The description of a callable model: a dict (as the .json beside a model file would hold)
// or a path to such a .json.
// spec=: a dict or a .json path, parsed for `model_path` ("" for a callable).
ModelSpec spec_from_python(py::handle spec, const std::string& model_path) {
  std::string text, origin;
  if (py::isinstance<py::dict>(spec)) {
    text = py::module_::import("json").attr("dumps")(spec).cast<std::string>();
    origin = "<spec dict>";
  } else {
    origin = py::str(py::module_::import("os").attr("fspath")(spec)).cast<std::string>();
    std::ifstream in(origin, std::ios::binary);
    if (!in) throw ModelError("model description " + origin + ": no such file");
    std::ostringstream ss;
    ss << in.rdbuf();
    text = ss.str();
  }
  return parse_model_spec(text, origin, model_path);
}

ModelSpec spec_for_callable(py::handle spec, py::handle fn) {
  if (spec.is_none())
    throw ModelError("a callable model needs spec=: its description (a dict or a .json path) with task, input size, "
                     "layout, mean/std and labels, as README.md's \"The model description\" lists");
  ModelSpec s = spec_from_python(spec, "");
  s.format = ModelFormat::Function;
  s.path = "python";
  if (s.name.empty())
    s.name = py::hasattr(fn, "__name__") ? py::str(fn.attr("__name__")).cast<std::string>() : std::string("callable");
  return s;
}

std::unique_ptr<Backend> callable_backend(py::object fn, py::handle spec_arg, const RunOptions& o) {
  ModelSpec spec = spec_with_overrides(spec_for_callable(spec_arg, fn), o);
  auto callable = shared_object(std::move(fn));
  const std::string name = spec.name;
  return function_backend(
      std::move(spec),
      [callable, name](const Tensor& batch) {
        py::gil_scoped_acquire gil;
        try {
          py::object result = (*callable)(batch_for_python(batch));
          return outputs_from_python(result, name);
        } catch (py::error_already_set& e) {
          throw ModelError("model " + name + ": the callable raised " + std::string(e.what()));
        }
      },
      "python");
}

// progress=callable: called with {"video", "done", "total", "rate", "eta", "finished"} (rows;
// total 0 and eta None where unknown) at most twice a second, and at each video's end.
std::function<void(const ProgressUpdate&)> progress_callback(py::object fn) {
  auto callable = shared_object(std::move(fn));
  auto last = std::make_shared<std::chrono::steady_clock::time_point>();
  return [callable, last](const ProgressUpdate& u) {
    const auto now = std::chrono::steady_clock::now();
    if (!u.finished && now - *last < std::chrono::milliseconds(500)) return;
    *last = now;
    py::gil_scoped_acquire gil;
    py::dict d;
    d["video"] = u.label;
    d["done"] = u.done;
    d["total"] = u.total;
    d["rate"] = u.rate;
    d["eta"] = u.eta < 0 ? py::object(py::none()) : py::object(py::float_(u.eta));
    d["finished"] = u.finished;
    try {
      (*callable)(d);
    } catch (py::error_already_set& e) {
      throw ConfigError("the progress callback raised " + std::string(e.what()));
    }
  };
}

// One run on its own thread; the iterator the caller holds takes its result lines.
class PyRun {
 public:
  PyRun(std::vector<std::string> inputs, py::object model, py::object spec, RunOptions options)
      : inputs_(std::move(inputs)), lines_(256, QueuePolicy::Block) {
    options.cancel = &cancel_;
    options.on_result = [this](const std::string& line) { lines_.push(line); };  // false: nobody listens any more
    if (py::isinstance<py::str>(model) || py::hasattr(model, "__fspath__")) {
      const std::string path = py::str(py::module_::import("os").attr("fspath")(model)).cast<std::string>();
      if (spec.is_none()) {
        py::gil_scoped_release nogil;
        runner_ = std::make_unique<Runner>(path, std::move(options));
      } else {  // the model file described by spec= (the CLI's --spec)
        if (!std::filesystem::is_regular_file(path)) throw ModelError("model " + path + ": no such file", ENOENT);
        ModelSpec s = spec_from_python(spec, path);
        py::gil_scoped_release nogil;
        runner_ = std::make_unique<Runner>(std::move(s), std::move(options));
      }
    } else if (PyCallable_Check(model.ptr())) {
      auto backend = callable_backend(std::move(model), spec, options);
      runner_ = std::make_unique<Runner>(std::move(backend), std::move(options));
    } else {
      throw ModelError("model must be a model file, a builtin: name, or a callable, not " +
                       py::str(py::type::of(model).attr("__name__")).cast<std::string>());
    }
    thread_ = std::thread([this] {
      try {
        summary_ = runner_->run(inputs_);
      } catch (...) {
        error_ = std::current_exception();
      }
      lines_.close();
    });
  }

  ~PyRun() {
    try {
      close();
    } catch (...) {  // nothing escapes a destructor; the run's own error was the caller's to ask for
    }
  }

  py::object next() {
    std::optional<std::string> line = take();
    if (!line) {
      finish();
      throw py::stop_iteration();
    }
    return py::module_::import("json").attr("loads")(*line);
  }

  // Runs to the end (result lines not taken are dropped) and returns the summary.
  py::dict wait() {
    while (take()) {
    }
    finish();
    return summary();
  }

  // Stops the run between batches; every output written so far is closed properly.
  void close() {
    cancel_ = true;
    lines_.close();
    py::gil_scoped_release nogil;
    if (thread_.joinable()) thread_.join();
  }

  py::dict summary() const {
    py::dict d;
    d["results"] = summary_.results;
    d["videos"] = summary_.videos;
    d["interrupted"] = summary_.interrupted;
    d["failed"] = summary_.failed;
    d["error"] = summary_.error ? py::object(py::str(to_string(*summary_.error))) : py::object(py::none());
    d["metrics"] = summary_.metrics_json.empty()
                       ? py::object(py::none())
                       : py::module_::import("json").attr("loads")(summary_.metrics_json);
    return d;
  }

 private:
  // The next line; nullopt at the end. Waits without the GIL, a tenth of a second at a time,
  // so that Ctrl-C reaches Python: it stops the run (outputs closed) and raises.
  std::optional<std::string> take() {
    for (;;) {
      std::optional<std::string> line;
      bool ended = false;
      {
        py::gil_scoped_release nogil;
        line = lines_.pop_for(std::chrono::milliseconds(100));
        ended = !line && lines_.closed() && lines_.size() == 0;
      }
      if (line || ended) return line;
      if (PyErr_CheckSignals() != 0) {
        py::error_already_set interrupted;  // KeyboardInterrupt, or what a handler raised
        close();
        throw interrupted;
      }
    }
  }

  void finish() {
    {
      py::gil_scoped_release nogil;
      if (thread_.joinable()) thread_.join();
    }
    if (error_) {
      std::exception_ptr e = error_;
      error_ = nullptr;
      std::rethrow_exception(e);
    }
  }

  std::vector<std::string> inputs_;
  BoundedQueue<std::string> lines_;
  std::atomic<bool> cancel_{false};
  std::unique_ptr<Runner> runner_;
  std::thread thread_;
  RunSummary summary_;
  std::exception_ptr error_;
};

std::vector<std::string> inputs_of(py::handle source) {
  auto one = [](py::handle s) { return py::str(py::module_::import("os").attr("fspath")(s)).cast<std::string>(); };
  if (py::isinstance<py::str>(source) || py::hasattr(source, "__fspath__")) return {one(source)};
  std::vector<std::string> out;
  for (auto s : py::reinterpret_borrow<py::iterable>(source)) out.push_back(one(s));
  return out;
}

std::string opt_str(py::handle v) {
  return v.is_none() ? std::string() : py::str(py::module_::import("os").attr("fspath")(v)).cast<std::string>();
}

}  // namespace

void bind_run_class(py::module_& m) {
  py::class_<PyRun>(m, "Run", R"doc(
A run in progress (framepipe.run returns one). Iterate it for the result dicts, in order, as
the JSON Lines file holds them; wait() runs it to the end and returns a summary; close() (or
leaving a with block, or dropping it) stops it between batches with every output closed.)doc")
      .def("__iter__", [](PyRun& r) -> PyRun& { return r; }, py::return_value_policy::reference_internal)
      .def("__next__", &PyRun::next)
      .def("wait", &PyRun::wait,
           "run to the end (results not yet taken are dropped); returns {results, videos, failed, interrupted, error, "
           "metrics}")
      .def("close", &PyRun::close)
      .def("__enter__", [](PyRun& r) -> PyRun& { return r; }, py::return_value_policy::reference_internal)
      .def("__exit__", [](PyRun& r, py::args) { r.close(); })
      .def_property_readonly("summary", &PyRun::summary);
}

void bind_run(py::module_& m) {
  bind_run_class(m);
  m.def(
      "run",
      [](py::object source, py::object model, py::object spec, py::object sample, int64_t batch, std::string aggregate,
         int window, double alpha, bool track, bool segments, double on, double off, double min_duration, int top_k,
         py::object conf, py::object iou, py::object out, py::object annotate, py::object embeddings,
         py::object metrics, std::string engine, int model_threads, int num_threads, int workers, bool strict,
         bool live, std::string queue, double duration, double timeout, int reconnects, double batch_timeout_ms,
         std::string rtsp_transport, py::dict input_options, py::object progress, bool autorotate, py::object preview) {
        RunOptions o;
        o.sample = sample.is_none() ? std::string() : sample.cast<std::string>();
        o.batch = batch;
        o.aggregate = std::move(aggregate);
        o.window = window;
        o.alpha = static_cast<float>(alpha);
        o.track = track;
        o.segments = segments;
        o.on = static_cast<float>(on);
        o.off = static_cast<float>(off);
        o.min_duration = min_duration;
        o.top_k = top_k;
        o.conf = conf.is_none() ? -1.f : conf.cast<float>();
        o.iou = iou.is_none() ? -1.f : iou.cast<float>();
        o.out = opt_str(out);
        o.annotate = opt_str(annotate);
        o.embeddings = opt_str(embeddings);
        o.metrics = opt_str(metrics);
        if (!preview.is_none()) o.preview = py::str(preview).cast<std::string>();
        o.engine = std::move(engine);
        o.model_threads = model_threads;
        o.reader.threads = num_threads;
        o.reader.workers = workers;
        o.reader.strict = strict;
        o.live = live;
        o.queue = std::move(queue);
        o.duration = duration;
        o.timeout = timeout;
        o.reconnects = reconnects;
        o.batch_timeout_ms = batch_timeout_ms;
        o.reader.rtsp_transport = std::move(rtsp_transport);
        o.reader.input_options = input_options_of(input_options);
        o.reader.autorotate = autorotate;
        if (PyCallable_Check(progress.ptr())) {
          o.on_progress = progress_callback(progress);
        } else if (progress.cast<bool>()) {  // a bar on a terminal, lines in a log or notebook; notes on stderr
          o.on_progress = ProgressDisplay();
          o.on_note = [](const std::string& text) { std::fprintf(stderr, "framepipe: %s\n", text.c_str()); };
        }
        return std::make_unique<PyRun>(inputs_of(source), std::move(model), std::move(spec), std::move(o));
      },
      py::arg("source"), py::arg("model"), py::kw_only(), py::arg("spec") = py::none(), py::arg("sample") = py::none(),
      py::arg("batch") = 8, py::arg("aggregate") = "none", py::arg("window") = 5, py::arg("alpha") = 0.3,
      py::arg("track") = false, py::arg("segments") = false, py::arg("on") = 0.6, py::arg("off") = 0.4,
      py::arg("min_duration") = 0.0, py::arg("top_k") = 5, py::arg("conf") = py::none(), py::arg("iou") = py::none(),
      py::arg("out") = py::none(), py::arg("annotate") = py::none(), py::arg("embeddings") = py::none(),
      py::arg("metrics") = py::none(), py::arg("engine") = "auto", py::arg("model_threads") = 0,
      py::arg("num_threads") = 0, py::arg("workers") = 0, py::arg("strict") = false, py::arg("live") = false,
      py::arg("queue") = "latest", py::arg("duration") = 0.0, py::arg("timeout") = 10.0, py::arg("reconnects") = -1,
      py::arg("batch_timeout_ms") = 0.0, py::arg("rtsp_transport") = "tcp",
      py::arg("input_options") = py::dict(), py::arg("progress") = py::bool_(false), py::arg("autorotate") = true,
      py::arg("preview") = py::none(),
      R"doc(
Runs a model over videos as `framepipe run` does, and returns a framepipe.Run: iterate it for
the result dicts ({"video", "frame", "pts", "t", "classes" | "objects" | "embedding" |
"segment" | "gap", ...}), or call wait().

source: a path, a URL, a folder, a .txt list, or a list of them. model: a model file with its
description beside it, "builtin:hog-people" | "builtin:motion" | "builtin:faces", or any
callable that takes a numpy batch (shaped and normalised as spec says) and returns an array,
a tuple of arrays or a dict of them (numpy, or torch tensors); spec: the callable's
description, a dict or a .json path. sample: a sample spec (default: every frame; clip
models: consecutive clips). out: results file (.jsonl, or .csv); annotate: an annotated copy
(H.264, the source's timestamps and audio). progress: True for a bar on a terminal and a line
every 10 s in a log or notebook (stderr), or a callable that gets {"video", "done", "total",
"rate", "eta", "finished"} at most twice a second. preview: "[HOST:]PORT" (or a port) serves a
page to watch the run, as the CLI's --preview. The other options are the CLI's.)doc");
}

}  // namespace framepipe::python
