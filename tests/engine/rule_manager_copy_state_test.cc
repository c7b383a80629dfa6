#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "engine/rule_manager.h"
#include "rules/rule_file.h"
#include "storage/memory_sample_store.h"
#include "storage/state_store.h"

namespace alertd {
namespace {

using std::chrono::seconds;

constexpr char kUpRule[] =
    "groups:\n"
    "  - name: g\n"
    "    interval: 10s\n"
    "    rules:\n"
    "      - alert: Down\n"
    "        expr: up == 0\n"
    "        for: 20s\n"
    "        labels: {severity: page}\n";

std::vector<rules::RuleFile> Parse(const std::string& text) {
  std::vector<rules::RuleError> errors;
  auto file = rules::ParseRuleFile(text, "rules.yml", &errors);
  EXPECT_TRUE(file.ok()) << (errors.empty() ? "" : errors[0].ToString());
  if (!file.ok()) {
    return {};
  }
  return {*file};
}

// One state store, sample store and clock shared by the managers of successive
// configurations, as in one daemon process that reloads.
struct ReloadFixture {
  ReloadFixture() {
    auto opened = OpenSqliteStateStore(":memory:");
    EXPECT_TRUE(opened.ok());
    store = std::move(*opened);
  }

  std::unique_ptr<RuleManager> Build(const std::string& text) {
    files.push_back(Parse(text));
    RuleManagerOptions options;
    options.resend_delay = Duration(60000);
    options.notify = [this](std::vector<NotifyAlert> alerts) {
      for (auto& alert : alerts) {
        notified.push_back(std::move(alert));
      }
    };
    auto manager =
        RuleManager::Create(files.back(), options, &samples, &samples, store.get(), &clock);
    EXPECT_TRUE(manager.ok()) << manager.error().message();
    return manager.ok() ? std::move(*manager) : nullptr;
  }

  void Up(double v, const std::string& instance = "a") {
    samples.Append(Labels{{"__name__", "up"}, {"instance", instance}}, ToMillis(clock.Now()), v);
  }

  // Evaluates every group of `manager` at the current time, then advances 10s.
  void Step(RuleManager& manager) {
    for (size_t i = 0; i < manager.group_count(); ++i) {
      manager.EvalGroup(i);
    }
    clock.Advance(seconds(10));
  }

  std::vector<StoredAlert> Rows() {
    auto rows = store->LoadAlerts(TimePoint{});
    EXPECT_TRUE(rows.ok());
    return rows.ok() ? *rows : std::vector<StoredAlert>{};
  }

