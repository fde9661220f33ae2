// The result writers' escaping: results whose video path, labels and reasons are any bytes
// (quotes, commas, control characters, invalid UTF-8) and whose numbers are any doubles.
// The JSON line must parse back, with the same strings where they were UTF-8; the CSV rows
// must read back (RFC 4180) as records of exactly the header's 14 fields.
#include <cmath>
#include <cstring>

#include "fuzz_common.hpp"
#include "sinks/result_writer.hpp"

using namespace framepipe;

namespace {

double number(fuzz::Input& in) {
  uint64_t bits = (static_cast<uint64_t>(in.u32()) << 32) | in.u32();
  double d;
  std::memcpy(&d, &bits, sizeof d);
  return d;
}

// RFC 4180 records of a text; -1 when a quoted field is not closed or a quote is stray.
std::vector<size_t> csv_record_sizes(const std::string& text) {
  std::vector<size_t> sizes;
  size_t fields = 1, i = 0;
  bool any = false;
  while (i < text.size()) {
    any = true;
    if (text[i] == '"') {
      ++i;
      for (;;) {
        if (i >= text.size()) return {static_cast<size_t>(-1)};
        if (text[i] == '"') {
          if (i + 1 < text.size() && text[i + 1] == '"') {
            i += 2;
            continue;
          }
          ++i;
          break;
        }
        ++i;
      }
      if (i < text.size() && text[i] != ',' && text[i] != '\n') return {static_cast<size_t>(-1)};
    }
    while (i < text.size() && text[i] != ',' && text[i] != '\n') {
      if (text[i] == '"') return {static_cast<size_t>(-1)};
      ++i;
    }
    if (i < text.size() && text[i] == ',') {
      ++fields;
      ++i;
    } else {
      sizes.push_back(fields);
      fields = 1;
      any = false;
      ++i;
    }
  }
  if (any) sizes.push_back(fields);
  return sizes;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::Input in(data, size);
  const uint8_t kind = in.byte() % 6;
  ResultLine j;
  j["video"] = in.line(256);
  j["frame"] = static_cast<int64_t>(in.u32()) - (1LL << 31);
  j["pts"] = static_cast<int64_t>(in.u32());
  j["t"] = number(in);
  const auto label = [&] { return in.line(128); };
  switch (kind) {
    case 0:
    case 1: {
      ResultLine cls = ResultLine::array();
      for (int k = 0, n = in.byte() % 4; k < n; ++k) cls.push_back({{"label", label()}, {"score", number(in)}});
      j[kind == 0 ? "classes" : "smoothed"] = cls;
      if (kind == 1) j["classes"] = cls;
      break;
    }
    case 2: {
      ResultLine objs = ResultLine::array();
      for (int k = 0, n = in.byte() % 4; k < n; ++k) {
        ResultLine o = {{"label", label()}, {"score", number(in)}};
        o["box"] = {number(in), number(in), number(in), number(in)};
        if (in.byte() & 1) o["track"] = static_cast<int64_t>(in.u32());
        objs.push_back(o);
      }
      j["objects"] = objs;
      break;
    }
    case 3: j["segment"] = {{"label", label()}, {"score", number(in)}, {"start", number(in)}, {"end", number(in)}}; break;
    case 4: j["gap"] = {{"reason", label()}, {"start", number(in)}, {"end", number(in)}}; break;
    default: j["error"] = label(); break;
  }
  std::string text;
  fuzz::run_typed("fuzz_results", [&] { text = result_json(j); });
  ResultLine back;
  try {
    back = ResultLine::parse(text);
  } catch (const std::exception& e) {
    fuzz::fail("fuzz_results", std::string("the JSON line does not parse: ") + e.what());
  }
  if (text.find('\n') != std::string::npos) fuzz::fail("fuzz_results", "a JSON line holds a line break");
  try {
    const std::string video = j["video"].get<std::string>();
    (void)ResultLine(video).dump();  // throws unless UTF-8
    if (back["video"] != video) fuzz::fail("fuzz_results", "the video path changed on the way: " + video);
  } catch (const ResultLine::type_error&) {
    // not UTF-8: carried with U+FFFD
  }
  std::vector<std::string> rows;
  fuzz::run_typed("fuzz_results", [&] { rows = result_csv_rows(j); });
  std::string csv = std::string(result_csv_header()) + "\n";
  for (const auto& r : rows) csv += r + "\n";
  const auto sizes = csv_record_sizes(csv);
  if (sizes.size() != rows.size() + 1) fuzz::fail("fuzz_results", "the CSV reads back as another number of records");
  for (size_t s : sizes)
    if (s != 14) fuzz::fail("fuzz_results", "a CSV record of " + std::to_string(s) + " fields, not 14");
  return 0;
}
