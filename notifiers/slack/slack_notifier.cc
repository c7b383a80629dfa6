#include "notifiers/slack/slack_notifier.h"

#include <algorithm>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "notifiers/http_errors.h"
#include "notifiers/payload.h"
#include "rules/template.h"

namespace alertd {

namespace {

// Slack's limit on an attachment title, in characters (Alertmanager counts runes).
constexpr size_t kMaxTitleRunes = 1024;

std::string JoinValues(const std::vector<std::string>& values) {
  std::string out;
  for (size_t i = 0; i < values.size(); ++i) {
    if (i > 0) {
      out += ' ';
    }
    out += values[i];
  }
  return out;
}

bool IsContinuationByte(char c) {
  return (static_cast<unsigned char>(c) & 0xc0) == 0x80;
}

// Cuts `text` to `max_runes` code points, the last being "…", as Alertmanager's
// notify.TruncateInRunes does.
std::string TruncateInRunes(const std::string& text, size_t max_runes) {
  size_t runes = 0;
  size_t cut = std::string::npos;
  for (size_t i = 0; i < text.size(); ++i) {
    if (IsContinuationByte(text[i])) {
      continue;
    }
    if (runes == max_runes - 1) {
      cut = i;
    }
    ++runes;
  }
  if (runes <= max_runes) {
    return text;
  }
  return text.substr(0, cut) + "\u2026";
}

// Alertmanager 0.25's default.tmpl definitions that Slack templates use, so custom templates
// can call {{ template "slack.default.title" . }} and the like.
constexpr std::string_view kDefaultTemplates = R"tmpl(
{{ define "__alertmanager" }}Alertmanager{{ end }}
{{ define "__alertmanagerURL" }}{{ .ExternalURL }}/#/alerts?receiver={{ .Receiver | urlquery }}{{ end }}
{{ define "__subject" }}[{{ .Status | toUpper }}{{ if eq .Status "firing" }}:{{ .Alerts.Firing | len }}{{ end }}] {{ .GroupLabels.SortedPairs.Values | join " " }} {{ if gt (len .CommonLabels) (len .GroupLabels) }}({{ with .CommonLabels.Remove .GroupLabels.Names }}{{ .Values | join " " }}{{ end }}){{ end }}{{ end }}
{{ define "slack.default.title" }}{{ template "__subject" . }}{{ end }}
{{ define "slack.default.username" }}{{ template "__alertmanager" . }}{{ end }}
{{ define "slack.default.fallback" }}{{ template "slack.default.title" . }} | {{ template "slack.default.titlelink" . }}{{ end }}
{{ define "slack.default.callbackid" }}{{ end }}
{{ define "slack.default.pretext" }}{{ end }}
{{ define "slack.default.titlelink" }}{{ template "__alertmanagerURL" . }}{{ end }}
{{ define "slack.default.iconemoji" }}{{ end }}
{{ define "slack.default.iconurl" }}{{ end }}
{{ define "slack.default.text" }}{{ end }}
{{ define "slack.default.footer" }}{{ end }}
)tmpl";

// Values in the order of Alertmanager's KV.SortedPairs: alertname first, then by name.
std::vector<std::string> SortedValues(const Labels& labels) {
  std::vector<std::string> values;
  std::string_view alertname = labels.Get("alertname");
  if (!alertname.empty()) {
    values.emplace_back(alertname);
  }
  for (const auto& label : labels) {
    if (label.name != "alertname") {
      values.push_back(label.value);
    }
  }
  return values;
}

std::string TitleLink(const Notification& notification) {
  return notification.external_url + "/#/alerts?receiver=" + QueryEscape(notification.receiver);
}

}  // namespace

std::string SlackDefaultTitle(const Notification& notification) {
  size_t firing = 0;
  for (const auto& alert : notification.alerts) {
    firing += alert.resolved() ? 0 : 1;
  }
  std::string title = "[";
  if (notification.status == "firing") {
    title += "FIRING:" + std::to_string(firing);
  } else {
    title += "RESOLVED";
  }
  title += "] ";
  // The space after the group values is in Alertmanager's template even without the
  // parenthesised part, so titles of groups with no extra common labels end in a space.
  title += JoinValues(SortedValues(notification.group_labels)) + " ";
  if (notification.common_labels.size() > notification.group_labels.size()) {
    LabelsBuilder others(notification.common_labels);
    for (const auto& label : notification.group_labels) {
      others.Del(label.name);
    }
    title += "(" + JoinValues(SortedValues(others.Build())) + ")";
  }
  return title;
}

