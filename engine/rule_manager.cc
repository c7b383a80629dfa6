#include "engine/rule_manager.h"

#include <algorithm>
#include <map>
#include <set>
#include <utility>

#include "common/logging.h"
#include "engine/promql/parser.h"
#include "rules/template.h"

namespace alertd {
namespace {

// Converts a rule's expression result to the instant vector the rule types take. Prometheus's
// EngineQueryFunc turns a scalar into a one-element vector without labels.
Result<promql::Vector> ToVector(promql::Value value, int64_t t_ms) {
  if (auto* vector = std::get_if<promql::Vector>(&value)) {
    return std::move(*vector);
  }
  if (auto* scalar = std::get_if<promql::Scalar>(&value)) {
    return promql::Vector{promql::VectorSample{Labels(), t_ms, scalar->v}};
  }
  return Error::Invalid("rule result is not a vector or scalar");
}

std::string UrlEncode(std::string_view text) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

// Identity of a rule across a reload, as Prometheus's nameAndLabels, plus the rule's kind so
// that an alerting rule never takes the state of a recording rule.
std::string ReloadIdentity(const rules::Rule& rule) {
  auto labels = rule.labels;
  std::sort(labels.begin(), labels.end());
  std::string id = rule.is_alert ? "alert\x1f" : "record\x1f";
  id += rule.name;
  for (const auto& [name, value] : labels) {
    id += '\x1f';
    id += name;
    id += '=';
    id += value;
  }
  return id;
}

}  // namespace

std::string MakeRuleKey(const std::string& file,
                        const std::string& group,
                        size_t index,
                        const std::string& rule) {
  std::string key = file;
  key += '\x1f';
  key += group;
  key += '\x1f';
  key += std::to_string(index);
  key += '\x1f';
  key += rule;
  return key;
}

RuleManager::RuleManager(RuleManagerOptions options,
                         const Queryable* storage,
                         Appender* appender,
                         StateStore* store,
                         const Clock* clock)
    : options_(std::move(options)),
      engine_(options_.engine),
      storage_(storage),
      local_source_(&engine_, storage),
      source_(options_.query_source != nullptr ? options_.query_source : &local_source_),
      appender_(appender),
      store_(store),
      clock_(clock) {}

Result<std::unique_ptr<RuleManager>> RuleManager::Create(const std::vector<rules::RuleFile>& files,
                                                         RuleManagerOptions options,
                                                         const Queryable* storage,
                                                         Appender* appender,
                                                         StateStore* store,
                                                         const Clock* clock) {
  std::unique_ptr<RuleManager> manager(
      new RuleManager(std::move(options), storage, appender, store, clock));
  manager->files_ = files;
  for (const auto& file : manager->files_) {
    for (const auto& source_group : file.groups) {
      auto group = std::make_unique<Group>();
      group->file = file.path;
      group->name = source_group.name;
      group->interval = source_group.interval.value_or(Duration(0));
      if (group->interval.count() <= 0) {
        group->interval = manager->options_.default_interval;
      }
      group->query_offset = source_group.query_offset.value_or(manager->options_.query_offset);
      group->limit = source_group.limit;
      std::map<std::string, size_t> seen_names;
      for (const auto& rule : source_group.rules) {
        if (!rule.parsed) {
          return Error::Internal("rule \"" + rule.name + "\" in " + file.path +
                                 " has no parsed expression");
        }
        RuleSlot slot;
        slot.source = &rule;
        slot.expr = rule.parsed;
        std::string key =
            MakeRuleKey(file.path, source_group.name, seen_names[rule.name]++, rule.name);
        if (rule.is_alert) {
          AlertingRuleSpec spec;
          spec.name = rule.name;
          spec.expr_text = rule.expr;
          spec.for_ = rule.for_;
          spec.keep_firing_for = rule.keep_firing_for;
          spec.labels = rule.labels;
          spec.annotations = rule.annotations;
          spec.rule_key = key;
          slot.alerting = std::make_unique<AlertingRule>(std::move(spec), manager->MakeExpander());
        } else {
          RecordingRuleSpec spec;
          spec.name = rule.name;
          spec.expr_text = rule.expr;
          spec.labels = rule.labels;
          spec.rule_key = key;
          slot.recording = std::make_unique<RecordingRule>(std::move(spec));
        }
        group->rules.push_back(std::move(slot));
      }
      manager->groups_.push_back(std::move(group));
    }
  }
  return manager;
}

std::string RuleManager::group_key(size_t i) const {
  return groups_[i]->file + ";" + groups_[i]->name;
}

Duration RuleManager::group_interval(size_t i) const {
  return groups_[i]->interval;
}

TemplateExpander RuleManager::MakeExpander() const {
  return [this](std::string_view name,
                std::string_view text,
                const Labels& labels,
                double value) -> Result<std::string> {
    TemplateOptions template_options;
    template_options.external_url = options_.external_url;
    template_options.max_output_bytes = options_.max_template_output;
    template_options.query = [this](const std::string& query) -> Result<nlohmann::json> {
      auto value = source_->Query(query, clock_->Now());
      if (!value.ok()) {
        return value.error();
      }
      auto vector = ToVector(std::move(*value), ToMillis(clock_->Now()));
      if (!vector.ok()) {
        return vector.error();
      }
      nlohmann::json samples = nlohmann::json::array();
      for (const auto& sample : *vector) {
        nlohmann::json metric = nlohmann::json::object();
        for (const auto& label : sample.metric) {
          metric[label.name] = label.value;
        }
        samples.push_back({{"Labels", metric}, {"Value", sample.v}});
      }
      return samples;
    };
    return ExpandAlertTemplate(name,
                               text,
                               labels,
                               options_.external_labels,
                               options_.external_url,
                               value,
                               template_options);
  };
}

Result<size_t> RuleManager::Restore() {
  TimePoint now = clock_->Now();
  auto stored = store_->LoadAlerts(now - kResolvedRetention);
  if (!stored.ok()) {
    return stored.error();
  }
  size_t restored = 0;
  for (auto& group : groups_) {
    for (auto& slot : group->rules) {
      if (!slot.alerting) {
        continue;
      }
      AlertRestoreOptions restore_options;
      restore_options.for_grace_period = options_.for_grace_period;
      restore_options.for_outage_tolerance = options_.for_outage_tolerance;
      restored += slot.alerting->Restore(*stored, now, restore_options);
      if (options_.query_source != nullptr) {
        // A remote source has the history from before the restart, so the first evaluation
        // decides at once.
        continue;
      }
      int64_t lookback = promql::MaxLookbackMs(*slot.expr, options_.engine.lookback_delta_ms);
      if (lookback == promql::kUnboundedLookback) {
        lookback = options_.engine.lookback_delta_ms;
      }
      // One interval more, so the first evaluation after the window is complete decides.
      // NOTE: a sample window replayed from storage.path/samples may already cover part of the
      // look-back, but the gap the daemon was down is missing from it, so the hold stays full.
      slot.alerting->SetHoldUntil(now + Duration(lookback) + group->interval);
    }
  }
  ResolveRemovedRules(*stored, now);
  return restored;
}

void RuleManager::ResolveRemovedRules(const std::vector<StoredAlert>& stored, TimePoint now) {
  std::set<std::string> keys;
  for (const auto& group : groups_) {
    for (const auto& slot : group->rules) {
      if (slot.alerting) {
        keys.insert(slot.alerting->spec().rule_key);
      }
    }
  }
  auto logger = Logger("rules");
  std::vector<StoredAlert> deletes;
  std::vector<NotifyAlert> resolved;
  for (const StoredAlert& row : stored) {
    if (keys.contains(row.rule_key)) {
      continue;
    }
    deletes.push_back(row);
    if (row.state != AlertState::kFiring) {
      continue;  // a pending alert never notified, and a resolution is in the alert store
    }
    NotifyAlert alert;
    alert.labels = WithExternalLabels(row.labels);
    alert.annotations = row.annotations;
    alert.starts_at = row.fired_at.value_or(row.active_at);
    alert.ends_at = now;
    logger->info("Resolved the alert of a rule that no longer exists alert={} labels={}",
                 LogValue(std::string(row.labels.Get("alertname"))),
                 LogValue(row.labels.ToString()));
    resolved.push_back(std::move(alert));
  }
  if (deletes.empty()) {
    return;
  }
  if (alertd::Status status = store_->WriteAlerts({}, deletes); !status.ok()) {
    logger->error("Deleting the alerts of removed rules failed alerts={} err={}",
                  deletes.size(),
                  LogValue(status.error().message()));
  }
  if (options_.notify && !resolved.empty()) {
    options_.notify(std::move(resolved));
  }
}

alertd::Status RuleManager::CopyStateFrom(RuleManager& old) {
  if (&old == this) {
    return alertd::Status::Ok();
  }
  auto logger = Logger("rules");
  const TimePoint now = FromMillis(ToMillis(clock_->Now()));
  std::map<std::pair<std::string, std::string>, Group*> old_groups;
  for (auto& group : old.groups_) {
    old_groups.emplace(std::pair{group->file, group->name}, group.get());
  }
  // Old rules not taken over yet, per group.
  std::map<Group*, std::vector<bool>> taken;
  for (auto& group : old.groups_) {
    taken[group.get()].assign(group->rules.size(), false);
  }

  std::vector<StoredAlert> upserts;
  std::vector<StoredAlert> deletes;
  for (auto& group : groups_) {
    auto found = old_groups.find({group->file, group->name});
    if (found == old_groups.end()) {
      continue;
    }
    Group& from = *found->second;
    {
      std::scoped_lock lock(group->mu, from.mu);
      group->last_evaluation = from.last_evaluation;
      group->evaluation_duration = from.evaluation_duration;
    }
    std::vector<bool>& used = taken[&from];
    for (auto& slot : group->rules) {
      const std::string identity = ReloadIdentity(*slot.source);
      for (size_t j = 0; j < from.rules.size(); ++j) {
        if (used[j] || ReloadIdentity(*from.rules[j].source) != identity) {
          continue;
        }
        used[j] = true;
        RuleSlot& previous = from.rules[j];
        if (slot.alerting) {
          slot.alerting->CopyStateFrom(*previous.alerting);
          if (slot.alerting->spec().rule_key != previous.alerting->spec().rule_key) {
            auto moved_from = previous.alerting->StoredAlerts();
            auto moved_to = slot.alerting->StoredAlerts();
            deletes.insert(deletes.end(), moved_from.begin(), moved_from.end());
            upserts.insert(upserts.end(), moved_to.begin(), moved_to.end());
          }
        } else {
          slot.recording->CopyStateFrom(*previous.recording);
        }
        break;
      }
    }
  }

  std::vector<NotifyAlert> resolved;
  promql::Vector stale;
  for (auto& group : old.groups_) {
    const std::vector<bool>& used = taken[group.get()];
    for (size_t j = 0; j < group->rules.size(); ++j) {
      if (used[j]) {
        continue;
      }
      RuleSlot& slot = group->rules[j];
      promql::Vector series;
      if (slot.alerting) {
        auto alerts = slot.alerting->ActiveAlerts();
        auto notify = ResolvedOfRemovedRule(*slot.alerting, alerts, now);
        for (const auto& alert : notify) {
          logger->info("Resolved the alert of a removed rule alert={} group={} labels={}",
                       LogValue(slot.source->name),
                       LogValue(group->name),
                       LogValue(alert.labels.ToString()));
        }
        std::move(notify.begin(), notify.end(), std::back_inserter(resolved));
        auto rows = slot.alerting->StoredAlerts();
        deletes.insert(deletes.end(), rows.begin(), rows.end());
        series = slot.alerting->StaleSeries(now);
      } else {
        series = slot.recording->StaleSeries(now);
      }
      std::move(series.begin(), series.end(), std::back_inserter(stale));
    }
  }

  for (const auto& sample : stale) {
    appender_->Append(sample.metric, sample.t, sample.v);
  }
  // A row that moves onto a key that an old rule also used is written, not deleted.
  std::set<std::pair<std::string, Labels>> written;
  for (const auto& row : upserts) {
    written.emplace(row.rule_key, row.labels);
  }
  std::erase_if(deletes, [&](const StoredAlert& row) {
    return written.contains({row.rule_key, row.labels});
  });
  alertd::Status status = alertd::Status::Ok();
  if (!upserts.empty() || !deletes.empty()) {
    status = store_->WriteAlerts(upserts, deletes);
    if (!status.ok()) {
      logger->error("Writing alert state after a reload failed alerts={} err={}",
                    upserts.size() + deletes.size(),
                    LogValue(status.error().message()));
    }
  }
  if (options_.notify && !resolved.empty()) {
    options_.notify(std::move(resolved));
  }
  return status;
}

void RuleManager::WriteAlertState(Group& group,
                                  std::vector<StoredAlert> upserts,
                                  std::vector<StoredAlert> deletes) {
  if (upserts.empty() && deletes.empty() && group.unwritten.empty()) {
    return;
  }
  if (!group.unwritten.empty()) {
    // Rows of this evaluation replace the unwritten ones of the same alert.
    for (auto& row : deletes) {
      group.unwritten[{row.rule_key, row.labels}] = {true, std::move(row)};
    }
    for (auto& row : upserts) {
      group.unwritten[{row.rule_key, row.labels}] = {false, std::move(row)};
    }
    upserts.clear();
    deletes.clear();
    for (const auto& [key, entry] : group.unwritten) {
      (entry.first ? deletes : upserts).push_back(entry.second);
    }
  }
  auto status = store_->WriteAlerts(upserts, deletes);
  auto logger = Logger("rules");
  if (status.ok()) {
    if (!group.last_write_error.empty()) {
      logger->info("Writing alert state succeeded again group={} alerts={}",
                   LogValue(group.name),
                   upserts.size() + deletes.size());
    }
    group.unwritten.clear();
    group.last_write_error.clear();
    return;
  }
  // The in-memory state stays authoritative, and evaluation goes on; the rows are kept and
  // written again after the next evaluation. Each new error is logged once.
  if (status.error().message() != group.last_write_error) {
    logger->error(
        "Writing alert state failed, retrying after each evaluation group={} alerts={} err={}",
        LogValue(group.name),
        upserts.size() + deletes.size(),
        LogValue(status.error().message()));
    group.last_write_error = status.error().message();
  }
  for (auto& row : deletes) {
    group.unwritten[{row.rule_key, row.labels}] = {true, std::move(row)};
  }
  for (auto& row : upserts) {
    group.unwritten[{row.rule_key, row.labels}] = {false, std::move(row)};
  }
}

std::vector<NotifyAlert> RuleManager::ResolvedOfRemovedRule(const AlertingRule& rule,
                                                            const std::vector<Alert>& alerts,
                                                            TimePoint now) const {
  std::vector<Alert> ended;
  for (const Alert& alert : alerts) {
    bool firing = alert.state == AlertState::kFiring;
    bool resolution_unsent = alert.state == AlertState::kInactive && alert.resolved_at &&
                             *alert.resolved_at > alert.last_sent_at;
    if (!firing && !resolution_unsent) {
      continue;
    }
    Alert copy = alert;
    if (firing) {
      copy.state = AlertState::kInactive;
      copy.resolved_at = now;
    }
    ended.push_back(std::move(copy));
  }
  return ToNotify(rule, std::move(ended));
}

void RuleManager::EvalGroup(size_t i) {
  Group& group = *groups_[i];
  auto logger = Logger("rules");
  auto started = std::chrono::steady_clock::now();
  // Evaluation times are whole milliseconds, the resolution of samples and of the state
  // store, so a restored active_at equals the one reported before the restart.
  int64_t t_ms = ToMillis(clock_->Now());
  TimePoint now = FromMillis(t_ms);
  // Queries, and the samples they produce, are shifted back by the query offset; alert state
  // advances at the evaluation time, as in Prometheus 2.53's rules package.
  const int64_t query_ms = t_ms - group.query_offset.count();
  const TimePoint query_time = FromMillis(query_ms);
  std::vector<StoredAlert> upserts;
  std::vector<StoredAlert> deletes;
  size_t failed = 0;

  for (auto& slot : group.rules) {
    auto rule_started = std::chrono::steady_clock::now();
    auto value = source_->QueryRule(*slot.expr, slot.source->expr, query_time);
    Result<promql::Vector> vector =
        value.ok() ? ToVector(std::move(*value), query_ms) : Result<promql::Vector>(value.error());
    if (!vector.ok()) {
      ++failed;
      logger->warn("Rule evaluation failed group={} rule={} err={}",
                   LogValue(group.name),
                   LogValue(slot.source->name),
                   LogValue(vector.error().message()));
      if (slot.alerting) {
        slot.alerting->SetEvaluationFailed(vector.error(), now);
      } else {
        slot.recording->SetEvaluationFailed(vector.error(), now);
      }
      continue;
    }

    if (slot.alerting) {
      EvalOutcome outcome = slot.alerting->Eval(*vector, now, group.limit);
      for (const auto& change : outcome.state_changes) {
        logger->info("{} group={}", change.LogMessage(), LogValue(group.name));
      }
      if (!outcome.status.ok()) {
        ++failed;
        logger->warn("Rule evaluation failed group={} rule={} err={}",
                     LogValue(group.name),
                     LogValue(slot.source->name),
                     LogValue(outcome.status.error().message()));
      }
      for (const auto& sample : outcome.series) {
        appender_->Append(sample.metric, query_ms, sample.v);
      }
      std::move(outcome.upserts.begin(), outcome.upserts.end(), std::back_inserter(upserts));
      std::move(outcome.deletes.begin(), outcome.deletes.end(), std::back_inserter(deletes));
      slot.alerting->SetEvaluationDuration(std::chrono::steady_clock::now() - rule_started);
    } else {
      auto samples = slot.recording->Eval(*vector, now, group.limit);
      if (!samples.ok()) {
        ++failed;
        logger->warn("Rule evaluation failed group={} rule={} err={}",
                     LogValue(group.name),
                     LogValue(slot.source->name),
                     LogValue(samples.error().message()));
      } else {
        for (const auto& sample : *samples) {
          appender_->Append(sample.metric, query_ms, sample.v);
        }
      }
      slot.recording->SetEvaluationDuration(std::chrono::steady_clock::now() - rule_started);
    }
  }

  WriteAlertState(group, std::move(upserts), std::move(deletes));

  if (options_.notify) {
    std::vector<NotifyAlert> to_notify;
    for (auto& slot : group.rules) {
      if (!slot.alerting) {
        continue;
      }
      auto due = slot.alerting->AlertsToSend(now, options_.resend_delay, group.interval);
      auto converted = ToNotify(*slot.alerting, std::move(due));
      std::move(converted.begin(), converted.end(), std::back_inserter(to_notify));
    }
    if (!to_notify.empty()) {
      options_.notify(std::move(to_notify));
    }
  }

  auto duration = std::chrono::steady_clock::now() - started;
  {
    std::lock_guard lock(group.mu);
    group.last_evaluation = now;
    group.evaluation_duration = duration;
  }
  evaluations_.fetch_add(1);
  failures_.fetch_add(failed);
  if (options_.on_group_evaluated) {
    options_.on_group_evaluated(i, duration, failed);
  }
}

std::string RuleManager::GeneratorUrl(const std::string& expr) const {
  std::string base = options_.external_url;
  while (!base.empty() && base.back() == '/') {
    base.pop_back();
  }
  return base + "/graph?g0.expr=" + UrlEncode(expr) + "&g0.tab=1";
}

Labels RuleManager::WithExternalLabels(const Labels& labels) const {
  // External labels are added unless the alert has the label, as Prometheus does when it
  // sends to Alertmanager.
  LabelsBuilder builder(labels);
  for (const auto& label : options_.external_labels) {
    if (!labels.Has(label.name)) {
      builder.Set(label.name, label.value);
    }
  }
  return builder.Build();
}

std::vector<NotifyAlert> RuleManager::ToNotify(const AlertingRule& rule,
                                               std::vector<Alert> alerts) const {
  std::vector<NotifyAlert> out;
  out.reserve(alerts.size());
  for (auto& alert : alerts) {
    NotifyAlert n;
    n.labels = WithExternalLabels(alert.labels);
    n.annotations = alert.annotations;
    n.starts_at = alert.fired_at.value_or(alert.active_at);
    n.ends_at = alert.resolved_at ? *alert.resolved_at : alert.valid_until;
    n.generator_url = GeneratorUrl(rule.spec().expr_text);
    out.push_back(std::move(n));
  }
  return out;
}

std::vector<GroupStatus> RuleManager::Status() const {
  std::vector<GroupStatus> out;
  for (const auto& group : groups_) {
    GroupStatus status;
    status.name = group->name;
    status.file = group->file;
    status.interval = group->interval;
    status.query_offset = group->query_offset;
    status.limit = group->limit;
    {
      std::lock_guard lock(group->mu);
      status.last_evaluation = group->last_evaluation;
      status.evaluation_duration = group->evaluation_duration;
    }
    for (const auto& slot : group->rules) {
      RuleStatus rule;
      rule.is_alert = slot.alerting != nullptr;
      rule.name = slot.source->name;
      rule.query = slot.source->expr;
      rule.for_ = slot.source->for_;
      rule.keep_firing_for = slot.source->keep_firing_for;
      rule.labels = slot.source->labels;
      rule.annotations = slot.source->annotations;
      if (slot.alerting) {
        rule.state = slot.alerting->State();
        for (auto& alert : slot.alerting->ActiveAlerts()) {
          if (alert.state != AlertState::kInactive) {
            rule.alerts.push_back(std::move(alert));
          }
        }
        rule.eval = slot.alerting->EvalStatus();
      } else {
        rule.eval = slot.recording->EvalStatus();
      }
      status.rules.push_back(std::move(rule));
    }
    out.push_back(std::move(status));
  }
  return out;
}

std::vector<ActiveAlert> RuleManager::ActiveAlerts() const {
  std::vector<ActiveAlert> out;
  for (const auto& group : groups_) {
    for (const auto& slot : group->rules) {
      if (!slot.alerting) {
        continue;
      }
      for (auto& alert : slot.alerting->ActiveAlerts()) {
        if (alert.state != AlertState::kInactive) {
          out.push_back(ActiveAlert{std::move(alert), slot.source->name});
        }
      }
    }
  }
  return out;
}

}  // namespace alertd
