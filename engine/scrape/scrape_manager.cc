#include "engine/scrape/scrape_manager.h"

#include <algorithm>
#include <cstdio>
#include <string_view>
#include <unordered_set>
#include <utility>

#include "common/duration.h"
#include "common/logging.h"
#include "engine/scrape/textparse.h"

namespace alertd {
namespace {

// alertd parses only the text format 0.0.4, so unlike Prometheus 2.42 it does not offer
// OpenMetrics. Exporters built on client_golang then respond in the text format.
constexpr std::string_view kAcceptHeader = "text/plain;version=0.0.4;q=1,*/*;q=0.1";
constexpr std::string_view kExportedPrefix = "exported_";

// Reason phrases as Go's http.StatusText returns them, for Prometheus's error text.
std::string_view StatusText(int status) {
  switch (status) {
    case 201:
      return "Created";
    case 202:
      return "Accepted";
    case 204:
      return "No Content";
    case 301:
      return "Moved Permanently";
    case 302:
      return "Found";
    case 304:
      return "Not Modified";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 406:
      return "Not Acceptable";
    case 408:
      return "Request Timeout";
    case 429:
      return "Too Many Requests";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    default:
      return "";
  }
}

std::string FormatSeconds(Duration d) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%f", static_cast<double>(d.count()) / 1000.0);
  return buf;
}

using SeriesSet = std::unordered_set<Labels>;

struct ScrapeCounts {
  size_t scraped = 0;
  size_t appended = 0;
  size_t series_added = 0;
};

}  // namespace

struct ScrapeManager::Target {
  // Fixed at construction.
  std::string job;
  std::string instance;
  Labels labels;
  Labels discovered_labels;
  std::string url;
  Duration interval{0};
  Duration timeout{0};
  bool honor_labels = false;
  bool honor_timestamps = true;
  ScrapeLimits limits;

  // Serializes scrapes of this target and guards the series sets.
  std::mutex scrape_mu;
  SeriesSet tracked_series;  // series of the last scrape that get staleness markers
  SeriesSet seen_series;     // every series of the last scrape, for scrape_series_added

  mutable std::mutex status_mu;
  TargetHealth health = TargetHealth::kUnknown;
  std::optional<TimePoint> last_scrape;
  double last_duration_seconds = 0;
  std::string last_error;
};

std::string_view TargetHealthName(TargetHealth health) {
  switch (health) {
    case TargetHealth::kUp:
      return "up";
    case TargetHealth::kDown:
      return "down";
    case TargetHealth::kUnknown:
      break;
  }
  return "unknown";
}

Labels MergeTargetLabels(const Labels& sample_labels,
                         const Labels& target_labels,
                         bool honor_labels) {
  LabelsBuilder builder(sample_labels);
  if (honor_labels) {
    for (const Label& label : target_labels) {
      if (!sample_labels.Has(label.name)) {
        builder.Set(label.name, label.value);
      }
    }
    return builder.Build();
  }
  std::vector<Label> conflicts;
  for (const Label& label : target_labels) {
    std::string_view scraped = sample_labels.Get(label.name);
    if (!scraped.empty()) {
      conflicts.push_back({label.name, std::string(scraped)});
    }
    builder.Set(label.name, label.value);
  }
  // Shorter names first, so "exported_a" taken by a renamed "a" pushes a conflicting
  // "exported_a" on to "exported_exported_a", as in Prometheus.
  std::stable_sort(conflicts.begin(), conflicts.end(), [](const Label& a, const Label& b) {
    return a.name.size() < b.name.size();
  });
  for (size_t i = 0; i < conflicts.size(); ++i) {
    std::string name = conflicts[i].name;
    while (true) {
      name = std::string(kExportedPrefix) + name;
      bool taken = sample_labels.Has(name) || target_labels.Has(name) ||
                   std::any_of(conflicts.begin(),
                               conflicts.begin() + static_cast<long>(i),
                               [&](const Label& done) { return done.name == name; });
      if (!taken) {
        break;
      }
    }
    conflicts[i].name = name;
  }
  for (const Label& label : conflicts) {
    builder.Set(label.name, label.value);
  }
  return builder.Build();
}

namespace {

// Builds the final target labels: static labels, then job and instance where they are
// missing. Labels starting with "__" steer the scrape and are dropped, as after relabeling.
Labels BuildTargetLabels(const Labels& discovered) {
  LabelsBuilder builder;
  for (const Label& label : discovered) {
    if (!label.name.starts_with("__")) {
      builder.Set(label.name, label.value);
    }
  }
  Labels without_internal = builder.Build();
  if (!without_internal.Has("instance")) {
    builder.Set("instance", discovered.Get("__address__"));
  }
  return builder.Build();
}

}  // namespace

