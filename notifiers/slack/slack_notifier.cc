#include "notifiers/slack/slack_notifier.h"

#include <algorithm>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/logging.h"
#include "notifiers/http_errors.h"
#include "notifiers/http_options.h"
#include "notifiers/payload.h"
#include "rules/template.h"

namespace alertd {

namespace {

// Slack's limit on an attachment title, in characters (Alertmanager counts runes).
constexpr size_t kMaxTitleRunes = 1024;
// Slack's chat.postMessage documentation: messages of more than 40,000 characters are
// truncated. Cutting here keeps the end marker visible.
constexpr size_t kMaxTextRunes = 40000;

bool IsContinuationByte(char c) {
  return (static_cast<unsigned char>(c) & 0xc0) == 0x80;
}

std::string DefaultField(std::string_view name) {
  return "{{ template \"slack.default." + std::string(name) + "\" . }}";
}

// Alertmanager 0.25's SlackConfig default for color.
constexpr std::string_view kDefaultColor =
    R"({{ if eq .Status "firing" }}danger{{ else }}good{{ end }})";

// The config fields that are templates, by their YAML names, for parse checks at Create.
std::vector<std::pair<std::string, const std::string*>> TemplateFields(
    const config::SlackConfig& config) {
  std::vector<std::pair<std::string, const std::string*>> fields = {
      {"channel", &config.channel},
      {"username", &config.username},
      {"icon_emoji", &config.icon_emoji},
      {"icon_url", &config.icon_url},
      {"color", &config.color},
      {"title", &config.title},
      {"title_link", &config.title_link},
      {"pretext", &config.pretext},
      {"text", &config.text},
      {"fallback", &config.fallback},
      {"callback_id", &config.callback_id},
      {"image_url", &config.image_url},
      {"thumb_url", &config.thumb_url},
      {"footer", &config.footer},
  };
  for (size_t i = 0; i < config.fields.size(); ++i) {
    const std::string prefix = "fields[" + std::to_string(i) + "].";
    fields.emplace_back(prefix + "title", &config.fields[i].title);
    fields.emplace_back(prefix + "value", &config.fields[i].value);
  }
  for (size_t i = 0; i < config.actions.size(); ++i) {
    const config::SlackConfig::Action& action = config.actions[i];
    const std::string prefix = "actions[" + std::to_string(i) + "].";
    for (const auto& [name, text] : {std::pair{"type", &action.type},
                                     {"text", &action.text},
                                     {"url", &action.url},
                                     {"style", &action.style},
                                     {"name", &action.name},
                                     {"value", &action.value}}) {
      fields.emplace_back(prefix + name, text);
    }
    if (action.confirm) {
      for (const auto& [name, text] : {std::pair{"text", &action.confirm->text},
                                       {"title", &action.confirm->title},
                                       {"ok_text", &action.confirm->ok_text},
                                       {"dismiss_text", &action.confirm->dismiss_text}}) {
        fields.emplace_back(prefix + "confirm." + name, text);
      }
    }
  }
  return fields;
}

// Adds `value` under `key` unless it is empty, as Go's omitempty.
void SetIfNotEmpty(nlohmann::ordered_json& object, const char* key, std::string value) {
  if (!value.empty()) {
    object[key] = std::move(value);
  }
}

}  // namespace

std::string SlackEscape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string TruncateInRunes(const std::string& text, size_t max_runes) {
  size_t runes = 0;
  size_t cut = std::string::npos;
  for (size_t i = 0; i < text.size(); ++i) {
    if (IsContinuationByte(text[i])) {
      continue;
    }
    if (runes + 1 == max_runes) {
      cut = i;
    }
    ++runes;
  }
  if (runes <= max_runes) {
    return text;
  }
  if (max_runes == 0) {
    return "";
  }
  return text.substr(0, cut) + "\u2026";
}

std::string SlackDefaultTitle(const Notification& notification) {
  auto title = NotificationTemplates::Defaults()->Expand(DefaultField("title"), notification);
  return title.ok() ? *title : std::string();
}

std::string SlackDefaultText(const Notification& notification) {
  std::string text;
  for (const auto& alert : notification.alerts) {
    if (!text.empty()) {
      text += '\n';
    }
    std::string_view summary = alert.annotations.Get("summary");
    std::string heading = summary.empty() ? alert.labels.ToString() : std::string(summary);
    text += "*" + SlackEscape(heading) + "*";
    if (alert.resolved()) {
      text += " (resolved)";
    }
    std::string_view description = alert.annotations.Get("description");
    if (!description.empty()) {
      text += "\n" + SlackEscape(description);
    }
  }
  return text;
}

Result<std::unique_ptr<SlackNotifier>> SlackNotifier::Create(
    config::SlackConfig config,
    std::shared_ptr<HttpClient> client,
    std::shared_ptr<const NotificationTemplates> templates) {
  if (config.api_url.empty()) {
    return Error::Invalid(
        "Slack api_url is empty: set slack_configs[].api_url, api_url_file or "
        "global.slack_api_url.");
  }
  if (templates == nullptr) {
    templates = NotificationTemplates::Defaults();
  }
  ParseOptions parse_options;
  parse_options.dialect = TemplateDialect::kAlertmanager;
  for (const auto& [field, text] : TemplateFields(config)) {
    if (text->empty()) {
      continue;
    }
    auto parsed = Template::Parse(field, *text, parse_options);
    if (!parsed.ok()) {
      return Error::Invalid("Slack " + field + " template is invalid: " + parsed.error().message(),
                            parsed.error().line(),
                            parsed.error().column());
    }
  }
  return std::unique_ptr<SlackNotifier>(
      new SlackNotifier(std::move(config), std::move(client), std::move(templates)));
}

std::string SlackNotifier::Field(std::string_view field,
                                 const std::string& text,
                                 std::string_view default_text,
                                 const nlohmann::json& data) const {
  if (text.empty()) {
    return templates_->ExpandOr(default_text, data, "", *Logger("notify"), field);
  }
  return templates_->ExpandOr(text, data, default_text, *Logger("notify"), field);
}

std::string SlackNotifier::Text(const Notification& notification,
                                const nlohmann::json& data) const {
  // alertd's default text replaces Alertmanager's empty one unless a templates file defines
  // slack.default.text itself.
  if (config_.text.empty() && !templates_->IsUserDefined("slack.default.text")) {
    return SlackDefaultText(notification);
  }
  if (config_.text.empty()) {
    return Field("text", "", DefaultField("text"), data);
  }
  auto expanded = templates_->Expand(config_.text, data);
  if (expanded.ok()) {
    return std::move(expanded).value();
  }
  Logger("notify")->warn(
      "Template expansion failed, using the default text field=text receiver={} error={}",
      LogValue(notification.receiver),
      LogValue(expanded.error().message()));
  return templates_->IsUserDefined("slack.default.text")
             ? Field("text", "", DefaultField("text"), data)
             : SlackDefaultText(notification);
}

Result<std::string> SlackNotifier::Render(const Notification& notification) const {
  const nlohmann::json data = TemplateData(notification);
  auto field = [&](std::string_view name, const std::string& text, std::string_view fallback) {
    return Field(name, text, fallback, data);
  };

  std::string title = field("title", config_.title, DefaultField("title"));
  std::string truncated_title = TruncateInRunes(title, kMaxTitleRunes);
  if (truncated_title.size() != title.size()) {
    Logger("notify")->debug("Truncated the Slack title receiver={} group_key={}",
                            LogValue(notification.receiver),
                            LogValue(notification.group_key));
  }
  std::string text = Text(notification, data);
  std::string truncated_text = TruncateInRunes(text, kMaxTextRunes);
  if (truncated_text.size() != text.size()) {
    Logger("notify")->debug("Truncated the Slack text receiver={} group_key={}",
                            LogValue(notification.receiver),
                            LogValue(notification.group_key));
  }

  // Key order and omitempty follow the Go structs Alertmanager 0.25 encodes.
  nlohmann::ordered_json attachment = nlohmann::ordered_json::object();
  SetIfNotEmpty(attachment, "title", std::move(truncated_title));
  SetIfNotEmpty(
      attachment, "title_link", field("title_link", config_.title_link, DefaultField("titlelink")));
  SetIfNotEmpty(attachment, "pretext", field("pretext", config_.pretext, DefaultField("pretext")));
  attachment["text"] = std::move(truncated_text);
  attachment["fallback"] = field("fallback", config_.fallback, DefaultField("fallback"));
  attachment["callback_id"] = field("callback_id", config_.callback_id, DefaultField("callbackid"));
  if (!config_.fields.empty()) {
    nlohmann::ordered_json fields = nlohmann::ordered_json::array();
    for (const auto& configured : config_.fields) {
      nlohmann::ordered_json one = nlohmann::ordered_json::object();
      SetIfNotEmpty(one, "title", field("fields.title", configured.title, ""));
      SetIfNotEmpty(one, "value", field("fields.value", configured.value, ""));
      one["short"] = configured.short_field.value_or(config_.short_fields);
      fields.push_back(std::move(one));
    }
    attachment["fields"] = std::move(fields);
  }
  if (!config_.actions.empty()) {
    nlohmann::ordered_json actions = nlohmann::ordered_json::array();
    for (const auto& configured : config_.actions) {
      nlohmann::ordered_json action = nlohmann::ordered_json::object();
      SetIfNotEmpty(action, "type", field("actions.type", configured.type, ""));
      SetIfNotEmpty(action, "text", field("actions.text", configured.text, ""));
      SetIfNotEmpty(action, "url", field("actions.url", configured.url, ""));
      SetIfNotEmpty(action, "style", field("actions.style", configured.style, ""));
      // Alertmanager drops name, value and confirm of a link button (one with a url).
      if (configured.url.empty()) {
        SetIfNotEmpty(action, "name", field("actions.name", configured.name, ""));
        SetIfNotEmpty(action, "value", field("actions.value", configured.value, ""));
        if (configured.confirm) {
          const config::SlackConfig::Confirm& c = *configured.confirm;
          nlohmann::ordered_json confirm = nlohmann::ordered_json::object();
          SetIfNotEmpty(confirm, "text", field("actions.confirm.text", c.text, ""));
          SetIfNotEmpty(confirm, "title", field("actions.confirm.title", c.title, ""));
          SetIfNotEmpty(confirm, "ok_text", field("actions.confirm.ok_text", c.ok_text, ""));
          SetIfNotEmpty(
              confirm, "dismiss_text", field("actions.confirm.dismiss_text", c.dismiss_text, ""));
          action["confirm"] = std::move(confirm);
        }
      }
      actions.push_back(std::move(action));
    }
    attachment["actions"] = std::move(actions);
  }
  SetIfNotEmpty(attachment, "image_url", field("image_url", config_.image_url, ""));
  SetIfNotEmpty(attachment, "thumb_url", field("thumb_url", config_.thumb_url, ""));
  attachment["footer"] = field("footer", config_.footer, DefaultField("footer"));
  SetIfNotEmpty(attachment, "color", field("color", config_.color, kDefaultColor));
  if (config_.mrkdwn_in.empty()) {
    attachment["mrkdwn_in"] = {"fallback", "pretext", "text"};
  } else {
    attachment["mrkdwn_in"] = config_.mrkdwn_in;
  }

  nlohmann::ordered_json request = nlohmann::ordered_json::object();
  SetIfNotEmpty(request, "channel", field("channel", config_.channel, ""));
  SetIfNotEmpty(request, "username", field("username", config_.username, DefaultField("username")));
  SetIfNotEmpty(
      request, "icon_emoji", field("icon_emoji", config_.icon_emoji, DefaultField("iconemoji")));
  SetIfNotEmpty(request, "icon_url", field("icon_url", config_.icon_url, DefaultField("iconurl")));
  if (config_.link_names) {
    request["link_names"] = true;
  }
  request["attachments"] = nlohmann::ordered_json::array({attachment});
  return EncodeGoJson(request);
}

Result<HttpResponse> SlackNotifier::Post(const std::string& body) const {
  HttpRequest request;
  request.method = "POST";
  request.url = config_.api_url;
  request.headers = {{"Content-Type", "application/json"}, {"User-Agent", "alertd"}};
  ApplyHttpConfig(config_.http_config, request);
  request.body = body;
  return client_->Do(request);
}

std::optional<NotifyError> SlackNotifier::Classify(const Result<HttpResponse>& result) const {
  std::optional<NotifyError> error = ClassifyHttpResult(result, "Slack webhook", config_.api_url);
  if (!error && result->Header("content-type").starts_with("application/json")) {
    nlohmann::json body = nlohmann::json::parse(result->body, nullptr, false);
    const bool not_ok = body.is_object() && body.contains("ok") && body["ok"].is_boolean() &&
                        !body["ok"].get<bool>();
    if (not_ok) {
      std::string reason = body.contains("error") && body["error"].is_string()
                               ? body["error"].get<std::string>()
                               : std::string("no error given");
      error = NotifyError{
          .retryable = false,
          .reason = FailureReason::kClient,
          .message = ScrubSecret(
              "Slack webhook " + RedactUrl(config_.api_url) + " returned an error: " + reason,
              config_.api_url),
          .retry_after = std::nullopt,
      };
    }
  }
  if (error && !config_.channel.empty()) {
    error->message = "channel " + config_.channel + ": " + error->message;
  }
  return error;
}

std::optional<NotifyError> SlackNotifier::Notify(const Notification& notification) {
  Result<std::string> body = Render(notification);
  if (!body.ok()) {
    return NotifyError{
        .retryable = false,
        .reason = FailureReason::kClient,
        .message = ScrubSecret(body.error().message(), config_.api_url),
        .retry_after = std::nullopt,
    };
  }
  return Classify(Post(*body));
}

}  // namespace alertd
