#include "notifiers/sentry/sentry_notifier.h"

#include <charconv>
#include <cstdint>
#include <random>
#include <utility>
#include <vector>

#include "common/logging.h"
#include "notifiers/http_errors.h"
#include "notifiers/payload.h"

#ifndef ALERTD_VERSION
#define ALERTD_VERSION "unknown"
#endif

namespace alertd {

namespace {

constexpr std::string_view kClient = "alertd/" ALERTD_VERSION;

// Sentry's limits on tags (develop.sentry.dev, event payloads): keys of at most 32 characters,
// values of at most 200. Longer ones are cut here rather than dropped by Sentry.
constexpr size_t kMaxTagKey = 32;
constexpr size_t kMaxTagValue = 200;

// Sentry's SDK guidelines wait 60 s after a 429 that names no time.
constexpr Duration kDefaultRateLimitWait{60000};

std::string RandomEventId() {
  thread_local std::mt19937_64 generator{std::random_device{}()};
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id;
  for (int half = 0; half < 2; ++half) {
    uint64_t bits = generator();
    for (int i = 0; i < 16; ++i) {
      id += kHex[bits & 0xf];
      bits >>= 4;
    }
  }
  return id;
}

bool IsContinuationByte(char c) {
  return (static_cast<unsigned char>(c) & 0xc0) == 0x80;
}

// Cuts `text` to at most `max` bytes without splitting a UTF-8 sequence.
std::string CutUtf8(std::string_view text, size_t max) {
  if (text.size() <= max) {
    return std::string(text);
  }
  size_t end = max;
  while (end > 0 && IsContinuationByte(text[end])) {
    --end;
  }
  return std::string(text.substr(0, end));
}

int SeverityRank(std::string_view level) {
  if (level == "fatal") {
    return 3;
  }
  if (level == "error") {
    return 2;
  }
  if (level == "warning") {
    return 1;
  }
  return 0;
}

std::string LevelOf(std::string_view severity) {
  if (severity == "critical") {
    return "fatal";
  }
  if (severity == "error" || severity == "warning" || severity == "info") {
    return std::string(severity);
  }
  return "error";
}

// The most severe level among the alerts, so one critical alert makes the event fatal.
std::string EventLevel(const Notification& notification) {
  if (notification.status == "resolved") {
    return "info";
  }
  std::string level;
  for (const auto& alert : notification.alerts) {
    std::string candidate = LevelOf(alert.labels.Get("severity"));
    if (level.empty() || SeverityRank(candidate) > SeverityRank(level)) {
      level = candidate;
    }
  }
  return level.empty() ? "error" : level;
}

std::string EventMessage(const Notification& notification) {
  std::string message(notification.common_annotations.Get("summary"));
  if (message.empty()) {
    message = notification.common_labels.Get("alertname");
  }
  if (message.empty()) {
    message = notification.group_labels.Get("alertname");
  }
  if (message.empty()) {
    message = notification.group_key;
  }
  if (notification.status == "resolved") {
    message = "[RESOLVED] " + message;
  }
  return message;
}

std::string_view Trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) {
    text.remove_prefix(1);
  }
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) {
    text.remove_suffix(1);
  }
  return text;
}

std::vector<std::string_view> Split(std::string_view text, char separator) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  for (size_t i = 0; i <= text.size(); ++i) {
    if (i == text.size() || text[i] == separator) {
      parts.push_back(text.substr(start, i - start));
      start = i + 1;
    }
  }
  return parts;
}

Error InvalidDsn(std::string_view dsn, const std::string& reason) {
  return Error::Invalid("Sentry dsn " + RedactUrl(dsn) + " is invalid: " + reason +
                        ": expected {scheme}://{public_key}@{host}[:port]/{project_id}, as "
                        "Sentry's project settings show it.");
}

}  // namespace

std::string SentryDsn::EnvelopeUrl() const {
  return scheme + "://" + host + "/" + path + "api/" + project_id + "/envelope/";
}

std::string SentryDsn::WebApiUrl() const {
  return scheme + "://" + host + "/" + path + "api/0/";
}

