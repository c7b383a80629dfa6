#include "notifiers/alert_store.h"

#include <chrono>
#include <memory>

#include <gtest/gtest.h>

#include "storage/state_store.h"

namespace alertd {
namespace {

using std::chrono::hours;
using std::chrono::minutes;

const TimePoint kT0 = FromMillis(1'700'000'000'000);
const Duration kResolveTimeout = minutes(5);

StoreAlert MakeAlert(TimePoint starts, TimePoint ends) {
  StoreAlert alert;
  alert.labels = Labels{{"alertname", "Down"}, {"instance", "a"}};
  alert.annotations = Labels{{"summary", "down"}};
  alert.starts_at = starts;
  alert.ends_at = ends;
  alert.generator_url = "http://prometheus/graph";
  return alert;
}

std::unique_ptr<StateStore> OpenMemoryStore() {
  auto store = OpenSqliteStateStore(":memory:");
  EXPECT_TRUE(store.ok());
  return std::move(store).value();
}

TEST(AlertStoreTest, MissingEndBecomesResolveTimeoutAndIsTimed) {
  FakeClock clock(kT0);
  AlertStore store(nullptr, &clock, kResolveTimeout);
  ASSERT_TRUE(store.Put({MakeAlert(kT0 - minutes(1), TimePoint{})}).ok());
  auto got = store.Get(MakeAlert({}, {}).labels);
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->ends_at, kT0 + kResolveTimeout);
  EXPECT_TRUE(got->timeout);
  EXPECT_EQ(got->updated_at, kT0);
  EXPECT_EQ(got->starts_at, kT0 - minutes(1));
}

TEST(AlertStoreTest, MissingStartBecomesEndOrNow) {
  FakeClock clock(kT0);
  AlertStore store(nullptr, &clock, kResolveTimeout);
  StoreAlert with_end = MakeAlert(TimePoint{}, kT0 + minutes(3));
  StoreAlert without = MakeAlert(TimePoint{}, TimePoint{});
  without.labels = Labels{{"alertname", "Other"}};
  ASSERT_TRUE(store.Put({with_end, without}).ok());
  EXPECT_EQ(store.Get(with_end.labels)->starts_at, kT0 + minutes(3));
  EXPECT_EQ(store.Get(without.labels)->starts_at, kT0);
}

TEST(AlertStoreTest, TimedAlertIsExtendedByRepost) {
  FakeClock clock(kT0);
  AlertStore store(nullptr, &clock, kResolveTimeout);
  ASSERT_TRUE(store.Put({MakeAlert(kT0, TimePoint{})}).ok());
  clock.Advance(minutes(2));
  ASSERT_TRUE(store.Put({MakeAlert(kT0 + minutes(1), TimePoint{})}).ok());
  auto got = store.Get(MakeAlert({}, {}).labels);
  EXPECT_EQ(got->ends_at, kT0 + minutes(2) + kResolveTimeout);
  EXPECT_EQ(got->starts_at, kT0);  // the earliest start of overlapping versions
}

TEST(AlertStoreTest, MergeKeepsSenderEndOverLaterTimedEnd) {
  StoreAlert older = MakeAlert(kT0, kT0 + hours(1));
  older.updated_at = kT0;
  StoreAlert newer = MakeAlert(kT0 + minutes(1), kT0 + minutes(10));
  newer.updated_at = kT0 + minutes(1);
  StoreAlert merged = MergeAlerts(older, newer, kT0 + minutes(1));
  EXPECT_EQ(merged.starts_at, kT0);
  EXPECT_EQ(merged.ends_at, kT0 + hours(1));
  older.timeout = true;
  merged = MergeAlerts(older, newer, kT0 + minutes(1));
  EXPECT_EQ(merged.ends_at, kT0 + minutes(10));
  // The order of the arguments does not matter: the later update wins.
  EXPECT_EQ(MergeAlerts(newer, older, kT0 + minutes(1)).ends_at, kT0 + minutes(10));
}

TEST(AlertStoreTest, MergeOfResolvedAlertsKeepsLatestResolution) {
  StoreAlert older = MakeAlert(kT0, kT0 + minutes(8));
  older.updated_at = kT0;
  StoreAlert newer = MakeAlert(kT0, kT0 + minutes(5));
  newer.updated_at = kT0 + minutes(1);
  EXPECT_EQ(MergeAlerts(older, newer, kT0 + minutes(10)).ends_at, kT0 + minutes(8));
}

TEST(AlertStoreTest, ResolvedRepostResolvesStoredAlert) {
  FakeClock clock(kT0);
  AlertStore store(nullptr, &clock, kResolveTimeout);
  ASSERT_TRUE(store.Put({MakeAlert(kT0 - hours(1), TimePoint{})}).ok());
  clock.Advance(minutes(1));
  ASSERT_TRUE(store.Put({MakeAlert(kT0 - hours(1), kT0 + minutes(1))}).ok());
  auto got = store.Get(MakeAlert({}, {}).labels);
  EXPECT_EQ(got->ends_at, kT0 + minutes(1));
  EXPECT_FALSE(got->timeout);
  EXPECT_TRUE(AlertResolvedAt(*got, clock.Now()));
}

TEST(AlertStoreTest, NonOverlappingAlertReplacesOldOne) {
  FakeClock clock(kT0);
  AlertStore store(nullptr, &clock, kResolveTimeout);
  ASSERT_TRUE(store.Put({MakeAlert(kT0 - hours(2), kT0 - hours(1))}).ok());
  ASSERT_TRUE(store.Put({MakeAlert(kT0, kT0 + hours(1))}).ok());
  EXPECT_EQ(store.Get(MakeAlert({}, {}).labels)->starts_at, kT0);
}

TEST(AlertStoreTest, PutForwardsToListener) {
  FakeClock clock(kT0);
  AlertStore store(nullptr, &clock, kResolveTimeout);
  std::vector<NotifyAlert> seen;
  store.SetListener([&](std::vector<NotifyAlert> alerts) {
    seen.insert(seen.end(), alerts.begin(), alerts.end());
  });
  ASSERT_TRUE(store.Put({MakeAlert(kT0, TimePoint{})}).ok());
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].labels, MakeAlert({}, {}).labels);
  EXPECT_EQ(seen[0].ends_at, kT0 + kResolveTimeout);
  EXPECT_EQ(seen[0].generator_url, "http://prometheus/graph");
}

