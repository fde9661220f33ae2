// framepipe.VideoWriter: frames made in Python encoded into a video, at a frame rate or with
// pts of their own, with the audio of a file copied in sync (the C++ VideoWriter).
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <vector>

#include "bindings.hpp"
#include "framepipe/error.hpp"
#include "framepipe/sinks/video_writer.hpp"

namespace framepipe::python {

namespace {

std::string text_of(py::handle o) { return py::str(o).cast<std::string>(); }

// A rational from an int, a float, a fractions.Fraction or a (num, den) pair.
Rational rational_of(py::handle o, const char* what) {
  py::object f;
  if (py::isinstance<py::tuple>(o) && py::len(o) == 2)
    f = py::module_::import("fractions").attr("Fraction")(o[py::int_(0)], o[py::int_(1)]);
  else
    f = py::module_::import("fractions").attr("Fraction")(o).attr("limit_denominator")(1000000);
  const int64_t num = f.attr("numerator").cast<int64_t>(), den = f.attr("denominator").cast<int64_t>();
  if (num <= 0 || den <= 0 || num > INT32_MAX || den > INT32_MAX)
    throw ConfigError(std::string("VideoWriter: ") + what + " must be a positive number, not " + text_of(py::repr(o)));
  return Rational{static_cast<int>(num), static_cast<int>(den)};
}

// `samples` (channels x n, float32, planar) as a WAV file of IEEE floats, interleaved: the
// writer's audio_from then copies it (MKV, NUT, MOV hold it as it is) or encodes it to what
// the container holds (AAC in MP4), in sync with the frames from time 0.
void write_float_wav(const std::string& path, const float* samples, int channels, int64_t n, int rate) {
  std::ofstream f(path, std::ios::binary);
  auto u32 = [&](uint32_t v) { f.write(reinterpret_cast<const char*>(&v), 4); };
  auto u16 = [&](uint16_t v) { f.write(reinterpret_cast<const char*>(&v), 2); };
  const uint64_t bytes = static_cast<uint64_t>(n) * static_cast<uint64_t>(channels) * 4;
  if (bytes > 0xFFFFFFFFull - 64) throw ConfigError("VideoWriter: the audio is over 4 GiB as float32");
  f.write("RIFF", 4);
  u32(static_cast<uint32_t>(4 + 24 + 12 + 8 + bytes));
  f.write("WAVEfmt ", 8);
  u32(16);
  u16(3);  // IEEE float
  u16(static_cast<uint16_t>(channels));
  u32(static_cast<uint32_t>(rate));
  u32(static_cast<uint32_t>(rate) * static_cast<uint32_t>(channels) * 4);
  u16(static_cast<uint16_t>(channels * 4));
  u16(32);
  f.write("fact", 4);
  u32(4);
  u32(static_cast<uint32_t>(n));
  f.write("data", 4);
  u32(static_cast<uint32_t>(bytes));
  std::vector<float> row(static_cast<size_t>(channels));
  for (int64_t i = 0; i < n; ++i) {
    for (int c = 0; c < channels; ++c) row[static_cast<size_t>(c)] = samples[c * n + i];
    f.write(reinterpret_cast<const char*>(row.data()), static_cast<std::streamsize>(row.size() * 4));
  }
  if (!f.flush()) throw IoError("VideoWriter: cannot write the audio to " + path);
}

class PyVideoWriter {
 public:
  PyVideoWriter(py::object path, py::object fps, py::object time_base, std::optional<int> width,
                std::optional<int> height, std::string codec, std::optional<int> crf, std::optional<int64_t> bitrate,
                std::optional<std::string> preset, std::optional<std::string> pix_fmt, std::optional<int> gop,
                py::object audio_from, py::object audio, std::optional<int> audio_rate, std::optional<std::string> format,
                std::optional<std::string> pix, int hls_window) {
    path_ = text_of(py::module_::import("os").attr("fspath")(path));
    opt_.codec = std::move(codec);
    if (crf) opt_.crf = *crf;
    if (bitrate) opt_.bitrate = *bitrate;
    if (preset) opt_.preset = *preset;
    if (pix_fmt) opt_.pix_fmt = *pix_fmt;
    if (gop) opt_.gop = *gop;
    if (format) opt_.format = *format;
    if (hls_window < 0) throw ConfigError("VideoWriter " + path_ + ": hls_window must be >= 0 (0: keep every segment)");
    opt_.hls_window = hls_window;
    if (!audio_from.is_none()) opt_.audio_from = text_of(py::module_::import("os").attr("fspath")(audio_from));
    if (!audio.is_none()) take_audio(audio, audio_rate);
    if (pix) opt_.input = parse_pixel_format(*pix);
    pix_given_ = pix.has_value();
    if (width) width_ = *width;
    if (height) height_ = *height;
    if (fps.is_none() && time_base.is_none())
      throw ConfigError("VideoWriter " + path_ + ": give fps (frames at a steady rate), or time_base and each "
                        "frame's pts");
    if (!time_base.is_none()) tb_ = rational_of(time_base, "time_base");
    if (!fps.is_none()) {
      const Rational rate = rational_of(fps, "fps");
      if (time_base.is_none()) {
        tb_ = Rational{rate.den, rate.num};
        step_ = 1;
      } else {  // one frame's duration in time_base units, a whole number of them
        const int64_t a = int64_t{rate.den} * tb_.den, b = int64_t{rate.num} * tb_.num;
        if (a % b)
          throw ConfigError("VideoWriter " + path_ + ": one frame at " + text_of(py::repr(fps)) +
                            " fps is no whole number of time_base units; give pts");
        step_ = a / b;
      }
    }
  }