Result<SentryDsn> ParseSentryDsn(std::string_view dsn) {
  SentryDsn parsed;
  size_t scheme_end = dsn.find("://");
  if (scheme_end == std::string_view::npos) {
    return InvalidDsn(dsn, "it has no scheme");
  }
  parsed.scheme = std::string(dsn.substr(0, scheme_end));
  if (parsed.scheme != "http" && parsed.scheme != "https") {
    return InvalidDsn(dsn, "the scheme must be http or https");
  }
  std::string_view rest = dsn.substr(scheme_end + 3);
  size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  size_t at = authority.rfind('@');
  if (at == std::string_view::npos || at == 0) {
    return InvalidDsn(dsn, "it has no public key");
  }
  // A DSN may still carry the deprecated secret key as public:secret.
  std::string_view user_info = authority.substr(0, at);
  parsed.public_key = std::string(user_info.substr(0, user_info.find(':')));
  parsed.host = std::string(authority.substr(at + 1));
  if (parsed.host.empty() || parsed.host.starts_with(":")) {
    return InvalidDsn(dsn, "it has no host");
  }
  std::string_view path = slash == std::string_view::npos ? "" : rest.substr(slash + 1);
  if (size_t query = path.find_first_of("?#"); query != std::string_view::npos) {
    path = path.substr(0, query);
  }
  while (path.ends_with("/")) {
    path.remove_suffix(1);
  }
  size_t last = path.rfind('/');
  std::string_view project = last == std::string_view::npos ? path : path.substr(last + 1);
  if (project.empty() || project.find_first_not_of("0123456789") != std::string_view::npos) {
    return InvalidDsn(dsn, "it has no numeric project id at the end of its path");
  }
  parsed.project_id = std::string(project);
  parsed.path = last == std::string_view::npos ? "" : std::string(path.substr(0, last + 1));
  return parsed;
}

std::optional<Duration> ParseSentryRateLimits(std::string_view header) {
  std::optional<Duration> wait;
  for (std::string_view entry : Split(header, ',')) {
    std::vector<std::string_view> fields = Split(Trim(entry), ':');
    if (fields.size() < 2) {
      continue;
    }
    int64_t seconds = 0;
    std::string_view number = fields[0];
    auto [end, ec] = std::from_chars(number.data(), number.data() + number.size(), seconds);
    if (ec != std::errc() || end != number.data() + number.size() || seconds < 0) {
      continue;
    }
    bool applies = fields[1].empty();
    for (std::string_view category : Split(fields[1], ';')) {
      applies = applies || category == "error" || category == "default";
    }
    if (!applies) {
      continue;
    }
    Duration candidate = std::chrono::duration_cast<Duration>(std::chrono::seconds(seconds));
    if (!wait || candidate > *wait) {
      wait = candidate;
    }
  }
  return wait;
}

std::string SentryGroupTag(std::string_view group_key) {
  uint64_t hash = 14695981039346656037ull;
  for (char c : group_key) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 1099511628211ull;
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string tag(16, '0');
  for (int i = 15; i >= 0; --i) {
    tag[static_cast<size_t>(i)] = kHex[hash & 0xf];
    hash >>= 4;
  }
  return tag;
}

Result<std::unique_ptr<SentryNotifier>> SentryNotifier::Create(config::SentryConfig config,
                                                               std::shared_ptr<HttpClient> client,
                                                               SentryNotifierOptions options) {
  if (config.dsn.empty()) {
    return Error::Invalid("Sentry dsn is empty: set sentry_configs[].dsn or dsn_file.");
  }
  auto dsn = ParseSentryDsn(config.dsn);
  if (!dsn.ok()) {
    return dsn.error();
  }
  const int resolve_fields =
      !config.auth_token.empty() + !config.organization.empty() + !config.project.empty();
  if (resolve_fields != 0 && resolve_fields != 3) {
    return Error::Invalid(
        "Sentry auth_token, organization and project are only partly set: set all three to "
        "resolve issues through the Web API, or none.");
  }
  if (!config.api_url.empty()) {
    if (!config.api_url.starts_with("http://") && !config.api_url.starts_with("https://")) {
      return Error::Invalid("Sentry api_url \"" + RedactUrl(config.api_url) +
                            "\" is invalid: use an http:// or https:// URL such as "
                            "https://sentry.io/api/0/.");
    }
    if (!config.api_url.ends_with("/")) {
      config.api_url += '/';
    }
  }
  if (!options.clock) {
    options.clock = std::make_shared<SystemClock>();
  }
  return std::unique_ptr<SentryNotifier>(new SentryNotifier(
      std::move(config), std::move(dsn).value(), std::move(client), std::move(options)));
}

