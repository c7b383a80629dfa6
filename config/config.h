// The daemon configuration, alertd.yml: a prometheus.yml and an alertmanager.yml merged, with
// one `global` section holding the fields of both. Defaults are filled in by the loader and
// documented beside each field.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/labels.h"
#include "common/matcher.h"
#include "common/result.h"

namespace alertd::config {

// Where a value came from, for error messages: 1-based line and column in `file`.
struct Mark {
  std::string file;
  int line = 0;
  int column = 0;
};

struct StaticConfig {
  std::vector<std::string> targets;  // host:port
  Labels labels;
};

struct ScrapeConfig {
  std::string job_name;
  Duration scrape_interval{0};  // default: global.scrape_interval
  Duration scrape_timeout{0};   // default: global.scrape_timeout, at most scrape_interval
  std::string metrics_path = "/metrics";
  std::string scheme = "http";  // http or https
  bool honor_labels = false;
  bool honor_timestamps = true;  // Prometheus default: use the timestamps an exposition gives
  std::vector<StaticConfig> static_configs;
  Mark mark;
  // Prometheus's per-scrape limits; 0 means no limit. A scrape over a limit fails as a whole:
  // the target is down with the reason and none of its samples are stored. The label limits
  // apply to each series after the target labels are added, __name__ included.
  uint64_t sample_limit = 0;
  uint64_t body_size_limit = 0;           // bytes of the uncompressed body
  uint64_t label_limit = 0;               // labels per series
  uint64_t label_name_length_limit = 0;   // bytes of one label name
  uint64_t label_value_length_limit = 0;  // bytes of one label value
  // limits.max_line_length, copied here by the loader: bytes of one exposition line.
  uint64_t max_line_length = 1 << 20;
};

// Alertmanager's tls_config (prometheus/common config.TLSConfig).
struct TlsConfig {
  std::string ca_file;
  std::string cert_file;
  std::string key_file;
  std::string server_name;
  bool insecure_skip_verify = false;
  std::string min_version;  // "TLS10" .. "TLS13"; empty: the library default
};

// Alertmanager's http_config (prometheus/common config.HTTPClientConfig), as far as alertd
// applies it to outgoing requests. Secrets are read from their *_file at load time.
struct HttpClientConfig {
  std::string basic_auth_username;
  std::string basic_auth_password;  // secret
  std::string authorization_type = "Bearer";
  std::string authorization_credentials;  // secret; also set by the legacy bearer_token
  std::string proxy_url;
  bool follow_redirects = true;
  TlsConfig tls_config;
};

struct SlackConfig {
  bool send_resolved = false;  // Alertmanager's default for Slack
  std::string api_url;         // secret; api_url_file is read into it at load time
  std::string api_url_file;
  std::string channel;
  std::string username;  // Alertmanager's default: '{{ template "slack.default.username" . }}'
  std::string title;     // empty: alertd's default title
  std::string text;      // empty: alertd's default text (each alert's summary and description)
  Mark mark;
  // The other fields of Alertmanager 0.25's SlackConfig. A template left empty in the file stays
  // empty here; the renderer then uses Alertmanager's default, named beside the field.
  HttpClientConfig http_config;  // default: global.http_config
  std::string color;             // '{{ if eq .Status "firing" }}danger{{ else }}good{{ end }}'
  std::string title_link;        // '{{ template "slack.default.titlelink" . }}'
  std::string pretext;           // '{{ template "slack.default.pretext" . }}'
  std::string footer;            // '{{ template "slack.default.footer" . }}'
  std::string fallback;          // '{{ template "slack.default.fallback" . }}'
  std::string callback_id;       // '{{ template "slack.default.callbackid" . }}'
  std::string icon_emoji;        // '{{ template "slack.default.iconemoji" . }}'
  std::string icon_url;          // '{{ template "slack.default.iconurl" . }}'
  std::string image_url;
  std::string thumb_url;

  struct Field {
    std::string title;                // required
    std::string value;                // required
    std::optional<bool> short_field;  // `short`; unset: short_fields
  };

