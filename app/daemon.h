// The alertd daemon: loads the configuration and rule files, then scrapes, evaluates and
// notifies until SIGTERM or SIGINT. SIGHUP and POST or PUT /-/reload reload the configuration;
// docs/operations.md describes what a reload keeps and how the daemon stops.
#pragma once

#include <string>

namespace alertd {

struct DaemonOptions {
  std::string config_file = "alertd.yml";
  // --web.config.file: when set, replaces web.config_file of the configuration.
  std::string web_config_file;
};

// Runs the daemon in the calling thread. Returns the process exit code: 0 after a clean stop,
// 1 when the configuration, the rule files or the state store cannot be loaded, the listen
// address cannot be bound, or a second SIGTERM or SIGINT cut the shutdown drain short.
int RunDaemon(const DaemonOptions& options);

}  // namespace alertd