TEST(AlertStoreTest, RestartReloadsAndReplaysAlerts) {
  auto db = OpenMemoryStore();
  FakeClock clock(kT0);
  {
    AlertStore store(db.get(), &clock, kResolveTimeout);
    ASSERT_TRUE(store.Put({MakeAlert(kT0, TimePoint{})}).ok());
  }
  AlertStore reloaded(db.get(), &clock, kResolveTimeout);
  std::vector<NotifyAlert> seen;
  reloaded.SetListener([&](std::vector<NotifyAlert> alerts) { seen = std::move(alerts); });
  auto count = reloaded.Load();
  ASSERT_TRUE(count.ok());
  EXPECT_EQ(*count, 1u);
  EXPECT_TRUE(reloaded.Get(MakeAlert({}, {}).labels)->timeout);
  reloaded.Replay();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].ends_at, kT0 + kResolveTimeout);
}

TEST(AlertStoreTest, GcDropsResolvedAlertsFromMemoryAndDatabase) {
  auto db = OpenMemoryStore();
  FakeClock clock(kT0);
  AlertStore store(db.get(), &clock, kResolveTimeout);
  StoreAlert firing = MakeAlert(kT0, kT0 + hours(1));
  firing.labels = Labels{{"alertname", "Firing"}};
  ASSERT_TRUE(store.Put({MakeAlert(kT0, TimePoint{}), firing}).ok());
  EXPECT_EQ(store.Gc(), 0u);
  clock.Advance(kResolveTimeout + minutes(1));
  EXPECT_EQ(store.Gc(), 1u);
  EXPECT_EQ(store.size(), 1u);
  auto stored = db->LoadReceivedAlerts();
  ASSERT_TRUE(stored.ok());
  ASSERT_EQ(stored->size(), 1u);
  EXPECT_EQ((*stored)[0].labels, firing.labels);
}

// A state store whose alert writes fail, as with a full disk.
class FailingStore final : public StateStore {
 public:
  Result<std::vector<StoredAlert>> LoadAlerts(TimePoint) override {
    return std::vector<StoredAlert>{};
  }

