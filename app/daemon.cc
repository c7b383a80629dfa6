#include "app/daemon.h"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <thread>
#include <vector>

#include "app/api.h"
#include "app/api_v2.h"
#include "app/inbound_wiring.h"
#include "app/remote_wiring.h"
#include "common/http_client.h"
#include "common/logging.h"
#include "config/check_config.h"
#include "config/config.h"
#include "engine/promql/parser.h"
#include "engine/rule_manager.h"
#include "engine/scheduler.h"
#include "engine/scrape/scrape_manager.h"
#include "notifiers/alert_store.h"
#include "notifiers/dispatcher.h"
#include "notifiers/receivers.h"
#include "notifiers/route.h"
#include "notifiers/silences.h"
#include "rules/rule_file.h"
#include "storage/memory_sample_store.h"
#include "storage/sample_checkpoint.h"
#include "storage/state_store.h"
#include "web/http_server.h"
#include "web/metrics.h"
#include "web/web_config.h"

#ifndef ALERTD_VERSION
#define ALERTD_VERSION "unknown"
#endif

namespace alertd {
namespace {

namespace fs = std::filesystem;

// Alertmanager's --alerts.gc-interval default: how often resolved alerts are dropped.
constexpr Duration kAlertGcInterval{30 * 60 * 1000};
// How often alerts whose write to the state store failed are written again.
constexpr Duration kAlertWriteRetryInterval{5000};
// Alertmanager's --data.maintenance-interval default: how often old silences are dropped.
constexpr Duration kSilenceGcInterval{15 * 60 * 1000};

// Name of the SQLite file inside storage.path.
constexpr char kStateFileName[] = "alertd.db";
constexpr char kLockFileName[] = "lock";
// Directory of the sample checkpoint inside storage.path.
constexpr char kSamplesDirName[] = "samples";

// How much sample history the rules need: the longest look-back of any rule plus two of the
// longest evaluation interval, at least the lookback delta.
int64_t SampleRetentionMs(const std::vector<rules::RuleFile>& files,
                          Duration default_interval,
                          int64_t lookback_delta_ms) {
  int64_t retention = lookback_delta_ms;
  int64_t max_interval = default_interval.count();
  for (const auto& file : files) {
    for (const auto& group : file.groups) {
      if (group.interval) {
        max_interval = std::max<int64_t>(max_interval, group.interval->count());
      }
      for (const auto& rule : group.rules) {
        if (!rule.parsed) {
          continue;
        }
        int64_t lookback = promql::MaxLookbackMs(*rule.parsed, lookback_delta_ms);
        if (lookback == promql::kUnboundedLookback) {
          // NOTE: an @ modifier reads at a fixed time; an hour of history covers the usual
          // @ start()/end() uses in rules, older fixed times find no samples.
          lookback = 3600 * 1000;
        }
        retention = std::max(retention, lookback);
      }
    }
  }
  return retention + 2 * max_interval;
}

// Blocks the signals the daemon handles so that every thread started afterwards inherits the
// mask and only the main thread's sigwait receives them.
sigset_t BlockSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  return set;
}

// Metric names RegisterRemoteMetrics may register; a reload unregisters them before it
// registers those of the new remote parts.
constexpr const char* kRemoteMetricNames[] = {
    "alertd_remote_write_samples_sent_total",
    "alertd_remote_write_samples_dropped_total",
    "alertd_remote_write_samples_failed_total",
    "alertd_remote_write_retries_total",
    "alertd_remote_write_samples_pending",
    "alertd_alertmanager_alerts_sent_total",
    "alertd_alertmanager_errors_total",
    "alertd_alertmanager_alerts_dropped_total",
    "alertd_alertmanager_queue_length",
};

// A replaced runtime is kept this long beyond the query timeout, because an HTTP request that
// started before the reload may still read it through the handlers registered then.
constexpr Duration kRetiredGrace{5 * 60 * 1000};

// How long shutdown waits, after the drain, for senders to let go of the state store.
constexpr std::chrono::milliseconds kStopMargin{1000};

// Everything a configuration consists of, parsed and validated, before anything runs.
struct LoadedConfig {
  config::Config config;
  std::vector<rules::RuleFile> rule_files;
  size_t rule_count = 0;
  std::optional<ReceiverMap> receivers;  // set when the configuration has a route
  // The web configuration file's TLS and authentication; null without web.config_file.
  std::shared_ptr<const WebServerSecurity> web_security;
};

// Loads alertd.yml, every rule file, the receivers with their templates and the web config
// file. Returns false with every problem in `errors`, "FILE:LINE:COL: message" where the
// position is known.
bool LoadConfiguration(const DaemonOptions& options,
                       const std::shared_ptr<HttpClient>& http,
                       LoadedConfig* out,
                       std::vector<std::string>* errors) {
  std::vector<config::ConfigError> config_errors;
  auto config = config::LoadConfigFile(options.config_file, &config_errors);
  if (!config.ok()) {
    for (const auto& error : config_errors) {
      errors->push_back(error.ToString());
    }
    if (config_errors.empty()) {
      errors->push_back(options.config_file + ": " + config.error().message());
    }
    return false;
  }
  out->config = std::move(*config);
  if (!options.web_config_file.empty()) {
    out->config.web.config_file = options.web_config_file;
  }
  if (Status runnable = config::CheckRunnable(out->config); !runnable.ok()) {
    errors->push_back(runnable.error().message());
  }
  for (const auto& path : config::ExpandRuleFiles(out->config)) {
    std::vector<rules::RuleError> rule_errors;
    auto file = rules::LoadRuleFile(path, &rule_errors, out->config.limits.max_line_length);
    if (!file.ok()) {
      for (const auto& error : rule_errors) {
        errors->push_back(error.ToString());
      }
      if (rule_errors.empty()) {
        errors->push_back(path + ": " + file.error().message());
      }
      continue;
    }
    out->rule_count += file->RuleCount();
    out->rule_files.push_back(std::move(*file));
  }
  uint64_t max_rules = out->config.limits.max_rules;
  if (max_rules > 0 && out->rule_count > max_rules) {
    errors->push_back(out->config.file + ": the rule files hold " +
                      std::to_string(out->rule_count) + " rules, more than limits.max_rules (" +
                      std::to_string(max_rules) + "); remove rules or raise limits.max_rules");
  }
  if (!out->config.web.config_file.empty()) {
    auto security = LoadWebConfigFile(out->config.web.config_file);
    if (!security.ok()) {
      errors->push_back(security.error().message());
    } else {
      out->web_security = std::make_shared<const WebServerSecurity>(std::move(*security));
    }
  }
  // Endpoints are built again when they are installed; this checks their templates now, so a
  // reload with a broken one changes nothing.
  for (const auto& receiver : out->config.webhook_receivers) {
    auto endpoint_options = EndpointOptionsFromConfig(receiver);
    if (!endpoint_options.ok()) {
      errors->push_back(out->config.file + ": " + endpoint_options.error().message());
      continue;
    }
    auto endpoint = inbound::Endpoint::Create(std::move(*endpoint_options), nullptr, nullptr);
    if (!endpoint.ok()) {
      errors->push_back(out->config.file + ": " + endpoint.error().message());
    }
  }
  if (out->config.route) {
    auto receivers = BuildReceivers(out->config, http);
    if (!receivers.ok()) {
      errors->push_back(receivers.error().message());
    } else {
      out->receivers = std::move(*receivers);
    }
  }
  return errors->empty();
}

// The part of the daemon a reload replaces: what the configuration and the rule files build.
// The state store, the sample window, the alert store, the silences, the metrics registry and
// the HTTP server outlive it.
struct Runtime {
  config::Config config;
  size_t rule_count = 0;
  std::string external_url;
  int64_t retention_ms = 0;
  RemoteParts remote;
  std::unique_ptr<ScrapeManager> scrape;
  std::unique_ptr<Route> api_route;  // the routing tree the API matches alerts against
  std::unique_ptr<Dispatcher> dispatcher;
  std::unique_ptr<RuleManager> rules;
  ApiSources sources;
  // Declared last so that it stops first: its jobs use everything above.
  std::unique_ptr<Scheduler> scheduler;
  bool started = false;
  bool stopped = false;