ScrapeManager::ScrapeManager(std::vector<config::ScrapeConfig> configs,
                             const config::GlobalConfig& global,
                             Appender* appender,
                             HttpClient* http,
                             const Clock* clock)
    : appender_(appender), http_(http), clock_(clock) {
  for (const config::ScrapeConfig& config : configs) {
    Duration interval =
        config.scrape_interval.count() > 0 ? config.scrape_interval : global.scrape_interval;
    Duration timeout =
        config.scrape_timeout.count() > 0 ? config.scrape_timeout : global.scrape_timeout;
    if (interval.count() > 0 && timeout > interval) {
      timeout = interval;
    }
    std::vector<Labels> seen;
    for (const config::StaticConfig& group : config.static_configs) {
      for (const std::string& address : group.targets) {
        // Static labels may override job and the scrape parameters, as in Prometheus.
        LabelsBuilder discovered(group.labels);
        const std::pair<std::string_view, std::string_view> defaults[] = {
            {"job", config.job_name},
            {"__address__", address},
            {"__scheme__", config.scheme},
            {"__metrics_path__", config.metrics_path}};
        for (const auto& [name, value] : defaults) {
          if (!group.labels.Has(name)) {
            discovered.Set(name, value);
          }
        }
        discovered.Set("__scrape_interval__", FormatDuration(interval));
        discovered.Set("__scrape_timeout__", FormatDuration(timeout));
        auto target = std::make_unique<Target>();
        target->discovered_labels = discovered.Build();
        target->labels = BuildTargetLabels(target->discovered_labels);
        if (std::find(seen.begin(), seen.end(), target->labels) != seen.end()) {
          continue;
        }
        seen.push_back(target->labels);
        const Labels& d = target->discovered_labels;
        target->job = std::string(target->labels.Get("job"));
        target->instance = std::string(target->labels.Get("instance"));
        target->url = std::string(d.Get("__scheme__")) + "://" + std::string(d.Get("__address__")) +
                      std::string(d.Get("__metrics_path__"));
        target->interval = interval;
        target->timeout = timeout;
        target->honor_labels = config.honor_labels;
        target->honor_timestamps = config.honor_timestamps;
        target->limits = ScrapeLimits{config.sample_limit,
                                      config.body_size_limit,
                                      config.label_limit,
                                      config.label_name_length_limit,
                                      config.label_value_length_limit,
                                      config.max_line_length};
        targets_.push_back(std::move(target));
      }
    }
  }
}

ScrapeManager::~ScrapeManager() = default;

std::vector<TargetHandle> ScrapeManager::Targets() const {
  std::vector<TargetHandle> out;
  out.reserve(targets_.size());
  for (size_t i = 0; i < targets_.size(); ++i) {
    const Target& t = *targets_[i];
    out.push_back(TargetHandle{i, t.job, t.instance, t.interval, t.timeout, t.url});
  }
  return out;
}

std::vector<TargetStatus> ScrapeManager::Status() const {
  std::vector<TargetStatus> out;
  out.reserve(targets_.size());
  for (const auto& target : targets_) {
    TargetStatus status;
    status.scrape_pool = target->job;
    status.discovered_labels = target->discovered_labels;
    status.labels = target->labels;
    status.scrape_url = target->url;
    status.scrape_interval = target->interval;
    status.scrape_timeout = target->timeout;
    {
      std::lock_guard lock(target->status_mu);
      status.health = target->health;
      status.last_scrape = target->last_scrape;
      status.last_scrape_duration_seconds = target->last_duration_seconds;
      status.last_error = target->last_error;
    }
    out.push_back(std::move(status));
  }
  return out;
}

