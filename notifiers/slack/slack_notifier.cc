#include "notifiers/slack/slack_notifier.h"

#include <algorithm>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "notifiers/http_errors.h"
#include "notifiers/payload.h"

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
  std::vector<std::string> group_values;
  for (const auto& label : notification.group_labels) {
    group_values.push_back(label.value);
  }
  // The space after the group values is in Alertmanager's template even without the
  // parenthesised part, so titles of groups with no extra common labels end in a space.
  title += JoinValues(group_values) + " ";
  if (notification.common_labels.size() > notification.group_labels.size()) {
    std::vector<std::string> other_values;
    for (const auto& label : notification.common_labels) {
      if (!notification.group_labels.Has(label.name)) {
        other_values.push_back(label.value);
      }
    }
    title += "(" + JoinValues(other_values) + ")";
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
  // TODO: custom title and text are sent verbatim until rules/template.h can execute them.
  return std::unique_ptr<SlackNotifier>(new SlackNotifier(std::move(config), std::move(client)));
}

Result<std::string> SlackNotifier::Render(const Notification& notification) const {
  std::string title = config_.title.empty() ? SlackDefaultTitle(notification) : config_.title;
  title = TruncateInRunes(title, kMaxTitleRunes);
  std::string text = config_.text.empty() ? SlackDefaultText(notification) : config_.text;
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
        .message = "rendering the Slack message failed: " + body.error().message(),
        .retry_after = std::nullopt,
    };
  }
  return Classify(Post(*body));
}

}  // namespace alertd