  ~Runtime() { Stop(); }

  void Start() {
    scheduler->Start();
    StartRemoteParts(remote);
    if (dispatcher) {
      dispatcher->Start();
    }
    started = true;
  }

  // Stops the timers (waiting for the jobs running now), the dispatcher's loop and the remote
  // senders. The objects stay readable for HTTP handlers.
  void Stop() {
    if (stopped) {
      return;
    }
    stopped = true;
    if (scheduler) {
      scheduler->Stop();
    }
    if (dispatcher) {
      dispatcher->Stop();
    }
    if (started) {
      StopRemoteParts(remote);
    }
  }
};

class Daemon {
 public:
  explicit Daemon(DaemonOptions options) : options_(std::move(options)) {}

  int Run();

 private:
  bool OpenStorage(const config::Config& config);
  bool LockStorage(const fs::path& storage_dir);
  void OpenSampleCheckpoint(const Runtime& rt);
  bool LoadAlertsAndSilences(const config::Config& config);
  void RegisterMetrics();
  Result<std::shared_ptr<Runtime>> BuildRuntime(LoadedConfig loaded);
  void Schedule(Runtime& rt);
  void SetUpSources(Runtime& rt);
  void Activate(const std::shared_ptr<Runtime>& rt);
  std::vector<std::string> Reload();
  void LogRestartOnlyChanges(const config::Config& running, config::Config& next);
  int Shutdown(const sigset_t& signals);
  std::shared_ptr<Runtime> Current() const;

  DaemonOptions options_;
  std::shared_ptr<spdlog::logger> log_ = Logger("main");
  SystemClock clock_;
  TimePoint started_at_{};
  std::unique_ptr<StateStore> store_;
  MemorySampleStore samples_;
  std::unique_ptr<SampleCheckpoint> checkpoint_;  // null when it could not be opened
  std::shared_ptr<HttpClient> http_;
  std::unique_ptr<Silences> silences_;
  std::unique_ptr<AlertStore> alert_store_;
  metrics::Registry registry_;
  std::unique_ptr<InboundWebhooks> inbound_;  // POST /api/v1/webhook/NAME
  // The web configuration file's settings the server runs with; changed by Reload only.
  std::shared_ptr<const WebServerSecurity> web_security_;
  metrics::Family<metrics::Histogram>* group_duration_ = nullptr;
  std::unique_ptr<HttpServer> server_;
  int lock_fd_ = -1;  // held open, and so locked, until the process exits

