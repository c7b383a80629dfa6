#include "config/check_config.h"

#include <glob.h>

#include <vector>

#include "config/config.h"
#include "config/config_internal.h"
#include "rules/check.h"
#include "rules/yaml_util.h"

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

Result<Config> LoadConfigForCheck(const std::string& file,
                                  std::vector<ConfigError>* errors,
                                  std::vector<ConfigError>* warnings) {
  Result<std::string> text = yaml::ReadTextFile(file);
  if (!text.ok()) {
    ConfigError error{Mark{file, 0, 0}, "cannot read config file: " + text.error().message()};
    if (errors != nullptr) {
      errors->push_back(error);
    }
    return Error::Io(error.ToString());
  }
  internal::Loader loader(file, internal::DirName(file));
  loader.set_secret_files_are_warnings(true);
  Config config = loader.Load(*text);
  internal::SortErrors(loader.errors(), file);
  internal::SortErrors(loader.warnings(), file);
  if (warnings != nullptr) {
    warnings->insert(warnings->end(), loader.warnings().begin(), loader.warnings().end());
  }
  const std::vector<ConfigError>& found = loader.errors();
  if (errors != nullptr) {
    errors->insert(errors->end(), found.begin(), found.end());
  }
  if (found.empty()) {
    return config;
  }
  return Error::Invalid(
      found.front().ToString(), found.front().mark.line, found.front().mark.column);
}

std::vector<ConfigError> UnsupportedIntegrationWarnings(const Config& config) {
  std::vector<ConfigError> warnings;
  for (const Receiver& receiver : config.receivers) {
    for (const UnsupportedIntegration& integration : receiver.unsupported_integrations) {
      warnings.push_back(
          ConfigError{integration.mark,
                      "warning: receiver \"" + receiver.name + "\" uses " + integration.type +
                          ", which alertd cannot send yet; alertd run rejects this configuration"});
    }
  }
  return warnings;
}

Status CheckRunnable(const Config& config) {
  std::vector<std::string> problems;
  for (const Receiver& receiver : config.receivers) {
    for (const UnsupportedIntegration& integration : receiver.unsupported_integrations) {
      problems.push_back(
          ConfigError{integration.mark,
                      "receiver \"" + receiver.name + "\" uses " + integration.type +
                          ", which alertd cannot send yet; remove it, or use slack_configs, "
                          "webhook_configs, email_configs or sentry_configs"}
              .ToString());
    }
  }
  if (problems.empty()) {
    return Status::Ok();
  }
  std::string message = problems.front();
  for (size_t i = 1; i < problems.size(); ++i) {
    message += "\n" + problems[i];
  }
  return Error::Invalid(message);
}

namespace {

std::string Count(size_t n, const std::string& singular, const std::string& plural) {
  return std::to_string(n) + " " + (n == 1 ? singular : plural);
}

}  // namespace

int CheckConfig(const std::string& file, std::ostream& out, std::ostream& err) {
  std::vector<ConfigError> errors;
  std::vector<ConfigError> warnings;
  Result<Config> config = LoadConfigForCheck(file, &errors, &warnings);
  for (const ConfigError& warning : warnings) {
    err << warning.ToString() << "\n";
  }
  if (!config.ok()) {
    for (const ConfigError& error : errors) {
      err << error.ToString() << "\n";
    }
    return 1;
  }
  for (const ConfigError& warning : UnsupportedIntegrationWarnings(*config)) {
    err << warning.ToString() << "\n";
  }
  bool ok = CheckRuleFilePatterns(*config, err);
  std::vector<std::string> rule_files = ExpandRuleFiles(*config);
  out << file << ": " << rule_files.size()
      << (rule_files.size() == 1 ? " rule file found\n" : " rule files found\n");
  if (config->route) {
    out << file << ": route, "
        << Count(config->inhibit_rules.size(), "inhibit rule", "inhibit rules") << ", "
        << Count(config->receivers.size(), "receiver", "receivers") << ", "
        << Count(config->templates.size(), "template", "templates") << ", "
        << Count(config->time_intervals.size(), "time interval", "time intervals") << " found\n";
  }
  size_t rule_count = 0;
  for (const std::string& rule_file : rule_files) {
    ok = rules::CheckRuleFile(rule_file, out, err, config->limits.max_line_length, &rule_count) &&
         ok;
  }
  const uint64_t max_rules = config->limits.max_rules;
  if (max_rules > 0 && rule_count > max_rules) {
    err << file << ": the rule files hold " << rule_count << " rules, more than limits.max_rules ("
        << max_rules << "); remove rules or raise limits.max_rules\n";
    ok = false;
  }
  return ok ? 0 : 1;
}

}  // namespace alertd::config