  FakeClock clock{FromMillis(1700000000000)};
  MemorySampleStore samples;
  std::unique_ptr<StateStore> store;
  std::vector<std::vector<rules::RuleFile>> files;  // kept alive for the managers
  std::vector<NotifyAlert> notified;
};

// Drives `manager` until its Down alert for instance a fires: pending at t0, firing at t0+20s.
TimePoint FireDown(ReloadFixture& f, RuleManager& manager) {
  TimePoint active_at = f.clock.Now();
  for (int i = 0; i < 3; ++i) {
    f.Up(0);
    f.Step(manager);
  }
  return active_at;
}

TEST(RuleManagerCopyState, FiringAlertOfUnchangedRuleStaysFiringWithoutNewNotification) {
  ReloadFixture f;
  auto old = f.Build(kUpRule);
  TimePoint active_at = FireDown(f, *old);
  ASSERT_EQ(f.notified.size(), 1u);
  TimePoint fired_at = f.notified[0].starts_at;
  auto old_status = old->Status();

  auto next = f.Build(kUpRule);
  ASSERT_TRUE(next->CopyStateFrom(*old).ok());
  auto status = next->Status();
  ASSERT_EQ(status.size(), 1u);
  EXPECT_EQ(status[0].last_evaluation, old_status[0].last_evaluation);
  EXPECT_EQ(status[0].rules[0].eval.last_evaluation, old_status[0].rules[0].eval.last_evaluation);
  EXPECT_EQ(status[0].rules[0].eval.health, RuleHealth::kOk);

  f.Up(0);
  f.Step(*next);
  EXPECT_EQ(f.notified.size(), 1u);  // resend_delay has not passed
  auto active = next->ActiveAlerts();
  ASSERT_EQ(active.size(), 1u);
  EXPECT_EQ(active[0].alert.state, AlertState::kFiring);
  EXPECT_EQ(active[0].alert.active_at, active_at);
  EXPECT_EQ(active[0].alert.fired_at, fired_at);
}

TEST(RuleManagerCopyState, PendingAlertKeepsActiveAtWhenForChanges) {
  ReloadFixture f;
  auto old = f.Build(kUpRule);
  TimePoint active_at = f.clock.Now();
  f.Up(0);
  f.Step(*old);
  ASSERT_EQ(old->ActiveAlerts().size(), 1u);

  std::string longer = kUpRule;
  longer.replace(longer.find("for: 20s"), 8, "for: 40s");
  auto next = f.Build(longer);
  ASSERT_TRUE(next->CopyStateFrom(*old).ok());
  for (int i = 0; i < 3; ++i) {  // t0+10s .. t0+30s: still pending under the new for
    f.Up(0);
    f.Step(*next);
    ASSERT_EQ(next->ActiveAlerts().size(), 1u);
    EXPECT_EQ(next->ActiveAlerts()[0].alert.state, AlertState::kPending);
  }
  f.Up(0);
  f.Step(*next);  // t0+40s
  ASSERT_EQ(next->ActiveAlerts().size(), 1u);
  EXPECT_EQ(next->ActiveAlerts()[0].alert.state, AlertState::kFiring);
  EXPECT_EQ(next->ActiveAlerts()[0].alert.active_at, active_at);
}

TEST(RuleManagerCopyState, RemovedRuleIsResolvedOnceAndDeletedFromStore) {
  ReloadFixture f;
  auto old = f.Build(kUpRule);
  FireDown(f, *old);
  ASSERT_EQ(f.notified.size(), 1u);
  TimePoint fired_at = f.notified[0].starts_at;
  ASSERT_EQ(f.Rows().size(), 1u);

  auto next = f.Build("groups:\n  - name: g\n    rules:\n      - record: r\n        expr: up\n");
  TimePoint reload_at = f.clock.Now();
  ASSERT_TRUE(next->CopyStateFrom(*old).ok());
  ASSERT_EQ(f.notified.size(), 2u);
  EXPECT_EQ(f.notified[1].labels.Get("alertname"), "Down");
  EXPECT_EQ(f.notified[1].labels.Get("severity"), "page");
  EXPECT_EQ(f.notified[1].starts_at, fired_at);
  EXPECT_EQ(f.notified[1].ends_at, reload_at);
  EXPECT_TRUE(f.Rows().empty());

  // Its ALERTS series ends with a staleness marker, so queries stop seeing it at once.
  auto matcher = LabelMatcher::Create(MatchType::kEqual, "__name__", "ALERTS");
  ASSERT_TRUE(matcher.ok());
  auto series = f.samples.Select({*matcher}, 0, ToMillis(f.clock.Now()));
  ASSERT_EQ(series.size(), 2u);  // alertstate="pending", then alertstate="firing"
  for (const auto& s : series) {
    EXPECT_TRUE(IsStaleNaN(s.samples.back().v)) << s.labels.ToString();
  }

  for (int i = 0; i < 10; ++i) {
    f.Up(0);
    f.Step(*next);
  }
  EXPECT_EQ(f.notified.size(), 2u);
}

TEST(RuleManagerCopyState, PendingAlertOfRemovedRuleIsDeletedWithoutNotification) {
  ReloadFixture f;
  auto old = f.Build(kUpRule);
  f.Up(0);
  f.Step(*old);
  ASSERT_EQ(f.Rows().size(), 1u);

  auto next =
      f.Build("groups:\n  - name: other\n    rules:\n      - record: r\n        expr: up\n");
  ASSERT_TRUE(next->CopyStateFrom(*old).ok());
  EXPECT_TRUE(f.notified.empty());
  EXPECT_TRUE(f.Rows().empty());
}

TEST(RuleManagerCopyState, RuleWithOtherLabelsStartsOverAndOldOneResolves) {
  ReloadFixture f;
  auto old = f.Build(kUpRule);
  FireDown(f, *old);

  std::string relabeled = kUpRule;
  relabeled.replace(relabeled.find("severity: page"), 14, "severity: ticket");
  auto next = f.Build(relabeled);
  ASSERT_TRUE(next->CopyStateFrom(*old).ok());
  ASSERT_EQ(f.notified.size(), 2u);
  EXPECT_EQ(f.notified[1].labels.Get("severity"), "page");
  EXPECT_TRUE(f.notified[1].ResolvedAt(f.clock.Now()));
  EXPECT_TRUE(next->ActiveAlerts().empty());

  f.Up(0);
  f.Step(*next);
  ASSERT_EQ(next->ActiveAlerts().size(), 1u);
  EXPECT_EQ(next->ActiveAlerts()[0].alert.state, AlertState::kPending);
  EXPECT_EQ(next->ActiveAlerts()[0].alert.labels.Get("severity"), "ticket");
}

TEST(RuleManagerCopyState, KeepFiringForInProgressContinuesAfterReload) {
  ReloadFixture f;
  const std::string rule =
      "groups:\n  - name: g\n    interval: 10s\n    rules:\n      - alert: Down\n"
      "        expr: up == 0\n        keep_firing_for: 30s\n";
  auto old = f.Build(rule);
  f.Up(0);
  f.Step(*old);  // t0: firing
  f.Up(1);
  TimePoint kept_since = f.clock.Now();
  f.Step(*old);  // t0+10s: kept firing
  ASSERT_EQ(old->ActiveAlerts().size(), 1u);
  ASSERT_EQ(old->ActiveAlerts()[0].alert.keep_firing_since, kept_since);

  auto next = f.Build(rule);
  ASSERT_TRUE(next->CopyStateFrom(*old).ok());
  f.Up(1);
  f.Step(*next);  // t0+20s
  f.Up(1);
  f.Step(*next);  // t0+30s
  ASSERT_EQ(next->ActiveAlerts().size(), 1u);
  EXPECT_EQ(next->ActiveAlerts()[0].alert.state, AlertState::kFiring);
  EXPECT_EQ(next->ActiveAlerts()[0].alert.keep_firing_since, kept_since);
  f.Up(1);
  f.Step(*next);  // t0+40s: 30s after kept_since
  EXPECT_TRUE(next->ActiveAlerts().empty());
  ASSERT_FALSE(f.notified.empty());
  EXPECT_TRUE(f.notified.back().ResolvedAt(f.clock.Now()));
}

TEST(RuleManagerCopyState, RowsMoveWhenTheRuleKeyChanges) {
  ReloadFixture f;
  // Two rules named Down; removing the first changes the second's index in its rule key.
  const std::string two =
      "groups:\n  - name: g\n    interval: 10s\n    rules:\n"
      "      - alert: Down\n        expr: up == 0\n        labels: {team: a}\n"
      "      - alert: Down\n        expr: up == 0\n        labels: {team: b}\n";
  auto old = f.Build(two);
  f.Up(0);
  f.Step(*old);
  ASSERT_EQ(f.Rows().size(), 2u);

  auto next = f.Build(
      "groups:\n  - name: g\n    interval: 10s\n    rules:\n"
      "      - alert: Down\n        expr: up == 0\n        labels: {team: b}\n");
  ASSERT_TRUE(next->CopyStateFrom(*old).ok());
  auto rows = f.Rows();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].rule_key, MakeRuleKey("rules.yml", "g", 0, "Down"));
  EXPECT_EQ(rows[0].labels.Get("team"), "b");

