// alertd: the daemon and its command-line tools. This file only parses arguments and calls
// into the modules.
#include <unistd.h>

#include <iostream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "app/daemon.h"
#include "common/logging.h"
#include "config/check_config.h"
#include "rules/check.h"

#ifndef ALERTD_VERSION
#define ALERTD_VERSION "unknown"
#endif

int main(int argc, char** argv) {
  CLI::App app{"alertd: alert rule engine and notification router"};
  app.set_version_flag("--version", std::string("alertd ") + ALERTD_VERSION);
  app.require_subcommand(1);

  // alertd run
  alertd::DaemonOptions daemon_options;
  std::string log_level = "info";
  std::string log_format = "logfmt";
  CLI::App* run = app.add_subcommand("run", "Run the daemon: scrape, evaluate rules, notify.");
  run->add_option("--config.file",
                  daemon_options.config_file,
                  "Path of the configuration file (alertd.yml).")
      ->default_val("alertd.yml");
  run->add_option("--log.level", log_level, "Log level: debug, info, warn or error.")
      ->default_val("info")
      ->check(CLI::IsMember({"debug", "info", "warn", "error"}));
  run->add_option("--log.format", log_format, "Log format: logfmt or json.")
      ->default_val("logfmt")
      ->check(CLI::IsMember({"logfmt", "json"}));

  // alertd check rules|config
  CLI::App* check = app.add_subcommand("check", "Validate rule files or a configuration.");
  check->require_subcommand(1);
  std::vector<std::string> rule_files;
  CLI::App* check_rules =
      check->add_subcommand("rules", "Validate Prometheus rule files; exit 1 on any error.");
  check_rules->add_option("files", rule_files, "Rule files to check.")->required();
  std::string config_file;
  CLI::App* check_config = check->add_subcommand(
      "config", "Validate a configuration file and every rule file it names; exit 1 on error.");
  check_config->add_option("file", config_file, "Configuration file (alertd.yml).")->required();

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }

  if (check_rules->parsed()) {
    return alertd::rules::CheckRules(rule_files, std::cout, std::cerr);
  }
  if (check_config->parsed()) {
    return alertd::config::CheckConfig(config_file, std::cout, std::cerr);
  }
  if (run->parsed()) {
    auto format = log_format == "json" ? alertd::LogFormat::kJson : alertd::LogFormat::kLogfmt;
    if (auto status = alertd::InitLogging(log_level, format); !status.ok()) {
      std::cerr << status.error().message() << "\n";
      return 2;
    }
    return alertd::RunDaemon(daemon_options);
  }
  return 0;
}
