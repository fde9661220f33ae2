// framepipe.VideoReader: Decord's calls with Decord's meaning, plus framepipe's own (times,
// sample specs, clips, tensors), on the C++ VideoReader. Decoding runs without the GIL; a
// reader pickles as its source, options and index, so it re-opens in a DataLoader worker
// without scanning again.
#include <pthread.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <tuple>

#include "bindings.hpp"
#include "framepipe/error.hpp"
#include "framepipe/reader/video_reader.hpp"

namespace framepipe::python {

namespace {

// fork() copies a reader but not its threads (FFmpeg's decoder threads, a read-ahead): a
// forked child (DataLoader's default on Linux) that used the copy would wait for them
// forever. Each fork bumps this; a reader from an older generation re-opens itself, with the
// index it has, on first use in the child.
std::atomic<uint64_t> g_fork_generation{0};
extern "C" void framepipe_after_fork_in_child() { g_fork_generation.fetch_add(1); }

// What the Python constructor was given, kept to re-open (pickling) and to open readers at
// other sizes for tensor().
struct ReaderArgs {
  int width = -1, height = -1;
  std::string resize = "stretch", pix = "rgb", interpolation = "bicubic", index = "exact";
  int num_threads = 0, workers = 0, stream = -1;
  InputOptions input_options;

  ReaderOptions options() const {
    if ((width > 0) != (height > 0))
      throw ConfigError("VideoReader: give both width and height (or neither, for the source size); given " +
                        std::to_string(width) + " x " + std::to_string(height));
    ReaderOptions o;
    o.image.width = std::max(width, 0);
    o.image.height = std::max(height, 0);
    o.image.resize = parse_resize_mode(resize);
    o.image.pix = parse_pixel_format(pix);
    o.image.interpolation = parse_interpolation(interpolation);
    if (index == "exact") {
      o.index = IndexMode::Exact;
    } else if (index == "header") {
      o.index = IndexMode::Header;
    } else {
      throw ConfigError("VideoReader: index must be 'exact' or 'header', not '" + index + "'");
    }
    o.threads = num_threads;
    o.workers = workers;
    o.stream = stream;
    o.input_options = input_options;
    return o;
  }
};

class PyReader {
 public:
  PyReader(Source source, ReaderArgs args, std::shared_ptr<const FrameIndex> known = nullptr)
      : source_(std::move(source)), args_(std::move(args)), generation_(g_fork_generation.load()) {
    ReaderOptions o = args_.options();
    o.known_index = std::move(known);
    py::gil_scoped_release nogil;
    reader_ = std::make_unique<VideoReader>(source_, o);
  }

  // Called (with the GIL held) before every use: see g_fork_generation.
  void ensure_own_process() {
    if (generation_ == g_fork_generation.load()) return;
    // The index the parent's reader has is plain memory, still good; its other objects are
    // left alone, not destroyed, since their threads do not exist here.
    std::shared_ptr<const FrameIndex> known;
    if (reader_->size_is_exact()) known = std::make_shared<FrameIndex>(reader_->index());
    (void)reader_.release();
    for (auto& [key, r] : sized_) (void)r.release();
    sized_.clear();
    (void)mutex_.release();
    mutex_ = std::make_unique<std::mutex>();
    generation_ = g_fork_generation.load();
    ReaderOptions o = args_.options();
    o.known_index = std::move(known);
    py::gil_scoped_release nogil;
    reader_ = std::make_unique<VideoReader>(source_, o);
  }

  static std::unique_ptr<PyReader> open(py::object source, ReaderArgs args) {
    Source s;
    if (py::isinstance<py::bytes>(source) || py::isinstance<py::bytearray>(source) ||
        py::isinstance<py::memoryview>(source)) {
      py::buffer_info info = py::buffer(source).request();
      const auto* p = static_cast<const uint8_t*>(info.ptr);
      s = Source::from_bytes(std::vector<uint8_t>(p, p + info.size * info.itemsize));
    } else if (py::isinstance<py::str>(source) || py::hasattr(source, "__fspath__")) {
      s = Source(py::str(py::module_::import("os").attr("fspath")(source)).cast<std::string>());
    } else {
      throw ConfigError("VideoReader: source must be a path, a URL or bytes, not " +
                        py::str(py::type::of(source).attr("__name__")).cast<std::string>());
    }
    return std::make_unique<PyReader>(std::move(s), std::move(args));
  }

  int64_t size() {
    ensure_own_process();
    return reader_->size();
  }