  void write(py::object frame, py::object pts) {
    if (closed_) throw IoError("VideoWriter " + path_ + ": write after close");
    py::module_ np = py::module_::import("numpy");
    py::object arr = py::hasattr(frame, "__array__") || py::isinstance<py::array>(frame) || !py::hasattr(frame, "__dlpack__")
                         ? np.attr("asarray")(frame)
                         : np.attr("from_dlpack")(frame);
    py::array a = py::array::ensure(arr);
    if (!writer_ && !pix_given_ && a && a.ndim() == 2) opt_.input = PixelFormat::Gray;  // decided by the first frame
    const int channels = opt_.input == PixelFormat::Gray ? 1 : 3;
    const bool shaped = a && a.dtype().kind() == 'u' && a.itemsize() == 1 &&
                        ((channels == 1 && (a.ndim() == 2 || (a.ndim() == 3 && a.shape(2) == 1))) ||
                         (channels == 3 && a.ndim() == 3 && a.shape(2) == 3));
    if (!shaped)
      throw ConfigError("VideoWriter " + path_ + ": frame " + std::to_string(written_) + " must be " +
                        (channels == 1 ? "an (H, W) or (H, W, 1)" : "an (H, W, 3)") + " uint8 array (pix=" +
                        to_string(opt_.input) + "), not " +
                        (a ? text_of(a.dtype()) + " " + text_of(py::tuple(a.attr("shape"))) : text_of(py::type::of(frame).attr("__name__"))));
    const int h = static_cast<int>(a.shape(0)), w = static_cast<int>(a.shape(1));
    if (!writer_) {
      if (width_ == 0) width_ = w;
      if (height_ == 0) height_ = h;
    }
    if (w != width_ || h != height_)
      throw ConfigError("VideoWriter " + path_ + ": frame " + std::to_string(written_) + " is " + std::to_string(w) +
                        "x" + std::to_string(h) + ", the video is " + std::to_string(width_) + "x" +
                        std::to_string(height_));
    int64_t t = 0;
    if (pts.is_none()) {
      if (step_ == 0)
        throw ConfigError("VideoWriter " + path_ + ": without fps each frame needs its pts (in time_base units)");
      t = written_ * step_;
    } else {
      t = pts.cast<int64_t>();
    }
    auto c = py::array_t<uint8_t, py::array::c_style>::ensure(a);
    const uint8_t* pixels = c.data();
    {
      py::gil_scoped_release nogil;
      if (!writer_) writer_ = std::make_unique<VideoWriter>(path_, width_, height_, tb_, opt_);
      writer_->write(pixels, t);
    }
    ++written_;
  }

  // complete=false (an exception in a with block): the file is finished with what was written
  // and keeps its part name, NAME.part.EXT, as every interrupted output does.
  void close(bool complete = true) {
    if (closed_) return;
    closed_ = true;
    {
      py::gil_scoped_release nogil;
      if (writer_) writer_->close(complete);
    }
    drop_audio_file();
  }

  ~PyVideoWriter() {
    writer_.reset();  // finishes the file (it reads the audio file to its end)
    drop_audio_file();
  }

  int64_t written() const { return written_; }
  const std::string& path() const { return path_; }
  py::tuple time_base() const { return py::make_tuple(tb_.num, tb_.den); }
  int width() const { return width_; }
  int height() const { return height_; }

