// Slack incoming-webhook integration, sending the attachment payload of Alertmanager 0.25's
// notify/slack: channel, username, icon_emoji, icon_url and link_names, and one attachment
// with title, title_link, pretext, text, fallback, callback_id, fields, actions, image_url,
// thumb_url, footer, color and mrkdwn_in. Every text field of the config is a template over
// Alertmanager's data (TemplateData); a field left empty uses Alertmanager's default for it,
// '{{ template "slack.default.title" . }}' and so on, so templates files can override them.
//
// alertd differs from Alertmanager in three ways:
//   text      Alertmanager's default text is empty. Unless a templates file defines
//             slack.default.text, alertd lists the alerts instead, one block per alert,
//             blocks separated by a newline:
//               *<summary annotation>*            while firing
//               *<summary annotation>* (resolved)  when resolved
//               <description annotation>          on the next line, when present
//             An alert without a summary shows its label set ({alertname="X", ...}). '&', '<'
//             and '>' in these values are sent as &amp;, &lt; and &gt;, as Slack's message
//             formatting requires for text that is not a link or mention.
//   errors    A field whose template fails to execute is logged and replaced by its default,
//             so the notification is still sent; Alertmanager fails the notification.
//   length    The text is cut to 40,000 characters, ending in "…", the length above which
//             Slack's chat.postMessage documentation says it truncates messages. The title is
//             cut to 1024 characters as Alertmanager does.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/http_client.h"
#include "common/result.h"
#include "config/config.h"
#include "notifiers/notifier.h"
#include "notifiers/templates.h"

namespace alertd {

class SlackNotifier final : public Notifier {
 public:
  // Fails when api_url is empty or a template field does not parse. `client` is shared with
  // other notifiers, and so is `templates` (the defaults when null).
  static Result<std::unique_ptr<SlackNotifier>> Create(
      config::SlackConfig config,
      std::shared_ptr<HttpClient> client,
      std::shared_ptr<const NotificationTemplates> templates = nullptr);

  // Returns the JSON request body, as Go's encoder writes it (trailing newline included).
  // A field whose template fails is logged and rendered from its default, so no error is
  // returned today.
  Result<std::string> Render(const Notification& notification) const;

  // POSTs `body` to api_url.
  Result<HttpResponse> Post(const std::string& body) const;

  // Turns the outcome of Post into an error, or nothing on success (see ClassifyHttpResult).
  // A 2xx JSON body with "ok": false, as Slack's Web API sends, is a client error.
  std::optional<NotifyError> Classify(const Result<HttpResponse>& result) const;

  // notify::Notifier
  std::string_view integration() const override { return "slack"; }

  bool send_resolved() const override { return config_.send_resolved; }

  std::optional<NotifyError> Notify(const Notification& notification) override;

 private:
  SlackNotifier(config::SlackConfig config,
                std::shared_ptr<HttpClient> client,
                std::shared_ptr<const NotificationTemplates> templates)
      : config_(std::move(config)), client_(std::move(client)), templates_(std::move(templates)) {}

  // Expands `text` (or `default_text` when `text` is empty) over `data`, falling back to
  // `default_text` when `text` fails.
  std::string Field(std::string_view field,
                    const std::string& text,
                    std::string_view default_text,
                    const nlohmann::json& data) const;

  std::string Text(const Notification& notification, const nlohmann::json& data) const;

  config::SlackConfig config_;
  std::shared_ptr<HttpClient> client_;
  std::shared_ptr<const NotificationTemplates> templates_;
};

// Alertmanager's slack.default.title (the __subject template), from the default templates.
std::string SlackDefaultTitle(const Notification& notification);

// alertd's default text, escaped for Slack; see the format at the top of this file.
std::string SlackDefaultText(const Notification& notification);

// Replaces '&', '<' and '>' with &amp;, &lt; and &gt;, the escaping that Slack's message
// formatting requires in text that is not markup.
std::string SlackEscape(std::string_view text);

// Cuts `text` to at most `max_runes` code points, the last of them "…" when anything was cut,
// as Alertmanager's notify.TruncateInRunes does. Never splits a UTF-8 sequence.
std::string TruncateInRunes(const std::string& text, size_t max_runes);

}  // namespace alertd
