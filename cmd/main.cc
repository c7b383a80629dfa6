// alertd: the daemon and its command-line tools. This file only assembles the subcommands;
// each lives in its own cmd/*_command.cc.
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "cmd/commands.h"

#ifndef ALERTD_VERSION
#define ALERTD_VERSION "unknown"
#endif

int main(int argc, char** argv) {
  CLI::App app{"alertd: alert rule engine and notification router"};
  app.set_version_flag("--version", std::string("alertd ") + ALERTD_VERSION);
  app.require_subcommand(1);

  CLI::App* check = app.add_subcommand("check", "Validate rule files or a configuration.");
  check->require_subcommand(1);
  CLI::App* test = app.add_subcommand("test", "Run PromQL test scripts or rule unit tests.");
  test->require_subcommand(1);

  std::vector<alertd::cmd::Command> commands = {
      alertd::cmd::AddRunCommand(app),
      alertd::cmd::AddCheckRulesCommand(*check),
      alertd::cmd::AddCheckConfigCommand(*check),
      alertd::cmd::AddTestRulesCommand(*test),
      alertd::cmd::AddTestPromqlCommand(*test),
      alertd::cmd::AddRoutesCommand(app),
  };
  (void)test;  // its subcommands join the list above

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  for (const auto& command : commands) {
    if (command.app->parsed()) {
      return command.run();
    }
  }
  return 0;
}