 private:
  // audio: (channels, samples) or (samples,) float32 at audio_rate, into a WAV beside the output.
  void take_audio(py::object audio, std::optional<int> rate) {
    if (!opt_.audio_from.empty()) throw ConfigError("VideoWriter " + path_ + ": audio from a file or an array, not both");
    if (!rate || *rate <= 0) throw ConfigError("VideoWriter " + path_ + ": audio needs audio_rate (samples per second)");
    py::module_ np = py::module_::import("numpy");
    py::array a = py::array::ensure(np.attr("asarray")(audio, "float32"));
    if (!a || (a.ndim() != 1 && a.ndim() != 2) || (a.ndim() == 2 && (a.shape(0) < 1 || a.shape(0) > 8)))
      throw ConfigError("VideoWriter " + path_ + ": audio must be a (channels, samples) or (samples,) float array, 1 to "
                        "8 channels, not " + (a ? text_of(py::tuple(a.attr("shape"))) : std::string("that")));
    auto c = py::array_t<float, py::array::c_style>::ensure(a);
    const int channels = c.ndim() == 1 ? 1 : static_cast<int>(c.shape(0));
    const int64_t n = c.ndim() == 1 ? c.shape(0) : c.shape(1);
    const std::filesystem::path out(path_);
    audio_file_ = (out.parent_path() / ("." + out.filename().string() + ".audio.wav")).string();
    write_float_wav(audio_file_, c.data(), channels, n, *rate);
    opt_.audio_from = audio_file_;
  }
  void drop_audio_file() {
    if (audio_file_.empty()) return;
    std::error_code ec;
    std::filesystem::remove(audio_file_, ec);
    audio_file_.clear();
  }

  std::string path_, audio_file_;
  VideoWriterOptions opt_;
  Rational tb_{0, 0};
  int64_t step_ = 0;  // one frame's pts step at fps; 0: pts given
  int width_ = 0, height_ = 0;
  int64_t written_ = 0;
  bool closed_ = false, pix_given_ = false;
  std::unique_ptr<VideoWriter> writer_;  // opened with the first frame
};

}  // namespace

void bind_writer(py::module_& m) {
  py::class_<PyVideoWriter>(m, "VideoWriter", R"doc(Frames made in Python encoded into a video.

    with framepipe.VideoWriter("out.mp4", fps=25, audio_from="in.mp4") as w:
        for frame in frames:            # (H, W, 3) uint8 RGB (pix="bgr": BGR), or (H, W) gray
            w.write(frame)              # or w.write(frame, pts=...) with time_base=

fps (int, float, Fraction) makes pts 0, 1, 2, ... in a time base of 1/fps; time_base (a
Fraction or (num, den)) with each frame's pts keeps a variable rate as given. Width and height
come from the first frame unless given. codec (libx264 by default; libx265, libvpx-vp9, ffv1,
...), crf or bitrate (bits/s), preset, pix_fmt (yuv420p by default; gbrp for the lossless
codecs, which give back exactly the pixels written), gop (frames between keyframes), format
(the container; by default from the file name: .mp4, .mkv, .mov, .ts, .webm, .nut, .m3u8, or
a URL's scheme: rtmp://, srt://, udp://, tcp://, rtsp://); an .m3u8 playlist's segments appear
as they close, and hls_window > 0 keeps only the last that many.
audio_from copies a file's audio in sync (re-encoded where the container cannot hold it);
or audio, a (channels, samples) float32 array from time 0, with audio_rate.
The file is written as NAME.part.EXT and renamed by close(); an exception in the with block
finishes it with what was written and leaves it under its part name.)doc")
      .def(py::init<py::object, py::object, py::object, std::optional<int>, std::optional<int>, std::string,
                    std::optional<int>, std::optional<int64_t>, std::optional<std::string>, std::optional<std::string>,
                    std::optional<int>, py::object, py::object, std::optional<int>, std::optional<std::string>,
                    std::optional<std::string>, int>(),
           py::arg("path"), py::kw_only(), py::arg("fps") = py::none(), py::arg("time_base") = py::none(),
           py::arg("width") = py::none(), py::arg("height") = py::none(), py::arg("codec") = "libx264",
           py::arg("crf") = py::none(), py::arg("bitrate") = py::none(), py::arg("preset") = py::none(),
           py::arg("pix_fmt") = py::none(), py::arg("gop") = py::none(), py::arg("audio_from") = py::none(),
           py::arg("audio") = py::none(), py::arg("audio_rate") = py::none(), py::arg("format") = py::none(),
           py::arg("pix") = py::none(), py::arg("hls_window") = 0)
      .def("write", &PyVideoWriter::write, py::arg("frame"), py::arg("pts") = py::none(),
           "Encodes one frame: (H, W, 3) uint8 (numpy, or anything with __array__ or __dlpack__).")
      .def("close", [](PyVideoWriter& w) { w.close(); }, "Flushes the encoder, finishes and renames the file.")
      .def("__enter__", [](py::object self) { return self; })
      .def("__exit__", [](PyVideoWriter& w, py::object type, py::object, py::object) { w.close(type.is_none()); })
      .def_property_readonly("frames_written", &PyVideoWriter::written)
      .def_property_readonly("path", &PyVideoWriter::path)
      .def_property_readonly("time_base", &PyVideoWriter::time_base)
      .def_property_readonly("width", &PyVideoWriter::width)
      .def_property_readonly("height", &PyVideoWriter::height);
}

}  // namespace framepipe::python