  mutable std::mutex current_mu_;
  std::shared_ptr<Runtime> current_;  // guarded by current_mu_

  // Serializes reloads (SIGHUP on the main thread, /-/reload on HTTP threads) and shutdown.
  std::mutex reload_mu_;
  bool stopping_ = false;  // guarded by reload_mu_
  std::vector<std::pair<std::chrono::steady_clock::time_point, std::shared_ptr<Runtime>>>
      retired_;  // guarded by reload_mu_
  std::atomic<bool> last_reload_ok_{true};
  // Due times of the alert and silence collections, in Unix milliseconds; set at start.
  std::atomic<int64_t> next_alert_gc_ms_{0};
  std::atomic<int64_t> next_silence_gc_ms_{0};
  std::atomic<int64_t> last_reload_success_ms_{0};
};

std::shared_ptr<Runtime> Daemon::Current() const {
  std::lock_guard lock(current_mu_);
  return current_;
}

bool Daemon::OpenStorage(const config::Config& config) {
  fs::path storage_dir(config.storage.path);
  if (storage_dir.is_relative()) {
    storage_dir = fs::path(config.base_dir) / storage_dir;
  }
  std::error_code ec;
  fs::create_directories(storage_dir, ec);
  if (ec) {
    log_->error("Creating the storage directory failed path={} err={}",
                LogValue(storage_dir.string()),
                LogValue(ec.message()));
    return false;
  }
  if (!LockStorage(storage_dir)) {
    return false;
  }
  std::string db_path = (storage_dir / kStateFileName).string();
  auto store = OpenSqliteStateStore(db_path);
  if (!store.ok()) {
    log_->error("Opening the state store failed path={} err={}",
                LogValue(db_path),
                LogValue(store.error().message()));
    return false;
  }
  store_ = std::move(*store);
  log_->info("Opened the state store path={}", LogValue(db_path));
  return LoadAlertsAndSilences(config);
}

// Loads the silences and the alert store from the state store; the alerts reach the
// dispatcher when it exists (AlertStore::Replay in Activate).
bool Daemon::LoadAlertsAndSilences(const config::Config& config) {
  silences_ = std::make_unique<Silences>(store_.get(), &clock_);
  auto silences = silences_->Load();
  if (!silences.ok()) {
    log_->error("Loading silences failed err={}", LogValue(silences.error().message()));
    return false;
  }
  // NOTE: the alert store keeps the resolve_timeout of the start; a reload does not change it.
  alert_store_ = std::make_unique<AlertStore>(store_.get(), &clock_, config.global.resolve_timeout);
  auto alerts = alert_store_->Load();
  if (!alerts.ok()) {
    log_->error("Loading stored alerts failed err={}", LogValue(alerts.error().message()));
    return false;
  }
  // The listener forwards to whichever dispatcher runs now, so a reload never changes it.
  alert_store_->SetListener([this](std::vector<NotifyAlert> alerts) {
    if (auto rt = Current(); rt && rt->dispatcher) {
      rt->dispatcher->Put(std::move(alerts));
    }
  });
  log_->info("Loaded silences and alerts silences={} alerts={}", *silences, *alerts);
  return true;
}

// Takes an exclusive lock on storage.path/lock for the life of the process, so that a second
// daemon on the same directory fails to start instead of sending every notification twice.
// The kernel releases the lock when the process exits, also after a crash.
bool Daemon::LockStorage(const fs::path& storage_dir) {
  std::string lock_path = (storage_dir / kLockFileName).string();
  lock_fd_ = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (lock_fd_ < 0) {
    log_->error("Opening the storage lock file failed path={} err={}",
                LogValue(lock_path),
                LogValue(std::strerror(errno)));
    return false;
  }
  if (::flock(lock_fd_, LOCK_EX | LOCK_NB) != 0) {
    log_->error(
        "Storage directory is locked by another alertd process, stop that process or change "
        "storage.path path={}",
        LogValue(storage_dir.string()));
    return false;
  }
  std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(lock_fd_, 0) != 0 || ::write(lock_fd_, pid.data(), pid.size()) < 0) {
    log_->warn("Writing the process id to the lock file failed path={}", LogValue(lock_path));
  }
  return true;
}

// Replays storage.path/samples into the sample window, dropping what rt's retention no longer
// needs, and logs later samples there. A checkpoint that cannot be opened is logged, and the
// daemon runs without it, starting with an empty window as before.
void Daemon::OpenSampleCheckpoint(const Runtime& rt) {
  fs::path storage_dir(rt.config.storage.path);
  if (storage_dir.is_relative()) {
    storage_dir = fs::path(rt.config.base_dir) / storage_dir;
  }
  SampleCheckpointOptions options;
  options.dir = (storage_dir / kSamplesDirName).string();
  auto checkpoint =
      SampleCheckpoint::Open(options, &samples_, ToMillis(clock_.Now()) - rt.retention_ms);
  if (!checkpoint.ok()) {
    log_->error("Opening the sample checkpoint failed, running without it err={}",
                LogValue(checkpoint.error().message()));
    return;
  }
  checkpoint_ = std::move(*checkpoint);
  SampleCheckpoint* raw = checkpoint_.get();
  registry_.AddCallbackCounter(
      "alertd_sample_log_write_failures_total",
      "Failed writes of the sample log. The next snapshot stores the samples again.",
      [raw] { return static_cast<double>(raw->write_failures_total()); });
  registry_.AddCallbackCounter("alertd_sample_snapshots_total",
                               "Snapshots of the sample window written.",
                               [raw] { return static_cast<double>(raw->snapshots_total()); });
  registry_.AddCallbackCounter(
      "alertd_sample_snapshot_failures_total",
      "Snapshots of the sample window that failed.",
      [raw] { return static_cast<double>(raw->snapshot_failures_total()); });
}

