// The options of a model run that change its results (sample, batch, aggregation, tracking,
// events, thresholds, engine, decoding), shared by `run` and `corpus plan`.
#pragma once

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

#include "framepipe/pipeline/run.hpp"

namespace framepipe::cli {

struct ModelRunArgs {
  RunOptions o;
  std::vector<std::string> input_options;
  bool no_autorotate = false;
  void apply();  // the raw flags into o
};

void add_model_run_options(CLI::App* cmd, ModelRunArgs& a);

}  // namespace framepipe::cli
