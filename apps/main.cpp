// framepipe: video to model-ready frames and results. Exit codes (DESIGN.md):
// 0 done, 1 failed, 2 bad usage, 3 input unusable (do not retry), 4 transient (retry).
#include <cstdio>
#include <exception>
#include <map>

#include "framepipe/version.hpp"
#include "commands.hpp"
#include "framepipe/error.hpp"

int main(int argc, char** argv) {
  CLI::App app{"framepipe: exact video frames for machine learning"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("framepipe ") + framepipe::kVersion);
  std::map<CLI::App*, framepipe::cli::Command> runners;
  auto add = [&](framepipe::cli::Command (*adder)(CLI::App&)) {
    const size_t before = app.get_subcommands({}).size();
    framepipe::cli::Command r = adder(app);
    runners[app.get_subcommands({})[before]] = std::move(r);
  };
  add(&framepipe::cli::add_probe);
  add(&framepipe::cli::add_index);
  add(&framepipe::cli::add_frames);
  add(&framepipe::cli::add_tensors);
  add(&framepipe::cli::add_run);
  add(&framepipe::cli::add_transform);
  add(&framepipe::cli::add_corpus);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? 0 : 2;
  }
  try {
    for (auto& [sub, run] : runners)
      if (sub->parsed()) return run();
    return 2;
  } catch (const framepipe::Error& e) {
    std::fprintf(stderr, "framepipe: %s error: %s\n", framepipe::to_string(e.kind()), e.what());
    return e.exit_code();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "framepipe: error: %s\n", e.what());
    return 1;
  }
}
