#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "cmd/commands.h"
#include "common/http_client.h"
#include "config/check_config.h"
#include "notifiers/receivers.h"
#include "rules/check.h"

namespace alertd::cmd {

Command AddCheckRulesCommand(CLI::App& check) {
  struct Flags {
    std::vector<std::string> files;
    std::string lint = "duplicate-rules";
    bool lint_fatal = false;
    std::string format = "text";
  };

  auto flags = std::make_shared<Flags>();
  CLI::App* app =
      check.add_subcommand("rules", "Validate Prometheus rule files; exit 1 on any error.");
  app->add_option("files", flags->files, "Rule files to check; - reads one from standard input.")
      ->required();
  app->add_option(
      "--lint", flags->lint, "Lint checks to apply: all, duplicate-rules (the default) or none.");
  app->add_flag("--lint-fatal", flags->lint_fatal, "Exit with code 3 on a lint finding.");
  app->add_option("--format", flags->format, "Output format: text (the default) or json.")
      ->check(CLI::IsMember({"text", "json"}));
  return Command{app, [flags] {
                   Result<rules::LintMode> lint = rules::ParseLintMode(flags->lint);
                   if (!lint.ok()) {
                     std::cerr << lint.error().message() << "\n";
                     return 1;
                   }
                   rules::CheckRulesOptions options;
                   options.lint = *lint;
                   options.lint_fatal = flags->lint_fatal;
                   options.format = flags->format == "json" ? rules::CheckFormat::kJson
                                                            : rules::CheckFormat::kText;
                   return rules::CheckRules(flags->files, options, std::cin, std::cout, std::cerr);
                 }};
}

// Builds every receiver's integrations as `alertd run` does, which parses their templates, so
// that `check config` rejects what the daemon would reject at start. Returns the exit code.
static int CheckReceivers(const std::string& file, std::ostream& err) {
  std::vector<config::ConfigError> errors;
  auto config = config::LoadConfigForCheck(file, &errors, nullptr);
  if (!config.ok()) {
    return 1;  // CheckConfig has reported it already
  }
  // A secret file that could not be read was a warning; a stand-in URL lets the integration
  // be built so that its templates are still checked. Nothing is sent.
  for (config::Receiver& receiver : config->receivers) {
    for (config::SlackConfig& slack : receiver.slack_configs) {
      if (slack.api_url.empty()) {
        slack.api_url = "https://secret-file-unread.invalid/";
      }
    }
    for (config::WebhookConfig& webhook : receiver.webhook_configs) {
      if (webhook.url.empty()) {
        webhook.url = "https://secret-file-unread.invalid/";
      }
    }
  }
  auto receivers = BuildReceivers(*config, MakeCurlHttpClient());
  if (!receivers.ok()) {
    err << receivers.error().message() << "\n";
    return 1;
  }
  return 0;
}

Command AddCheckConfigCommand(CLI::App& check) {
  auto file = std::make_shared<std::string>();
  CLI::App* app = check.add_subcommand(
      "config",
      "Validate a configuration file (alertd.yml or alertmanager.yml) and every rule file it "
      "names; exit 1 on error.");
  app->add_option("file", *file, "Configuration file (alertd.yml or alertmanager.yml).")
      ->required();
  return Command{app, [file] {
                   int code = config::CheckConfig(*file, std::cout, std::cerr);
                   if (code != 0) {
                     return code;
                   }
                   return CheckReceivers(*file, std::cerr);
                 }};
}

}  // namespace alertd::cmd
