// alertd routes test: amtool 0.25's `config routes test`, over alertd's route tree.
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "cmd/commands.h"
#include "config/config.h"
#include "notifiers/route.h"

namespace alertd::cmd {

Command AddRoutesCommand(CLI::App& parent) {
  struct Flags {
    std::string config_file;
    std::string verify_receivers;
    std::vector<std::string> labels;
  };

  auto flags = std::make_shared<Flags>();
  CLI::App* routes = parent.add_subcommand("routes", "Inspect the route tree of a configuration.");
  routes->require_subcommand(1);
  CLI::App* app = routes->add_subcommand(
      "test",
      "Print the receivers an alert with the given labels is routed to, in order and joined by "
      "commas.");
  app->add_option("--config.file",
                  flags->config_file,
                  "Configuration file: an alertd.yml or an alertmanager.yml.")
      ->required();
  app->add_option("--verify.receivers",
                  flags->verify_receivers,
                  "Exit 1 unless the receivers printed are exactly these, joined by commas.");
  app->add_option("labels", flags->labels, "Labels of the alert, as name=value.");
  return Command{app, [flags] {
                   std::vector<config::ConfigError> errors;
                   Result<config::Config> config =
                       config::LoadRoutingFile(flags->config_file, &errors);
                   if (!config.ok()) {
                     for (const config::ConfigError& error : errors) {
                       std::cerr << error.ToString() << "\n";
                     }
                     return 1;
                   }
                   if (!config->route) {
                     std::cerr << flags->config_file
                               << ": the configuration has no route; add a route with a "
                                  "receiver\n";
                     return 1;
                   }
                   LabelsBuilder builder;
                   for (const std::string& text : flags->labels) {
                     Result<LabelMatcher> matcher = config::ParseMatcher(text);
                     if (!matcher.ok()) {
                       std::cerr << "Failed to parse labels: " << matcher.error().message() << "\n";
                       return 1;
                     }
                     if (matcher->type() != MatchType::kEqual) {
                       std::cerr << "Failed to parse labels: labels must be specified as "
                                    "key=value pairs, got "
                                 << text << "\n";
                       return 1;
                     }
                     builder.Set(matcher->name(), matcher->value());
                   }
                   Route tree(*config->route);
                   std::string receivers;
                   for (const Route* route : tree.Match(builder.Build())) {
                     if (!receivers.empty()) {
                       receivers += ',';
                     }
                     receivers += route->receiver();
                   }
                   std::cout << receivers << "\n";
                   if (!flags->verify_receivers.empty() && flags->verify_receivers != receivers) {
                     std::cout << "WARNING: Expected receivers did not match resolved "
                                  "receivers.\n";
                     return 1;
                   }
                   return 0;
                 }};
}

}  // namespace alertd::cmd