// Registers the daemon's own metrics once. Callbacks read the runtime that runs at render
// time, so they follow reloads.
void Daemon::RegisterMetrics() {
  auto from = [this](auto read) {
    return [this, read] {
      auto rt = Current();
      return rt ? static_cast<double>(read(*rt)) : 0.0;
    };
  };
  registry_.AddCallbackCounter("alertd_scrapes_total",
                               "Scrapes of all targets.",
                               from([](Runtime& rt) { return rt.scrape->scrapes_total(); }));
  registry_.AddCallbackCounter(
      "alertd_scrape_failures_total",
      "Scrapes that failed: target down, bad status or bad body.",
      from([](Runtime& rt) { return rt.scrape->scrape_failures_total(); }));
  registry_.AddCallbackCounter(
      "alertd_scrape_samples_appended_total",
      "Samples appended to the sample store by scrapes.",
      from([](Runtime& rt) { return rt.scrape->samples_appended_total(); }));
  registry_.AddCallbackGauge("alertd_sample_store_series",
                             "Series in the in-memory sample store.",
                             [this] { return static_cast<double>(samples_.NumSeries()); });
  registry_.AddCallbackGauge("alertd_sample_store_samples",
                             "Samples in the in-memory sample store.",
                             [this] { return static_cast<double>(samples_.NumSamples()); });
  registry_.AddCallbackCounter("alertd_rule_group_evaluations_total",
                               "Evaluations of rule groups.",
                               from([](Runtime& rt) { return rt.rules->evaluations_total(); }));
  registry_.AddCallbackCounter(
      "alertd_rule_evaluation_failures_total",
      "Rule evaluations that failed.",
      from([](Runtime& rt) { return rt.rules->evaluation_failures_total(); }));
  registry_.AddCallbackCounter("alertd_scheduler_iterations_missed_total",
                               "Scheduled runs skipped because the previous run was still going.",
                               from([](Runtime& rt) { return rt.scheduler->missed(); }));
  registry_.AddCallbackGauge("alertd_config_last_reload_successful",
                             "Whether the last configuration reload succeeded (1) or failed (0).",
                             [this] { return last_reload_ok_.load() ? 1.0 : 0.0; });
  registry_.AddCallbackGauge(
      "alertd_config_last_reload_success_timestamp_seconds",
      "Time of the last successful configuration load, in seconds since the epoch.",
      [this] { return static_cast<double>(last_reload_success_ms_.load()) / 1000.0; });
  group_duration_ = &registry_.AddHistogramFamily("alertd_rule_group_duration_seconds",
                                                  "Duration of rule group evaluations.",
                                                  {"rule_group"},
                                                  metrics::DefaultBuckets());
  registry_.AddCallbackGaugeFamily(
      "alertd_alerts", "Alerts of alerting rules by state.", {"state"}, [this] {
        double pending = 0;
        double firing = 0;
        if (auto rt = Current()) {
          for (const auto& active : rt->rules->ActiveAlerts()) {
            (active.alert.state == AlertState::kFiring ? firing : pending) += 1;
          }
        }
        return std::vector<metrics::LabeledValue>{{{"firing"}, firing}, {{"pending"}, pending}};
      });
  auto counters = [this](auto field) {
    std::vector<metrics::LabeledValue> out;
    if (auto rt = Current(); rt && rt->dispatcher) {
      for (const auto& c : rt->dispatcher->Counters()) {
        out.push_back({{c.receiver, c.integration}, static_cast<double>(c.*field)});
      }
    }
    return out;
  };
  // NOTE: a reload builds a new dispatcher, whose delivery counters start again from zero.
  registry_.AddCallbackGaugeFamily(
      "alertd_notifications_sent",
      "Notifications delivered, per receiver and integration.",
      {"receiver", "integration"},
      [counters] { return counters(&IntegrationCounters::notifications_sent); });
  registry_.AddCallbackGaugeFamily(
      "alertd_notifications_failed",
      "Notifications given up on after retries, per receiver and integration.",
      {"receiver", "integration"},
      [counters] { return counters(&IntegrationCounters::notifications_failed); });
  registry_.AddCallbackGaugeFamily(
      "alertd_notifications_dropped",
      "Notifications dropped after retrying for notifications.queue_max_age, per receiver and "
      "integration.",
      {"receiver", "integration"},
      [counters] { return counters(&IntegrationCounters::notifications_dropped); });
  registry_.AddCallbackGauge("alertd_dispatcher_alerts", "Alerts in aggregation groups.", [this] {
    auto rt = Current();
    return rt && rt->dispatcher ? static_cast<double>(rt->dispatcher->alert_count()) : 0.0;
  });
}

