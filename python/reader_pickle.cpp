// Pickling a reader: its source (a path, or the bytes), its options and its index, so a
// DataLoader worker re-opens it without scanning again.
#include "py_reader.hpp"

namespace framepipe::python {

py::tuple reader_state(PyReader& r) {
  const Source& s = r.source();
  const ReaderKwargs& a = r.args();
  FileStamp stamp;
  if (!s.in_memory())
    if (auto st = FileStamp::of(s.location)) stamp = *st;
  const std::string index = r.locked([&stamp](VideoReader& v) { return v.index().to_bytes(stamp); });
  py::object memory = s.in_memory() ? py::object(py::bytes(reinterpret_cast<const char*>(s.memory->data()),
                                                          s.memory->size()))
                                    : py::object(py::none());
  return py::make_tuple(1, s.location, memory,
                        py::make_tuple(a.width, a.height, a.resize, a.pix, a.num_threads, a.index,
                                       a.interpolation, a.workers, a.stream, a.input_options, a.autorotate, strict_arg(a),
                                       a.max_pixels, a.device, a.batch_bytes),
                        py::bytes(index));
}

std::unique_ptr<PyReader> reader_from_state(const py::tuple& state) {
  if (state.size() != 5 || state[0].cast<int>() != 1)
    throw ConfigError("VideoReader: this pickle was made by another version of framepipe");
  const py::tuple o = state[3].cast<py::tuple>();
  ReaderKwargs a;
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
  if (o.size() > 10) a.autorotate = o[10].cast<bool>();
  if (o.size() > 11) set_strict(a, o[11]);
  if (o.size() > 12) a.max_pixels = o[12].cast<int64_t>();
  if (o.size() > 13) a.device = o[13].cast<std::string>();
  if (o.size() > 14) a.batch_bytes = o[14].cast<int64_t>();
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
}

}  // namespace framepipe::python
