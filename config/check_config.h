// The logic of `alertd check config FILE`, kept apart from the command line so it can be
// tested: validates alertd.yml (or a plain alertmanager.yml) and every rule file its
// rule_files globs match. Also the check `alertd run` makes before it starts.
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "common/result.h"
#include "config/config.h"

namespace alertd::config {

// Prints "FILE: N rule files found" and then each rule file's "FILE: N rules found" to `out`,
// and for a configuration with a route a summary of its notification part:
// "FILE: route, N inhibit rules, N receivers, N templates, N time intervals found".
// Errors go to `err` as `FILE:LINE:COL: message`, warnings as `FILE:LINE:COL: warning: ...`.
// A rule_files entry that matches no file is an error when it names a file and a warning when
// it is a glob pattern, which may match files added later. Integrations alertd cannot send and
// unreadable *_file secrets are warnings: amtool accepts them. Returns the exit code: 0 when
// the config and every rule file are valid, 1 otherwise.
int CheckConfig(const std::string& file, std::ostream& out, std::ostream& err);

// Loads `file` as CheckConfig does: like LoadConfigFile, except that problems reading *_file
// secrets are appended to `warnings` instead of `errors`.
Result<Config> LoadConfigForCheck(const std::string& file,
                                  std::vector<ConfigError>* errors,
                                  std::vector<ConfigError>* warnings);

// One warning per integration of `config` that alertd validates but cannot send.
std::vector<ConfigError> UnsupportedIntegrationWarnings(const Config& config);

// What `alertd run` requires beyond a valid configuration: no receiver uses an integration
// alertd cannot send. The error names each one with its FILE:LINE:COL and receiver.
Status CheckRunnable(const Config& config);

}  // namespace alertd::config
