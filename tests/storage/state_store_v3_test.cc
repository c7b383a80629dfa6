// Schema version 3: received_alerts.received_from, and the migrations from versions 1 and 2.
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <string>

#include <gtest/gtest.h>
#include <sqlite3.h>

#include "storage/sqlite_state_store.h"
#include "storage/state_store.h"

namespace alertd {
namespace {

using std::chrono::minutes;

const TimePoint kT0 = FromMillis(1'700'000'000'000);

// The version 2 schema exactly as migrations 1 and 2 created it, with one received alert, so
// the fixture is a database an alertd with schema version 2 wrote.
constexpr char kVersion2Sql[] = R"sql(
CREATE TABLE alerts (
  rule_key          TEXT    NOT NULL,
  labels_hash       TEXT    NOT NULL,
  labels            TEXT    NOT NULL,
  annotations       TEXT    NOT NULL,
  state             TEXT    NOT NULL CHECK (state IN ('inactive', 'pending', 'firing')),
  value             REAL,
  active_at         INTEGER NOT NULL,
  fired_at          INTEGER,
  resolved_at       INTEGER,
  keep_firing_since INTEGER,
  last_eval         INTEGER NOT NULL,
  PRIMARY KEY (rule_key, labels)
) WITHOUT ROWID;
CREATE INDEX alerts_by_labels_hash ON alerts (labels_hash);
CREATE TABLE notification_log (
  receiver  TEXT    NOT NULL,
  group_key TEXT    NOT NULL,
  firing    TEXT    NOT NULL,
  resolved  TEXT    NOT NULL,
  sent_at   INTEGER NOT NULL,
  PRIMARY KEY (receiver, group_key)
) WITHOUT ROWID;
CREATE INDEX notification_log_by_sent_at ON notification_log (sent_at);
CREATE TABLE silences (
  id         TEXT    NOT NULL PRIMARY KEY,
  matchers   TEXT    NOT NULL,
  starts_at  INTEGER NOT NULL,
  ends_at    INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  created_by TEXT    NOT NULL,
  comment    TEXT    NOT NULL
) WITHOUT ROWID;
CREATE INDEX silences_by_ends_at ON silences (ends_at);
CREATE TABLE received_alerts (
  labels        TEXT    NOT NULL PRIMARY KEY,
  fingerprint   TEXT    NOT NULL,
  annotations   TEXT    NOT NULL,
  starts_at     INTEGER NOT NULL,
  ends_at       INTEGER NOT NULL,
  updated_at    INTEGER NOT NULL,
  generator_url TEXT    NOT NULL,
  timeout       INTEGER NOT NULL CHECK (timeout IN (0, 1))
) WITHOUT ROWID;
CREATE INDEX received_alerts_by_fingerprint ON received_alerts (fingerprint);
INSERT INTO received_alerts VALUES ('{"alertname":"Down","instance":"a"}', '0000000000000001',
  '{"summary":"down"}', 1700000000000, 1700000300000, 1700000060000, 'http://p/graph', 1);
PRAGMA user_version = 2;
)sql";

class TempDir {
 public:
  TempDir() {
    dir_ =
        std::filesystem::temp_directory_path() /
        ("alertd-state-v3-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter_++));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }

  ~TempDir() { std::filesystem::remove_all(dir_); }

  std::string Path(const std::string& name) const { return (dir_ / name).string(); }

 private:
  static inline int counter_ = 0;
  std::filesystem::path dir_;
};

std::unique_ptr<StateStore> MustOpen(const std::string& path) {
  auto store = OpenSqliteStateStore(path);
  EXPECT_TRUE(store.ok()) << store.error().message();
  return store.ok() ? std::move(store).value() : nullptr;
}

int QueryInt(const std::string& path, const char* sql) {
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(db, sql, -1, &stmt, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
  int value = -1;
  if (sqlite3_step(stmt) == SQLITE_ROW) {
    value = sqlite3_column_int(stmt, 0);
  }
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return value;
}

StoredReceivedAlert MakeReceived(std::string instance, std::string received_from) {
  StoredReceivedAlert alert;
  alert.labels = Labels{{"alertname", "Down"}, {"instance", std::move(instance)}};
  alert.annotations = Labels{{"summary", "down"}};
  alert.starts_at = kT0;
  alert.ends_at = kT0 + minutes(5);
  alert.updated_at = kT0 + minutes(1);
  alert.timeout = true;
  alert.received_from = std::move(received_from);
  return alert;
}

TEST(StateStoreV3Test, VersionTwoDatabaseMigratesKeepingRowsWithAnEmptyReceivedFrom) {
  TempDir dir;
  const std::string path = dir.Path("alertd.db");
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, kVersion2Sql, nullptr, nullptr, nullptr), SQLITE_OK)
      << sqlite3_errmsg(db);
  sqlite3_close(db);

  auto store = MustOpen(path);
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(QueryInt(path, "PRAGMA user_version"), 3);
  auto received = store->LoadReceivedAlerts();
  ASSERT_TRUE(received.ok()) << received.error().message();
  ASSERT_EQ(received->size(), 1u);
  EXPECT_EQ((*received)[0].labels, (Labels{{"alertname", "Down"}, {"instance", "a"}}));
  EXPECT_EQ((*received)[0].ends_at, kT0 + minutes(5));
  EXPECT_EQ((*received)[0].generator_url, "http://p/graph");
  EXPECT_TRUE((*received)[0].timeout);
  EXPECT_EQ((*received)[0].received_from, "");
}

TEST(StateStoreV3Test, ReceivedFromSurvivesAReopen) {
  TempDir dir;
  const std::string path = dir.Path("alertd.db");
  {
    auto store = MustOpen(path);
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(
        store->WriteReceivedAlerts({MakeReceived("a", "am-eu"), MakeReceived("b", "")}, {}).ok());
  }
  auto store = MustOpen(path);
  ASSERT_NE(store, nullptr);
  auto received = store->LoadReceivedAlerts();
  ASSERT_TRUE(received.ok()) << received.error().message();
  ASSERT_EQ(received->size(), 2u);
  EXPECT_EQ((*received)[0], MakeReceived("a", "am-eu"));
  EXPECT_EQ((*received)[1], MakeReceived("b", ""));
}

TEST(StateStoreV3Test, VersionOneDatabaseMigratesThroughVersionTwo) {
  TempDir dir;
  const std::string path = dir.Path("alertd.db");
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  // Only the version 1 tables, as migration 1 made them (the notification log suffices here).
  ASSERT_EQ(sqlite3_exec(db,
                         "CREATE TABLE alerts (rule_key TEXT NOT NULL, labels_hash TEXT NOT NULL,"
                         " labels TEXT NOT NULL, annotations TEXT NOT NULL, state TEXT NOT NULL,"
                         " value REAL, active_at INTEGER NOT NULL, fired_at INTEGER,"
                         " resolved_at INTEGER, keep_firing_since INTEGER,"
                         " last_eval INTEGER NOT NULL, PRIMARY KEY (rule_key, labels))"
                         " WITHOUT ROWID;"
                         "CREATE TABLE notification_log (receiver TEXT NOT NULL,"
                         " group_key TEXT NOT NULL, firing TEXT NOT NULL, resolved TEXT NOT NULL,"
                         " sent_at INTEGER NOT NULL, PRIMARY KEY (receiver, group_key))"
                         " WITHOUT ROWID;"
                         "PRAGMA user_version = 1;",
                         nullptr,
                         nullptr,
                         nullptr),
            SQLITE_OK)
      << sqlite3_errmsg(db);
  sqlite3_close(db);
  auto store = MustOpen(path);
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(QueryInt(path, "PRAGMA user_version"), 3);
  ASSERT_TRUE(store->WriteReceivedAlerts({MakeReceived("a", "grafana")}, {}).ok());
  auto received = store->LoadReceivedAlerts();
  ASSERT_TRUE(received.ok());
  ASSERT_EQ(received->size(), 1u);
  EXPECT_EQ((*received)[0].received_from, "grafana");
}

}  // namespace
}  // namespace alertd
