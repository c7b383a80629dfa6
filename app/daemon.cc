#include "app/daemon.h"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <vector>

#include "app/api.h"
#include "app/api_v2.h"
#include "app/remote_wiring.h"
#include "common/http_client.h"
#include "common/logging.h"
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
#include "storage/state_store.h"
#include "web/http_server.h"
#include "web/metrics.h"

#ifndef ALERTD_VERSION
#define ALERTD_VERSION "unknown"
#endif

namespace alertd {
namespace {

namespace fs = std::filesystem;

// Alertmanager's --alerts.gc-interval default: how often resolved alerts are dropped.
constexpr Duration kAlertGcInterval{30 * 60 * 1000};
// Alertmanager's --data.maintenance-interval default: how often old silences are dropped.
constexpr Duration kSilenceGcInterval{15 * 60 * 1000};

// Name of the SQLite file inside storage.path.
constexpr char kStateFileName[] = "alertd.db";
constexpr char kLockFileName[] = "lock";

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

class Daemon {
 public:
  explicit Daemon(DaemonOptions options) : options_(std::move(options)) {}

  int Run();

 private:
  bool Load();
  bool LockStorage(const fs::path& storage_dir);
  void RegisterMetrics();
  void Schedule();
  void Shutdown();
  bool LoadAlertsAndSilences();
  void SetUpApiV2();

