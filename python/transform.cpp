// framepipe.transform: decode, a Python function (or framepipe's operations) on every frame,
// encode, with the audio and the timing of the source, as the CLI's `transform`.
#include <cstring>

#include "bindings.hpp"
#include "framepipe/error.hpp"
#include "framepipe/pipeline/transform.hpp"

namespace framepipe::python {

namespace {

// Calls fn on each frame as an (H, W, 3) uint8 array it may edit in place or replace by
// returning another (H', W', 3) uint8 array, the same size for every frame.
FrameFunction python_frame_function(py::object fn) {
  return [fn](Frame& f) {
    py::gil_scoped_acquire gil;
    // The function's own copy (it may keep it after the call).
    py::array_t<uint8_t> frame({static_cast<py::ssize_t>(f.height), static_cast<py::ssize_t>(f.width),
                                static_cast<py::ssize_t>(f.channels)});
    std::memcpy(frame.mutable_data(), f.data(), f.size_bytes());
    py::object got = fn(frame);
    if (got.is_none() || got.is(frame)) {  // edited in place
      std::memcpy(f.data(), frame.data(), f.size_bytes());
      return;
    }
    py::array a = py::array::ensure(got);
    if (!a || a.dtype().kind() != 'u' || a.itemsize() != 1 || a.ndim() != 3 || a.shape(2) != 3)
      throw ConfigError("transform: the function must return an (H, W, 3) uint8 array (or None after editing "
                        "the frame in place), not " +
                        py::str(a ? py::object(py::str(a.dtype())) + py::str(" ") + py::str(py::tuple(a.attr("shape")))
                                  : py::object(py::type::of(got).attr("__name__")))
                            .cast<std::string>() +
                        " at frame " + std::to_string(f.info.index));
    py::array_t<uint8_t, py::array::c_style> c = py::array_t<uint8_t, py::array::c_style>::ensure(a);
    f.height = static_cast<int>(c.shape(0));
    f.width = static_cast<int>(c.shape(1));
    f.pixels.assign(c.data(), c.data() + c.size());
  };
}

}  // namespace

void bind_transform(py::module_& m) {
  m.def(
      "transform",
      [](py::object src, py::object dst, py::object fn, std::string ops, std::string pix, std::string codec, int crf,
         std::string preset, bool keep_audio, py::object progress) {
        const std::string input = py::str(py::module_::import("os").attr("fspath")(src)).cast<std::string>();
        const std::string output = py::str(py::module_::import("os").attr("fspath")(dst)).cast<std::string>();
        if (!fn.is_none() && !ops.empty())
          throw ConfigError("transform: give a function or ops (framepipe's operations, as the CLI's --ops), not both");
        if (!fn.is_none() && !PyCallable_Check(fn.ptr())) throw ConfigError("transform: fn must be callable");
        TransformOptions o;
        o.reader.image.pix = parse_pixel_format(pix);
        o.writer.codec = std::move(codec);
        o.writer.crf = crf;
        o.writer.preset = std::move(preset);
        o.keep_audio = keep_audio;
        std::function<void(int64_t, int64_t)> report;
        if (PyCallable_Check(progress.ptr()))
          report = [progress](int64_t done, int64_t total) {
            py::gil_scoped_acquire gil;
            progress(done, total);
          };
        TransformResult r;
        {
          const FrameOps parsed = ops.empty() ? FrameOps{} : FrameOps::parse(ops);
          const FrameFunction f = fn.is_none() ? FrameFunction{} : python_frame_function(fn);
          py::gil_scoped_release nogil;
          r = fn.is_none() ? transform_video(input, output, parsed, o, report) : transform_video(input, output, f, o, report);
        }
        py::dict d;
        d["frames"] = r.frames;
        d["audio_packets"] = r.audio_packets;
        d["audio_transcoded"] = r.audio_transcoded;
        d["audio_transcoded_to"] = r.audio_transcoded_to;
        d["audio_skipped"] = r.audio_skipped;
        return d;
      },
      py::arg("src"), py::arg("dst"), py::arg("fn") = py::none(), py::kw_only(), py::arg("ops") = "",
      py::arg("pix") = "rgb", py::arg("codec") = "libx264", py::arg("crf") = 20, py::arg("preset") = "veryfast",
      py::arg("keep_audio") = true, py::arg("progress") = py::none(),
      R"doc(Decode src, run fn on every frame, encode to dst, keeping the source's audio and timing.

fn gets each frame as an (H, W, 3) uint8 array (RGB, or BGR with pix="bgr") and either edits
it in place and returns None, or returns a new (H', W', 3) uint8 array, the same size for
every frame. Or ops="gray,canny=50:150": framepipe's operations, as the CLI's --ops; neither:
the frames re-encoded as they are (codec, crf, preset). Every
frame keeps its pts; audio is copied packet for packet (re-encoded where dst's container
cannot hold it). Returns {"frames", "audio_packets", ...}. progress(done, total) after each
frame when given. An exception in fn ends the run with it, and dst is not left behind.)doc");
}

}  // namespace framepipe::python
