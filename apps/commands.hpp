// The framepipe CLI's subcommands. Each registers itself on the app and runs when chosen;
// errors travel as framepipe exceptions to main(), which turns them into exit codes.
#pragma once

#include <CLI/CLI.hpp>
#include <cstddef>
#include <functional>

namespace framepipe::cli {

using Command = std::function<int()>;  // runs a parsed subcommand: its exit code

// The most decoded frames, in bytes, that `tensors` asks the reader for at once: several
// batches' keyframe groups for the worker pool, and bounded memory whatever the frame size.
constexpr size_t kRequestBytes = size_t{128} << 20;

Command add_probe(CLI::App& app);
Command add_index(CLI::App& app);
Command add_frames(CLI::App& app);
Command add_tensors(CLI::App& app);
Command add_run(CLI::App& app);
Command add_transform(CLI::App& app);
Command add_corpus(CLI::App& app);

}  // namespace framepipe::cli
