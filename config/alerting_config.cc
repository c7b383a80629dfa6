// receivers of alertd.yml, validated as Alertmanager 0.25's config for the fields alertd
// implements. The route tree is read by route_config.cc.
#include <algorithm>
#include <limits>

#include "config/config_internal.h"

namespace alertd::config::internal {
namespace {

using yaml::Entry;
using yaml::Position;

const yaml::Schema kReceiverSchema{"receiver",
                                   {"name", "slack_configs", "webhook_configs"},
                                   {"email_configs",
                                    "pagerduty_configs",
                                    "pushover_configs",
                                    "opsgenie_configs",
                                    "victorops_configs",
                                    "wechat_configs",
                                    "telegram_configs",
                                    "sns_configs",
                                    "webex_configs",
                                    "discord_configs",
                                    "msteams_configs"},
                                   {}};

const yaml::Schema kSlackSchema{
    "slack config",
    {"send_resolved", "api_url", "api_url_file", "channel", "username", "title", "text"},
    {"http_config",
     "color",
     "title_link",
     "pretext",
     "fields",
     "short_fields",
     "footer",
     "fallback",
     "callback_id",
     "icon_emoji",
     "icon_url",
     "image_url",
     "thumb_url",
     "link_names",
     "mrkdwn_in",
     "actions"},
    {}};

const yaml::Schema kWebhookSchema{
    "webhook config", {"send_resolved", "url", "url_file", "max_alerts"}, {"http_config"}, {}};

std::string Quote(std::string_view text) {
  return "\"" + std::string(text) + "\"";
}

}  // namespace

void Loader::LoadReceivers(const Entry& entry) {
  if (entry.value.IsNull()) {
    return;
  }
  if (!entry.value.IsSequence()) {
    Report(entry.value_position(),
           "receivers must be a list of receivers, got " + yaml::KindName(entry.value));
    return;
  }
  for (const YAML::Node& node : entry.value) {
    std::optional<Receiver> receiver = LoadReceiver(node);
    if (!receiver) {
      continue;
    }
    auto previous = std::find_if(
        config_.receivers.begin(), config_.receivers.end(), [&](const Receiver& other) {
          return other.name == receiver->name;
        });
    if (previous != config_.receivers.end()) {
      Report({receiver->mark.line, receiver->mark.column},
             "receiver name " + Quote(receiver->name) +
                 " is already used by the receiver at line " + std::to_string(previous->mark.line) +
                 "; receiver names must be unique");
      continue;
    }
    config_.receivers.push_back(std::move(*receiver));
  }
}

std::optional<Receiver> Loader::LoadReceiver(const YAML::Node& node) {
  Receiver receiver;
  Position position = yaml::PositionOf(node);
  receiver.mark = MarkAt(position);
  if (!node.IsMap()) {
    Report(position, "receiver must be a mapping, got " + yaml::KindName(node));
    return std::nullopt;
  }
  yaml::Fields fields = yaml::ReadMapping(node, kReceiverSchema, Sink());
  if (const Entry* name = fields.Find("name")) {
    receiver.name = yaml::ReadString(*name, Sink()).value_or("");
  }
  bool named = !receiver.name.empty();
  if (!named) {
    Report(position, "receiver has no name; set name to a unique name");
  }
  auto for_each_item = [&](const char* key, auto load) {
    const Entry* list = fields.Find(key);
    if (list == nullptr || list->value.IsNull()) {
      return;
    }
    if (!list->value.IsSequence()) {
      Report(list->value_position(),
             std::string(key) + " must be a list, got " + yaml::KindName(list->value));
      return;
    }
    for (const YAML::Node& item : list->value) {
      load(item);
    }
  };
  for_each_item("slack_configs", [&](const YAML::Node& item) {
    if (std::optional<SlackConfig> slack = LoadSlackConfig(item)) {
      receiver.slack_configs.push_back(std::move(*slack));
    }
  });
  for_each_item("webhook_configs", [&](const YAML::Node& item) {
    if (std::optional<WebhookConfig> webhook = LoadWebhookConfig(item)) {
      receiver.webhook_configs.push_back(std::move(*webhook));
    }
  });
  if (!named) {
    return std::nullopt;
  }
  return receiver;
}

std::optional<SlackConfig> Loader::LoadSlackConfig(const YAML::Node& node) {
  SlackConfig slack;
  Position position = yaml::PositionOf(node);
  slack.mark = MarkAt(position);
  yaml::Fields fields = yaml::ReadMapping(node, kSlackSchema, Sink());
  if (!node.IsMap() && !node.IsNull()) {
    return std::nullopt;
  }
  if (const Entry* entry = fields.Find("send_resolved")) {
    slack.send_resolved = yaml::ReadBool(*entry, Sink()).value_or(slack.send_resolved);
  }
  for (auto [key, target] : {std::pair{"channel", &slack.channel},
                             std::pair{"username", &slack.username},
                             std::pair{"title", &slack.title},
                             std::pair{"text", &slack.text}}) {
    if (const Entry* entry = fields.Find(key)) {
      *target = yaml::ReadString(*entry, Sink()).value_or("");
    }
  }
  const Entry* url = fields.Find("api_url");
  const Entry* url_file = fields.Find("api_url_file");
  if (url != nullptr && url_file != nullptr) {
    Report(url_file->key_position(),
           "at most one of api_url and api_url_file may be set; remove one");
    return std::nullopt;
  }
  if (url != nullptr) {
    std::optional<std::string> value = yaml::ReadString(*url, Sink());
    if (value && CheckSecretUrl(*value, url->value_position(), "api_url")) {
      slack.api_url = *value;
    }
    return slack;
  }
  if (url_file != nullptr) {
    slack.api_url_file = yaml::ReadString(*url_file, Sink()).value_or("");
    std::optional<std::string> value = ReadSecretFile(*url_file);
    if (value && CheckSecretUrl(*value, url_file->value_position(), "the URL in api_url_file")) {
      slack.api_url = *value;
    }
    return slack;
  }
  // As Alertmanager: without its own URL a Slack config uses the global one.
  if (config_.global.slack_api_url.empty() && config_.global.slack_api_url_file.empty()) {
    Report(position,
           "slack config has no api_url; set api_url or api_url_file here, or slack_api_url or "
           "slack_api_url_file under global");
    return std::nullopt;
  }
  slack.api_url = config_.global.slack_api_url;
  slack.api_url_file = config_.global.slack_api_url_file;
  return slack;
}

std::optional<WebhookConfig> Loader::LoadWebhookConfig(const YAML::Node& node) {
  WebhookConfig webhook;
  Position position = yaml::PositionOf(node);
  webhook.mark = MarkAt(position);
  yaml::Fields fields = yaml::ReadMapping(node, kWebhookSchema, Sink());
  if (!node.IsMap() && !node.IsNull()) {
    return std::nullopt;
  }
  if (const Entry* entry = fields.Find("send_resolved")) {
    webhook.send_resolved = yaml::ReadBool(*entry, Sink()).value_or(webhook.send_resolved);
  }
  if (const Entry* entry = fields.Find("max_alerts")) {
    std::optional<int64_t> value = yaml::ReadInt(*entry, Sink());
    if (value && (*value < 0 || *value > std::numeric_limits<int>::max())) {
      Report(entry->value_position(),
             "invalid max_alerts " + std::to_string(*value) +
                 ": use 0 for no limit or a positive number");
    } else if (value) {
      webhook.max_alerts = static_cast<int>(*value);
    }
  }
  const Entry* url = fields.Find("url");
  const Entry* url_file = fields.Find("url_file");
  if (url != nullptr && url_file != nullptr) {
    Report(url_file->key_position(), "at most one of url and url_file may be set; remove one");
    return std::nullopt;
  }
  if (url != nullptr) {
    std::optional<std::string> value = yaml::ReadString(*url, Sink());
    if (value && CheckSecretUrl(*value, url->value_position(), "url")) {
      webhook.url = *value;
    }
  } else if (url_file != nullptr) {
    webhook.url_file = yaml::ReadString(*url_file, Sink()).value_or("");
    std::optional<std::string> value = ReadSecretFile(*url_file);
    if (value && CheckSecretUrl(*value, url_file->value_position(), "the URL in url_file")) {
      webhook.url = *value;
    }
  } else {
    Report(position, "webhook config has no url; set url or url_file");
    return std::nullopt;
  }
  return webhook;
}

}  // namespace alertd::config::internal