  // The moved row is what a restart restores.
  auto restarted = f.Build(
      "groups:\n  - name: g\n    interval: 10s\n    rules:\n"
      "      - alert: Down\n        expr: up == 0\n        labels: {team: b}\n");
  auto restored = restarted->Restore();
  ASSERT_TRUE(restored.ok());
  EXPECT_EQ(*restored, 1u);
}

TEST(RuleManagerCopyState, RulesWithTheSameNameAndLabelsMatchInOrder) {
  ReloadFixture f;
  const std::string two =
      "groups:\n  - name: g\n    interval: 10s\n    rules:\n"
      "      - alert: Dup\n        expr: up == 0\n"
      "      - alert: Dup\n        expr: up == 2\n";
  auto old = f.Build(two);
  f.Up(0);
  f.Step(*old);  // only the first rule has an alert
  auto next = f.Build(two);
  ASSERT_TRUE(next->CopyStateFrom(*old).ok());
  auto status = next->Status();
  ASSERT_EQ(status[0].rules.size(), 2u);
  EXPECT_EQ(status[0].rules[0].alerts.size(), 1u);
  EXPECT_TRUE(status[0].rules[1].alerts.empty());
}

TEST(RuleManagerCopyState, RenamedGroupIsANewGroup) {
  ReloadFixture f;
  auto old = f.Build(kUpRule);
  FireDown(f, *old);
  std::string renamed = kUpRule;
  renamed.replace(renamed.find("name: g"), 7, "name: h");
  auto next = f.Build(renamed);
  ASSERT_TRUE(next->CopyStateFrom(*old).ok());
  EXPECT_EQ(f.notified.size(), 2u);
  EXPECT_TRUE(next->ActiveAlerts().empty());
  EXPECT_EQ(next->Status()[0].last_evaluation, TimePoint{});
}

