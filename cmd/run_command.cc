#include <iostream>
#include <memory>
#include <string>

#include "app/daemon.h"
#include "cmd/commands.h"
#include "common/logging.h"
#include "config/check_config.h"
#include "config/config.h"

namespace alertd::cmd {

Command AddRunCommand(CLI::App& parent) {
  struct Flags {
    DaemonOptions daemon;
    std::string log_level = "info";
    std::string log_format = "logfmt";
  };

  auto flags = std::make_shared<Flags>();
  CLI::App* run = parent.add_subcommand("run", "Run the daemon: scrape, evaluate rules, notify.");
  run->add_option(
         "--config.file", flags->daemon.config_file, "Path of the configuration file (alertd.yml).")
      ->default_val("alertd.yml");
  run->add_option("--web.config.file",
                  flags->daemon.web_config_file,
                  "Path of the web configuration file (TLS and authentication); overrides "
                  "web.config_file of the configuration.");
  run->add_option("--log.level", flags->log_level, "Log level: debug, info, warn or error.")
      ->default_val("info")
      ->check(CLI::IsMember({"debug", "info", "warn", "error"}));
  run->add_option("--log.format", flags->log_format, "Log format: logfmt or json.")
      ->default_val("logfmt")
      ->check(CLI::IsMember({"logfmt", "json"}));
  return Command{
      run, [flags] {
        auto format = flags->log_format == "json" ? LogFormat::kJson : LogFormat::kLogfmt;
        if (auto status = InitLogging(flags->log_level, format); !status.ok()) {
          std::cerr << status.error().message() << "\n";
          return 2;
        }
        // A configuration the daemon cannot serve fully is rejected before it
        // starts; other problems are reported by the daemon's own load.
        if (auto config = config::LoadConfigFile(flags->daemon.config_file, nullptr); config.ok()) {
          if (Status runnable = config::CheckRunnable(*config); !runnable.ok()) {
            std::cerr << runnable.error().message() << "\n";
            return 1;
          }
        }
        return RunDaemon(flags->daemon);
      }};
}

}  // namespace alertd::cmd
