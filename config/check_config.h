// The logic of `alertd check config FILE`, kept apart from the command line so it can be
// tested: validates alertd.yml and every rule file its rule_files globs match.
#pragma once

#include <ostream>
#include <string>

namespace alertd::config {

// Prints "FILE: N rule files found" and then each rule file's "FILE: N rules found" to `out`;
// errors as `FILE:LINE:COL: message` and warnings to `err`. A rule_files entry that matches
// no file is an error when it names a file and a warning when it is a glob pattern, which may
// match files added later. Returns the exit code: 0 when the config and every rule file are
// valid, 1 otherwise.
int CheckConfig(const std::string& file, std::ostream& out, std::ostream& err);

}  // namespace alertd::config