  // Python's negative indices; anything else out of range is the library's OutOfRangeError.
  int64_t normalize(int64_t i) { return i < 0 ? i + size() : i; }
  std::vector<int64_t> normalize(const std::vector<int64_t>& v) {
    std::vector<int64_t> out(v.size());
    for (size_t k = 0; k < v.size(); ++k) out[k] = normalize(v[k]);
    return out;
  }

  std::shared_ptr<FrameBatch> batch(const std::vector<int64_t>& indices, int64_t clip_len = 1) {
    ensure_own_process();
    auto b = std::make_shared<FrameBatch>();
    const std::vector<int64_t> wanted = normalize(indices);
    {
      py::gil_scoped_release nogil;
      std::lock_guard lock(*mutex_);
      reader_->frames(wanted, b->batch);
    }
    shape_batch(*b, clip_len);
    return b;
  }

  std::shared_ptr<FrameBatch> frame(int64_t i) {
    ensure_own_process();
    auto b = std::make_shared<FrameBatch>();
    const int64_t wanted = normalize(i);
    {
      py::gil_scoped_release nogil;
      std::lock_guard lock(*mutex_);
      reader_->frame(wanted, frame_);
      take_frame(*b);
    }
    b->shape = {b->batch.height, b->batch.width, b->batch.channels};
    return b;
  }

  std::shared_ptr<FrameBatch> frames_at(const std::vector<double>& seconds) {
    ensure_own_process();
    auto b = std::make_shared<FrameBatch>();
    {
      py::gil_scoped_release nogil;
      std::lock_guard lock(*mutex_);
      b->batch = reader_->frames_at(seconds);
    }
    shape_batch(*b, 1);
    return b;
  }

  std::shared_ptr<FrameBatch> sample(const std::string& spec_text, bool clips_only) {
    ensure_own_process();
    const SampleSpec spec = SampleSpec::parse(spec_text);
    if (clips_only && !spec.is_clips())
      throw ConfigError("clips() takes a clips spec (clips:LEN:INTERVAL:COUNT[...]), not '" + spec_text + "'");
    auto b = std::make_shared<FrameBatch>();
    {
      py::gil_scoped_release nogil;
      std::lock_guard lock(*mutex_);
      SamplePlan plan = plan_sample(spec, *reader_);
      reader_->frames(plan.frames, b->batch);
      b->scenes = std::move(plan.scenes);
      b->clip_len = plan.clip_len;
    }
    shape_batch(*b, b->clip_len);
    return b;
  }

  // The rows of `plan` at `image` size, packed as `t` says, in one tensor: the library's
  // TensorLoader, one batch of every row, no prefetch.
  std::shared_ptr<TensorBatch> tensor(SamplePlan plan, const ImageOptions& image, const TensorOptions& t) {
    ensure_own_process();
    auto out = std::make_shared<TensorBatch>();
    out->clip_len = plan.clip_len;
    py::gil_scoped_release nogil;
    std::lock_guard lock(*mutex_);
    VideoReader& r = reader_at(image);
    const int64_t rows = static_cast<int64_t>(plan.rows());
    TensorLoader loader(r, std::move(plan), t, std::max<int64_t>(rows, 1), /*prefetch=*/false);
    if (!loader.next(out->tensor, out->rows))  // nothing sampled: an empty batch of the right shape
      out->tensor = Tensor::allocate(tensor_shape(t, 0, out->clip_len, r.out_height(), r.out_width(), r.out_channels()),
                                     t.layout, t.dtype);
    return out;
  }

  SamplePlan plan(const std::string& spec_text) {
    ensure_own_process();
    const SampleSpec spec = SampleSpec::parse(spec_text);
    py::gil_scoped_release nogil;
    std::lock_guard lock(*mutex_);
    return plan_sample(spec, *reader_);
  }

  void seek(int64_t i) {
    ensure_own_process();
    const int64_t wanted = normalize(i);
    py::gil_scoped_release nogil;
    std::lock_guard lock(*mutex_);
    reader_->seek(wanted);
  }

  std::shared_ptr<FrameBatch> next() {
    ensure_own_process();
    auto b = std::make_shared<FrameBatch>();
    bool got = false;
    {
      py::gil_scoped_release nogil;
      std::lock_guard lock(*mutex_);
      got = reader_->next(frame_);
      if (got) take_frame(*b);
    }
    if (!got) throw py::stop_iteration();
    b->shape = {b->batch.height, b->batch.width, b->batch.channels};
    return b;
  }

  VideoReader& reader() {
    ensure_own_process();
    return *reader_;
  }
  const Source& source() const { return source_; }
  const ReaderArgs& args() const { return args_; }
  std::mutex& mutex() {
    ensure_own_process();
    return *mutex_;
  }