// Builds everything of `loaded` without starting it; the running runtime is untouched.
Result<std::shared_ptr<Runtime>> Daemon::BuildRuntime(LoadedConfig loaded) {
  auto rt = std::make_shared<Runtime>();
  Runtime* raw = rt.get();
  rt->config = std::move(loaded.config);
  rt->rule_count = loaded.rule_count;
  const config::Config& config = rt->config;
  rt->remote = BuildRemoteParts(config, http_);
  rt->scrape = std::make_unique<ScrapeManager>(
      config.scrape_configs, config.global, &samples_, http_.get(), &clock_);
  rt->external_url = config.web.external_url;
  if (rt->external_url.empty()) {
    rt->external_url = "http://" + config.web.listen_address;
  }
  if (config.route) {
    DispatcherOptions dispatcher_options;
    dispatcher_options.external_url = rt->external_url;
    dispatcher_options.tick_interval = Duration(250);
    dispatcher_options.retry_jitter = 0.2;
    dispatcher_options.inhibit_rules = config.inhibit_rules;
    dispatcher_options.time_intervals = config.time_intervals;
    dispatcher_options.silencer = silences_.get();
    dispatcher_options.queue_max_age = config.notifications.queue_max_age;
    rt->dispatcher = std::make_unique<Dispatcher>(
        *config.route, std::move(*loaded.receivers), store_.get(), &clock_, dispatcher_options);
    rt->api_route = std::make_unique<Route>(*config.route);
  }

  RuleManagerOptions rule_options;
  rule_options.default_interval = config.global.evaluation_interval;
  rule_options.external_labels = config.global.external_labels;
  rule_options.external_url = rt->external_url;
  rule_options.max_template_output = config.limits.max_template_output;
  rule_options.engine.max_samples = static_cast<size_t>(config.query.max_samples);
  rule_options.engine.timeout_ms = config.query.timeout.count();
  rule_options.engine.clock = &clock_;
  // Rule alerts go through the alert store, as alerts a Prometheus sends to Alertmanager do.
  rule_options.notify = [this, raw](std::vector<NotifyAlert> alerts) {
    if (raw->remote.forwarder) {
      raw->remote.forwarder->Send(alerts);
    }
    std::vector<StoreAlert> stored;
    stored.reserve(alerts.size());
    for (auto& alert : alerts) {
      StoreAlert s;
      s.labels = std::move(alert.labels);
      s.annotations = std::move(alert.annotations);
      s.starts_at = alert.starts_at;
      s.ends_at = alert.ends_at;
      s.generator_url = std::move(alert.generator_url);
      stored.push_back(std::move(s));
    }
    if (Status status = alert_store_->Put(std::move(stored)); !status.ok()) {
      log_->error("Storing rule alerts failed err={}", LogValue(status.error().message()));
    }
  };
  rule_options.query_source = rt->remote.query_source.get();
  rule_options.query_offset = config.rule_query_offset;
  rule_options.for_grace_period = config.rules.for_grace_period;
  rule_options.for_outage_tolerance = config.rules.for_outage_tolerance;
  rule_options.on_group_evaluated = [this, raw](size_t i, std::chrono::nanoseconds d, size_t) {
    group_duration_->WithLabels({raw->rules->group_key(i)})
        .Observe(std::chrono::duration<double>(d).count());
  };
  rt->retention_ms = SampleRetentionMs(
      loaded.rule_files, rule_options.default_interval, rule_options.engine.lookback_delta_ms);
  auto rules = RuleManager::Create(
      loaded.rule_files,
      rule_options,
      &samples_,
      rt->remote.appender ? static_cast<Appender*>(rt->remote.appender.get()) : &samples_,
      store_.get(),
      &clock_);
  if (!rules.ok()) {
    return Error::Invalid("building the rule groups failed: " + rules.error().message());
  }
  rt->rules = std::move(*rules);
  size_t workers = 4 + rt->scrape->Targets().size() + rt->rules->group_count();
  rt->scheduler = std::make_unique<Scheduler>(static_cast<int>(std::min<size_t>(workers, 64)));
  Schedule(*rt);
  rt->sources.engine = rule_options.engine;
  SetUpSources(*rt);
  return rt;
}

