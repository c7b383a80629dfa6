// Slack incoming-webhook integration, sending the attachment payload of Alertmanager 0.25's
// notify/slack: top-level channel and username, and one attachment with title, title_link,
// text, fallback, callback_id, footer, color and mrkdwn_in.
//
// Defaults follow Alertmanager's default.tmpl except the text:
//   title       [FIRING:<firing count>] <group label values> (<other common label values>)
//               or [RESOLVED] ..., the values sorted by label name and joined by spaces; the
//               parenthesised part only when there are common labels outside the group labels.
//               At most 1024 characters; longer titles end in "…".
//   title_link  <external URL>/#/alerts?receiver=<receiver, query-escaped>
//   fallback    <title> | <title_link>
//   username    Alertmanager
//   color       danger while firing, good when resolved
//   text        Alertmanager's default text is empty. alertd lists the alerts instead, one
//               block per alert, blocks separated by a newline:
//                 *<summary annotation>*            while firing
//                 *<summary annotation>* (resolved)  when resolved
//                 <description annotation>          on the next line, when present
//               An alert without a summary shows its label set ({alertname="X", ...}).
// A non-empty title or text in the config is a Go template in Alertmanager's dialect over
// Alertmanager's data (see TemplateData), which may call the slack.default.* templates.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/http_client.h"
#include "common/result.h"
#include "config/config.h"
#include "notifiers/notifier.h"

namespace alertd {

class TemplateSet;

class SlackNotifier final : public Notifier {
 public:
  // Fails when api_url is empty or a title or text template does not parse. `client` is shared
  // with other notifiers.
  static Result<std::unique_ptr<SlackNotifier>> Create(config::SlackConfig config,
                                                       std::shared_ptr<HttpClient> client);

  // Returns the JSON request body, as Go's encoder writes it (trailing newline included), or
  // the error of a title or text template that failed to execute.
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
                std::shared_ptr<const TemplateSet> templates)
      : config_(std::move(config)), client_(std::move(client)), templates_(std::move(templates)) {}

  Result<std::string> Expand(std::string_view field,
                             const std::string& text,
                             const Notification& notification) const;

  config::SlackConfig config_;
  std::shared_ptr<HttpClient> client_;
  std::shared_ptr<const TemplateSet> templates_;
};

// Alertmanager's slack.default.title (the __subject template).
std::string SlackDefaultTitle(const Notification& notification);

// alertd's default text; see the format at the top of this file.
std::string SlackDefaultText(const Notification& notification);

}  // namespace alertd