 private:
  static void shape_batch(FrameBatch& b, int64_t clip_len) {
    const auto n = static_cast<py::ssize_t>(b.batch.size());
    b.clip_len = clip_len;
    if (clip_len > 1) {
      b.shape = {n / clip_len, static_cast<py::ssize_t>(clip_len), b.batch.height, b.batch.width, b.batch.channels};
    } else {
      b.shape = {n, b.batch.height, b.batch.width, b.batch.channels};
    }
  }
  // The streamed frame's pixels move into the batch: no copy.
  void take_frame(FrameBatch& b) {
    b.batch.info = {frame_.info};
    b.batch.width = frame_.width;
    b.batch.height = frame_.height;
    b.batch.channels = frame_.channels;
    b.batch.pixels = std::move(frame_.pixels);
    frame_.pixels = {};
  }
  // A reader at another output size shares this one's index (no second scan).
  VideoReader& reader_at(const ImageOptions& image) {
    const ImageOptions& mine = reader_->options().image;
    if (image.width == mine.width && image.height == mine.height && image.resize == mine.resize &&
        image.pix == mine.pix && image.interpolation == mine.interpolation)
      return *reader_;
    const auto key = std::make_tuple(image.width, image.height, static_cast<int>(image.resize),
                                     static_cast<int>(image.pix), static_cast<int>(image.interpolation));
    auto it = sized_.find(key);
    if (it == sized_.end()) {
      if (sized_.size() >= 4) sized_.clear();  // a handful of sizes, not one per call
      ReaderOptions o = reader_->options();
      o.image = image;
      o.known_index = std::make_shared<FrameIndex>(reader_->index());
      it = sized_.emplace(key, std::make_unique<VideoReader>(source_, o)).first;
    }
    return *it->second;
  }

