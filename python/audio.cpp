// framepipe.AudioReader: an audio stream as float32 (channels, samples), and the samples that
// play during video frames.
#include <memory>

#include "bindings.hpp"
#include "framepipe/error.hpp"
#include "framepipe/media/audio_reader.hpp"
#include "framepipe/reader/audio_for_frames.hpp"
#include "py_reader.hpp"

namespace framepipe::python {

namespace {

// Samples [a, b) of every channel as a (channels, b - a) float32 view; `owner` keeps them.
py::array view(const AudioReader& r, int64_t a, int64_t b, py::handle owner) {
  const auto f = static_cast<py::ssize_t>(sizeof(float));
  return py::array(py::dtype::of<float>(), {static_cast<py::ssize_t>(r.channels()), static_cast<py::ssize_t>(b - a)},
                   {static_cast<py::ssize_t>(r.size()) * f, f}, r.channel(0) + a, owner);
}

std::pair<int64_t, int64_t> slice_range(const AudioReader& r, const py::slice& s, py::ssize_t& step) {
  py::ssize_t start = 0, stop = 0, n = 0;
  if (!s.compute(static_cast<py::ssize_t>(r.size()), &start, &stop, &step, &n)) throw py::error_already_set();
  return {start, start + n};
}

// Ranges by sample and by time, and the samples that play while frames of a VideoReader show.
void add_alignment(py::class_<AudioReader, std::shared_ptr<AudioReader>>& cls) {
  cls
      .def("samples",
           [](py::object self, int64_t a, int64_t b) {
             const auto& r = self.cast<const AudioReader&>();
             if (a < 0 || b < a || b > r.size())
               throw OutOfRangeError(r.name() + ": audio samples [" + std::to_string(a) + ", " + std::to_string(b) +
                                     ") are out of range [0, " + std::to_string(r.size()) + "]");
             return view(r, a, b, self);
           },
           py::arg("begin"), py::arg("end"), "samples [begin, end), (channels, end - begin)")
      .def("index_at", &AudioReader::index_at, py::arg("seconds"),
           "the sample that plays at `seconds` (nearest), clamped to [0, len]")
      .def("time_of", &AudioReader::time_of, py::arg("k"), "seconds at which sample k plays")
      .def("between",
           [](py::object self, double t0, double t1) {
             const auto& r = self.cast<const AudioReader&>();
             auto [a, b] = r.range_between(t0, t1);
             return view(r, a, b, self);
           },
           py::arg("t0"), py::arg("t1"), "the samples that play during [t0, t1) seconds")
      .def("ranges_for_frames",
           [](const AudioReader& r, PyReader& video, py::object indices) {
             const std::vector<int64_t> idx = to_indices(indices);
             return video.locked([&](VideoReader& v) { return audio_for_frames(v, r, idx); });
           },
           py::arg("video"), py::arg("indices"),
           "[(first, end), ...]: the samples that play while each frame of `video` is shown")
      .def("for_frames",
           [](py::object self, PyReader& video, py::object indices) {
             const auto& r = self.cast<const AudioReader&>();
             const std::vector<int64_t> idx = to_indices(indices);
             const std::vector<std::pair<int64_t, int64_t>> ranges =
                 video.locked([&](VideoReader& v) { return audio_for_frames(v, r, idx); });
             py::list out;
             for (auto [a, b] : ranges) out.append(view(r, a, b, self));
             return out;
           },
           py::arg("video"), py::arg("indices"),
           "for each frame index, the samples that play while `video` shows it, (channels, n) each");
}

}  // namespace

void bind_audio(py::module_& m) {
  py::class_<AudioReader, std::shared_ptr<AudioReader>> cls(m, "AudioReader", R"doc(
An audio stream's samples as float32, decoded whole at open:

    AudioReader(source, *, sample_rate=None, mono=True, stream=-1)

sample k is the k-th sample ``ffmpeg -i X -f f32le -ac C -ar R -`` writes (same decoder, same
resampler and defaults) and plays at start + k / sample_rate (start: the first decoded frame's
pts, on the container's clock, which the video shares). sample_rate None: the stream's own;
mono False: the stream's channels. Arrays are (channels, samples) views of the reader's
memory (no copy): reader[a:b], samples(a, b), between(t0, t1), for_frames(video, indices).)doc");
  cls.def(py::init([](py::object source, py::object sample_rate, bool mono, int stream) {
            AudioOptions o;
            o.sample_rate = sample_rate.is_none() ? 0 : sample_rate.cast<int>();
            if (!sample_rate.is_none() && o.sample_rate <= 0)
              throw ConfigError("AudioReader: sample_rate must be a positive number of Hz (or None: the stream's own)");
            o.mono = mono;
            o.stream = stream;
            Source s = source_of(source, "AudioReader");
            py::gil_scoped_release nogil;
            return std::make_shared<AudioReader>(s, o);
          }),
          py::arg("source"), py::kw_only(), py::arg("sample_rate") = py::none(), py::arg("mono") = true,
          py::arg("stream") = -1)
      .def("__len__", &AudioReader::size)
      .def_property_readonly("sample_rate", &AudioReader::sample_rate)
      .def_property_readonly("channels", &AudioReader::channels)
      .def_property_readonly("shape", [](const AudioReader& r) { return py::make_tuple(r.channels(), r.size()); })
      .def_property_readonly("start", &AudioReader::start, "seconds at which sample 0 plays")
      .def_property_readonly("duration", &AudioReader::duration)
      .def_property_readonly("codec", &AudioReader::codec)
      .def_property_readonly("stream", &AudioReader::stream)
      .def_property_readonly("source", &AudioReader::name)
      .def_property_readonly("damage_reports", &AudioReader::damage_reports,
                             "decode errors FFmpeg reported (and concealed or dropped)")
      .def_property_readonly("array", [](py::object self) {
        const auto& r = self.cast<const AudioReader&>();
        return view(r, 0, r.size(), self);
      }, "every sample, (channels, samples)")
      .def("__getitem__",
           [](py::object self, int64_t k) {
             const auto& r = self.cast<const AudioReader&>();
             const int64_t i = k < 0 ? k + r.size() : k;
             if (i < 0 || i >= r.size())
               throw OutOfRangeError(r.name() + ": audio sample " + std::to_string(k) + " is out of range [0, " +
                                     std::to_string(r.size()) + ")");
             return view(r, i, i + 1, self).attr("reshape")(r.channels());
           },
           py::arg("k"), "sample k of every channel, (channels,)")
      .def("__getitem__",
           [](py::object self, py::slice s) {
             const auto& r = self.cast<const AudioReader&>();
             py::ssize_t step = 1;
             auto [a, b] = slice_range(r, s, step);
             if (step == 1) return view(r, a, b, self);
             return py::array(view(r, 0, r.size(), self)[py::make_tuple(py::slice(py::none(), py::none(), py::none()), s)]);
           },
           "samples of a slice, (channels, n)")
      .def("__repr__", [](const AudioReader& r) {
        return "<framepipe.AudioReader '" + r.name() + "' " + std::to_string(r.channels()) + " x " +
               std::to_string(r.size()) + " at " + std::to_string(r.sample_rate()) + " Hz>";
      });
  add_alignment(cls);
}

}  // namespace framepipe::python
