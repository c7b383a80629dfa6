// The subcommands of the alertd binary. Each Add* function registers one subcommand on its
// parent and returns it with the action that runs it once the command line has been parsed.
#pragma once

#include <functional>

#include <CLI/CLI.hpp>

namespace alertd::cmd {

struct Command {
  CLI::App* app = nullptr;
  // Runs the command; returns the process exit code.
  std::function<int()> run;
};

// alertd run
Command AddRunCommand(CLI::App& parent);
// alertd check rules FILE..., alertd check config FILE
Command AddCheckRulesCommand(CLI::App& check);
Command AddCheckConfigCommand(CLI::App& check);
// alertd test promql FILE...
Command AddTestPromqlCommand(CLI::App& test);
// alertd test rules FILE...
Command AddTestRulesCommand(CLI::App& test);
// alertd routes test --config.file=FILE LABEL=VALUE... (adds the `routes` parent too)
Command AddRoutesCommand(CLI::App& parent);

}  // namespace alertd::cmd
