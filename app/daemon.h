// The alertd daemon: loads the configuration and rule files, then scrapes, evaluates and
// notifies until SIGTERM or SIGINT.
#pragma once

#include <string>

namespace alertd {

struct DaemonOptions {
  std::string config_file = "alertd.yml";
};

// Runs the daemon in the calling thread. Returns the process exit code: 0 after a clean stop,
// 1 when the configuration, the rule files or the state store cannot be loaded, or the
// listen address cannot be bound.
int RunDaemon(const DaemonOptions& options);

}  // namespace alertd