void Daemon::Schedule(Runtime& rt) {
  TimePoint now = clock_.Now();
  Runtime* raw = &rt;
  for (const auto& target : rt.scrape->Targets()) {
    std::string key = target.job + "/" + target.instance;
    size_t index = target.index;
    rt.scheduler->Every(
        "scrape " + key, target.interval, SpreadOffset(key, target.interval, now), [raw, index] {
          raw->scrape->Scrape(index);
        });
  }
  for (size_t i = 0; i < rt.rules->group_count(); ++i) {
    Duration interval = rt.rules->group_interval(i);
    std::string key = rt.rules->group_key(i);
    rt.scheduler->Every("group " + key, interval, SpreadOffset(key, interval, now), [raw, i] {
      raw->rules->EvalGroup(i);
    });
  }
  rt.scheduler->Every("truncate samples", Duration(60000), Duration(60000), [this, raw] {
    samples_.Truncate(ToMillis(clock_.Now()) - raw->retention_ms);
  });
  rt.scheduler->Every("snapshot samples",
                      rt.config.storage.snapshot_interval,
                      rt.config.storage.snapshot_interval,
                      [this] {
                        if (checkpoint_) {
                          // Failures are logged and counted by the checkpoint.
                          (void)checkpoint_->Snapshot();
                        }
                      });
  rt.scheduler->Every(
      "retry alert writes", kAlertWriteRetryInterval, kAlertWriteRetryInterval, [this] {
        alert_store_->RetryWrites();
      });
  // A reload replaces the scheduler, so the collections keep their due times in the daemon:
  // otherwise reloads more often than the interval would postpone them forever.
  auto first_run = [now](const std::atomic<int64_t>& due_ms) {
    return Duration(std::max<int64_t>(0, due_ms.load() - ToMillis(now)));
  };
  rt.scheduler->Every("gc alerts", kAlertGcInterval, first_run(next_alert_gc_ms_), [this] {
    next_alert_gc_ms_ = ToMillis(clock_.Now()) + kAlertGcInterval.count();
    size_t dropped = alert_store_->Gc();
    if (dropped > 0) {
      log_->debug("Dropped resolved alerts alerts={}", dropped);
    }
  });
  rt.scheduler->Every("gc silences", kSilenceGcInterval, first_run(next_silence_gc_ms_), [this] {
    next_silence_gc_ms_ = ToMillis(clock_.Now()) + kSilenceGcInterval.count();
    size_t dropped = silences_->Gc();
    if (dropped > 0) {
      log_->debug("Dropped expired silences silences={}", dropped);
    }
  });
}

// Fills in what the HTTP handlers of this runtime read. The sources never change once the
// handlers use them; a reload builds new ones and registers the handlers again.
void Daemon::SetUpSources(Runtime& rt) {
  Runtime* raw = &rt;
  ApiSources& sources = rt.sources;
  sources.clock = &clock_;
  sources.rules = rt.rules.get();
  sources.scrape = rt.scrape.get();
  sources.registry = &registry_;
  sources.storage = &samples_;
  sources.readiness.push_back({"rules", [raw] {
                                 return raw->rules ? std::string()
                                                   : std::string("rules not loaded");
                               }});
  sources.readiness.push_back({"store", [this] {
                                 auto probe = store_->GetNotification("", "");
                                 return probe.ok() ? std::string() : probe.error().message();
                               }});
  ApiV2Sources& v2 = sources.v2;
  v2.clock = &clock_;
  v2.alerts = alert_store_.get();
  v2.silences = silences_.get();
  v2.route = rt.api_route.get();
  for (const auto& receiver : rt.config.receivers) {
    v2.receivers.push_back(receiver.name);
  }
  if (rt.dispatcher) {
    v2.inhibited_by = [raw](const Labels& labels, TimePoint now) {
      return raw->dispatcher->InhibitedBy(labels, now);
    };
  }
  v2.resolve_timeout = rt.config.global.resolve_timeout;
  v2.version = ALERTD_VERSION;
  v2.started_at = started_at_;
  // alertmanager_config_file is already resolved against the directory of config.file.
  fs::path source = rt.config.alertmanager_config_file.empty()
                        ? fs::path(rt.config.file)
                        : fs::path(rt.config.alertmanager_config_file);
  std::ifstream in(source);
  std::stringstream text;
  text << in.rdbuf();
  // NOTE: the file is read again here, so an edit between the load and this read shows.
  std::ifstream main_in(rt.config.file);
  std::stringstream main_text;
  main_text << main_in.rdbuf();
  auto redacted = RedactedConfigYaml(main_text.str());
  if (redacted.ok()) {
    sources.config_yaml = std::move(*redacted);
  } else {
    log_->warn("Reading the configuration for /api/v1/status/config failed file={} err={}",
               LogValue(rt.config.file),
               LogValue(redacted.error().message()));
  }
  auto original = AlertmanagerConfigOriginal(text.str());
  if (original.ok()) {
    v2.config_original = std::move(*original);
  } else {
    log_->warn("Reading the configuration for /api/v2/status failed file={} err={}",
               LogValue(source.string()),
               LogValue(original.error().message()));
  }
}

// Makes `rt` the running runtime: handlers and metrics read it from now on, its timers and
// dispatcher start, and the dispatcher gets every alert of the alert store.
void Daemon::Activate(const std::shared_ptr<Runtime>& rt) {
  {
    std::lock_guard lock(current_mu_);
    current_ = rt;
  }
  RegisterApi(*server_, &rt->sources);
  for (const char* name : kRemoteMetricNames) {
    registry_.Unregister(name);
  }
  RegisterRemoteMetrics(registry_, rt->remote);
  rt->Start();
  // The notification log keeps the new dispatcher from notifying again what the old one sent.
  alert_store_->Replay();
}

// Settings a running process cannot change: the new configuration keeps the running value,
// and the log says a restart applies it.
void Daemon::LogRestartOnlyChanges(const config::Config& running, config::Config& next) {
  auto keep = [this](const char* setting, auto& next_value, const auto& running_value) {
    if (next_value != running_value) {
      log_->warn("Changing this setting needs a restart, keeping the running value setting={}",
                 setting);
      next_value = running_value;
    }
  };
  keep("web.listen_address", next.web.listen_address, running.web.listen_address);
  keep("storage.path", next.storage.path, running.storage.path);
  keep("limits.max_request_body_size",
       next.limits.max_request_body_size,
       running.limits.max_request_body_size);
  keep("global.resolve_timeout", next.global.resolve_timeout, running.global.resolve_timeout);
  keep("web.config_file", next.web.config_file, running.web.config_file);
}

