#include "storage/sqlite_state_store.h"

#include <unistd.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <thread>

#include <gtest/gtest.h>
#include <sqlite3.h>

#include "storage/state_store.h"

namespace alertd {
namespace {

using std::chrono::minutes;
using std::chrono::seconds;

const TimePoint kT0 = FromMillis(1'700'000'000'000);

std::unique_ptr<StateStore> MustOpen(const std::string& path) {
  auto store = OpenSqliteStateStore(path);
  EXPECT_TRUE(store.ok()) << store.error().message();
  return store.ok() ? std::move(store).value() : nullptr;
}

StoredAlert MakeAlert(std::string instance, AlertState state = AlertState::kFiring) {
  StoredAlert alert;
  alert.rule_key =
      "rules/node.yml\x1fnode\x1f"
      "0\x1fInstanceDown";
  alert.labels = Labels{{"alertname", "InstanceDown"}, {"instance", std::move(instance)}};
  alert.annotations = Labels{{"summary", "instance is down"}};
  alert.state = state;
  alert.value = 1.5;
  alert.active_at = kT0;
  if (state == AlertState::kFiring) {
    alert.fired_at = kT0 + minutes(5);
  }
  alert.last_eval = kT0 + minutes(6);
  return alert;
}

void ExpectSameAlert(const StoredAlert& got, const StoredAlert& want) {
  EXPECT_EQ(got.rule_key, want.rule_key);
  EXPECT_EQ(got.labels, want.labels);
  EXPECT_EQ(got.annotations, want.annotations);
  EXPECT_EQ(got.state, want.state);
  EXPECT_EQ(got.value, want.value);
  EXPECT_EQ(got.active_at, want.active_at);
  EXPECT_EQ(got.fired_at, want.fired_at);
  EXPECT_EQ(got.resolved_at, want.resolved_at);
  EXPECT_EQ(got.keep_firing_since, want.keep_firing_since);
  EXPECT_EQ(got.last_eval, want.last_eval);
}

// A file path in a fresh directory, removed with the fixture.
class TempDir {
 public:
  TempDir() {
    dir_ = std::filesystem::temp_directory_path() /
           ("alertd-state-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter_++));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }

  ~TempDir() { std::filesystem::remove_all(dir_); }

  std::string Path(const std::string& name) const { return (dir_ / name).string(); }

 private:
  static inline int counter_ = 0;
  std::filesystem::path dir_;
};

// Reads one integer with a separate connection, to check what is on disk.
int64_t QueryInt(const std::string& path, const char* sql) {
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(db, sql, -1, &stmt, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
  int64_t value = -1;
  if (sqlite3_step(stmt) == SQLITE_ROW) {
    value = sqlite3_column_int64(stmt, 0);
  }
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return value;
}

TEST(SqliteStateStoreTest, AlertRoundTripKeepsEveryField) {
  auto store = MustOpen(":memory:");
  ASSERT_NE(store, nullptr);
  StoredAlert firing = MakeAlert("a");
  firing.keep_firing_since = kT0 + minutes(7);
  StoredAlert resolved = MakeAlert("b", AlertState::kInactive);
  resolved.fired_at = kT0 + minutes(1);
  resolved.resolved_at = kT0 + minutes(3);
  StoredAlert pending = MakeAlert("c", AlertState::kPending);

  ASSERT_TRUE(store->WriteAlerts({firing, resolved, pending}, {}).ok());
  auto loaded = store->LoadAlerts(kT0);
  ASSERT_TRUE(loaded.ok()) << loaded.error().message();
  ASSERT_EQ(loaded->size(), 3u);
  // Rows come back ordered by rule key, then labels.
  ExpectSameAlert((*loaded)[0], firing);
  ExpectSameAlert((*loaded)[1], resolved);
  ExpectSameAlert((*loaded)[2], pending);
}

TEST(SqliteStateStoreTest, NaNAndInfinityValuesRoundTrip) {
  auto store = MustOpen(":memory:");
  ASSERT_NE(store, nullptr);
  StoredAlert nan_alert = MakeAlert("nan");
  nan_alert.value = std::nan("");
  StoredAlert inf_alert = MakeAlert("inf");
  inf_alert.value = -INFINITY;
  ASSERT_TRUE(store->WriteAlerts({nan_alert, inf_alert}, {}).ok());
  auto loaded = store->LoadAlerts(kT0);
  ASSERT_TRUE(loaded.ok());
  ASSERT_EQ(loaded->size(), 2u);
  EXPECT_EQ((*loaded)[0].labels.Get("instance"), "inf");
  EXPECT_EQ((*loaded)[0].value, -INFINITY);
  EXPECT_TRUE(std::isnan((*loaded)[1].value));
}

TEST(SqliteStateStoreTest, UpsertReplacesAlertWithSameRuleAndLabels) {
  auto store = MustOpen(":memory:");
  ASSERT_NE(store, nullptr);
  StoredAlert pending = MakeAlert("a", AlertState::kPending);
  ASSERT_TRUE(store->WriteAlerts({pending}, {}).ok());
  StoredAlert firing = MakeAlert("a");
  firing.value = 42;
  ASSERT_TRUE(store->WriteAlerts({firing}, {}).ok());

  auto loaded = store->LoadAlerts(kT0);
  ASSERT_TRUE(loaded.ok());
  ASSERT_EQ(loaded->size(), 1u);
  ExpectSameAlert((*loaded)[0], firing);
}

TEST(SqliteStateStoreTest, SameLabelsUnderAnotherRuleAreSeparateRows) {
  auto store = MustOpen(":memory:");
  ASSERT_NE(store, nullptr);
  StoredAlert first = MakeAlert("a");
  StoredAlert second = MakeAlert("a");
  second.rule_key =
      "rules/other.yml\x1fother\x1f"
      "0\x1fInstanceDown";
  ASSERT_TRUE(store->WriteAlerts({first, second}, {}).ok());
  auto loaded = store->LoadAlerts(kT0);
  ASSERT_TRUE(loaded.ok());
  EXPECT_EQ(loaded->size(), 2u);
}

TEST(SqliteStateStoreTest, DeleteRemovesOnlyTheNamedAlert) {
  auto store = MustOpen(":memory:");
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->WriteAlerts({MakeAlert("a"), MakeAlert("b")}, {}).ok());
  // Only rule_key and labels identify the row; the other fields of a delete are ignored.
  StoredAlert key = MakeAlert("a", AlertState::kPending);
  key.value = -1;
  ASSERT_TRUE(store->WriteAlerts({}, {key}).ok());

  auto loaded = store->LoadAlerts(kT0);
  ASSERT_TRUE(loaded.ok());
  ASSERT_EQ(loaded->size(), 1u);
  EXPECT_EQ((*loaded)[0].labels.Get("instance"), "b");
}

TEST(SqliteStateStoreTest, DeleteOfMissingAlertSucceeds) {
  auto store = MustOpen(":memory:");
  ASSERT_NE(store, nullptr);
  EXPECT_TRUE(store->WriteAlerts({}, {MakeAlert("never-written")}).ok());
}

TEST(SqliteStateStoreTest, DeleteAndUpsertOfSameAlertInOneCallKeepsTheUpsert) {
  auto store = MustOpen(":memory:");
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->WriteAlerts({MakeAlert("a")}, {}).ok());
  StoredAlert replacement = MakeAlert("a", AlertState::kPending);
  ASSERT_TRUE(store->WriteAlerts({replacement}, {MakeAlert("a")}).ok());
  auto loaded = store->LoadAlerts(kT0);
  ASSERT_TRUE(loaded.ok());
  ASSERT_EQ(loaded->size(), 1u);
  EXPECT_EQ((*loaded)[0].state, AlertState::kPending);
}

TEST(SqliteStateStoreTest, LoadReturnsResolvedAlertsOnlyFromResolvedSince) {
  auto store = MustOpen(":memory:");
  ASSERT_NE(store, nullptr);
  StoredAlert old_resolved = MakeAlert("old", AlertState::kInactive);
  old_resolved.resolved_at = kT0 + minutes(1);
  StoredAlert boundary = MakeAlert("boundary", AlertState::kInactive);
  boundary.resolved_at = kT0 + minutes(10);
  StoredAlert recent = MakeAlert("recent", AlertState::kInactive);
  recent.resolved_at = kT0 + minutes(20);
  StoredAlert firing = MakeAlert("firing");
  ASSERT_TRUE(store->WriteAlerts({old_resolved, boundary, recent, firing}, {}).ok());

  auto loaded = store->LoadAlerts(kT0 + minutes(10));
  ASSERT_TRUE(loaded.ok());
  std::vector<std::string> instances;
  for (const auto& alert : *loaded) {
    instances.emplace_back(alert.labels.Get("instance"));
  }
  EXPECT_EQ(instances, (std::vector<std::string>{"boundary", "firing", "recent"}));
}

TEST(SqliteStateStoreTest, ReopenedFileKeepsAlertsAndNotifications) {
  TempDir dir;
  const std::string path = dir.Path("alertd.db");
  StoredAlert alert = MakeAlert("a");
  NotificationLogEntry entry{"team/slack/0", "{}:{alertname=\"A\"}", {1, 2}, {3}, kT0};
  {
    auto store = MustOpen(path);
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(store->WriteAlerts({alert}, {}).ok());
    ASSERT_TRUE(store->PutNotification(entry).ok());
  }
  auto store = MustOpen(path);
  ASSERT_NE(store, nullptr);
  auto loaded = store->LoadAlerts(kT0);
  ASSERT_TRUE(loaded.ok());
  ASSERT_EQ(loaded->size(), 1u);
  ExpectSameAlert((*loaded)[0], alert);
  auto got = store->GetNotification(entry.receiver, entry.group_key);
  ASSERT_TRUE(got.ok());
  ASSERT_TRUE(got->has_value());
  EXPECT_EQ((*got)->firing, entry.firing);
}

TEST(SqliteStateStoreTest, NewFileHasSchemaVersionAndWalMode) {
  TempDir dir;
  const std::string path = dir.Path("alertd.db");
  auto store = MustOpen(path);
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(QueryInt(path, "PRAGMA user_version"), kStateSchemaVersion);
  EXPECT_EQ(QueryInt(path, "SELECT count(*) FROM sqlite_master WHERE name = 'alerts'"), 1);
  EXPECT_EQ(QueryInt(path, "SELECT count(*) FROM sqlite_master WHERE name = 'notification_log'"),
            1);
  // The journal mode of a WAL database is persistent and readable from any connection.
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &stmt, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(stmt), SQLITE_ROW);
  EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0)), "wal");
  sqlite3_finalize(stmt);
  sqlite3_close(db);
}

