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
                                   {"name",
                                    "slack_configs",
                                    "webhook_configs",
                                    "email_configs",
                                    "sentry_configs",
                                    "pagerduty_configs",
                                    "pushover_configs",
                                    "opsgenie_configs",
                                    "victorops_configs",
                                    "wechat_configs",
                                    "telegram_configs",
                                    "sns_configs",
                                    "webex_configs",
                                    "discord_configs"},
                                   {},
                                   {}};

const yaml::Schema kSlackSchema{
    "slack config",
    {"send_resolved", "api_url",     "api_url_file", "channel",     "username",   "title",
     "text",          "http_config", "color",        "title_link",  "pretext",    "fields",
     "short_fields",  "footer",      "fallback",     "callback_id", "icon_emoji", "icon_url",
     "image_url",     "thumb_url",   "link_names",   "mrkdwn_in",   "actions"},
    {},
    {}};

const yaml::Schema kSlackFieldSchema{"slack field", {"title", "value", "short"}, {}, {}};

const yaml::Schema kSlackActionSchema{
    "slack action", {"type", "text", "url", "style", "name", "value", "confirm"}, {}, {}};

const yaml::Schema kSlackConfirmSchema{
    "slack action confirm", {"text", "title", "ok_text", "dismiss_text"}, {}, {}};

const yaml::Schema kWebhookSchema{
    "webhook config", {"send_resolved", "url", "url_file", "max_alerts", "http_config"}, {}, {}};

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
  for_each_item("email_configs", [&](const YAML::Node& item) {
    if (std::optional<EmailConfig> email = LoadEmailConfig(item)) {
      receiver.email_configs.push_back(std::move(*email));
    }
  });
  for_each_item("sentry_configs", [&](const YAML::Node& item) {
    if (std::optional<SentryConfig> sentry = LoadSentryConfig(item)) {
      receiver.sentry_configs.push_back(std::move(*sentry));
    }
  });
  for (const Entry& entry : fields.entries()) {
    if (IsUnsupportedIntegration(entry.key)) {
      for_each_item(entry.key.c_str(), [&](const YAML::Node& item) {
        LoadUnsupportedIntegration(entry.key, item, receiver);
      });
    }
  }
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
                             std::pair{"text", &slack.text},
                             std::pair{"color", &slack.color},
                             std::pair{"title_link", &slack.title_link},
                             std::pair{"pretext", &slack.pretext},
                             std::pair{"footer", &slack.footer},
                             std::pair{"fallback", &slack.fallback},
                             std::pair{"callback_id", &slack.callback_id},
                             std::pair{"icon_emoji", &slack.icon_emoji},
                             std::pair{"icon_url", &slack.icon_url},
                             std::pair{"image_url", &slack.image_url},
                             std::pair{"thumb_url", &slack.thumb_url}}) {
    if (const Entry* entry = fields.Find(key)) {
      *target = yaml::ReadString(*entry, Sink()).value_or("");
    }
  }
  for (auto [key, target] : {std::pair{"short_fields", &slack.short_fields},
                             std::pair{"link_names", &slack.link_names}}) {
    if (const Entry* entry = fields.Find(key)) {
      *target = yaml::ReadBool(*entry, Sink()).value_or(false);
    }
  }
  if (const Entry* entry = fields.Find("mrkdwn_in")) {
    for (const yaml::StringItem& item : yaml::ReadStringItems(*entry, Sink())) {
      slack.mrkdwn_in.push_back(item.value);
    }
  }
  if (const Entry* entry = fields.Find("fields")) {
    LoadSlackFields(*entry, slack);
  }
  if (const Entry* entry = fields.Find("actions")) {
    LoadSlackActions(*entry, slack);
  }
  slack.http_config = config_.global.http_config;
  if (const Entry* entry = fields.Find("http_config")) {
    LoadHttpConfig(*entry, slack.http_config);
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
  webhook.http_config = config_.global.http_config;
  if (const Entry* entry = fields.Find("http_config")) {
    LoadHttpConfig(*entry, webhook.http_config);
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

void Loader::LoadSlackFields(const Entry& entry, SlackConfig& slack) {
  if (entry.value.IsNull()) {
    return;
  }
  if (!entry.value.IsSequence()) {
    Report(entry.value_position(), "fields must be a list, got " + yaml::KindName(entry.value));
    return;
  }
  for (const YAML::Node& node : entry.value) {
    Position position = yaml::PositionOf(node);
    yaml::Fields fields = yaml::ReadMapping(node, kSlackFieldSchema, Sink());
    SlackConfig::Field field;
    if (const Entry* title = fields.Find("title")) {
      field.title = yaml::ReadString(*title, Sink()).value_or("");
    }
    if (const Entry* value = fields.Find("value")) {
      field.value = yaml::ReadString(*value, Sink()).value_or("");
    }
    if (const Entry* is_short = fields.Find("short")) {
      field.short_field = yaml::ReadBool(*is_short, Sink());
    }
    if (field.title.empty()) {
      Report(position, "slack field has no title; set title");
    } else if (field.value.empty()) {
      Report(position, "slack field has no value; set value");
    } else {
      slack.fields.push_back(std::move(field));
    }
  }
}

void Loader::LoadSlackActions(const Entry& entry, SlackConfig& slack) {
  if (entry.value.IsNull()) {
    return;
  }
  if (!entry.value.IsSequence()) {
    Report(entry.value_position(), "actions must be a list, got " + yaml::KindName(entry.value));
    return;
  }
  for (const YAML::Node& node : entry.value) {
    Position position = yaml::PositionOf(node);
    yaml::Fields fields = yaml::ReadMapping(node, kSlackActionSchema, Sink());
    SlackConfig::Action action;
    for (auto [key, target] : {std::pair{"type", &action.type},
                               std::pair{"text", &action.text},
                               std::pair{"url", &action.url},
                               std::pair{"style", &action.style},
                               std::pair{"name", &action.name},
                               std::pair{"value", &action.value}}) {
      if (const Entry* field = fields.Find(key)) {
        *target = yaml::ReadString(*field, Sink()).value_or("");
      }
    }
    bool ok = true;
    if (const Entry* confirm = fields.Find("confirm");
        confirm != nullptr && !confirm->value.IsNull()) {
      yaml::Fields confirm_fields = yaml::ReadMapping(confirm->value, kSlackConfirmSchema, Sink());
      SlackConfig::Confirm out;
      for (auto [key, target] : {std::pair{"text", &out.text},
                                 std::pair{"title", &out.title},
                                 std::pair{"ok_text", &out.ok_text},
                                 std::pair{"dismiss_text", &out.dismiss_text}}) {
        if (const Entry* field = confirm_fields.Find(key)) {
          *target = yaml::ReadString(*field, Sink()).value_or("");
        }
      }
      if (out.text.empty()) {
        Report(confirm->value_position(), "slack action confirm has no text; set text");
        ok = false;
      }
      action.confirm = std::move(out);
    }
    if (action.type.empty()) {
      Report(position, "slack action has no type; set type, for example button");
    } else if (action.text.empty()) {
      Report(position, "slack action has no text; set text");
    } else if (action.url.empty() && action.name.empty()) {
      Report(position, "slack action has neither url nor name; set one of them");
    } else if (ok) {
      slack.actions.push_back(std::move(action));
    }
  }
}

}  // namespace alertd::config::internal