std::vector<std::string> Daemon::Reload() {
  std::lock_guard reload_lock(reload_mu_);
  if (stopping_) {
    return {"alertd is stopping; the configuration was not reloaded"};
  }
  log_->info("Loading configuration file file={}", LogValue(options_.config_file));
  LoadedConfig loaded;
  std::vector<std::string> errors;
  bool ok = LoadConfiguration(options_, http_, &loaded, &errors);
  std::shared_ptr<Runtime> old = Current();
  std::shared_ptr<Runtime> next;
  if (ok) {
    LogRestartOnlyChanges(old->config, loaded.config);
    // The loader checked open endpoints against the file's listen address, but the server
    // keeps the running one.
    if (!config::IsLoopbackListenAddress(loaded.config.web.listen_address)) {
      for (const auto& receiver : loaded.config.webhook_receivers) {
        if (receiver.bearer_token.empty() && receiver.basic_auth_password.empty() &&
            receiver.hmac_secret.empty()) {
          errors.push_back(receiver.mark.file + ":" + std::to_string(receiver.mark.line) + ":" +
                           std::to_string(receiver.mark.column) + ": webhook receiver \"" +
                           receiver.name + "\" has no authentication while alertd listens on " +
                           loaded.config.web.listen_address +
                           ", which is not a loopback address and changes only with a restart: "
                           "set authorization, basic_auth or hmac");
          ok = false;
        }
      }
    }
  }
  if (ok) {
    std::shared_ptr<const WebServerSecurity> security = loaded.web_security;
    std::vector<config::WebhookReceiverConfig> webhook_receivers = loaded.config.webhook_receivers;
    auto built = BuildRuntime(std::move(loaded));
    if (built.ok()) {
      next = std::move(*built);
    } else {
      errors.push_back(built.error().message());
    }
    if (next) {
      if (Status updated = server_->UpdateSecurity(security); !updated.ok()) {
        errors.push_back(updated.error().message());
        next.reset();
      }
    }
    if (next) {
      if (Status configured = inbound_->Configure(webhook_receivers, server_.get());
          !configured.ok()) {
        errors.push_back(configured.error().message());
        next.reset();
        // The running settings were accepted before, so putting them back succeeds.
        server_->UpdateSecurity(web_security_);
      }
    }
    if (next) {
      web_security_ = security;
    }
  }
  if (!next) {
    for (const auto& error : errors) {
      log_->error("Invalid configuration err={}", LogValue(error));
    }
    log_->error("Reloading the configuration failed, keeping the running one file={} errors={}",
                LogValue(options_.config_file),
                errors.size());
    last_reload_ok_ = false;
    return errors;
  }
  // The old rules stop first, so the state taken over is final.
  old->Stop();
  if (Status copied = next->rules->CopyStateFrom(*old->rules); !copied.ok()) {
    log_->error("Taking over the alert state of the running rules failed err={}",
                LogValue(copied.error().message()));
  }
  Activate(next);
  auto now = std::chrono::steady_clock::now();
  retired_.emplace_back(now, old);
  std::erase_if(retired_, [&](const auto& entry) {
    auto keep_for = entry.second->config.query.timeout + kRetiredGrace;
    return now - entry.first > keep_for;
  });
  last_reload_ok_ = true;
  last_reload_success_ms_ = ToMillis(clock_.Now());
  log_->info("Completed loading of configuration file file={} rules={} groups={} targets={}",
             LogValue(options_.config_file),
             next->rule_count,
             next->rules->group_count(),
             next->scrape->Targets().size());
  return {};
}