TEST(SqliteStateStoreTest, ReopenDoesNotRerunMigrations) {
  TempDir dir;
  const std::string path = dir.Path("alertd.db");
  ASSERT_NE(MustOpen(path), nullptr);
  // A second open of a current database must succeed; rerunning migration 1 would fail on
  // "table alerts already exists".
  auto again = OpenSqliteStateStore(path);
  ASSERT_TRUE(again.ok()) << again.error().message();
  EXPECT_EQ(QueryInt(path, "PRAGMA user_version"), kStateSchemaVersion);
}

TEST(SqliteStateStoreTest, NewerSchemaVersionIsRejected) {
  TempDir dir;
  const std::string path = dir.Path("alertd.db");
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "PRAGMA user_version = 99", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);

  auto store = OpenSqliteStateStore(path);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.error().message(),
            "state database " + path +
                " has schema version 99, newer than the version " + std::to_string(kStateSchemaVersion) +
                " this alertd supports. Run a "
                "newer alertd or move the file away");
}

TEST(SqliteStateStoreTest, GarbageFileGivesErrorNamingPath) {
  TempDir dir;
  const std::string path = dir.Path("alertd.db");
  {
    std::ofstream out(path, std::ios::binary);
    for (int i = 0; i < 512; ++i) {
      out << "this is not an SQLite database\n";
    }
  }
  auto store = OpenSqliteStateStore(path);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.error().code(), ErrorCode::kIo);
  EXPECT_EQ(store.error().message(),
            "state database " + path +
                ": failed to enable WAL mode: file is not a database. Move the file away to "
                "start with empty alert state, or restore a backup");
}

