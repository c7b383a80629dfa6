// Schema version 2: silences, the alert store's alerts, and the migration from version 1.
#include <unistd.h>

#include <chrono>
#include <filesystem>

#include <gtest/gtest.h>
#include <sqlite3.h>

#include "storage/sqlite_state_store.h"
#include "storage/state_store.h"

namespace alertd {
namespace {

using std::chrono::hours;
using std::chrono::minutes;

const TimePoint kT0 = FromMillis(1'700'000'000'000);

// The version 1 schema exactly as migration 1 created it, so the fixture is a database an
// alertd with schema version 1 wrote.
constexpr char kVersion1Sql[] = R"sql(
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
INSERT INTO alerts VALUES ('rules/a.yml' || char(31) || 'g' || char(31) || '0' || char(31) || 'Down',
  '0000000000000001', '{"alertname":"Down","instance":"a"}', '{"summary":"down"}', 'firing', 1.0,
  1700000000000, 1700000060000, NULL, NULL, 1700000120000);
INSERT INTO notification_log VALUES ('team/webhook/0', '{}:{alertname="Down"}',
  '["00000000000000ff"]', '[]', 1700000100000);
PRAGMA user_version = 1;
)sql";

class TempDir {
 public:
  TempDir() {
    dir_ =
        std::filesystem::temp_directory_path() /
        ("alertd-state-v2-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter_++));
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

StoredSilence MakeSilence(std::string id, TimePoint ends_at) {
  StoredSilence silence;
  silence.id = std::move(id);
  silence.matchers = {{"alertname", "Down", false, true}, {"instance", "a.*", true, false}};
  silence.starts_at = kT0;
  silence.ends_at = ends_at;
  silence.updated_at = kT0 + minutes(1);
  silence.created_by = "ops";
  silence.comment = "maintenance \"window\"";
  return silence;
}

StoredReceivedAlert MakeReceived(std::string instance) {
  StoredReceivedAlert alert;
  alert.labels = Labels{{"alertname", "Down"}, {"instance", std::move(instance)}};
  alert.annotations = Labels{{"summary", "down"}};
  alert.starts_at = kT0;
  alert.ends_at = kT0 + minutes(5);
  alert.updated_at = kT0 + minutes(1);
  alert.generator_url = "http://prometheus:9090/graph?g0.expr=up";
  alert.timeout = true;
  return alert;
}

TEST(StateStoreV2Test, VersionOneDatabaseMigratesAndKeepsItsRows) {
  TempDir dir;
  const std::string path = dir.Path("alertd.db");
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, kVersion1Sql, nullptr, nullptr, nullptr), SQLITE_OK)
      << sqlite3_errmsg(db);
  sqlite3_close(db);

  auto store = MustOpen(path);
  ASSERT_NE(store, nullptr);
  auto alerts = store->LoadAlerts(kT0);
  ASSERT_TRUE(alerts.ok()) << alerts.error().message();
  ASSERT_EQ(alerts->size(), 1u);
  EXPECT_EQ((*alerts)[0].labels, (Labels{{"alertname", "Down"}, {"instance", "a"}}));
  EXPECT_EQ((*alerts)[0].state, AlertState::kFiring);
  auto entry = store->GetNotification("team/webhook/0", "{}:{alertname=\"Down\"}");
  ASSERT_TRUE(entry.ok());
  ASSERT_TRUE(entry->has_value());
  EXPECT_EQ((*entry)->firing, std::vector<uint64_t>{0xff});

  // The new tables exist and work on the migrated file.
  ASSERT_TRUE(store->PutSilences({MakeSilence("s1", kT0 + hours(1))}).ok());
  ASSERT_TRUE(store->WriteReceivedAlerts({MakeReceived("a")}, {}).ok());
  store.reset();
  auto reopened = MustOpen(path);
  ASSERT_NE(reopened, nullptr);
  auto silences = reopened->LoadSilences();
  ASSERT_TRUE(silences.ok());
  EXPECT_EQ(silences->size(), 1u);
  auto received = reopened->LoadReceivedAlerts();
  ASSERT_TRUE(received.ok());
  EXPECT_EQ(received->size(), 1u);

  sqlite3* check = nullptr;
  ASSERT_EQ(sqlite3_open_v2(path.c_str(), &check, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(check, "PRAGMA user_version", -1, &stmt, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(stmt), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int(stmt, 0), kStateSchemaVersion);
  sqlite3_finalize(stmt);
  sqlite3_close(check);
}

TEST(StateStoreV2Test, SilenceRoundTripKeepsEveryField) {
  TempDir dir;
  const std::string path = dir.Path("alertd.db");
  StoredSilence a = MakeSilence("a", kT0 + hours(1));
  StoredSilence b = MakeSilence("b", kT0 + hours(2));
  b.matchers = {{"job", "", false, false}};
  {
    auto store = MustOpen(path);
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(store->PutSilences({b, a}).ok());
  }
  auto store = MustOpen(path);
  ASSERT_NE(store, nullptr);
  auto silences = store->LoadSilences();
  ASSERT_TRUE(silences.ok());
  ASSERT_EQ(silences->size(), 2u);
  EXPECT_EQ((*silences)[0], a);
  EXPECT_EQ((*silences)[1], b);
}

TEST(StateStoreV2Test, PutSilenceReplacesById) {
  auto store = MustOpen(":memory:");
  ASSERT_NE(store, nullptr);
  StoredSilence silence = MakeSilence("a", kT0 + hours(1));
  ASSERT_TRUE(store->PutSilences({silence}).ok());
  silence.ends_at = kT0 + hours(3);
  silence.comment = "longer";
  ASSERT_TRUE(store->PutSilences({silence}).ok());
  auto silences = store->LoadSilences();
  ASSERT_TRUE(silences.ok());
  ASSERT_EQ(silences->size(), 1u);
  EXPECT_EQ((*silences)[0], silence);
}

TEST(StateStoreV2Test, DeleteSilencesEndedBeforeDropsOnlyOlderOnes) {
  auto store = MustOpen(":memory:");
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store
                  ->PutSilences({MakeSilence("old", kT0 + hours(1)),
                                 MakeSilence("edge", kT0 + hours(2)),
                                 MakeSilence("new", kT0 + hours(3))})
                  .ok());
  auto deleted = store->DeleteSilencesEndedBefore(kT0 + hours(2));
  ASSERT_TRUE(deleted.ok());
  EXPECT_EQ(*deleted, 1u);
  auto silences = store->LoadSilences();
  ASSERT_TRUE(silences.ok());
  ASSERT_EQ(silences->size(), 2u);
  EXPECT_EQ((*silences)[0].id, "edge");
  EXPECT_EQ((*silences)[1].id, "new");
}

TEST(StateStoreV2Test, ReceivedAlertsRoundTripUpsertAndDelete) {
  TempDir dir;
  const std::string path = dir.Path("alertd.db");
  StoredReceivedAlert a = MakeReceived("a");
  StoredReceivedAlert b = MakeReceived("b");
  b.timeout = false;
  b.generator_url.clear();
  {
    auto store = MustOpen(path);
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(store->WriteReceivedAlerts({a, b}, {}).ok());
    a.ends_at = kT0 + minutes(9);
    ASSERT_TRUE(store->WriteReceivedAlerts({a}, {b.labels}).ok());
  }
  auto store = MustOpen(path);
  ASSERT_NE(store, nullptr);
  auto alerts = store->LoadReceivedAlerts();
  ASSERT_TRUE(alerts.ok());
  ASSERT_EQ(alerts->size(), 1u);
  EXPECT_EQ((*alerts)[0], a);
}

TEST(StateStoreV2Test, CorruptMatchersNameTheSilence) {
  TempDir dir;
  const std::string path = dir.Path("alertd.db");
  ASSERT_NE(MustOpen(path), nullptr);
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db,
                         "INSERT INTO silences VALUES ('x1', '{\"name\":1}', 0, 0, 0, 'a', 'b')",
                         nullptr,
                         nullptr,
                         nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  auto store = MustOpen(path);
  ASSERT_NE(store, nullptr);
  auto silences = store->LoadSilences();
  ASSERT_FALSE(silences.ok());
  EXPECT_EQ(
      silences.error().message(),
      "state database " + path + ": table silences, silence x1: invalid matcher list {\"name\":1}");
}

}  // namespace
}  // namespace alertd