std::string SlackDefaultText(const Notification& notification) {
  std::string text;
  for (const auto& alert : notification.alerts) {
    if (!text.empty()) {
      text += '\n';
    }
    std::string_view summary = alert.annotations.Get("summary");
    text += "*" + (summary.empty() ? alert.labels.ToString() : std::string(summary)) + "*";
    if (alert.resolved()) {
      text += " (resolved)";
    }
    std::string_view description = alert.annotations.Get("description");
    if (!description.empty()) {
      text += "\n" + std::string(description);
    }
  }
  return text;
}

Result<std::unique_ptr<SlackNotifier>> SlackNotifier::Create(config::SlackConfig config,
                                                             std::shared_ptr<HttpClient> client) {
  if (config.api_url.empty()) {
    return Error::Invalid(
        "Slack api_url is empty: set slack_configs[].api_url, api_url_file or "
        "global.slack_api_url.");
  }
  auto templates = std::make_shared<TemplateSet>(TemplateDialect::kAlertmanager);
  Status added = templates->AddFile("default.tmpl", kDefaultTemplates);
  if (!added.ok()) {
    return added.error().WithContext("parsing the built-in Slack templates failed");
  }
  ParseOptions parse_options;
  parse_options.dialect = TemplateDialect::kAlertmanager;
  for (const auto& [field, text] : {std::pair{"title", &config.title}, {"text", &config.text}}) {
    if (text->empty()) {
      continue;
    }
    auto parsed = Template::Parse(field, *text, parse_options);
    if (!parsed.ok()) {
      return Error::Invalid(
          "Slack " + std::string(field) + " template is invalid: " + parsed.error().message(),
          parsed.error().line(),
          parsed.error().column());
    }
  }
  return std::unique_ptr<SlackNotifier>(
      new SlackNotifier(std::move(config), std::move(client), std::move(templates)));
}

Result<std::string> SlackNotifier::Expand(std::string_view field,
                                          const std::string& text,
                                          const Notification& notification) const {
  TemplateOptions options;
  options.external_url = notification.external_url;
  // Alertmanager executes templates with missingkey=zero.
  options.missing_key = MissingKey::kZero;
  auto expanded = templates_->ExecuteText(text, TemplateData(notification), options);
  if (!expanded.ok()) {
    return expanded.error().WithContext("expanding the Slack " + std::string(field) +
                                        " template failed");
  }
  return expanded;
}

Result<std::string> SlackNotifier::Render(const Notification& notification) const {
  std::string title = SlackDefaultTitle(notification);
  if (!config_.title.empty()) {
    auto expanded = Expand("title", config_.title, notification);
    if (!expanded.ok()) {
      return expanded.error();
    }
    title = std::move(expanded).value();
  }
  title = TruncateInRunes(title, kMaxTitleRunes);
  std::string text = SlackDefaultText(notification);
  if (!config_.text.empty()) {
    auto expanded = Expand("text", config_.text, notification);
    if (!expanded.ok()) {
      return expanded.error();
    }
    text = std::move(expanded).value();
  }
  std::string title_link = TitleLink(notification);

  nlohmann::ordered_json attachment = {
      {"title", title},
      {"title_link", title_link},
      {"text", text},
      {"fallback", title + " | " + title_link},
      {"callback_id", ""},
      {"footer", ""},
      {"color", notification.status == "firing" ? "danger" : "good"},
      {"mrkdwn_in", {"fallback", "pretext", "text"}},
  };
  // Alertmanager omits empty channel and username (omitempty).
  nlohmann::ordered_json request = nlohmann::ordered_json::object();
  if (!config_.channel.empty()) {
    request["channel"] = config_.channel;
  }
  request["username"] = config_.username.empty() ? "Alertmanager" : config_.username;
  request["attachments"] = nlohmann::ordered_json::array({attachment});
  return EncodeGoJson(request);
}

Result<HttpResponse> SlackNotifier::Post(const std::string& body) const {
  HttpRequest request;
  request.method = "POST";
  request.url = config_.api_url;
  request.headers = {{"Content-Type", "application/json"}, {"User-Agent", "alertd"}};
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
