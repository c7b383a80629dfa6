// Runs the rule groups of the loaded rule files: evaluates each rule's expression, feeds the
// result to its alerting or recording rule, appends the produced series to the sample store,
// writes alert state to the StateStore in one transaction per group evaluation, and hands the
// alerts due for notification to a callback. Scheduling is the caller's: EvalGroup(i) runs one
// evaluation of group i at clock->Now().
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/labels.h"
#include "common/result.h"
#include "engine/alerting_rule.h"
#include "engine/promql/engine.h"
#include "engine/query_source.h"
#include "engine/recording_rule.h"
#include "notifiers/notifier.h"
#include "rules/rule_file.h"
#include "storage/sample_store.h"
#include "storage/state_store.h"

namespace alertd {

struct RuleManagerOptions {
  Duration default_interval{60000};  // global.evaluation_interval
  Labels external_labels;            // $externalLabels; added to notified alerts
  std::string external_url;          // $externalURL and generator URLs
  // Maximum bytes of one label or annotation template expansion (limits.max_template_output);
  // 0 means no limit.
  uint64_t max_template_output = 1 << 20;
  promql::EngineOptions engine;
  // Where rule expressions and template queries are evaluated; must outlive the manager.
  // nullptr: alertd's engine over the `storage` passed to Create.
  QuerySource* query_source = nullptr;
  // How far before the evaluation time queries run, for groups without their own
  // query_offset (Prometheus 2.53's global rule_query_offset). Alert state still advances at
  // the evaluation time; samples the rules produce are appended at the query time.
  Duration query_offset{0};
  // Minimum time between two notifications of the same unchanged alert (Prometheus's
  // --rules.alert.resend-delay, default 1m).
  Duration resend_delay{60000};
  // Receives the alerts due for notification after each group evaluation. May be empty.
  std::function<void(std::vector<NotifyAlert>)> notify;
  // Called after each group evaluation with the group index, its duration and the number of
  // rules that failed. May be empty.
  std::function<void(size_t, std::chrono::nanoseconds, size_t)> on_group_evaluated;
  // How Restore treats the `for` of pending alerts (config::RulesConfig, Prometheus's
  // --rules.alert.for-grace-period and --rules.alert.for-outage-tolerance); see Restore.
  Duration for_grace_period{600000};
  Duration for_outage_tolerance{3600000};
};

// Status of one rule for /api/v1/rules.
struct RuleStatus {
  bool is_alert = false;
  std::string name;
  std::string query;
  Duration for_{0};
  Duration keep_firing_for{0};
  std::vector<std::pair<std::string, std::string>> labels;
  std::vector<std::pair<std::string, std::string>> annotations;
  AlertState state = AlertState::kInactive;  // alerting rules only
  std::vector<Alert> alerts;                 // pending and firing, alerting rules only
  RuleEvalStatus eval;
};

struct GroupStatus {
  std::string name;
  std::string file;
  Duration interval{0};
  Duration query_offset{0};
  int limit = 0;
  std::vector<RuleStatus> rules;
  TimePoint last_evaluation{};
  std::chrono::nanoseconds evaluation_duration{0};
};

// One pending or firing alert for /api/v1/alerts.
struct ActiveAlert {
  Alert alert;
  std::string rule;
};

class RuleManager {
 public:
  // Builds the groups of `files`, which must have loaded without errors. The pointers must
  // outlive the manager.
  static Result<std::unique_ptr<RuleManager>> Create(const std::vector<rules::RuleFile>& files,
                                                     RuleManagerOptions options,
                                                     const Queryable* storage,
                                                     Appender* appender,
                                                     StateStore* store,
                                                     const Clock* clock);

  size_t group_count() const { return groups_.size(); }

  // Identity and interval of group i: the key is "FILE;NAME", unique among loaded groups.
  std::string group_key(size_t i) const;
  Duration group_interval(size_t i) const;

  // Loads alert state saved by an earlier run. With the local source, restored alerts are
  // held (not dropped or resolved) until their rule was evaluated on a window that covers its
  // longest range since `now`; with options.query_source set they are not held. Firing alerts
  // stay firing whatever their rule's `for`, and a keep_firing_for in progress continues from
  // its stored start. Pending alerts follow Prometheus 2.42's RestoreForState with
  // options.for_grace_period and options.for_outage_tolerance (AlertingRule::Restore). Stored
  // alerts whose rule no longer exists are deleted from the store, and those that were firing
  // (or resolved without the resolution sent) are handed to options.notify once as resolved at
  // clock->Now(). Returns the number of restored alerts.
  Result<size_t> Restore();