  DaemonOptions options_;
  std::shared_ptr<spdlog::logger> log_ = Logger("main");
  SystemClock clock_;
  config::Config config_;
  std::vector<rules::RuleFile> rule_files_;
  std::unique_ptr<StateStore> store_;
  MemorySampleStore samples_;
  std::shared_ptr<HttpClient> http_;
  std::unique_ptr<ScrapeManager> scrape_;
  std::unique_ptr<Silences> silences_;
  std::unique_ptr<AlertStore> alert_store_;
  std::unique_ptr<Route> api_route_;  // the routing tree the API matches alerts against
  std::unique_ptr<Dispatcher> dispatcher_;
  std::unique_ptr<RuleManager> rules_;
  RemoteParts remote_;  // datasource, remote_write and alerting.alertmanagers
  metrics::Registry registry_;
  metrics::Family<metrics::Histogram>* group_duration_ = nullptr;
  std::unique_ptr<HttpServer> server_;
  std::unique_ptr<Scheduler> scheduler_;
  ApiSources sources_;
  int64_t retention_ms_ = 0;
  int lock_fd_ = -1;  // held open, and so locked, until the process exits
};

bool Daemon::Load() {
  std::vector<config::ConfigError> config_errors;
  auto config = config::LoadConfigFile(options_.config_file, &config_errors);
  if (!config.ok()) {
    if (config_errors.empty()) {
      log_->error("Loading the configuration failed file={} err={}",
                  LogValue(options_.config_file),
                  LogValue(config.error().message()));
    }
    for (const auto& error : config_errors) {
      log_->error("Invalid configuration err={}", LogValue(error.ToString()));
    }
    return false;
  }
  config_ = std::move(*config);

  bool rules_ok = true;
  size_t rule_count = 0;
  for (const auto& path : config::ExpandRuleFiles(config_)) {
    std::vector<rules::RuleError> errors;
    auto file = rules::LoadRuleFile(path, &errors);
    if (!file.ok()) {
      rules_ok = false;
      for (const auto& error : errors) {
        log_->error("Invalid rule file err={}", LogValue(error.ToString()));
      }
      if (errors.empty()) {
        log_->error("Loading a rule file failed file={} err={}",
                    LogValue(path),
                    LogValue(file.error().message()));
      }
      continue;
    }
    rule_count += file->RuleCount();
    rule_files_.push_back(std::move(*file));
  }
  if (!rules_ok) {
    return false;
  }
  log_->info("Loaded rule files files={} rules={}", rule_files_.size(), rule_count);

  fs::path storage_dir(config_.storage.path);
  if (storage_dir.is_relative()) {
    storage_dir = fs::path(config_.base_dir) / storage_dir;
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
  return LoadAlertsAndSilences();
}

// Loads the silences and the alert store from the state store; the alerts reach the
// dispatcher when it exists (AlertStore::Replay in Run).
bool Daemon::LoadAlertsAndSilences() {
  silences_ = std::make_unique<Silences>(store_.get(), &clock_);
  auto silences = silences_->Load();
  if (!silences.ok()) {
    log_->error("Loading silences failed err={}", LogValue(silences.error().message()));
    return false;
  }
  alert_store_ =
      std::make_unique<AlertStore>(store_.get(), &clock_, config_.global.resolve_timeout);
  auto alerts = alert_store_->Load();
  if (!alerts.ok()) {
    log_->error("Loading stored alerts failed err={}", LogValue(alerts.error().message()));
    return false;
  }
  log_->info("Loaded silences and alerts silences={} alerts={}", *silences, *alerts);
  return true;
}

void Daemon::SetUpApiV2() {
  ApiV2Sources& v2 = sources_.v2;
  v2.clock = &clock_;
  v2.alerts = alert_store_.get();
  v2.silences = silences_.get();
  if (config_.route) {
    api_route_ = std::make_unique<Route>(*config_.route);
    v2.route = api_route_.get();
  }
  for (const auto& receiver : config_.receivers) {
    v2.receivers.push_back(receiver.name);
  }
  if (dispatcher_) {
    v2.inhibited_by = [this](const Labels& labels, TimePoint now) {
      return dispatcher_->InhibitedBy(labels, now);
    };
  }
  v2.resolve_timeout = config_.global.resolve_timeout;
  v2.version = ALERTD_VERSION;
  v2.started_at = clock_.Now();
  // alertmanager_config_file is already resolved against the directory of config_.file.
  fs::path source = config_.alertmanager_config_file.empty()
                        ? fs::path(config_.file)
                        : fs::path(config_.alertmanager_config_file);
  std::ifstream in(source);
  std::stringstream text;
  text << in.rdbuf();
  auto original = AlertmanagerConfigOriginal(text.str());
  if (original.ok()) {
    v2.config_original = std::move(*original);
  } else {
    log_->warn("Reading the configuration for /api/v2/status failed file={} err={}",
               LogValue(source.string()),
               LogValue(original.error().message()));
  }
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

void Daemon::RegisterMetrics() {
  registry_.AddCallbackCounter("alertd_scrapes_total", "Scrapes of all targets.", [this] {
    return static_cast<double>(scrape_->scrapes_total());
  });
  registry_.AddCallbackCounter(
      "alertd_scrape_failures_total",
      "Scrapes that failed: target down, bad status or bad body.",
      [this] { return static_cast<double>(scrape_->scrape_failures_total()); });
  registry_.AddCallbackCounter(
      "alertd_scrape_samples_appended_total",
      "Samples appended to the sample store by scrapes.",
      [this] { return static_cast<double>(scrape_->samples_appended_total()); });
  registry_.AddCallbackGauge("alertd_sample_store_series",
                             "Series in the in-memory sample store.",
                             [this] { return static_cast<double>(samples_.NumSeries()); });
  registry_.AddCallbackGauge("alertd_sample_store_samples",
                             "Samples in the in-memory sample store.",
                             [this] { return static_cast<double>(samples_.NumSamples()); });
  registry_.AddCallbackCounter("alertd_rule_group_evaluations_total",
                               "Evaluations of rule groups.",
                               [this] { return static_cast<double>(rules_->evaluations_total()); });
  registry_.AddCallbackCounter(
      "alertd_rule_evaluation_failures_total", "Rule evaluations that failed.", [this] {
        return static_cast<double>(rules_->evaluation_failures_total());
      });
  registry_.AddCallbackCounter("alertd_scheduler_iterations_missed_total",
                               "Scheduled runs skipped because the previous run was still going.",
                               [this] { return static_cast<double>(scheduler_->missed()); });
  group_duration_ = &registry_.AddHistogramFamily("alertd_rule_group_duration_seconds",
                                                  "Duration of rule group evaluations.",
                                                  {"rule_group"},
                                                  metrics::DefaultBuckets());
  registry_.AddCallbackGaugeFamily(
      "alertd_alerts", "Alerts of alerting rules by state.", {"state"}, [this] {
        double pending = 0;
        double firing = 0;
        for (const auto& active : rules_->ActiveAlerts()) {
          (active.alert.state == AlertState::kFiring ? firing : pending) += 1;
        }
        return std::vector<metrics::LabeledValue>{{{"firing"}, firing}, {{"pending"}, pending}};
      });
  if (dispatcher_) {
    auto counters = [this](auto field) {
      std::vector<metrics::LabeledValue> out;
      for (const auto& c : dispatcher_->Counters()) {
        out.push_back({{c.receiver, c.integration}, static_cast<double>(c.*field)});
      }
      return out;
    };
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
    registry_.AddCallbackGauge("alertd_dispatcher_alerts", "Alerts in aggregation groups.", [this] {
      return static_cast<double>(dispatcher_->alert_count());
    });
  }
}

void Daemon::Schedule() {
  TimePoint now = clock_.Now();
  for (const auto& target : scrape_->Targets()) {
    std::string key = target.job + "/" + target.instance;
    size_t index = target.index;
    scheduler_->Every(
        "scrape " + key, target.interval, SpreadOffset(key, target.interval, now), [this, index] {
          scrape_->Scrape(index);
        });
  }
  for (size_t i = 0; i < rules_->group_count(); ++i) {
    Duration interval = rules_->group_interval(i);
    std::string key = rules_->group_key(i);
    scheduler_->Every("group " + key, interval, SpreadOffset(key, interval, now), [this, i] {
      rules_->EvalGroup(i);
    });
  }
  scheduler_->Every("truncate samples", Duration(60000), Duration(60000), [this] {
    samples_.Truncate(ToMillis(clock_.Now()) - retention_ms_);
  });
  scheduler_->Every("gc alerts", kAlertGcInterval, kAlertGcInterval, [this] {
    size_t dropped = alert_store_->Gc();
    if (dropped > 0) {
      log_->debug("Dropped resolved alerts alerts={}", dropped);
    }
  });
  scheduler_->Every("gc silences", kSilenceGcInterval, kSilenceGcInterval, [this] {
    size_t dropped = silences_->Gc();
    if (dropped > 0) {
      log_->debug("Dropped expired silences silences={}", dropped);
    }
  });
}

int Daemon::Run() {
  sigset_t signals = BlockSignals();
  log_->info(
      "Starting alertd version={} config_file={}", ALERTD_VERSION, LogValue(options_.config_file));
  if (!Load()) {
    return 1;
  }

  http_ = MakeCurlHttpClient();
  remote_ = BuildRemoteParts(config_, http_);
  scrape_ = std::make_unique<ScrapeManager>(
      config_.scrape_configs, config_.global, &samples_, http_.get(), &clock_);

  std::string external_url = config_.web.external_url;
  if (external_url.empty()) {
    external_url = "http://" + config_.web.listen_address;
  }
  if (config_.route) {
    auto receivers = BuildReceivers(config_, http_);
    if (!receivers.ok()) {
      log_->error("Invalid receiver err={}", LogValue(receivers.error().message()));
      return 1;
    }
    DispatcherOptions dispatcher_options;
    dispatcher_options.external_url = external_url;
    dispatcher_options.tick_interval = Duration(250);
    dispatcher_options.retry_jitter = 0.2;
    dispatcher_options.inhibit_rules = config_.inhibit_rules;
    dispatcher_options.time_intervals = config_.time_intervals;
    dispatcher_options.silencer = silences_.get();
    dispatcher_ = std::make_unique<Dispatcher>(
        *config_.route, std::move(*receivers), store_.get(), &clock_, dispatcher_options);
    alert_store_->SetListener(
        [this](std::vector<NotifyAlert> alerts) { dispatcher_->Put(std::move(alerts)); });
    alert_store_->Replay();
  }

  RuleManagerOptions rule_options;
  rule_options.default_interval = config_.global.evaluation_interval;
  rule_options.external_labels = config_.global.external_labels;
  rule_options.external_url = external_url;
  rule_options.engine.max_samples = static_cast<size_t>(config_.query.max_samples);
  rule_options.engine.timeout_ms = config_.query.timeout.count();
  rule_options.engine.clock = &clock_;
  // Rule alerts go through the alert store, as alerts a Prometheus sends to Alertmanager do.
  rule_options.notify = [this](std::vector<NotifyAlert> alerts) {
    if (remote_.forwarder) {
      remote_.forwarder->Send(alerts);
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
  rule_options.query_source = remote_.query_source.get();
  rule_options.query_offset = config_.rule_query_offset;
  rule_options.on_group_evaluated = [this](size_t i, std::chrono::nanoseconds d, size_t) {
    group_duration_->WithLabels({rules_->group_key(i)})
        .Observe(std::chrono::duration<double>(d).count());
  };
  retention_ms_ = SampleRetentionMs(
      rule_files_, rule_options.default_interval, rule_options.engine.lookback_delta_ms);
  auto rules = RuleManager::Create(
      rule_files_,
      rule_options,
      &samples_,
      remote_.appender ? static_cast<Appender*>(remote_.appender.get()) : &samples_,
      store_.get(),
      &clock_);
  if (!rules.ok()) {
    log_->error("Building the rule groups failed err={}", LogValue(rules.error().message()));
    return 1;
  }
  rules_ = std::move(*rules);
  auto restored = rules_->Restore();
  if (!restored.ok()) {
    log_->error("Restoring alert state failed err={}", LogValue(restored.error().message()));
    return 1;
  }
  log_->info("Restored alert state alerts={}", *restored);

  size_t workers = 4 + scrape_->Targets().size() + rules_->group_count();
  scheduler_ = std::make_unique<Scheduler>(static_cast<int>(std::min<size_t>(workers, 64)));
  RegisterMetrics();
  RegisterRemoteMetrics(registry_, remote_);

  auto server = HttpServer::Create(config_.web.listen_address);
  if (!server.ok()) {
    log_->error("Invalid listen address err={}", LogValue(server.error().message()));
    return 1;
  }
  server_ = std::move(*server);
  sources_.clock = &clock_;
  sources_.rules = rules_.get();
  sources_.scrape = scrape_.get();
  sources_.registry = &registry_;
  sources_.storage = &samples_;
  sources_.engine = rule_options.engine;
  sources_.readiness.push_back({"rules", [this] {
                                  return rules_ ? std::string() : std::string("rules not loaded");
                                }});
  sources_.readiness.push_back({"store", [this] {
                                  auto probe = store_->GetNotification("", "");
                                  return probe.ok() ? std::string() : probe.error().message();
                                }});
  SetUpApiV2();
  RegisterApi(*server_, &sources_);
  if (auto status = server_->Start(); !status.ok()) {
    log_->error("Starting the HTTP server failed err={}", LogValue(status.error().message()));
    return 1;
  }
  log_->info("Listening address={}", server_->address());

  Schedule();
  scheduler_->Start();
  StartRemoteParts(remote_);
  if (dispatcher_) {
    dispatcher_->Start();
  }
  log_->info("Started targets={} groups={} sample_retention={}s",
             scrape_->Targets().size(),
             rules_->group_count(),
             retention_ms_ / 1000);

  while (true) {
    int signal_number = 0;
    sigwait(&signals, &signal_number);
    if (signal_number == SIGHUP) {
      // TODO: reload the configuration on SIGHUP, keeping the old one when the new is invalid.
      log_->warn("Received SIGHUP; reloading is not supported yet, keeping the running config");
      continue;
    }
    log_->info("Received signal, stopping signal={}",
               signal_number == SIGTERM ? "SIGTERM" : "SIGINT");
    break;
  }
  Shutdown();
  return 0;
}

void Daemon::Shutdown() {
  server_->Stop();
  scheduler_->Stop();
  StopRemoteParts(remote_);
  if (dispatcher_) {
    dispatcher_->Stop();
    // Waits for the sends in flight; queued ones are sent again after the next start.
    dispatcher_.reset();
  }
  log_->info("Stopped");
}

}  // namespace

int RunDaemon(const DaemonOptions& options) {
  Daemon daemon(options);
  return daemon.Run();
}

}  // namespace alertd
