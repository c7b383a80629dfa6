// The `webhook_receivers` section of alertd.yml: inbound webhook endpoints.
#include "config/config_internal.h"

namespace alertd::config::internal {

// TODO: read the entries; until then the section is refused so no endpoint is half-configured.
void LoadWebhookReceivers(
    const yaml::Entry& entry,
    Config& config,
    const std::function<std::optional<std::string>(const yaml::Entry&)>& read_file,
    const yaml::ErrorSink& errors) {
  (void)config;
  (void)read_file;
  errors(entry.key_position(), "webhook_receivers is not supported yet by alertd");
}

}  // namespace alertd::config::internal