nlohmann::ordered_json SentryNotifier::RenderEvent(const Notification& notification,
                                                   const std::string& event_id) const {
  nlohmann::ordered_json tags = nlohmann::ordered_json::object();
  for (const auto& label : notification.common_labels) {
    tags[CutUtf8(label.name, kMaxTagKey)] = CutUtf8(label.value, kMaxTagValue);
  }
  tags["alertd_group"] = SentryGroupTag(notification.group_key);
  tags["alertd_status"] = notification.status;

  nlohmann::ordered_json alerts = nlohmann::ordered_json::array();
  for (const auto& alert : notification.alerts) {
    alerts.push_back({
        {"status", alert.status()},
        {"labels", LabelsToJson(alert.labels)},
        {"annotations", LabelsToJson(alert.annotations)},
        {"startsAt", FormatGoTime(alert.starts_at)},
        {"endsAt", FormatGoTime(alert.ends_at)},
        {"generatorURL", alert.generator_url},
        {"fingerprint", alert.fingerprint()},
    });
  }
  nlohmann::ordered_json event = {
      {"event_id", event_id},
      {"timestamp", FormatGoTime(options_.clock->Now())},
      {"platform", "other"},
      {"level", EventLevel(notification)},
      {"logger", "alertd"},
      {"message", {{"formatted", EventMessage(notification)}}},
  };
  if (!config_.environment.empty()) {
    event["environment"] = config_.environment;
  }
  if (!config_.release.empty()) {
    event["release"] = config_.release;
  }
  event["tags"] = tags;
  event["extra"] = {
      {"receiver", notification.receiver},
      {"status", notification.status},
      {"groupKey", notification.group_key},
      {"externalURL", notification.external_url},
      {"truncatedAlerts", notification.truncated_alerts},
      {"alerts", alerts},
  };
  event["fingerprint"] = nlohmann::ordered_json::array({notification.group_key});
  return event;
}

std::string SentryNotifier::RenderEnvelope(const Notification& notification) const {
  std::string event_id = RandomEventId();
  std::string event = RenderEvent(notification, event_id).dump();
  nlohmann::ordered_json header = {
      {"event_id", event_id},
      {"dsn", config_.dsn},
      {"sent_at", FormatGoTime(options_.clock->Now())},
  };
  nlohmann::ordered_json item = {{"type", "event"}, {"length", event.size()}};
  return header.dump() + "\n" + item.dump() + "\n" + event + "\n";
}

std::string SentryNotifier::Scrub(std::string message) const {
  for (const std::string* secret : {&dsn_.public_key, &config_.auth_token, &config_.dsn}) {
    if (secret->empty()) {
      continue;
    }
    constexpr std::string_view kRedacted = "<redacted>";
    size_t pos = 0;
    while ((pos = message.find(*secret, pos)) != std::string::npos) {
      message.replace(pos, secret->size(), kRedacted);
      pos += kRedacted.size();
    }
  }
  return message;
}

std::optional<NotifyError> SentryNotifier::Classify(const Result<HttpResponse>& result) const {
  std::optional<NotifyError> error = ClassifyHttpResult(result, "Sentry", dsn_.EnvelopeUrl());
  if (!error) {
    return std::nullopt;
  }
  if (error->reason == FailureReason::kRateLimited) {
    std::optional<Duration> limit = ParseSentryRateLimits(result->Header("x-sentry-rate-limits"));
    if (limit) {
      error->retry_after = limit;
    } else if (!error->retry_after) {
      error->retry_after = kDefaultRateLimitWait;
    }
  }
  error->message = Scrub(std::move(error->message));
  return error;
}