  Source source_;
  ReaderArgs args_;
  std::unique_ptr<VideoReader> reader_;
  std::map<std::tuple<int, int, int, int, int>, std::unique_ptr<VideoReader>> sized_;
  Frame frame_;
  std::unique_ptr<std::mutex> mutex_ = std::make_unique<std::mutex>();  // one call at a time, from any thread
  uint64_t generation_;
};

std::vector<int64_t> to_indices(py::handle obj) {
  if (py::isinstance<py::int_>(obj)) return {obj.cast<int64_t>()};
  py::array a = py::module_::import("numpy").attr("asarray")(obj);
  const char kind = a.dtype().kind();
  if (a.size() > 0 && kind != 'i' && kind != 'u')
    throw ConfigError("indices must be integers (a list, range or integer numpy array), not " +
                      py::str(a.dtype()).cast<std::string>() + " values");
  return py::cast<std::vector<int64_t>>(a.attr("astype")("int64").attr("ravel")());
}

py::array frames_array(std::shared_ptr<FrameBatch> b) {
  py::object owner = py::cast(b);
  return batch_array(*b, owner);
}

py::dict metadata(const VideoReader& r) {
  return py::module_::import("json").attr("loads")(media_info_json(r.info())).cast<py::dict>();
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

void bind_reader(py::module_& m) {
  pthread_atfork(nullptr, nullptr, framepipe_after_fork_in_child);
  py::class_<PyReader>(m, "VideoReader", R"doc(
Exact frames of one video stream: frame i is the i-th frame ``ffmpeg -i X -vsync passthrough``
decodes, in RGB (or BGR, gray) H x W x C uint8.

    VideoReader(source, *, width=-1, height=-1, resize="stretch", pix="rgb", num_threads=0,
                index="exact", interpolation="bicubic", workers=0, stream=-1)

source: a path, a URL, or bytes. width/height: output size (-1: the source's); resize:
stretch | letterbox | crop | short. pix: rgb | bgr | gray. index: exact (scan the packets at
open: exact counts) or header (fast open; counts estimated until random access needs them).
num_threads: decoder threads (0: FFmpeg's choice). workers: decoders for separate keyframe
groups of one batch (0: one per core).

Decord's calls mean what they mean in Decord: len(), reader[i], reader[a:b:c], get_batch,
get_frame_timestamp, get_key_indices, get_avg_fps, seek/next. Arrays are new per call and
own their memory (their base is a framepipe.Frames); the GIL is released while decoding. A
reader is used by one thread at a time (calls from several are serialised); open one per
thread for parallel work. It pickles (source, options and index), so DataLoader workers get
their own without scanning again.)doc")
      .def(py::init([](py::object source, int width, int height, std::string resize, std::string pix, int num_threads,
                       std::string index, std::string interpolation, int workers, int stream,
                       py::dict input_options) {
             ReaderArgs a;
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
             return PyReader::open(std::move(source), std::move(a));
           }),
           py::arg("source"), py::kw_only(), py::arg("width") = -1, py::arg("height") = -1,
           py::arg("resize") = "stretch", py::arg("pix") = "rgb", py::arg("num_threads") = 0,
           py::arg("index") = "exact", py::arg("interpolation") = "bicubic", py::arg("workers") = 0,
           py::arg("stream") = -1, py::arg("input_options") = py::dict())
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
             auto a = out.mutable_unchecked<2>();
             std::lock_guard lock(r.mutex());
             const FrameIndex& index = r.reader().index();
             for (size_t k = 0; k < idx.size(); ++k) {
               const int64_t i = idx[k];
               if (i < 0 || i >= index.size())
                 throw OutOfRangeError(r.source().name() + ": frame " + std::to_string(i) + " is out of range [0, " +
                                       std::to_string(index.size()) + ")");
               a(k, 0) = index.time_of(i);
               a(k, 1) = i + 1 < index.size() ? index.time_of(i + 1) : index.end_seconds();
             }
             return out;
           },
           py::arg("indices"),
           "(N, 2) float64: the second each frame is shown at (ffprobe's pts_time) and the second the next one is")
      .def("get_key_indices",
           [](PyReader& r) {
             std::lock_guard lock(r.mutex());
             const FrameIndex& index = r.reader().index();
             std::vector<int64_t> keys;
             for (int64_t i = 0; i < index.size(); ++i)
               if (index[i].keyframe) keys.push_back(i);
             return py::array_t<int64_t>(static_cast<py::ssize_t>(keys.size()), keys.data());
           },
           "indices of the key frames")
      .def("get_avg_fps", [](PyReader& r) { return r.reader().info().video.fps; },
           "average frame rate: frames / measured duration (the header's with index='header')")
      .def("seek", &PyReader::seek, py::arg("i"), "next() returns frame i, then i+1, ... (decoded ahead on a thread)")
      .def("next", [](PyReader& r) { return frames_array(r.next()); },
           "the next frame as an (H, W, C) array (its base, a framepipe.Frames, says which); StopIteration at the "
           "end")
      .def("__iter__", [](PyReader& r) -> PyReader& {
             r.seek(0);
             return r;
           }, py::return_value_policy::reference_internal)
      .def("__next__", [](PyReader& r) { return frames_array(r.next()); })
      .def("frame", &PyReader::frame, py::arg("i"), "frame i as a framepipe.Frames (with index, pts, t, keyframe)")
      .def("frames", [](PyReader& r, py::object indices) { return r.batch(to_indices(indices)); }, py::arg("indices"),
           "frames in the order asked, as a framepipe.Frames (with index, pts, t, keyframe)")
      .def("frame_at", [](PyReader& r, double t) { return r.frames_at({t}); }, py::arg("seconds"),
           "the frame on screen at this second (largest pts <= t), as a framepipe.Frames of one")
      .def("frames_at", [](PyReader& r, std::vector<double> seconds) { return r.frames_at(seconds); },
           py::arg("seconds"), "the frames on screen at these seconds, as a framepipe.Frames")
      .def("index_at",
           [](PyReader& r, double t) {
             std::lock_guard lock(r.mutex());
             return r.reader().index_at(t);
           },
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
           "(N, T, H, W, C)")
      .def("tensor",
           [](PyReader& r, py::object what, py::object size, std::string resize, std::string layout, std::string dtype,
              py::object mean, py::object std, bool scale, bool clip_norm, py::object pix, py::object interpolation) {
             SamplePlan plan;
             if (py::isinstance<py::str>(what)) {
               plan = r.plan(what.cast<std::string>());
             } else {
               plan.frames = r.normalize(to_indices(what));
               plan.clip_len = 1;
             }
             ImageOptions image = r.reader().options().image;
             parse_size(size, image.width, image.height);
             image.resize = parse_resize_mode(resize);
             if (!pix.is_none()) image.pix = parse_pixel_format(pix.cast<std::string>());
             if (!interpolation.is_none()) image.interpolation = parse_interpolation(interpolation.cast<std::string>());
             TensorOptions t;
             t.layout = parse_layout(layout);
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
           py::arg("layout") = "nchw", py::arg("dtype") = "f32", py::arg("mean") = py::none(),
           py::arg("std") = py::none(), py::arg("scale") = true, py::arg("clip_norm") = false,
           py::arg("pix") = py::none(), py::arg("interpolation") = py::none(),
           R"doc(
A model-ready batch of the frames `what` names (indices, or a sample spec such as "fps:2" or
"clips:16:2:4"): resized to size=(w, h) (default: the reader's size), f32 scaled to [0, 1]
then (x - mean) / std per channel (or per-clip normalised), in layout nchw | nhwc | ncthw
(clips). Returns a framepipe.Tensor (numpy, buffer protocol and DLPack, no copies).)doc")
      .def_property_readonly("metadata", [](PyReader& r) { return metadata(r.reader()); },
                             "what `framepipe probe --json` says: frames (measured), frames_header, width, height, "
                             "fps, duration, codec, pix_fmt, color_matrix, color_range, rotation, audio, ...")
      .def_property_readonly("shape",
                             [](PyReader& r) {
                               return py::make_tuple(r.size(), r.reader().out_height(), r.reader().out_width(),
                                                     r.reader().out_channels());
                             },
                             "(frames, height, width, channels) of what the reader returns")
      .def_property_readonly("source", [](PyReader& r) { return r.source().name(); })
      .def_property_readonly("size_is_exact", [](PyReader& r) { return r.reader().size_is_exact(); })
      .def_property_readonly("stats",
                             [](PyReader& r) {
                               const ReaderStats s = r.reader().stats();
                               py::dict d;
                               d["frames_decoded"] = s.frames_decoded;
                               d["frames_returned"] = s.frames_returned;
                               d["seeks"] = s.seeks;
                               d["packets_skipped"] = s.packets_skipped;
                               d["parallel_runs"] = s.parallel_runs;
                               return d;
                             },
                             "what the requests so far cost: frames decoded and returned, seeks, ...")
      .def("__repr__",
           [](PyReader& r) {
             return "<framepipe.VideoReader '" + r.source().name() + "' " + std::to_string(r.size()) + " frames " +
                    std::to_string(r.reader().out_width()) + "x" + std::to_string(r.reader().out_height()) + ">";
           })
      .def(py::pickle(
          [](PyReader& r) {
            std::lock_guard lock(r.mutex());
            const Source& s = r.source();
            const ReaderArgs& a = r.args();
            FileStamp stamp;
            if (!s.in_memory())
              if (auto st = FileStamp::of(s.location)) stamp = *st;
            const std::string index = r.reader().index().to_bytes(stamp);
            py::object memory = s.in_memory() ? py::object(py::bytes(reinterpret_cast<const char*>(s.memory->data()),
                                                                    s.memory->size()))
                                              : py::object(py::none());
            return py::make_tuple(1, s.location, memory,
                                  py::make_tuple(a.width, a.height, a.resize, a.pix, a.num_threads, a.index,
                                                 a.interpolation, a.workers, a.stream, a.input_options),
                                  py::bytes(index));
          },
          [](py::tuple state) {
            if (state.size() != 5 || state[0].cast<int>() != 1)
              throw ConfigError("VideoReader: this pickle was made by another version of framepipe");
            const py::tuple o = state[3].cast<py::tuple>();
            ReaderArgs a;
            a.width = o[0].cast<int>();
            a.height = o[1].cast<int>();
            a.resize = o[2].cast<std::string>();
            a.pix = o[3].cast<std::string>();
            a.num_threads = o[4].cast<int>();
            a.index = o[5].cast<std::string>();
            a.interpolation = o[6].cast<std::string>();
            a.workers = o[7].cast<int>();
            a.stream = o[8].cast<int>();
            if (o.size() > 9) a.input_options = o[9].cast<InputOptions>();
            Source s;
            std::optional<FileStamp> expected;
            if (state[2].is_none()) {
              s = Source(state[1].cast<std::string>());
              expected = FileStamp::of(s.location);
              if (!expected) expected = FileStamp{};  // not a file (a URL): the index is kept only if it was one too
            } else {
              const std::string bytes = state[2].cast<std::string>();
              s = Source::from_bytes(std::vector<uint8_t>(bytes.begin(), bytes.end()), state[1].cast<std::string>());
            }
            // A file changed since the pickle is scanned again; an index of it is kept otherwise.
            std::shared_ptr<const FrameIndex> known;
            if (auto idx = FrameIndex::from_bytes(state[4].cast<std::string>(), expected); idx && !idx->empty())
              known = std::make_shared<FrameIndex>(std::move(*idx));
            return std::make_unique<PyReader>(std::move(s), std::move(a), std::move(known));
          }));

  m.def("probe",
        [](py::object source) {
          std::unique_ptr<PyReader> r = PyReader::open(std::move(source), ReaderArgs{});
          return metadata(r->reader());
        },
        py::arg("source"), "what `framepipe probe --json` says about a file, URL or bytes, as a dict");
  m.attr("sample_grammar") = sample_grammar();
}

}  // namespace framepipe::python