  std::vector<Field> fields;
  bool short_fields = false;
  bool link_names = false;
  std::vector<std::string> mrkdwn_in;

  struct Confirm {
    std::string text;  // required
    std::string title;
    std::string ok_text;
    std::string dismiss_text;
  };

  struct Action {
    std::string type;  // required
    std::string text;  // required
    std::string url;   // url or name is required
    std::string style;
    std::string name;
    std::string value;
    std::optional<Confirm> confirm;
  };

  std::vector<Action> actions;
};

struct WebhookConfig {
  bool send_resolved = true;  // Alertmanager's default for webhooks
  std::string url;            // secret; url_file is read into it at load time
  std::string url_file;
  int max_alerts = 0;  // 0: no limit
  Mark mark;
  HttpClientConfig http_config;  // default: global.http_config
};

// email_configs entry, Alertmanager 0.25's EmailConfig. Fields left empty in the file are
// filled in from global.smtp_* by the loader.
struct EmailConfig {
  bool send_resolved = false;  // Alertmanager's default for email
  std::string to;              // comma-separated addresses; a template
  std::string from;            // default global.smtp_from; a template
  std::string hello;           // default global.smtp_hello ("localhost")
  std::string smarthost;       // host:port; default global.smtp_smarthost
  std::string auth_username;
  std::string auth_password;  // secret; auth_password_file is read into it at load time
  std::string auth_password_file;
  std::string auth_secret;  // secret (CRAM-MD5)
  std::string auth_identity;
  // Header templates. The loader fills in Subject, To and From when absent, as Alertmanager
  // does: Subject '{{ template "email.default.subject" . }}', To = to, From = from.
  std::map<std::string, std::string> headers;
  std::string html;                 // template; default '{{ template "email.default.html" . }}'
  std::string text;                 // template; default empty: no text part
  std::optional<bool> require_tls;  // unset: global.smtp_require_tls (default true)
  TlsConfig tls_config;
  Mark mark;
};

// sentry_configs entry, an alertd integration: one Sentry event per notification.
struct SentryConfig {
  bool send_resolved = true;
  std::string dsn;  // secret; dsn_file is read into it at load time
  std::string dsn_file;
  std::string environment;
  std::string release;
  // Optional: with all three set, a resolved group also resolves its issue through Sentry's
  // Web API, at the DSN's host unless api_url is set.
  std::string auth_token;  // secret; read from auth_token_file
  std::string auth_token_file;
  std::string organization;
  std::string project;
  std::string api_url;  // base of the Web API, e.g. https://sentry.io/api/0/
  HttpClientConfig http_config;
  Mark mark;
};

// A receiver integration alertd parses and validates but cannot send yet (pagerduty_configs,
// opsgenie_configs, ...). `alertd run` refuses a configuration that uses one.
struct UnsupportedIntegration {
  std::string type;  // the key, e.g. "pagerduty_configs"
  Mark mark;         // the list entry
};

struct Receiver {
  std::string name;
  std::vector<SlackConfig> slack_configs;
  std::vector<WebhookConfig> webhook_configs;
  std::vector<EmailConfig> email_configs;
  std::vector<SentryConfig> sentry_configs;
  std::vector<UnsupportedIntegration> unsupported_integrations;
  Mark mark;
};

// inhibit_rules entry: an alert matching target_matchers is muted while an alert matching
// source_matchers fires with the same values of the `equal` labels. The old
// source_match/source_match_re and target_match/target_match_re are merged into the matchers.
struct InhibitRule {
  std::vector<LabelMatcher> source_matchers;
  std::vector<LabelMatcher> target_matchers;
  std::vector<std::string> equal;
  Mark mark;
};

// One entry of a time interval, Alertmanager's timeinterval.TimeInterval. An empty list
// matches every time; an instant matches the entry when it matches every non-empty list.
struct TimeIntervalSpec {
  struct Range {
    int begin = 0;  // inclusive
    int end = 0;    // inclusive, except for `times`, whose end minute is exclusive
  };

