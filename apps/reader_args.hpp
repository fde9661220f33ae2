// Command-line options shared by the commands that read frames: output size and resize,
// channel order, colour, decoder threads. Registered on a subcommand, applied to
// ReaderOptions.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include "framepipe/error.hpp"
#include "framepipe/pipeline/inputs.hpp"
#include "framepipe/reader/video_reader.hpp"

namespace framepipe::cli {

template <class T>
std::vector<T> parse_list(const std::string& text, const char* what) {
  std::vector<T> out;
  std::stringstream ss(text);
  std::string item;
  while (std::getline(ss, item, ',')) {
    if (item.empty()) continue;
    std::istringstream is(item);
    T v{};
    if (!(is >> v) || !is.eof()) throw ConfigError(std::string("bad ") + what + " '" + item + "' in '" + text + "'");
    out.push_back(v);
  }
  if (out.empty()) throw ConfigError(std::string("no ") + what + " given");
  return out;
}

// --input-option KEY=VALUE, repeatable: FFmpeg options for opening the input (InputOptions).
void add_input_options(CLI::App* cmd, std::vector<std::string>& raw);
InputOptions parse_input_options(const std::vector<std::string>& raw);

// INPUT arguments (files, folders with sub-folders, lists) through `each(video, out)`: with
// one video `out` is OUT itself, with several OUT/NAME (NAME: the video's relative path), so
// that no two write into one folder. An input's own error is printed and the rest go on;
// a config or I/O error stops. Returns the exit code: 0, or the first failure's.
int for_each_input(const std::vector<std::string>& inputs, const std::string& out,
                   const std::function<void(const std::string&, const std::string&)>& each);

struct ReaderArgs {
  std::string size, resize = "stretch", pix = "rgb", interp = "bicubic", matrix = "auto", range = "auto";
  std::string pad = "0,0,0", index = "exact", device = "cpu";
  std::vector<std::string> input_options;
  int threads = 0, workers = 0;
  int64_t max_pixels = kDefaultMaxPixels;
  int64_t batch_bytes = kDefaultBatchBytes;
  bool strict = false, no_autorotate = false;

  // batches: the command holds frames in batches, and offers --batch-bytes to limit them
  // (`frames` hands each frame on as it comes and holds none).
  void add(CLI::App* cmd, bool size_required = false, bool batches = false);
  ReaderOptions options() const;
};

}  // namespace framepipe::cli
