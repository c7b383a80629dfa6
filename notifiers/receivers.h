// Builds the notifiers of the configured receivers.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/http_client.h"
#include "common/result.h"
#include "config/config.h"
#include "notifiers/notifier.h"

namespace alertd {

using ReceiverMap = std::map<std::string, std::vector<std::unique_ptr<Notifier>>>;

// Creates one notifier per webhook_configs entry, then per email_configs entry, then per
// slack_configs entry (the order of Alertmanager's BuildReceiverIntegrations), then per
// sentry_configs entry, for every receiver in `config`. A Slack config without api_url uses
// global.slack_api_url, and an email config takes what it leaves empty from global.smtp_*. The first invalid entry fails the whole call; its
// error names the receiver and the entry, with the entry's file position. The files of
// config.templates are loaded once first and shared by every notifier; a file that fails to
// load fails the call with its path and line (see NotificationTemplates::Load).
Result<ReceiverMap> BuildReceivers(const config::Config& config,
                                   std::shared_ptr<HttpClient> client);

}  // namespace alertd