  std::vector<Range> times;          // minutes of the day, 0..1440
  std::vector<Range> weekdays;       // 0 = Sunday .. 6 = Saturday
  std::vector<Range> days_of_month;  // 1..31, or negative counting from the month's end
  std::vector<Range> months;         // 1..12
  std::vector<Range> years;
  std::string location;  // IANA time zone name; empty: UTC
};

// time_intervals (and the older mute_time_intervals) entry.
struct TimeInterval {
  std::string name;
  std::vector<TimeIntervalSpec> time_intervals;
  Mark mark;
};

struct Route {
  std::string receiver;
  // Label names to group by. The single entry "..." groups by all labels.
  std::vector<std::string> group_by;
  Duration group_wait{30000};          // Alertmanager default 30s
  Duration group_interval{300000};     // Alertmanager default 5m
  Duration repeat_interval{14400000};  // Alertmanager default 4h
  Mark mark;
  // The route's own matchers: `matchers`, `match` and `match_re` together, sorted by name,
  // value, then type as Alertmanager sorts them. The root route has none.
  std::vector<LabelMatcher> matchers;
  bool continue_matching = false;  // `continue`: after a match, try the next siblings too
  // Names of time_intervals: notifications are not sent while one of mute_time_intervals
  // holds, nor while none of active_time_intervals does (when there are some).
  std::vector<std::string> mute_time_intervals;
  std::vector<std::string> active_time_intervals;
  // alertd extension: an alert that was notified as firing and then muted (silenced,
  // inhibited or in a mute time) still gets its resolved notification. Inherited by children.
  bool notify_resolved_when_muted = true;
  // Child routes. The loader fills in what a child leaves unset (receiver, group_by and the
  // three intervals) from its parent, as Alertmanager's dispatch.NewRoute does.
  std::vector<Route> routes;
};

struct GlobalConfig {
  Duration scrape_interval{60000};      // Prometheus default 1m
  Duration scrape_timeout{10000};       // Prometheus default 10s
  Duration evaluation_interval{60000};  // Prometheus default 1m
  Labels external_labels;
  Duration resolve_timeout{300000};  // Alertmanager default 5m
  std::string slack_api_url;         // secret
  std::string slack_api_url_file;
  HttpClientConfig http_config;
  std::string smtp_from;
  std::string smtp_hello = "localhost";
  std::string smtp_smarthost;  // host:port
  std::string smtp_auth_username;
  std::string smtp_auth_password;  // secret
  std::string smtp_auth_identity;
  std::string smtp_auth_secret;  // secret
  bool smtp_require_tls = true;
  std::string smtp_auth_password_file;  // read into smtp_auth_password at load time
  // Defaults of the integrations alertd validates but does not send (UnsupportedIntegration),
  // with Alertmanager 0.25's values.
  std::string pagerduty_url = "https://events.pagerduty.com/v2/enqueue";
  std::string opsgenie_api_url = "https://api.opsgenie.com/";
  std::string opsgenie_api_key;  // secret; opsgenie_api_key_file is read into it at load time
  std::string opsgenie_api_key_file;
  std::string wechat_api_url = "https://qyapi.weixin.qq.com/cgi-bin/";
  std::string wechat_api_secret;  // secret
  std::string wechat_api_corp_id;
  std::string victorops_api_url =
      "https://alert.victorops.com/integrations/generic/20131114/alert/";
  std::string victorops_api_key;  // secret; victorops_api_key_file is read into it at load time
  std::string victorops_api_key_file;
  std::string telegram_api_url = "https://api.telegram.org";
  std::string webex_api_url = "https://webexapis.com/v1/messages";
};

struct StorageConfig {
  std::string path = "data/";  // directory; holds alertd.db
  // How often the sample window is written to a snapshot in path/samples, after which the
  // sample log is cut. The log is flushed once a second whatever this is.
  Duration snapshot_interval{5 * 60 * 1000};
};

struct WebConfig {
  std::string listen_address = "127.0.0.1:9095";
  std::string external_url;  // empty: http://<listen_address>/
  // Prometheus's web.config.file (tls_server_config, basic_auth_users) plus alertd's bearer
  // tokens, resolved against base_dir; empty: plain HTTP without authentication. The
  // --web.config.file flag overrides it.
  std::string config_file;
};

// `rules`: restoring alert state after a restart, as Prometheus's --rules.alert.* flags.
struct RulesConfig {
  // A restored pending alert fires no earlier than this long after the start (Prometheus's
  // --rules.alert.for-grace-period, default 10m), so a half-warm sample window cannot fire it.
  Duration for_grace_period{600000};
  // Restored `for` state is kept only when alertd was down for less than this
  // (--rules.alert.for-outage-tolerance, default 1h); after a longer outage pending alerts
  // start their `for` again. Firing alerts stay firing either way.
  Duration for_outage_tolerance{3600000};
};

// `limits`: bounds on input that Prometheus has no setting for. 0 means no limit.
struct LimitsConfig {
  uint64_t max_line_length = 1 << 20;         // bytes of one exposition or rule file line
  uint64_t max_rules = 0;                     // rules across all rule files
  uint64_t max_template_output = 1 << 20;     // bytes one template expansion may produce
  uint64_t max_request_body_size = 10 << 20;  // bytes of one HTTP request body
};

// `notifications`: the delivery queues of the router.
struct NotificationsConfig {
  // A notification that keeps failing is retried with backoff for at most this long after it
  // was first queued, then dropped with an error log and counted.
  Duration queue_max_age{3600000};
  // On SIGTERM, sends in flight and queued are given this long to finish before the store is
  // closed; what is left is sent after the next start.
  Duration shutdown_timeout{30000};
};

// One inbound endpoint of `webhook_receivers`: POST /api/v1/webhook/<name>.
struct WebhookReceiverConfig {
  std::string name;  // [A-Za-z0-9_-]+
  std::string type;  // "alertmanager", "grafana" or "json"
  // Authentication, at most one of the three. With none, the endpoint is accepted only when
  // the server listens on loopback addresses.
  std::string bearer_token;  // secret; `authorization: {credentials[_file]}`
  std::string basic_auth_username;
  std::string basic_auth_password;  // secret; basic_auth.password[_file]
  std::string hmac_secret;          // secret; hmac.secret[_file]
  std::string hmac_header = "X-Hub-Signature-256";
  std::string hmac_prefix = "sha256=";      // the lower-case hex digest follows it
  uint64_t max_body_size = 1 << 20;         // bytes; larger bodies get 413
  Labels labels;                            // added to every alert, replacing the payload's
  std::vector<std::string> removed_labels;  // names given an empty value in labels: removed
  // A firing alert without an update or a resolution for this long expires (logged).
  Duration max_age{86400000};
  // type json: templates over the parsed body. `alertname` is required among label_templates.
  std::map<std::string, std::string> label_templates;
  std::map<std::string, std::string> annotation_templates;
  std::string resolved_template;  // output "true" means the event resolves the alert
  Mark mark;
};

// Limits on each PromQL query, rule evaluations and the query API alike, with the defaults of
// Prometheus's --query.max-samples and --query.timeout flags.
struct QueryConfig {
  int64_t max_samples = 50'000'000;
  Duration timeout{120000};  // 2m
};

// `datasource`: where rules get their data. Absent: alertd's own scraper and sample window.
struct DatasourceConfig {
  std::string type = "prometheus";  // a Prometheus-compatible /api/v1/query
  std::string url;                  // base URL, e.g. http://127.0.0.1:9090
  Duration timeout{30000};
  std::map<std::string, std::string> query_params;  // added to every query
  HttpClientConfig http_config;  // basic_auth, authorization, bearer_token, tls_config
  Mark mark;
};

// remote_write entry, shaped as in prometheus.yml.
struct RemoteWriteConfig {
  std::string url;
  std::string name;
  Duration remote_timeout{30000};
  std::map<std::string, std::string> headers;
  HttpClientConfig http_config;
  int queue_capacity = 2500;  // queue_config.capacity: samples buffered before dropping
  int max_samples_per_send = 500;
  Duration min_backoff{30};
  Duration max_backoff{5000};
  Mark mark;
};

// alerting.alertmanagers entry, shaped as in prometheus.yml.
struct AlertmanagerTargetConfig {
  std::string scheme = "http";
  std::string path_prefix = "/";
  std::string api_version = "v2";
  Duration timeout{10000};
  std::vector<std::string> targets;  // static_configs targets, host:port
  HttpClientConfig http_config;
  Mark mark;
};

struct Config {
  std::string file;      // path of the loaded alertd.yml
  std::string base_dir;  // directory of `file`; rule_files and *_file paths are relative to it
  GlobalConfig global;
  std::vector<std::string> rule_files;  // globs as written
  std::vector<Mark> rule_file_marks;    // position of each rule_files entry, in the same order
  std::vector<ScrapeConfig> scrape_configs;
  StorageConfig storage;
  WebConfig web;
  // Set when the notification part comes from an alertmanager.yml named by
  // alertmanager_config_file; route, receivers, inhibit_rules, time_intervals and templates
  // are then read from it, and marks in them name that file.
  std::string alertmanager_config_file;
  std::optional<Route> route;  // absent: no notifications are sent
  std::vector<Receiver> receivers;
  std::vector<InhibitRule> inhibit_rules;
  std::vector<TimeInterval> time_intervals;  // mute_time_intervals entries included
  // Notification template files: globs as written, relative to the file that names them.
  std::vector<std::string> templates;
  std::string templates_base_dir;  // directory the template globs are relative to
  QueryConfig query;
  std::optional<DatasourceConfig> datasource;
  std::vector<RemoteWriteConfig> remote_write;
  std::vector<AlertmanagerTargetConfig> alertmanagers;  // alerting.alertmanagers
  // Shifts every group's evaluation time back (Prometheus 2.53's global.rule_query_offset);
  // a rule group's query_offset overrides it.
  Duration rule_query_offset{0};
  RulesConfig rules;
  LimitsConfig limits;
  NotificationsConfig notifications;
  std::vector<WebhookReceiverConfig> webhook_receivers;
};

// One problem found in a configuration file.
struct ConfigError {
  Mark mark;
  std::string message;

