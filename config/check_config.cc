#include "config/check_config.h"

#include <glob.h>

#include <vector>

#include "config/config.h"
#include "config/config_internal.h"
#include "rules/check.h"

namespace alertd::config {
namespace {

bool IsGlobPattern(const std::string& pattern) {
  return pattern.find_first_of("*?[") != std::string::npos;
}

std::vector<std::string> Glob(const std::string& pattern) {
  std::vector<std::string> files;
  glob_t matches{};
  if (::glob(pattern.c_str(), 0, nullptr, &matches) == 0) {
    for (size_t i = 0; i < matches.gl_pathc; ++i) {
      files.emplace_back(matches.gl_pathv[i]);
    }
  }
  ::globfree(&matches);
  return files;
}

// Reports each rule_files entry that matches nothing; returns false when one is an error.
bool CheckRuleFilePatterns(const Config& config, std::ostream& err) {
  bool ok = true;
  for (size_t i = 0; i < config.rule_files.size(); ++i) {
    const std::string& pattern = config.rule_files[i];
    std::string full = internal::JoinPath(config.base_dir, pattern);
    if (!Glob(full).empty()) {
      continue;
    }
    Mark mark = i < config.rule_file_marks.size() ? config.rule_file_marks[i] : Mark{config.file};
    if (IsGlobPattern(pattern)) {
      ConfigError warning{mark,
                          "warning: rule_files pattern \"" + pattern +
                              "\" matches no file (looked for \"" + full + "\")"};
      err << warning.ToString() << "\n";
    } else {
      ConfigError error{mark,
                        "rule file \"" + pattern + "\" not found (looked for \"" + full +
                            "\"); fix the path, which is relative to the config file"};
      err << error.ToString() << "\n";
      ok = false;
    }
  }
  return ok;
}

}  // namespace

int CheckConfig(const std::string& file, std::ostream& out, std::ostream& err) {
  std::vector<ConfigError> errors;
  Result<Config> config = LoadConfigFile(file, &errors);
  if (!config.ok()) {
    for (const ConfigError& error : errors) {
      err << error.ToString() << "\n";
    }
    return 1;
  }
  bool ok = CheckRuleFilePatterns(*config, err);
  std::vector<std::string> rule_files = ExpandRuleFiles(*config);
  out << file << ": " << rule_files.size()
      << (rule_files.size() == 1 ? " rule file found\n" : " rule files found\n");
  for (const std::string& rule_file : rule_files) {
    ok = rules::CheckRuleFile(rule_file, out, err) && ok;
  }
  return ok ? 0 : 1;
}

}  // namespace alertd::config
