// framepipe.VideoWriter: frames made in Python encoded into a video, at a frame rate or with
// pts of their own, with the audio of a file copied in sync (the C++ VideoWriter).
#include <cmath>
#include <optional>

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

class PyVideoWriter {
 public:
  PyVideoWriter(py::object path, py::object fps, py::object time_base, std::optional<int> width,
                std::optional<int> height, std::string codec, std::optional<int> crf, std::optional<int64_t> bitrate,
                std::optional<std::string> preset, std::optional<std::string> pix_fmt, std::optional<int> gop,
                py::object audio_from, std::optional<std::string> format, std::optional<std::string> pix) {
    path_ = text_of(py::module_::import("os").attr("fspath")(path));
    opt_.codec = std::move(codec);
    if (crf) opt_.crf = *crf;
    if (bitrate) opt_.bitrate = *bitrate;
    if (preset) opt_.preset = *preset;
    if (pix_fmt) opt_.pix_fmt = *pix_fmt;
    if (gop) opt_.gop = *gop;
    if (format) opt_.format = *format;
    if (!audio_from.is_none()) opt_.audio_from = text_of(py::module_::import("os").attr("fspath")(audio_from));
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
    py::gil_scoped_release nogil;
    if (writer_) writer_->close(complete);
  }

  int64_t written() const { return written_; }
  const std::string& path() const { return path_; }
  py::tuple time_base() const { return py::make_tuple(tb_.num, tb_.den); }
  int width() const { return width_; }
  int height() const { return height_; }

 private:
  std::string path_;
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
(the container; by default from the file name: .mp4, .mkv, .mov, .ts, .webm, .nut).
audio_from copies a file's audio in sync (re-encoded where the container cannot hold it).
The file is written as NAME.part.EXT and renamed by close(); an exception in the with block
finishes it with what was written and leaves it under its part name.)doc")
      .def(py::init<py::object, py::object, py::object, std::optional<int>, std::optional<int>, std::string,
                    std::optional<int>, std::optional<int64_t>, std::optional<std::string>, std::optional<std::string>,
                    std::optional<int>, py::object, std::optional<std::string>, std::optional<std::string>>(),
           py::arg("path"), py::kw_only(), py::arg("fps") = py::none(), py::arg("time_base") = py::none(),
           py::arg("width") = py::none(), py::arg("height") = py::none(), py::arg("codec") = "libx264",
           py::arg("crf") = py::none(), py::arg("bitrate") = py::none(), py::arg("preset") = py::none(),
           py::arg("pix_fmt") = py::none(), py::arg("gop") = py::none(), py::arg("audio_from") = py::none(),
           py::arg("format") = py::none(), py::arg("pix") = py::none())
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
