// Runs the alertd binary under test (ALERTD_BINARY) as a user would, for the CLI tests.
#pragma once

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <string>

namespace alertd::testing {

struct CommandResult {
  int exit_code = -1;  // -1 when the command could not be started or was killed
  std::string output;  // stdout and stderr
};

// Runs `alertd ARGS` through the shell with stderr merged into stdout.
inline CommandResult RunAlertd(const std::string& args) {
  std::string command = std::string(ALERTD_BINARY) + " " + args + " 2>&1";
  CommandResult result;
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) {
    return result;
  }
  std::array<char, 4096> buffer{};
  size_t n;
  while ((n = fread(buffer.data(), 1, buffer.size(), pipe)) > 0) {
    result.output.append(buffer.data(), n);
  }
  int status = pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

}  // namespace alertd::testing
