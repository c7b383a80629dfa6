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

// A SQLite state store whose alert writes fail while `full` is set, as on a full disk.
class FullDiskStore final : public StateStore {
 public:
  FullDiskStore() {
    auto opened = OpenSqliteStateStore(":memory:");
    EXPECT_TRUE(opened.ok());
    inner_ = std::move(*opened);
  }

  Result<std::vector<StoredAlert>> LoadAlerts(TimePoint resolved_since) override {
    return inner_->LoadAlerts(resolved_since);
  }
  Status WriteAlerts(const std::vector<StoredAlert>& upserts,
                     const std::vector<StoredAlert>& deletes) override {
    ++writes;
    if (full) {
      return Error::Io("database or disk is full");
    }
    return inner_->WriteAlerts(upserts, deletes);
  }
  Result<std::optional<NotificationLogEntry>> GetNotification(
      const std::string& receiver, const std::string& group_key) override {
    return inner_->GetNotification(receiver, group_key);
  }
  Status PutNotification(const NotificationLogEntry& entry) override {
    return inner_->PutNotification(entry);
  }
  Status PruneNotifications(TimePoint before) override {
    return inner_->PruneNotifications(before);
  }

  bool full = false;
  int writes = 0;

 private:
  std::unique_ptr<StateStore> inner_;
};

TEST(RuleManagerWriteFailure, RowsAreWrittenOnceTheStoreRecovers) {
  std::vector<rules::RuleError> errors;
  auto file = rules::ParseRuleFile(
      "groups:\n  - name: g\n    interval: 10s\n    rules:\n"
      "      - alert: Down\n        expr: up == 0\n        for: 20s\n",
      "rules.yml",
      &errors);
  ASSERT_TRUE(file.ok());
  std::vector<rules::RuleFile> files = {*file};
  FakeClock clock(FromMillis(1700000000000));
  MemorySampleStore samples;
  FullDiskStore store;
  RuleManagerOptions options;
  auto manager = RuleManager::Create(files, options, &samples, &samples, &store, &clock);
  ASSERT_TRUE(manager.ok()) << manager.error().message();
  auto step = [&](double up) {
    samples.Append(Labels{{"__name__", "up"}, {"instance", "a"}}, ToMillis(clock.Now()), up);
    (*manager)->EvalGroup(0);
    clock.Advance(seconds(10));
  };

  store.full = true;
  step(0);  // pending: the write fails
  step(0);  // nothing changed, but the unwritten row is tried again
  step(0);  // firing: the write fails again
  EXPECT_EQ(store.writes, 3);
  ASSERT_EQ((*manager)->ActiveAlerts().size(), 1u);
  EXPECT_EQ((*manager)->ActiveAlerts()[0].alert.state, AlertState::kFiring);
  auto rows = store.LoadAlerts(TimePoint{});
  ASSERT_TRUE(rows.ok());
  EXPECT_TRUE(rows->empty());

  // Evaluation went on throughout; once the disk has room the latest row is written.
  store.full = false;
  step(0);
  rows = store.LoadAlerts(TimePoint{});
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ((*rows)[0].state, AlertState::kFiring);
  EXPECT_EQ((*rows)[0].active_at, FromMillis(1700000000000));

  // With nothing left unwritten, an evaluation without changes writes nothing.
  const int writes = store.writes;
  step(0);
  EXPECT_EQ(store.writes, writes);
}

TEST(RuleManagerWriteFailure, UnwrittenDeleteIsRetried) {
  std::vector<rules::RuleError> errors;
  auto file = rules::ParseRuleFile(
      "groups:\n  - name: g\n    interval: 10s\n    rules:\n"
      "      - alert: Down\n        expr: up == 0\n        for: 1m\n",
      "rules.yml",
      &errors);
  ASSERT_TRUE(file.ok());
  std::vector<rules::RuleFile> files = {*file};
  FakeClock clock(FromMillis(1700000000000));
  MemorySampleStore samples;
  FullDiskStore store;
  auto manager = RuleManager::Create(files, {}, &samples, &samples, &store, &clock);
  ASSERT_TRUE(manager.ok());
  auto step = [&](double up) {
    samples.Append(Labels{{"__name__", "up"}, {"instance", "a"}}, ToMillis(clock.Now()), up);
    (*manager)->EvalGroup(0);
    clock.Advance(seconds(10));
  };
  step(0);  // pending, written
  auto rows = store.LoadAlerts(TimePoint{});
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 1u);
  store.full = true;
  step(1);  // the pending alert ends: its delete fails
  store.full = false;
  step(1);
  rows = store.LoadAlerts(TimePoint{});
  ASSERT_TRUE(rows.ok());
  EXPECT_TRUE(rows->empty());
}

}  // namespace
}  // namespace alertd