namespace {

// Returns `bytes` in the largest binary unit that divides it, as body_size_limit is written:
// 10MiB, 512KiB or 1000B.
std::string FormatByteSize(uint64_t bytes) {
  constexpr std::pair<uint64_t, std::string_view> kUnits[] = {{uint64_t{1} << 60, "EiB"},
                                                              {uint64_t{1} << 50, "PiB"},
                                                              {uint64_t{1} << 40, "TiB"},
                                                              {uint64_t{1} << 30, "GiB"},
                                                              {uint64_t{1} << 20, "MiB"},
                                                              {uint64_t{1} << 10, "KiB"}};
  for (const auto& [size, unit] : kUnits) {
    if (bytes >= size && bytes % size == 0) {
      return std::to_string(bytes / size) + std::string(unit);
    }
  }
  return std::to_string(bytes) + "B";
}

// Returns an error naming the first line of `body` longer than `max_line_length` bytes, or
// an empty string.
std::string CheckLineLengths(std::string_view body, uint64_t max_line_length) {
  if (max_line_length == 0) {
    return {};
  }
  size_t line_number = 1;
  while (!body.empty()) {
    size_t end = body.find('\n');
    std::string_view line = body.substr(0, end);
    if (line.size() > max_line_length) {
      return "line " + std::to_string(line_number) + " of the exposition is " +
             std::to_string(line.size()) + " bytes, more than limits.max_line_length (" +
             std::to_string(max_line_length) + " bytes)";
    }
    if (end == std::string_view::npos) {
      break;
    }
    body.remove_prefix(end + 1);
    ++line_number;
  }
  return {};
}

// Returns at most the first 50 bytes of `text`, as Go's %.50s prints it.
std::string First50(std::string_view text) {
  return std::string(text.substr(0, 50));
}

// Returns at most the first 50 bytes of `text` in double quotes with \ and " escaped, close
// to Go's %.50q.
std::string Quoted50(std::string_view text) {
  std::string out = "\"";
  for (char c : text.substr(0, 50)) {
    if (c == '"' || c == '\\') {
      out += '\\';
    }
    out += c;
  }
  return out + "\"";
}

// Returns an error when `labels` break label_limit, label_name_length_limit or
// label_value_length_limit, in Prometheus's wording (scrape/scrape.go verifyLabelLimits), or
// an empty string.
std::string CheckLabelLimits(const Labels& labels, const ScrapeLimits& limits) {
  std::string metric = First50(labels.Get(kMetricName));
  if (limits.label_limit > 0 && labels.size() > limits.label_limit) {
    return "label_limit exceeded (metric: " + metric +
           ", number of labels: " + std::to_string(labels.size()) +
           ", limit: " + std::to_string(limits.label_limit) + ")";
  }
  for (const Label& label : labels) {
    if (limits.label_name_length_limit > 0 && label.name.size() > limits.label_name_length_limit) {
      return "label_name_length_limit exceeded (metric: " + metric +
             ", label name: " + First50(label.name) +
             ", length: " + std::to_string(label.name.size()) +
             ", limit: " + std::to_string(limits.label_name_length_limit) + ")";
    }
    if (limits.label_value_length_limit > 0 &&
        label.value.size() > limits.label_value_length_limit) {
      return "label_value_length_limit exceeded (metric: " + metric +
             ", label name: " + First50(label.name) + ", value: " + Quoted50(label.value) +
             ", length: " + std::to_string(label.value.size()) +
             ", limit: " + std::to_string(limits.label_value_length_limit) + ")";
    }
  }
  return {};
}

// Fetches and parses one exposition. A status other than 200 fails with Prometheus's text,
// and a body over body_size_limit or with a line over max_line_length fails too.
Result<std::vector<ParsedSample>> Fetch(HttpClient* http,
                                        const std::string& url,
                                        Duration timeout,
                                        const ScrapeLimits& limits) {
  HttpRequest request;
  request.url = url;
  request.timeout = timeout;
  request.headers = {{"Accept", std::string(kAcceptHeader)},
                     {"X-Prometheus-Scrape-Timeout-Seconds", FormatSeconds(timeout)}};
  // NOTE: body_size_limit 0 leaves the HTTP client's own limit (64MiB by default) in place,
  // where Prometheus reads a body of any size.
  if (limits.body_size_limit > 0) {
    request.max_response_bytes = static_cast<size_t>(limits.body_size_limit);
    request.truncate_large_body = true;
  }
  auto response = http->Do(request);
  if (!response.ok()) {
    return response.error();
  }
  if (response->status != 200) {
    std::string text = "server returned HTTP status " + std::to_string(response->status);
    std::string_view reason = StatusText(response->status);
    if (!reason.empty()) {
      text += " " + std::string(reason);
    }
    return Error::Unavailable(text);
  }
  if (response->body_truncated) {
    return Error::Invalid("body size limit exceeded: the response body is larger than " +
                          FormatByteSize(limits.body_size_limit) + ", the body_size_limit");
  }
  if (std::string problem = CheckLineLengths(response->body, limits.max_line_length);
      !problem.empty()) {
    return Error::Invalid(problem);
  }
  return ParseTextFormat(response->body);
}

// Returns an error when the parsed `samples`, with target labels merged, break a label limit
// or sample_limit. Label limits are checked first because Prometheus stops at such a sample.
std::string CheckSampleLimits(const std::vector<ParsedSample>& samples,
                              const std::vector<Labels>& merged,
                              const ScrapeLimits& limits) {
  if (limits.label_limit > 0 || limits.label_name_length_limit > 0 ||
      limits.label_value_length_limit > 0) {
    for (const Labels& labels : merged) {
      if (std::string problem = CheckLabelLimits(labels, limits); !problem.empty()) {
        return problem;
      }
    }
  }
  if (limits.sample_limit > 0 && samples.size() > limits.sample_limit) {
    return "sample limit exceeded: " + std::to_string(samples.size()) + " samples, sample_limit " +
           std::to_string(limits.sample_limit);
  }
  return {};
}

}  // namespace

