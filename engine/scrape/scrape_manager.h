// The built-in metrics source: scrapes the static targets of each scrape_config over HTTP and
// appends their samples, plus the up and scrape_* series, the way Prometheus 2.42 does.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/clock.h"
#include "common/http_client.h"
#include "common/labels.h"
#include "config/config.h"
#include "storage/sample_store.h"

namespace alertd {

// One target to schedule: the daemon runs a timer per handle and calls Scrape(index).
struct TargetHandle {
  size_t index = 0;  // argument for Scrape
  std::string job;
  std::string instance;
  Duration interval{0};
  Duration timeout{0};
  std::string url;  // may carry secrets in its path or query: log it through RedactUrl
};

// The limits of one scrape config (config::ScrapeConfig has their meaning); 0 means no limit.
struct ScrapeLimits {
  uint64_t sample_limit = 0;
  uint64_t body_size_limit = 0;
  uint64_t label_limit = 0;
  uint64_t label_name_length_limit = 0;
  uint64_t label_value_length_limit = 0;
  uint64_t max_line_length = 0;
};

enum class TargetHealth { kUnknown, kUp, kDown };

// Returns "unknown", "up" or "down", the health strings of GET /api/v1/targets.
std::string_view TargetHealthName(TargetHealth health);

// One target's state for GET /api/v1/targets.
struct TargetStatus {
  std::string scrape_pool;   // job_name
  Labels discovered_labels;  // __address__, __scheme__, __metrics_path__, job, static labels
  Labels labels;             // job, instance and the static labels
  std::string scrape_url;
  TargetHealth health = TargetHealth::kUnknown;
  std::optional<TimePoint> last_scrape;  // start of the last scrape; absent before the first
  double last_scrape_duration_seconds = 0;
  std::string last_error;  // empty after a successful scrape
  Duration scrape_interval{0};
  Duration scrape_timeout{0};
};

// Scrapes targets on request. Scrape() may run concurrently for different targets, and for the
// same target it is serialized. Status(), Targets() and the counters may be called at any time.
//
// Semantics follow Prometheus 2.42:
// - Target labels are job (job_name) and instance (the address) plus the static_configs
//   labels, which may override both.
// - honor_labels false: a scraped label that conflicts with a target label is renamed to
//   exported_<name> (exported_exported_<name> when that is taken too). honor_labels true:
//   scraped labels win and target labels fill in only the missing ones.
// - A sample is stamped with the scrape start time unless the exposition gives a timestamp
//   and honor_timestamps is on. Series with explicit timestamps get no staleness markers.
// - A series present in the previous scrape and missing from this one gets a StaleNaN at the
//   new scrape's time. A failed scrape (transport error, timeout, status other than 200, parse
//   error) stores nothing from the body and marks every series of the last scrape stale.
// - Every scrape appends up (1 or 0), scrape_duration_seconds, scrape_samples_scraped,
//   scrape_samples_post_metric_relabeling and scrape_series_added with the target labels.
// - Within one exposition a repeated series keeps its first sample.
// - A scrape over sample_limit, body_size_limit, label_limit, label_name_length_limit,
//   label_value_length_limit or limits.max_line_length fails like any other failed scrape,
//   with the limit and the value in the error. The body is read only up to body_size_limit.
//   The sample count includes repeated series and samples with explicit timestamps.
// NOTE: relabel_configs and metric_relabel_configs are not supported, and a failed parse
// reports scrape_samples_scraped 0 where Prometheus counts the samples before the error.
class ScrapeManager {
 public:
  // Scrape intervals and timeouts of 0 take the `global` ones; a timeout above the interval
  // is cut to the interval. Targets repeated within a job, with the same labels, are scraped
  // once. `appender`, `http` and `clock` must outlive the manager.
  ScrapeManager(std::vector<config::ScrapeConfig> configs,
                const config::GlobalConfig& global,
                Appender* appender,
                HttpClient* http,
                const Clock* clock);
  ~ScrapeManager();

  ScrapeManager(const ScrapeManager&) = delete;
  ScrapeManager& operator=(const ScrapeManager&) = delete;

  std::vector<TargetHandle> Targets() const;

  // Scrapes target `target_index` once, blocking for at most its timeout plus parsing time.
  // Never throws; failures are recorded in Status() and logged once per change of error. An
  // index past Targets() is logged as an error and ignored.
  void Scrape(size_t target_index);

  std::vector<TargetStatus> Status() const;

  // Counters for the daemon's own /metrics.
  uint64_t scrapes_total() const { return scrapes_total_.load(); }

  uint64_t scrape_failures_total() const { return scrape_failures_total_.load(); }

  uint64_t samples_appended_total() const { return samples_appended_total_.load(); }

 private:
  struct Target;

  void ReportFailure(Target& target, const std::string& error);
  void ReportRecovery(Target& target);

  Appender* appender_;
  HttpClient* http_;
  const Clock* clock_;
  std::vector<std::unique_ptr<Target>> targets_;
  std::atomic<uint64_t> scrapes_total_{0};
  std::atomic<uint64_t> scrape_failures_total_{0};
  std::atomic<uint64_t> samples_appended_total_{0};
};

// Combines scraped `sample_labels` with `target_labels` as Prometheus's mutateSampleLabels does
// for `honor_labels`. Exposed for tests.
Labels MergeTargetLabels(const Labels& sample_labels,
                         const Labels& target_labels,
                         bool honor_labels);

}  // namespace alertd