TEST(SqliteStateStoreTest, MissingDirectoryGivesErrorNamingPath) {
  TempDir dir;
  const std::string path = dir.Path("missing-dir/alertd.db");
  auto store = OpenSqliteStateStore(path);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.error().message(),
            "state database " + path +
                ": failed to open the file: unable to open database file. Check that the "
                "directory exists and that alertd may write to it");
}

TEST(SqliteStateStoreTest, NotificationLogPutGetReplace) {
  auto store = MustOpen(":memory:");
  ASSERT_NE(store, nullptr);
  auto missing = store->GetNotification("r", "g");
  ASSERT_TRUE(missing.ok());
  EXPECT_FALSE(missing->has_value());

  NotificationLogEntry entry{
      "team/webhook/0", "{}/{}:{job=\"node\"}", {1, 0xfedcba9876543210ULL}, {7}, kT0};
  ASSERT_TRUE(store->PutNotification(entry).ok());
  entry.firing = {};
  entry.resolved = {1, 7, 0xfedcba9876543210ULL};
  entry.sent_at = kT0 + minutes(5);
  ASSERT_TRUE(store->PutNotification(entry).ok());

  auto got = store->GetNotification(entry.receiver, entry.group_key);
  ASSERT_TRUE(got.ok());
  ASSERT_TRUE(got->has_value());
  EXPECT_EQ((*got)->receiver, entry.receiver);
  EXPECT_EQ((*got)->group_key, entry.group_key);
  EXPECT_TRUE((*got)->firing.empty());
  EXPECT_EQ((*got)->resolved, entry.resolved);
  EXPECT_EQ((*got)->sent_at, entry.sent_at);
  auto other_receiver = store->GetNotification("team/slack/0", entry.group_key);
  ASSERT_TRUE(other_receiver.ok());
  EXPECT_FALSE(other_receiver->has_value());
}