  // FILE:LINE:COL: message (the position omitted when unknown).
  std::string ToString() const;
};

// Loads and validates alertd.yml. Every problem found is returned, not only the first.
// Rule files are not loaded here; ExpandRuleFiles resolves their globs.
Result<Config> LoadConfigFile(const std::string& path, std::vector<ConfigError>* errors);

// Parses configuration text; `file` names it in errors and sets base_dir.
Result<Config> ParseConfig(const std::string& text,
                           const std::string& file,
                           std::vector<ConfigError>* errors);

// Loads only `route` and the names of `receivers` from an alertd.yml or an alertmanager.yml,
// ignoring every other section and the receivers' integrations, as amtool's `config routes`
// does. The route is validated as in LoadConfigFile.
Result<Config> LoadRoutingFile(const std::string& path, std::vector<ConfigError>* errors);

// Whether `address` (host:port, as web.listen_address takes it) binds only loopback
// addresses: 127.0.0.0/8 in dotted decimal, ::1 or localhost.
bool IsLoopbackListenAddress(std::string_view address);

// Alertmanager 0.25's labels.ParseMatchers: matchers separated by commas, optionally inside
// `{...}`, each `name OP value` with OP one of = != =~ !~ and the value optionally quoted.
Result<std::vector<LabelMatcher>> ParseMatchers(std::string_view text);
// Alertmanager 0.25's labels.ParseMatcher: one matcher.
Result<LabelMatcher> ParseMatcher(std::string_view text);

// Expands rule_files globs relative to base_dir, sorted, without duplicates.
std::vector<std::string> ExpandRuleFiles(const Config& config);

}  // namespace alertd::config