void ScrapeManager::Scrape(size_t target_index) {
  if (target_index >= targets_.size()) {
    Logger("scrape")->error("Scrape requested for an unknown target index={} targets={}",
                            target_index,
                            targets_.size());
    return;
  }
  Target& target = *targets_[target_index];
  std::lock_guard scrape_lock(target.scrape_mu);
  TimePoint start = clock_->Now();
  const int64_t t = ToMillis(start);
  scrapes_total_.fetch_add(1);

  Result<std::vector<ParsedSample>> fetched =
      Fetch(http_, target.url, target.timeout, target.limits);
  ScrapeCounts counts;
  SeriesSet tracked;
  SeriesSet seen;
  std::vector<Labels> merged;
  if (fetched.ok()) {
    counts.scraped = fetched->size();
    merged.reserve(fetched->size());
    for (const ParsedSample& sample : *fetched) {
      merged.push_back(MergeTargetLabels(sample.labels, target.labels, target.honor_labels));
    }
    // A scrape over a limit stores none of its samples, as in Prometheus, but still reports
    // how many the exposition had in scrape_samples_scraped.
    if (std::string problem = CheckSampleLimits(*fetched, merged, target.limits);
        !problem.empty()) {
      fetched = Error::Invalid(problem);
      merged.clear();
    }
  }
  if (fetched.ok()) {
    for (size_t i = 0; i < fetched->size(); ++i) {
      const ParsedSample& sample = (*fetched)[i];
      Labels& labels = merged[i];
      if (!seen.insert(labels).second) {
        continue;  // Prometheus rejects a repeated series as a duplicate sample
      }
      bool explicit_time = target.honor_timestamps && sample.timestamp_ms.has_value();
      appender_->Append(labels, explicit_time ? *sample.timestamp_ms : t, sample.value);
      ++counts.appended;
      if (!target.seen_series.contains(labels)) {
        ++counts.series_added;
      }
      if (!explicit_time) {
        tracked.insert(std::move(labels));
      }
    }
  }
  // A failed scrape leaves `seen` empty, so every series of the last scrape goes stale. A
  // series still exposed, now with its own timestamp, is not stale.
  for (const Labels& labels : target.tracked_series) {
    if (!seen.contains(labels)) {
      appender_->Append(labels, t, StaleNaN());
    }
  }
  target.tracked_series = std::move(tracked);
  target.seen_series = std::move(seen);
  samples_appended_total_.fetch_add(counts.appended);

  // Clamped because a clock set back during the scrape would give a negative duration.
  double duration = std::max(0.0, std::chrono::duration<double>(clock_->Now() - start).count());
  auto report = [&](std::string_view name, double value) {
    appender_->Append(LabelsBuilder(target.labels).Set(kMetricName, name).Build(), t, value);
  };
  report("up", fetched.ok() ? 1 : 0);
  report("scrape_duration_seconds", duration);
  report("scrape_samples_scraped", static_cast<double>(counts.scraped));
  report("scrape_samples_post_metric_relabeling", static_cast<double>(counts.appended));
  report("scrape_series_added", static_cast<double>(counts.series_added));

  {
    std::lock_guard status_lock(target.status_mu);
    target.last_scrape = start;
    target.last_duration_seconds = duration;
  }
  if (fetched.ok()) {
    ReportRecovery(target);
  } else {
    scrape_failures_total_.fetch_add(1);
    ReportFailure(target, fetched.error().message());
  }
}

void ScrapeManager::ReportFailure(Target& target, const std::string& error) {
  bool changed;
  {
    std::lock_guard lock(target.status_mu);
    changed = target.health != TargetHealth::kDown || target.last_error != error;
    target.health = TargetHealth::kDown;
    target.last_error = error;
  }
  if (changed) {
    Logger("scrape")->warn("Scrape failed job={} instance={} err={}",
                           LogValue(target.job),
                           LogValue(target.instance),
                           LogValue(error));
  }
}

void ScrapeManager::ReportRecovery(Target& target) {
  bool was_down;
  {
    std::lock_guard lock(target.status_mu);
    was_down = target.health == TargetHealth::kDown;
    target.health = TargetHealth::kUp;
    target.last_error.clear();
  }
  if (was_down) {
    Logger("scrape")->info(
        "Scrape recovered job={} instance={}", LogValue(target.job), LogValue(target.instance));
  }
}

}  // namespace alertd
