// Sentry integration: one Sentry event per notification of an alert group, sent to the
// envelope endpoint of the DSN. Every event of a group carries the fingerprint [group_key], so
// Sentry merges a group's notifications into one issue.
//
// DSN {scheme}://{public_key}@{host}[:port]/{path/}{project_id} posts to
// {scheme}://{host}[:port]/{path/}api/{project_id}/envelope/ with
// X-Sentry-Auth: Sentry sentry_version=7, sentry_client=alertd/VERSION, sentry_key=PUBLIC_KEY.
// The envelope is three lines: the envelope header {"event_id","dsn","sent_at"}, the item
// header {"type":"event","length":N}, and the event of N bytes:
//   event_id     32 lowercase hex digits, random
//   timestamp    the send time, RFC 3339
//   platform     "other";  logger "alertd"
//   level        from the `severity` common label: critical -> fatal, error, warning, info;
//                anything else or none -> error. A resolved notification is level info.
//   message      {"formatted": ...}: the summary common annotation, else the alertname, else
//                the group key; "[RESOLVED] " in front for a resolved notification
//   environment, release   from the config, when set
//   tags         the common labels (key cut to 32 characters, value to 200), plus
//                alertd_group (a hash of the group key) and alertd_status
//   extra        receiver, status, groupKey, externalURL, truncatedAlerts and alerts, each
//                with status, labels, annotations, startsAt, endsAt, generatorURL, fingerprint
//   fingerprint  [group_key]
//
// With auth_token, organization and project set, a resolved notification also resolves the
// group's issue through Sentry's Web API: GET projects/{org}/{project}/issues/?query=
// is:unresolved alertd_group:HASH, then PUT projects/{org}/{project}/issues/?id=ID... with
// {"status":"resolved"} and Authorization: Bearer TOKEN.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/clock.h"
#include "common/http_client.h"
#include "common/result.h"
#include "config/config.h"
#include "notifiers/notifier.h"

namespace alertd {

// The parts of a Sentry DSN.
struct SentryDsn {
  std::string scheme;      // http or https
  std::string public_key;  // secret
  std::string host;        // with ":port" when the DSN has one
  std::string path;        // prefix before the project id, "" or ending in '/'
  std::string project_id;

  std::string EnvelopeUrl() const;
  std::string WebApiUrl() const;  // {scheme}://{host}/{path}api/0/
};

// Parses `dsn`; errors show it only through RedactUrl.
Result<SentryDsn> ParseSentryDsn(std::string_view dsn);

// Seconds to wait from an X-Sentry-Rate-Limits header for the "error" data category: the
// maximum retry_after of the entries whose categories are empty (all) or include error or
// default. Nothing when no entry applies or the header does not parse.
std::optional<Duration> ParseSentryRateLimits(std::string_view header);

struct SentryNotifierOptions {
  std::shared_ptr<const Clock> clock;  // default: SystemClock; stamps timestamp and sent_at
  Duration timeout{10000};             // each HTTP request
};

class SentryNotifier final : public Notifier {
 public:
  // Fails when the DSN is empty or invalid, api_url is not http(s), or only some of
  // auth_token, organization and project are set. `client` is shared with other notifiers.
  static Result<std::unique_ptr<SentryNotifier>> Create(config::SentryConfig config,
                                                        std::shared_ptr<HttpClient> client,
                                                        SentryNotifierOptions options = {});

  // Returns the event as sent; event_id is passed in so the envelope header can repeat it.
  nlohmann::ordered_json RenderEvent(const Notification& notification,
                                     const std::string& event_id) const;

  // Returns the envelope body: the three lines described at the top of this file.
  std::string RenderEnvelope(const Notification& notification) const;

  // Turns the outcome of the envelope POST into an error (see ClassifyHttpResult). A 429 waits
  // for X-Sentry-Rate-Limits, else Retry-After, else 60 s, following Sentry's SDK guidelines.
  std::optional<NotifyError> Classify(const Result<HttpResponse>& result) const;

  // notify::Notifier
  std::string_view integration() const override { return "sentry"; }

  bool send_resolved() const override { return config_.send_resolved; }

  std::optional<NotifyError> Notify(const Notification& notification) override;

 private:
  SentryNotifier(config::SentryConfig config,
                 SentryDsn dsn,
                 std::shared_ptr<HttpClient> client,
                 SentryNotifierOptions options)
      : config_(std::move(config)),
        dsn_(std::move(dsn)),
        client_(std::move(client)),
        options_(std::move(options)) {}

  bool resolves_issues() const { return !config_.auth_token.empty(); }

  std::optional<NotifyError> ResolveIssue(const Notification& notification) const;
  HttpRequest ApiRequest(std::string method, std::string url) const;
  std::string Scrub(std::string message) const;

  config::SentryConfig config_;
  SentryDsn dsn_;
  std::shared_ptr<HttpClient> client_;
  SentryNotifierOptions options_;
};

// The alertd_group tag of a group: 16 lowercase hex digits of the FNV-1a hash of `group_key`.
std::string SentryGroupTag(std::string_view group_key);

}  // namespace alertd
