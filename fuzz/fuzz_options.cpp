// The CLI's option values: a fuzzed command line through the options every reading command
// registers (CLI11 parses, ReaderArgs::options() checks), and the value parsers the other
// commands use. Answers are a CLI11 parse error or a typed ConfigError; accepted values must
// give an output geometry that fits in memory for a full-HD source.
#include <CLI/CLI.hpp>

#include "framepipe/bounded_queue.hpp"
#include "framepipe/image/geometry.hpp"
#include "framepipe/tensor/tensor.hpp"
#include "framepipe/temporal/temporal.hpp"
#include "fuzz_common.hpp"
#include "reader_args.hpp"

using namespace framepipe;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::Input in(data, size);
  std::vector<std::string> words{"framepipe"};
  for (int k = 0; k < 24 && in.left(); ++k) words.push_back(in.line(256));
  const std::string value = words.size() > 1 ? words.back() : std::string();

  fuzz::run_typed("fuzz_options", [&] {
    CLI::App app("fuzz");
    cli::ReaderArgs args;
    args.add(&app);
    std::vector<const char*> argv;
    for (const auto& w : words) argv.push_back(w.c_str());
    try {
      app.parse(static_cast<int>(argv.size()), argv.data());
    } catch (const CLI::Error&) {
      return;  // the CLI prints CLI11's message and exits 2 (or 0 for --help)
    }
    const ReaderOptions ro = args.options();
    for (const auto& [w, h] : {std::pair{1920, 1080}, std::pair{1, 1}, std::pair{16384, 2}}) {
      const Geometry g = make_geometry(w, h, ro.image, 2, 2);
      if (g.out_width <= 0 || g.out_height <= 0 || g.src_rect.width <= 0 || g.src_rect.height <= 0 ||
          g.src_rect.x < 0 || g.src_rect.y < 0 || g.src_rect.x + g.src_rect.width > w ||
          g.src_rect.y + g.src_rect.height > h || g.dst_rect.x < 0 || g.dst_rect.y < 0 ||
          g.dst_rect.x + g.dst_rect.width > g.out_width || g.dst_rect.y + g.dst_rect.height > g.out_height)
        fuzz::fail("fuzz_options", "geometry out of its frame for '" + args.size + "'");
      if (static_cast<int64_t>(g.out_width) * g.out_height > kMaxOutputPixels)
        fuzz::fail("fuzz_options", "accepted an output of " + std::to_string(g.out_width) + "x" +
                                       std::to_string(g.out_height));
    }
  });
  // The value parsers of the other commands' options.
  fuzz::run_typed("fuzz_options", [&] { (void)cli::parse_list<int64_t>(value, "index"); });
  fuzz::run_typed("fuzz_options", [&] { (void)cli::parse_list<double>(value, "time"); });
  fuzz::run_typed("fuzz_options", [&] { (void)parse_layout(value); });
  fuzz::run_typed("fuzz_options", [&] { (void)parse_dtype(value); });
  fuzz::run_typed("fuzz_options", [&] { (void)parse_aggregate(value); });
  fuzz::run_typed("fuzz_options", [&] { (void)parse_queue_policy(value); });
  fuzz::run_typed("fuzz_options", [&] { (void)parse_index_mode(value); });
  fuzz::run_typed("fuzz_options", [&] { (void)cli::parse_input_options(words); });
  return 0;
}
