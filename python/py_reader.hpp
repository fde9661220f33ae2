// framepipe.VideoReader's C++ side: what the constructor was given (kept to re-open and to
// pickle), and the reader that serves the Python calls (reader.cpp binds them).
#pragma once

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

// fork() copies a reader but not its threads (FFmpeg's decoder threads, a read-ahead): a
// forked child (DataLoader's default on Linux) that used the copy would wait for them
// forever. Each fork bumps this; a reader from an older generation re-opens itself, with the
// index it has, on first use in the child.
extern std::atomic<uint64_t> g_fork_generation;

// What the Python constructor was given, kept to re-open (pickling) and to open readers at
// other sizes for tensor().
struct ReaderKwargs {
  int width = -1, height = -1;
  std::string resize = "stretch", pix = "rgb", interpolation = "bicubic", index = "exact";
  int num_threads = 0, workers = 0, stream = -1;
  bool autorotate = true;
  bool strict = false;       // damage in what a request hands out is a DecodeError
  bool strict_lost = false;  // only a packet the decoder refused is (strict="lost")
  int64_t max_pixels = kDefaultMaxPixels;  // 0: no limit
  int64_t batch_bytes = kDefaultBatchBytes;  // 0: no limit
  std::string device = "cpu";
  InputOptions input_options;

  ReaderOptions options() const {
    // One of width and height alone: the other keeps the aspect ratio (as the CLI's --size N).
    if (width == 0 || height == 0 || width < -1 || height < -1)
      throw ConfigError("VideoReader: width and height must be positive (or -1: from the source), given " +
                        std::to_string(width) + " x " + std::to_string(height));
    ReaderOptions o;
    o.image.width = std::max(width, 0);
    o.image.height = std::max(height, 0);
    o.image.resize = parse_resize_mode(resize);
    o.image.pix = parse_pixel_format(pix);
    o.image.interpolation = parse_interpolation(interpolation);
    try {
      o.index = parse_index_mode(index);
    } catch (const ConfigError&) {
      throw ConfigError("VideoReader: index must be 'exact', 'decode' or 'header', not '" + index + "'");
    }
    if (max_pixels < 0)
      throw ConfigError("VideoReader: max_pixels must be >= 0 (0: no limit), given " + std::to_string(max_pixels));
    o.max_pixels = max_pixels;
    if (batch_bytes < 0)
      throw ConfigError("VideoReader: batch_bytes must be >= 0 (0: no limit), given " + std::to_string(batch_bytes));
    o.batch_bytes = batch_bytes;
    o.device = device;
    o.autorotate = autorotate;
    o.strict = strict;
    o.strict_lost = strict_lost;
    o.threads = num_threads;
    o.workers = workers;
    o.stream = stream;
    o.input_options = input_options;
    return o;
  }
};

// strict=False | True | "lost" (VideoReader's keyword, and its pickle).
inline void set_strict(ReaderKwargs& a, const py::handle& v) {
  if (py::isinstance<py::str>(v)) {
    if (v.cast<std::string>() != "lost")
      throw ConfigError("VideoReader: strict must be False, True or 'lost', not '" + v.cast<std::string>() + "'");
    a.strict = false;
    a.strict_lost = true;
    return;
  }
  a.strict = v.cast<bool>();
  a.strict_lost = false;
}
inline py::object strict_arg(const ReaderKwargs& a) {
  return a.strict_lost ? py::object(py::str("lost")) : py::object(py::bool_(a.strict));
}

class PyReader {
 public:
  PyReader(Source source, ReaderKwargs args, std::shared_ptr<const FrameIndex> known = nullptr)
      : source_(std::move(source)), args_(std::move(args)), generation_(g_fork_generation.load()) {
    ReaderOptions o = args_.options();
    o.known_index = std::move(known);
    py::gil_scoped_release nogil;
    reader_ = std::make_unique<VideoReader>(source_, o);
  }

  // The C++ readers close without the GIL: their decoder threads finish a frame first, and a
  // log callback another module may have set (PyAV's) would wait for the GIL while we wait
  // for them.
  ~PyReader() {
    if (generation_ != g_fork_generation.load()) {  // a forked copy: the parent's threads are not here
      (void)reader_.release();
      for (auto& [key, r] : sized_) (void)r.release();
      return;
    }
    if (PyGILState_Check()) {
      py::gil_scoped_release nogil;
      sized_.clear();
      reader_.reset();
    }
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

  static std::unique_ptr<PyReader> open(py::object source, ReaderKwargs args) {
    return std::make_unique<PyReader>(source_of(source, "VideoReader"), std::move(args));
  }

  // f(reader) with the GIL released and this reader's turn taken: what every call that asks the
  // reader anything goes through, the getters included, so that a thread that waits for its
  // turn never holds the GIL (another thread's request may need it) and never reads what a
  // request or the read-ahead thread is changing. f must not touch Python objects.
  template <class F>
  auto locked(F&& f) {
    ensure_own_process();
    py::gil_scoped_release nogil;
    const std::lock_guard lock(*mutex_);
    return f(*reader_);
  }

  int64_t size() {
    return locked([](VideoReader& r) { return r.size(); });
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
  const ReaderKwargs& args() const { return args_; }

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
  ReaderKwargs args_;
  std::unique_ptr<VideoReader> reader_;
  std::map<std::tuple<int, int, int, int, int>, std::unique_ptr<VideoReader>> sized_;
  Frame frame_;
  std::unique_ptr<std::mutex> mutex_ = std::make_unique<std::mutex>();  // one call at a time, from any thread
  uint64_t generation_;
};

// A reader's pickle: (version, location, bytes or None, constructor arguments, index bytes).
py::tuple reader_state(PyReader& r);
std::unique_ptr<PyReader> reader_from_state(const py::tuple& state);

}  // namespace framepipe::python
