// The framepipe CLI's subcommands. Each registers itself on the app and runs when chosen;
// errors travel as framepipe exceptions to main(), which turns them into exit codes.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>

namespace framepipe::cli {

using Runner = std::function<int()>;

Runner add_probe(CLI::App& app);
Runner add_index(CLI::App& app);
Runner add_frames(CLI::App& app);
Runner add_tensors(CLI::App& app);
Runner add_run(CLI::App& app);
Runner add_transform(CLI::App& app);

}  // namespace framepipe::cli