TEST(RuleManagerRestore, RestartResolvesAlertsOfRemovedRulesOnce) {
  ReloadFixture f;
  auto old = f.Build(kUpRule);
  FireDown(f, *old);
  const size_t notified_before = f.notified.size();
  ASSERT_EQ(f.Rows().size(), 1u);
  ASSERT_EQ(f.Rows()[0].state, AlertState::kFiring);

  // The process restarts with the rule gone.
  auto restarted = f.Build(
      "groups:\n  - name: g\n    interval: 10s\n    rules:\n"
      "      - alert: Other\n        expr: up == 5\n");
  auto restored = restarted->Restore();
  ASSERT_TRUE(restored.ok()) << restored.error().message();
  EXPECT_EQ(*restored, 0u);
  ASSERT_EQ(f.notified.size(), notified_before + 1);
  const NotifyAlert& resolved = f.notified.back();
  EXPECT_EQ(resolved.labels.Get("alertname"), "Down");
  EXPECT_EQ(resolved.labels.Get("severity"), "page");
  EXPECT_EQ(resolved.ends_at, f.clock.Now());
  EXPECT_TRUE(resolved.ResolvedAt(f.clock.Now()));
  EXPECT_TRUE(f.Rows().empty());

  // A second restart finds nothing left to resolve.
  auto again = f.Build(
      "groups:\n  - name: g\n    interval: 10s\n    rules:\n"
      "      - alert: Other\n        expr: up == 5\n");
  ASSERT_TRUE(again->Restore().ok());
  EXPECT_EQ(f.notified.size(), notified_before + 1);
}

TEST(RuleManagerRestore, PendingAlertOfRemovedRuleIsDroppedSilently) {
  ReloadFixture f;
  auto old = f.Build(kUpRule);
  f.Up(0);
  f.Step(*old);  // pending: `for` is 20s
  ASSERT_EQ(f.Rows().size(), 1u);
  ASSERT_EQ(f.Rows()[0].state, AlertState::kPending);
  const size_t notified_before = f.notified.size();
  auto restarted = f.Build(
      "groups:\n  - name: g\n    interval: 10s\n    rules:\n"
      "      - alert: Other\n        expr: up == 5\n");
  ASSERT_TRUE(restarted->Restore().ok());
  EXPECT_EQ(f.notified.size(), notified_before);
  EXPECT_TRUE(f.Rows().empty());
}

}  // namespace
}  // namespace alertd