TEST(SqliteStateStoreTest, PruneRemovesEntriesSentBefore) {
  auto store = MustOpen(":memory:");
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->PutNotification({"r", "old", {1}, {}, kT0}).ok());
  ASSERT_TRUE(store->PutNotification({"r", "boundary", {1}, {}, kT0 + minutes(10)}).ok());
  ASSERT_TRUE(store->PutNotification({"r", "new", {1}, {}, kT0 + minutes(20)}).ok());

  ASSERT_TRUE(store->PruneNotifications(kT0 + minutes(10)).ok());
  auto old_entry = store->GetNotification("r", "old");
  auto boundary = store->GetNotification("r", "boundary");
  auto new_entry = store->GetNotification("r", "new");
  ASSERT_TRUE(old_entry.ok() && boundary.ok() && new_entry.ok());
  EXPECT_FALSE(old_entry->has_value());
  EXPECT_TRUE(boundary->has_value());
  EXPECT_TRUE(new_entry->has_value());
}

TEST(SqliteStateStoreTest, FailedWriteRollsBackTheWholeCall) {
  TempDir dir;
  const std::string path = dir.Path("alertd.db");
  auto store = MustOpen(path);
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->WriteAlerts({MakeAlert("kept")}, {}).ok());
  // A trigger makes the second upsert of the call fail, after the first one ran.
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db,
                         "CREATE TRIGGER reject_b BEFORE INSERT ON alerts "
                         "WHEN json_extract(NEW.labels, '$.instance') = 'b' "
                         "BEGIN SELECT RAISE(ABORT, 'instance b rejected'); END",
                         nullptr,
                         nullptr,
                         nullptr),
            SQLITE_OK);
  sqlite3_close(db);

  Status status = store->WriteAlerts({MakeAlert("a"), MakeAlert("b")}, {MakeAlert("kept")});
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().message(),
            "state database " + path +
                ": failed to write alert {alertname=\"InstanceDown\", instance=\"b\"}: instance b "
                "rejected");
  auto loaded = store->LoadAlerts(kT0);
  ASSERT_TRUE(loaded.ok());
  ASSERT_EQ(loaded->size(), 1u);
  EXPECT_EQ((*loaded)[0].labels.Get("instance"), "kept");
}

TEST(SqliteStateStoreTest, ConcurrentWritersAllSucceed) {
  auto store = MustOpen(":memory:");
  ASSERT_NE(store, nullptr);
  constexpr int kThreads = 4;
  constexpr int kAlertsPerThread = 50;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&store, t] {
      for (int i = 0; i < kAlertsPerThread; ++i) {
        StoredAlert alert = MakeAlert(std::to_string(t) + "-" + std::to_string(i));
        EXPECT_TRUE(store->WriteAlerts({alert}, {}).ok());
        EXPECT_TRUE(store->PutNotification({"r", alert.labels.Fingerprint(), {}, {}, kT0}).ok());
      }
    });
  }
  for (auto& thread : threads) {
    thread.join();
  }
  auto loaded = store->LoadAlerts(kT0);
  ASSERT_TRUE(loaded.ok());
  EXPECT_EQ(loaded->size(), static_cast<size_t>(kThreads * kAlertsPerThread));
}

}  // namespace
}  // namespace alertd
