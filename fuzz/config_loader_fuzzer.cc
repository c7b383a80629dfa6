// Loads arbitrary text as alertd.yml and as a rule file, and its first line as an
// Alertmanager matcher list (the syntax of amtool and of route matchers).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "rules/rule_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  // A folder that does not exist, so relative file names in the input resolve to nothing.
  const std::string dir = "/nonexistent/alertd-fuzz/";

  std::vector<alertd::config::ConfigError> config_errors;
  auto config = alertd::config::ParseConfig(text, dir + "alertd.yml", &config_errors);
  if (config.ok()) {
    static_cast<void>(alertd::config::ExpandRuleFiles(*config));
  }

  std::vector<alertd::rules::RuleError> rule_errors;
  static_cast<void>(alertd::rules::ParseRuleFile(text, dir + "rules.yml", &rule_errors));

  static_cast<void>(
      alertd::config::ParseMatchers(std::string_view(text).substr(0, text.find('\n'))));
  return 0;
}