  Status WriteAlerts(const std::vector<StoredAlert>&, const std::vector<StoredAlert>&) override {
    return Status::Ok();
  }

  Result<std::optional<NotificationLogEntry>> GetNotification(const std::string&,
                                                              const std::string&) override {
    return std::optional<NotificationLogEntry>();
  }

  Status PutNotification(const NotificationLogEntry&) override { return Status::Ok(); }

  Status PruneNotifications(TimePoint) override { return Status::Ok(); }

  Status WriteReceivedAlerts(const std::vector<StoredReceivedAlert>&,
                             const std::vector<Labels>&) override {
    return Error::Io("disk full");
  }
};

TEST(AlertStoreTest, FailedWriteIsReturnedButAlertIsForwarded) {
  FailingStore db;
  FakeClock clock(kT0);
  AlertStore store(&db, &clock, kResolveTimeout);
  size_t forwarded = 0;
  store.SetListener([&](std::vector<NotifyAlert> alerts) { forwarded += alerts.size(); });
  Status status = store.Put({MakeAlert(kT0, TimePoint{})});
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().message(), "disk full");
  EXPECT_EQ(forwarded, 1u);
  EXPECT_EQ(store.size(), 1u);
}

// A SQLite state store whose received-alert writes fail while `full` is set.
class FlakyStore final : public StateStore {
 public:
  FlakyStore() : inner_(std::move(OpenSqliteStateStore(":memory:").value())) {}

  Result<std::vector<StoredAlert>> LoadAlerts(TimePoint t) override {
    return inner_->LoadAlerts(t);
  }
  Status WriteAlerts(const std::vector<StoredAlert>& u,
                     const std::vector<StoredAlert>& d) override {
    return inner_->WriteAlerts(u, d);
  }
  Result<std::optional<NotificationLogEntry>> GetNotification(const std::string& r,
                                                              const std::string& g) override {
    return inner_->GetNotification(r, g);
  }
  Status PutNotification(const NotificationLogEntry& e) override {
    return inner_->PutNotification(e);
  }
  Status PruneNotifications(TimePoint t) override { return inner_->PruneNotifications(t); }
  Result<std::vector<StoredReceivedAlert>> LoadReceivedAlerts() override {
    return inner_->LoadReceivedAlerts();
  }
  Status WriteReceivedAlerts(const std::vector<StoredReceivedAlert>& upserts,
                             const std::vector<Labels>& deletes) override {
    if (full) {
      return Error::Io("database or disk is full");
    }
    return inner_->WriteReceivedAlerts(upserts, deletes);
  }

  bool full = false;

 private:
  std::unique_ptr<StateStore> inner_;
};

TEST(AlertStoreTest, FailedWriteIsRetried) {
  FlakyStore db;
  FakeClock clock(kT0);
  AlertStore store(&db, &clock, kResolveTimeout);
  db.full = true;
  StoreAlert first = MakeAlert(kT0, TimePoint{});
  ASSERT_FALSE(store.Put({first}).ok());
  EXPECT_FALSE(store.RetryWrites().ok());
  db.full = false;
  ASSERT_TRUE(store.RetryWrites().ok());
  auto rows = db.LoadReceivedAlerts();
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ((*rows)[0].labels, first.labels);
  // Nothing is left to write.
  db.full = true;
  EXPECT_TRUE(store.RetryWrites().ok());
}

TEST(AlertStoreTest, NextPutWritesEarlierFailedAlerts) {
  FlakyStore db;
  FakeClock clock(kT0);
  AlertStore store(&db, &clock, kResolveTimeout);
  db.full = true;
  StoreAlert first = MakeAlert(kT0, TimePoint{});
  ASSERT_FALSE(store.Put({first}).ok());
  db.full = false;
  StoreAlert second = first;
  second.labels = Labels{{"alertname", "Other"}};
  ASSERT_TRUE(store.Put({second}).ok());
  auto rows = db.LoadReceivedAlerts();
  ASSERT_TRUE(rows.ok());
  EXPECT_EQ(rows->size(), 2u);
}

}  // namespace
}  // namespace alertd
