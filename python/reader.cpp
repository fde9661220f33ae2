// framepipe.VideoReader: Decord's calls with Decord's meaning, plus framepipe's own (times,
// sample specs, clips, tensors), on the C++ VideoReader. Decoding runs without the GIL; a
// reader pickles as its source, options and index, so it re-opens in a DataLoader worker
// without scanning again.
#include <pthread.h>

#include "py_reader.hpp"

namespace framepipe::python {

std::atomic<uint64_t> g_fork_generation{0};

std::vector<int64_t> to_indices(py::handle obj) {
  if (py::isinstance<py::int_>(obj)) return {obj.cast<int64_t>()};
  py::array a = py::module_::import("numpy").attr("asarray")(obj);
  const char kind = a.dtype().kind();
  if (a.size() > 0 && kind != 'i' && kind != 'u')
    throw ConfigError("indices must be integers (a list, range or integer numpy array), not " +
                      py::str(a.dtype()).cast<std::string>() + " values");
  return py::cast<std::vector<int64_t>>(a.attr("astype")("int64").attr("ravel")());
}

namespace {

extern "C" void framepipe_after_fork_in_child() { g_fork_generation.fetch_add(1); }

py::array frames_array(std::shared_ptr<FrameBatch> b) {
  py::object owner = py::cast(b);
  return batch_array(*b, owner);
}

py::dict metadata(const MediaInfo& info) {
  return py::module_::import("json").attr("loads")(media_info_json(info)).cast<py::dict>();
}

// (w, h) from size=None | int | (w, h).
void parse_size(py::handle size, int& w, int& h) {
  if (size.is_none()) return;
  if (py::isinstance<py::int_>(size)) {
    w = h = size.cast<int>();
    if (w <= 0) throw ConfigError("size must be positive, given " + std::to_string(w));
    return;
  }
  auto v = py::cast<std::vector<int>>(size);
  if (v.size() != 2) throw ConfigError("size must be N or (width, height)");
  w = v[0];
  h = v[1];
  if (w <= 0 || h <= 0)
    throw ConfigError("size must be positive, given (" + std::to_string(w) + ", " + std::to_string(h) + ")");
}

std::array<float, 3> triple(py::handle v, std::array<float, 3> fallback, const char* what) {
  if (v.is_none()) return fallback;
  if (py::isinstance<py::float_>(v) || py::isinstance<py::int_>(v)) {
    const float x = v.cast<float>();
    return {x, x, x};
  }
  auto l = py::cast<std::vector<float>>(v);
  if (l.size() != 3) throw ConfigError(std::string(what) + " must have 3 values (one per channel)");
  return {l[0], l[1], l[2]};
}

}  // namespace

Source source_of(py::handle source, const char* who) {
  if (py::isinstance<py::bytes>(source) || py::isinstance<py::bytearray>(source) ||
      py::isinstance<py::memoryview>(source)) {
    py::buffer_info info = py::reinterpret_borrow<py::buffer>(source).request();
    const auto* p = static_cast<const uint8_t*>(info.ptr);
    return Source::from_bytes(std::vector<uint8_t>(p, p + info.size * info.itemsize));
  }
  if (py::isinstance<py::str>(source) || py::hasattr(source, "__fspath__"))
    return Source(py::str(py::module_::import("os").attr("fspath")(source)).cast<std::string>());
  throw ConfigError(std::string(who) + ": source must be a path, a URL or bytes, not " +
                    py::str(py::type::of(source).attr("__name__")).cast<std::string>());
}

// VideoReader(source, *, width=..., ...): the options of ReaderKwargs.
void add_constructor(py::class_<PyReader>& cls) {
  cls
      .def(py::init([](py::object source, int width, int height, std::string resize, std::string pix, int num_threads,
                       std::string index, std::string interpolation, int workers, int stream,
                       py::dict input_options, bool autorotate, py::object strict, int64_t max_pixels,
                       std::string device, int64_t batch_bytes) {
             ReaderKwargs a;
             a.width = width;
             a.height = height;
             a.resize = std::move(resize);
             a.pix = std::move(pix);
             a.num_threads = num_threads;
             a.index = std::move(index);
             a.interpolation = std::move(interpolation);
             a.workers = workers;
             a.stream = stream;
             a.input_options = input_options_of(input_options);
             a.autorotate = autorotate;
             set_strict(a, strict);
             a.max_pixels = max_pixels;
             a.device = std::move(device);
             a.batch_bytes = batch_bytes;
             return PyReader::open(std::move(source), std::move(a));
           }),
           py::arg("source"), py::kw_only(), py::arg("width") = -1, py::arg("height") = -1,
           py::arg("resize") = "stretch", py::arg("pix") = "rgb", py::arg("num_threads") = 0,
           py::arg("index") = "exact", py::arg("interpolation") = "bicubic", py::arg("workers") = 0,
           py::arg("stream") = -1, py::arg("input_options") = py::dict(), py::arg("autorotate") = true,
           py::arg("strict") = false, py::arg("max_pixels") = kDefaultMaxPixels, py::arg("device") = "cpu",
           py::arg("batch_bytes") = kDefaultBatchBytes);
}

// Decord's calls, with Decord's meaning.
void add_decord_calls(py::class_<PyReader>& cls) {
  cls
      .def("__len__", &PyReader::size)
      .def("__getitem__",
           [](PyReader& r, int64_t i) { return frames_array(r.frame(i)); }, py::arg("i"),
           "frame i (negative: from the end) as an (H, W, C) uint8 array")
      .def("__getitem__",
           [](PyReader& r, py::slice s) {
             py::ssize_t start = 0, stop = 0, step = 0, n = 0;
             if (!s.compute(static_cast<py::ssize_t>(r.size()), &start, &stop, &step, &n)) throw py::error_already_set();
             std::vector<int64_t> idx(static_cast<size_t>(n));
             for (py::ssize_t k = 0; k < n; ++k) idx[static_cast<size_t>(k)] = start + k * step;
             return frames_array(r.batch(idx));
           },
           "frames of a slice as an (N, H, W, C) uint8 array")
      .def("get_batch", [](PyReader& r, py::object indices) { return frames_array(r.batch(to_indices(indices))); },
           py::arg("indices"),
           "frames in the order asked (duplicates allowed) as an (N, H, W, C) uint8 array; each keyframe group is "
           "decoded at most once")
      .def("get_frame_timestamp",
           [](PyReader& r, py::object indices) {
             const std::vector<int64_t> idx = r.normalize(to_indices(indices));
             py::array_t<double> out({static_cast<py::ssize_t>(idx.size()), py::ssize_t{2}});
             double* times = out.mutable_data();
             r.locked([&](VideoReader& reader) {
               const FrameIndex& index = reader.index();
               for (size_t k = 0; k < idx.size(); ++k) {
                 const int64_t i = idx[k];
                 if (i < 0 || i >= index.size())
                   throw OutOfRangeError(r.source().name() + ": frame " + std::to_string(i) + " is out of range [0, " +
                                         std::to_string(index.size()) + ")");
                 times[2 * k] = index.time_of(i);
                 times[2 * k + 1] = i + 1 < index.size() ? index.time_of(i + 1) : index.end_seconds();
               }
             });
             return out;
           },
           py::arg("indices"),
           "(N, 2) float64: the second each frame is shown at (ffprobe's pts_time) and the second the next one is")
      .def("get_key_indices",
           [](PyReader& r) {
             const std::vector<int64_t> keys = r.locked([](VideoReader& reader) {
               const FrameIndex& index = reader.index();
               std::vector<int64_t> k;
               for (int64_t i = 0; i < index.size(); ++i)
                 if (index[i].keyframe) k.push_back(i);
               return k;
             });
             return py::array_t<int64_t>(static_cast<py::ssize_t>(keys.size()), keys.data());
           },
           "indices of the key frames")
      .def("get_avg_fps", [](PyReader& r) { return r.locked([](VideoReader& v) { return v.info().video.fps; }); },
           "average frame rate: frames / measured duration (the header's with index='header')")
      .def("seek", &PyReader::seek, py::arg("i"), "next() returns frame i, then i+1, ... (decoded ahead on a thread)")
      .def("next", [](PyReader& r) { return frames_array(r.next()); },
           "the next frame as an (H, W, C) array (its base, a framepipe.Frames, says which); StopIteration at the "
           "end")
      .def("__iter__", [](PyReader& r) -> PyReader& {
             r.seek(0);
             return r;
           }, py::return_value_policy::reference_internal)
      .def("__next__", [](PyReader& r) { return frames_array(r.next()); });
}

// framepipe's own: provenance, times, sample specs, clips.
void add_frame_calls(py::class_<PyReader>& cls) {
  cls
      .def("frame", &PyReader::frame, py::arg("i"), "frame i as a framepipe.Frames (with index, pts, t, keyframe)")
      .def("frames", [](PyReader& r, py::object indices) { return r.batch(to_indices(indices)); }, py::arg("indices"),
           "frames in the order asked, as a framepipe.Frames (with index, pts, t, keyframe)")
      .def("frame_at", [](PyReader& r, double t) { return r.frames_at({t}); }, py::arg("seconds"),
           "the frame on screen at this second (largest pts <= t), as a framepipe.Frames of one")
      .def("frames_at", [](PyReader& r, std::vector<double> seconds) { return r.frames_at(seconds); },
           py::arg("seconds"), "the frames on screen at these seconds, as a framepipe.Frames")
      .def("index_at",
           [](PyReader& r, double t) { return r.locked([t](VideoReader& v) { return v.index_at(t); }); },
           py::arg("seconds"))
      .def("sample", [](PyReader& r, const std::string& spec) { return r.sample(spec, false); }, py::arg("spec"),
           ("the frames a sample spec picks, as a framepipe.Frames ((N, T, H, W, C) for clips):\n" +
            std::string(sample_grammar())).c_str())
      .def("sample_indices",
           [](PyReader& r, const std::string& spec) {
             const SamplePlan plan = r.plan(spec);
             py::array_t<int64_t> a(static_cast<py::ssize_t>(plan.frames.size()), plan.frames.data());
             return plan.clip_len > 1 ? a.reshape({static_cast<py::ssize_t>(plan.rows()),
                                                   static_cast<py::ssize_t>(plan.clip_len)})
                                      : py::array(a);
           },
           py::arg("spec"), "the frame indices a sample spec picks, without decoding them (scene specs decode)")
      .def("clips", [](PyReader& r, const std::string& spec) { return r.sample(spec, true); }, py::arg("spec"),
           "clips:LEN:INTERVAL:COUNT[:uniform|random|sliding[:STRIDE]][:end=...][:seed=S] as a framepipe.Frames of "
           "(N, T, H, W, C)");
}

// tensor(): a model-ready batch.
void add_tensor_call(py::class_<PyReader>& cls) {
  cls
      .def("tensor",
           [](PyReader& r, py::object what, py::object size, std::string resize, py::object layout, std::string dtype,
              py::object mean, py::object std, bool scale, bool clip_norm, py::object pix, py::object interpolation) {
             SamplePlan plan;
             if (py::isinstance<py::str>(what)) {
               plan = r.plan(what.cast<std::string>());
             } else {
               plan.frames = r.normalize(to_indices(what));
               plan.clip_len = 1;
               // An (N, T) array: N clips of T frames each.
               py::array shaped = py::module_::import("numpy").attr("asarray")(what);
               if (shaped.ndim() == 2 && shaped.shape(1) > 0) plan.clip_len = shaped.shape(1);
             }
             ImageOptions image = r.locked([](VideoReader& v) { return v.options().image; });
             parse_size(size, image.width, image.height);
             image.resize = parse_resize_mode(resize);
             if (!pix.is_none()) image.pix = parse_pixel_format(pix.cast<std::string>());
             if (!interpolation.is_none()) image.interpolation = parse_interpolation(interpolation.cast<std::string>());
             TensorOptions t;  // clips default to ncthw, what 3-D convnets (r3d_18, ...) take; frames to nchw
             t.layout = layout.is_none() ? (plan.clip_len > 1 ? Layout::NCTHW : Layout::NCHW)
                                         : parse_layout(layout.cast<std::string>());
             t.dtype = parse_dtype(dtype);
             t.scale = scale;
             t.mean = triple(mean, t.mean, "mean");
             t.std = triple(std, t.std, "std");
             t.clip_norm = clip_norm;
             if (t.layout == Layout::NCTHW && plan.clip_len <= 1)
               throw ConfigError("layout ncthw is for clips; sample with a clips spec, or use nchw / nhwc");
             return r.tensor(std::move(plan), image, t);
           },
           py::arg("what"), py::kw_only(), py::arg("size") = py::none(), py::arg("resize") = "stretch",
           py::arg("layout") = py::none(), py::arg("dtype") = "f32", py::arg("mean") = py::none(),
           py::arg("std") = py::none(), py::arg("scale") = true, py::arg("clip_norm") = false,
           py::arg("pix") = py::none(), py::arg("interpolation") = py::none(),
           R"doc(
A model-ready batch of the frames `what` names (indices, or a sample spec such as "fps:2" or
"clips:16:2:4"): resized to size=(w, h) (default: the reader's size), f32 scaled to [0, 1]
then (x - mean) / std per channel (or per-clip normalised), in layout nchw | nhwc for
frames, ncthw (the default: (N, C, T, H, W), what torchvision's video models take) | ntchw |
nthwc for clips. Returns a framepipe.Tensor (numpy, buffer protocol and DLPack, no copies).)doc");
}

// What the reader is and what it has cost.
void add_properties(py::class_<PyReader>& cls) {
  cls
      .def_property_readonly("metadata",
                             [](PyReader& r) {
                               const MediaInfo info = r.locked([](VideoReader& v) { return v.info(); });
                               return metadata(info);
                             },
                             "what `framepipe probe --json` says: frames (measured), frames_header, width, height, "
                             "fps, duration, codec, pix_fmt, color_matrix, color_range, rotation, audio, ...")
      .def_property_readonly("shape",
                             [](PyReader& r) {
                               const auto [n, h, w, c] = r.locked([](VideoReader& v) {
                                 return std::make_tuple(v.size(), v.out_height(), v.out_width(), v.out_channels());
                               });
                               return py::make_tuple(n, h, w, c);
                             },
                             "(frames, height, width, channels) of what the reader returns")
      .def_property_readonly("source", [](PyReader& r) { return r.source().name(); })
      .def_property_readonly("size_is_exact",
                             [](PyReader& r) { return r.locked([](VideoReader& v) { return v.size_is_exact(); }); })
      .def_property_readonly("stats",
                             [](PyReader& r) {
                               const auto [s, damage, cut] = r.locked([](VideoReader& v) {
                                 return std::make_tuple(v.stats(), v.damage_reports(), v.info().video.truncated);
                               });
                               py::dict d;
                               d["frames_decoded"] = s.frames_decoded;
                               d["frames_returned"] = s.frames_returned;
                               d["seeks"] = s.seeks;
                               d["packets_skipped"] = s.packets_skipped;
                               d["parallel_runs"] = s.parallel_runs;
                               d["damage_reports"] = damage;
                               d["truncated"] = cut.empty() ? py::object(py::none()) : py::object(py::str(cut));
                               return d;
                             },
                             "what the requests so far cost: frames decoded and returned, seeks, ...; damage_reports: errors FFmpeg "
                             "reported (and concealed) while decoding; truncated: why the file looks cut short, or None")
      .def("__repr__",
           [](PyReader& r) {
             const auto [n, w, h] = r.locked([](VideoReader& v) {
               return std::make_tuple(v.size(), v.out_width(), v.out_height());
             });
             return "<framepipe.VideoReader '" + r.source().name() + "' " + std::to_string(n) + " frames " +
                    std::to_string(w) + "x" + std::to_string(h) + ">";
           });
}

void bind_reader(py::module_& m) {
  pthread_atfork(nullptr, nullptr, framepipe_after_fork_in_child);
  py::class_<PyReader> cls(m, "VideoReader", R"doc(
Exact frames of one video stream: frame i is the i-th frame ``ffmpeg -i X -vsync passthrough``
decodes, in RGB (or BGR, gray) H x W x C uint8.

    VideoReader(source, *, width=-1, height=-1, resize="stretch", pix="rgb", num_threads=0,
                index="exact", interpolation="bicubic", workers=0, stream=-1, autorotate=True,
                strict=False, max_pixels=67108864, device="cpu", batch_bytes=8589934592)

source: a path, a URL, or bytes. width/height: output size (-1: the source's); resize:
stretch | letterbox | crop | short. pix: rgb | bgr | gray. index: exact (scan the packets at
open and check their claims, decoding where they fail: exact counts), decode (decode every
frame at open: the ground truth, slower) or header (fast open; counts estimated until random
access needs them). autorotate: frames upright as the display matrix says (as the ffmpeg
CLI); False: as stored. strict: damage the decoder met in what a request hands out (or what
that was decoded from) is a DecodeError (default: counted, and the frame is what FFmpeg
conceals, as the ffmpeg CLI); "lost": only a packet the decoder refused is (Decord's rule).
What an open GOP's seek decodes without its references is no damage. max_pixels: a
video larger than this (width x height, as its header claims or any frame comes) is refused
before memory is taken (default 8192 x 8192; 0: no limit), as the CLI's --max-pixels.
batch_bytes: a request (get_batch, a slice, tensor) whose frames would take more than this
many bytes at once is a ConfigError before memory is taken (default 8 GiB; 0: no limit), as
the CLI's --batch-bytes.
device: "cpu", or "cuda" / "cuda:N" to decode with NVDEC (frames copied to host memory: the
CPU's frames); without an NVIDIA driver or device, an UnsupportedError naming what is missing.
num_threads: decoder threads (0: FFmpeg's choice). workers: decoders for separate keyframe
groups of one batch (0: one per core).

Decord's calls mean what they mean in Decord: len(), reader[i], reader[a:b:c], get_batch,
get_frame_timestamp, get_key_indices, get_avg_fps, seek/next. Arrays are new per call and
own their memory (their base is a framepipe.Frames); the GIL is released while decoding. A
reader is used by one thread at a time (calls from several are serialised); open one per
thread for parallel work. It pickles (source, options and index), so DataLoader workers get
their own without scanning again.)doc");
  add_constructor(cls);
  add_decord_calls(cls);
  add_frame_calls(cls);
  add_tensor_call(cls);
  add_properties(cls);
  cls
      .def(py::pickle(&reader_state, [](const py::tuple& state) { return reader_from_state(state); }));
  m.def("probe",
        [](py::object source) {
          std::unique_ptr<PyReader> r = PyReader::open(std::move(source), ReaderKwargs{});
          return metadata(r->locked([](VideoReader& v) { return v.info(); }));
        },
        py::arg("source"), "what `framepipe probe --json` says about a file, URL or bytes, as a dict");
  m.attr("sample_grammar") = sample_grammar();
}

}  // namespace framepipe::python