  // Takes over the state of `old`, the manager of the previous configuration, after a reload,
  // as Prometheus 2.42's Group.CopyState: groups match by file and name, rules within a group
  // by kind, name and labels (the n-th old rule with a given name and labels goes to the n-th
  // new one). A matched alerting rule takes the old rule's alerts (pending with their
  // active_at, firing, in keep_firing_for, resolved and still retained, with their last send
  // time), written series, hold time and health; a matched recording rule its written series
  // and health; a matched group its last evaluation time and duration. Store rows of a matched
  // rule whose rule_key changed move to the new key. Old alerting rules without a match are
  // removed: their firing alerts (and resolved ones whose resolution was not sent) go to
  // options.notify once as resolved at clock->Now(), all their rows are deleted from the store,
  // and the series of every unmatched old rule get a staleness marker through the appender.
  // Call it on a new manager before its first EvalGroup, instead of Restore, once `old` no
  // longer evaluates; `old` must not be evaluated afterwards. An error is a failed store
  // write: the in-memory state is taken over all the same.
  alertd::Status CopyStateFrom(RuleManager& old);

  // Evaluates group i once at clock->Now(). Thread-safe; evaluations of one group must not
  // overlap, which the scheduler guarantees.
  void EvalGroup(size_t i);

  std::vector<GroupStatus> Status() const;
  std::vector<ActiveAlert> ActiveAlerts() const;

  uint64_t evaluations_total() const { return evaluations_.load(); }

  uint64_t evaluation_failures_total() const { return failures_.load(); }

 private:
  struct RuleSlot {
    const rules::Rule* source = nullptr;
    promql::ExprPtr expr;
    std::unique_ptr<AlertingRule> alerting;
    std::unique_ptr<RecordingRule> recording;
  };

  struct Group {
    std::string file;
    std::string name;
    Duration interval{0};
    Duration query_offset{0};
    int limit = 0;
    std::vector<RuleSlot> rules;
    // Alert rows whose write to the state store failed, by rule key and labels: each
    // evaluation writes them again with its own changes (a newer change of a row wins) until
    // a write succeeds. Only EvalGroup, which one thread runs per group, touches them.
    std::map<std::pair<std::string, Labels>, std::pair<bool, StoredAlert>> unwritten;  // delete?
    std::string last_write_error;
    mutable std::mutex mu;  // guards the two fields below
    TimePoint last_evaluation{};
    std::chrono::nanoseconds evaluation_duration{0};
  };

  RuleManager(RuleManagerOptions options,
              const Queryable* storage,
              Appender* appender,
              StateStore* store,
              const Clock* clock);

  TemplateExpander MakeExpander() const;
  // Turns the alerts of a rule that is gone into resolved notifications at `now`: those that
  // were firing and those resolved whose resolution was not sent after resolved_at.
  std::vector<NotifyAlert> ResolvedOfRemovedRule(const AlertingRule& rule,
                                                 const std::vector<Alert>& alerts,
                                                 TimePoint now) const;
  std::vector<NotifyAlert> ToNotify(const AlertingRule& rule, std::vector<Alert> alerts) const;
  // Returns `labels` with the external labels it does not have.
  Labels WithExternalLabels(const Labels& labels) const;
  // Writes one evaluation's alert rows together with those of earlier failed writes.
  void WriteAlertState(Group& group,
                       std::vector<StoredAlert> upserts,
                       std::vector<StoredAlert> deletes);
  // Deletes the stored alerts of rules that no longer exist, and hands the firing ones to
  // options.notify as resolved at `now`. Part of Restore.
  void ResolveRemovedRules(const std::vector<StoredAlert>& stored, TimePoint now);
  std::string GeneratorUrl(const std::string& expr) const;

  RuleManagerOptions options_;
  promql::Engine engine_;
  const Queryable* storage_;
  LocalQuerySource local_source_;
  QuerySource* source_;  // options_.query_source or &local_source_
  Appender* appender_;
  StateStore* store_;
  const Clock* clock_;
  std::vector<rules::RuleFile> files_;  // owns the rules the slots point to
  std::vector<std::unique_ptr<Group>> groups_;
  std::atomic<uint64_t> evaluations_{0};
  std::atomic<uint64_t> failures_{0};
};

// A StoredAlert's rule_key: file, group name, rule index and rule name joined with '\x1f'. The
// index counts only earlier rules of the group with the same name, so adding or moving other
// rules keeps the state of this one, while two rules that share an alert name stay apart.
std::string MakeRuleKey(const std::string& file,
                        const std::string& group,
                        size_t index,
                        const std::string& rule);

}  // namespace alertd