int Daemon::Run() {
  sigset_t signals = BlockSignals();
  log_->info(
      "Starting alertd version={} config_file={}", ALERTD_VERSION, LogValue(options_.config_file));
  started_at_ = clock_.Now();
  next_alert_gc_ms_ = ToMillis(started_at_) + kAlertGcInterval.count();
  next_silence_gc_ms_ = ToMillis(started_at_) + kSilenceGcInterval.count();
  http_ = MakeCurlHttpClient();
  LoadedConfig loaded;
  std::vector<std::string> errors;
  if (!LoadConfiguration(options_, http_, &loaded, &errors)) {
    for (const auto& error : errors) {
      log_->error("Invalid configuration err={}", LogValue(error));
    }
    return 1;
  }
  log_->info("Loaded rule files files={} rules={}", loaded.rule_files.size(), loaded.rule_count);
  if (!OpenStorage(loaded.config)) {
    return 1;
  }
  HttpServerOptions server_options;
  server_options.max_body_bytes = loaded.config.limits.max_request_body_size;
  server_options.security = loaded.web_security;
  web_security_ = loaded.web_security;
  if (loaded.web_security) {
    log_->info("Loaded the web configuration file file={} tls={} authentication={}",
               LogValue(loaded.web_security->file),
               loaded.web_security->tls.has_value(),
               loaded.web_security->RequiresAuthentication());
  }
  auto server = HttpServer::Create(loaded.config.web.listen_address, server_options);
  if (!server.ok()) {
    log_->error("Invalid listen address err={}", LogValue(server.error().message()));
    return 1;
  }
  server_ = std::move(*server);

  std::vector<config::WebhookReceiverConfig> webhook_receivers = loaded.config.webhook_receivers;
  auto built = BuildRuntime(std::move(loaded));
  if (!built.ok()) {
    log_->error("Building the rule groups failed err={}", LogValue(built.error().message()));
    return 1;
  }
  std::shared_ptr<Runtime> rt = std::move(*built);
  OpenSampleCheckpoint(*rt);
  auto restored = rt->rules->Restore();
  if (!restored.ok()) {
    log_->error("Restoring alert state failed err={}", LogValue(restored.error().message()));
    return 1;
  }
  log_->info("Restored alert state alerts={}", *restored);
  RegisterMetrics();
  inbound_ = std::make_unique<InboundWebhooks>(alert_store_.get(), &clock_, &registry_);
  if (Status configured = inbound_->Configure(webhook_receivers, server_.get()); !configured.ok()) {
    log_->error("Invalid configuration err={}", LogValue(configured.error().message()));
    return 1;
  }
  RegisterReloadApi(*server_, [this] { return Reload(); });
  {
    std::lock_guard lock(current_mu_);
    current_ = rt;
  }
  RegisterApi(*server_, &rt->sources);
  if (auto status = server_->Start(); !status.ok()) {
    log_->error("Starting the HTTP server failed err={}", LogValue(status.error().message()));
    return 1;
  }
  log_->info("Listening address={}", server_->address());
  Activate(rt);
  last_reload_success_ms_ = ToMillis(clock_.Now());
  log_->info("Started targets={} groups={} sample_retention={}s",
             rt->scrape->Targets().size(),
             rt->rules->group_count(),
             rt->retention_ms / 1000);
  rt.reset();

  while (true) {
    int signal_number = 0;
    sigwait(&signals, &signal_number);
    if (signal_number == SIGHUP) {
      log_->info("Received SIGHUP, reloading the configuration");
      Reload();
      continue;
    }
    log_->info("Received signal, stopping signal={}",
               signal_number == SIGTERM ? "SIGTERM" : "SIGINT");
    break;
  }
  return Shutdown(signals);
}

// Waits until `done` or `timeout`, taking SIGTERM and SIGINT meanwhile. A signal ends the process
// at once: the state store keeps what it committed, and what was not sent is sent after the next
// start. Returns whether `done` was reached.
bool WaitOrExitOnSignal(const sigset_t& signals,
                        const std::atomic<bool>& done,
                        std::chrono::steady_clock::time_point deadline) {
  while (!done && std::chrono::steady_clock::now() < deadline) {
    timespec poll{0, 50 * 1000 * 1000};
    int signal_number = sigtimedwait(&signals, nullptr, &poll);
    if (signal_number == SIGTERM || signal_number == SIGINT) {
      Logger("main")->warn(
          "Received a second signal, stopping at once without waiting for notifications");
      spdlog::shutdown();
      std::_Exit(1);
    }
  }
  return done;
}

// Stops taking work, gives the sends queued and in flight notifications.shutdown_timeout to
// finish, and closes the store. A second SIGTERM or SIGINT during that wait stops at once.
int Daemon::Shutdown(const sigset_t& signals) {
  server_->Stop();
  std::unique_lock reload_lock(reload_mu_);
  stopping_ = true;
  std::shared_ptr<Runtime> rt = Current();
  rt->scheduler->Stop();
  if (checkpoint_) {
    checkpoint_->Close();
  }
  const Duration timeout = rt->config.notifications.shutdown_timeout;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  // The drain runs on its own thread so that the main thread can take a second signal.
  std::atomic<bool> drained{false};
  std::thread drain([&] {
    if (rt->dispatcher) {
      rt->dispatcher->Drain(timeout);
    }
    rt->Stop();
    drained = true;
  });
  // The drain itself is bounded by the timeout; the margin covers the remote senders' last
  // attempt.
  if (!WaitOrExitOnSignal(signals, drained, deadline + kStopMargin)) {
    log_->warn("Stopping the remote senders took too long, stopping without them");
    spdlog::shutdown();
    std::_Exit(0);
  }
  drain.join();
  // Destroying a dispatcher waits for its sends in flight; a receiver that does not answer
  // would hold the process past the timeout, so that wait is bounded too.
  std::atomic<bool> released{false};
  std::vector<std::shared_ptr<Runtime>> runtimes;
  for (auto& entry : retired_) {
    runtimes.push_back(std::move(entry.second));
  }
  retired_.clear();
  {
    std::lock_guard lock(current_mu_);
    current_.reset();
  }
  runtimes.push_back(std::move(rt));
  std::thread release([&] {
    runtimes.clear();
    released = true;
  });
  if (!WaitOrExitOnSignal(signals, released, std::chrono::steady_clock::now() + kStopMargin)) {
    // The sends in flight still use the state store, so it stays open; SQLite keeps every
    // committed write, and what was not sent is sent after the next start.
    log_->info("Stopped sends_in_flight=abandoned");
    spdlog::shutdown();
    std::_Exit(0);
  }
  release.join();
  alert_store_.reset();
  silences_.reset();
  store_.reset();
  log_->info("Stopped");
  return 0;
}

}  // namespace

int RunDaemon(const DaemonOptions& options) {
  Daemon daemon(options);
  return daemon.Run();
}

}  // namespace alertd