// NOTE: of http_config only tls_config applies; basic_auth, authorization and proxy_url are
// not sent, because the shared HttpClient has no per-request proxy.
HttpRequest SentryNotifier::ApiRequest(std::string method, std::string url) const {
  HttpRequest request;
  request.method = std::move(method);
  request.url = std::move(url);
  request.headers = {{"Authorization", "Bearer " + config_.auth_token},
                     {"User-Agent", std::string(kClient)}};
  request.timeout = options_.timeout;
  const config::TlsConfig& tls = config_.http_config.tls_config;
  request.tls = {
      tls.ca_file, tls.cert_file, tls.key_file, tls.insecure_skip_verify, tls.min_version};
  return request;
}

std::optional<NotifyError> SentryNotifier::ResolveIssue(const Notification& notification) const {
  const std::string base = (config_.api_url.empty() ? dsn_.WebApiUrl() : config_.api_url) +
                           "projects/" + QueryEscape(config_.organization) + "/" +
                           QueryEscape(config_.project) + "/issues/";
  const std::string query = "is:unresolved alertd_group:" + SentryGroupTag(notification.group_key);
  Result<HttpResponse> found =
      client_->Do(ApiRequest("GET", base + "?query=" + QueryEscape(query)));
  if (auto error = ClassifyHttpResult(found, "Sentry Web API", base)) {
    error->message = Scrub("finding the Sentry issue to resolve failed: " + error->message);
    return error;
  }
  nlohmann::json issues = nlohmann::json::parse(found->body, nullptr, false);
  if (!issues.is_array()) {
    return NotifyError{
        .retryable = true,
        .reason = FailureReason::kServer,
        .message =
            "finding the Sentry issue to resolve failed: the Web API returned no JSON "
            "array of issues",
        .retry_after = std::nullopt,
    };
  }
  std::string ids;
  for (const auto& issue : issues) {
    if (issue.is_object() && issue.contains("id") && issue["id"].is_string()) {
      ids += (ids.empty() ? "?id=" : "&id=") + QueryEscape(issue["id"].get<std::string>());
    }
  }
  if (ids.empty()) {
    Logger("notify.sentry")
        ->debug("No unresolved Sentry issue to resolve group_key={}",
                LogValue(notification.group_key));
    return std::nullopt;
  }
  HttpRequest put = ApiRequest("PUT", base + ids);
  put.headers.emplace_back("Content-Type", "application/json");
  put.body = R"({"status":"resolved"})";
  Result<HttpResponse> updated = client_->Do(put);
  if (auto error = ClassifyHttpResult(updated, "Sentry Web API", base)) {
    error->message = Scrub("resolving the Sentry issue failed: " + error->message);
    return error;
  }
  return std::nullopt;
}

std::optional<NotifyError> SentryNotifier::Notify(const Notification& notification) {
  HttpRequest request;
  request.method = "POST";
  request.url = dsn_.EnvelopeUrl();
  request.headers = {
      {"Content-Type", "application/x-sentry-envelope"},
      {"User-Agent", std::string(kClient)},
      {"X-Sentry-Auth",
       "Sentry sentry_version=7, sentry_client=" + std::string(kClient) +
           ", sentry_key=" + dsn_.public_key},
  };
  request.body = RenderEnvelope(notification);
  request.timeout = options_.timeout;
  const config::TlsConfig& tls = config_.http_config.tls_config;
  request.tls = {
      tls.ca_file, tls.cert_file, tls.key_file, tls.insecure_skip_verify, tls.min_version};
  if (auto error = Classify(client_->Do(request))) {
    return error;
  }
  // The resolved event goes first because an event arriving after the issue is resolved would
  // reopen it as a regression.
  // NOTE: when resolving fails, the retry sends the resolved event again; Sentry adds it to the
  // same issue.
  if (notification.status == "resolved" && resolves_issues()) {
    return ResolveIssue(notification);
  }
  return std::nullopt;
}

}  // namespace alertd
