// Every schema version alertd has shipped migrates to the current one: each is pinned by a
// database in tests/storage/fixtures/ (state-vN.db, built from state-vN.sql).
#include <unistd.h>

#include <filesystem>
#include <string>

#include <gtest/gtest.h>
#include <sqlite3.h>

#include "storage/sqlite_state_store.h"
#include "storage/state_store.h"

namespace alertd {
namespace {

namespace fs = std::filesystem;

const fs::path kFixtureDir = fs::path(ALERTD_SOURCE_DIR) / "tests/storage/fixtures";

int UserVersion(const std::string& path) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    sqlite3_close(db);
    return -1;
  }
  int version = -1;
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &stmt, nullptr) == SQLITE_OK &&
      sqlite3_step(stmt) == SQLITE_ROW) {
    version = sqlite3_column_int(stmt, 0);
  }
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return version;
}

class StateStoreFixtureTest : public ::testing::TestWithParam<int> {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("alertd-fixture-test-" + std::to_string(::getpid()) + "-" +
            std::to_string(GetParam()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  fs::path dir_;
};

TEST_P(StateStoreFixtureTest, MigratesToCurrentVersionAndKeepsRows) {
  const int version = GetParam();
  const fs::path fixture = kFixtureDir / ("state-v" + std::to_string(version) + ".db");
  ASSERT_TRUE(fs::exists(fixture)) << "no fixture for shipped schema version " << version
                                   << ": build " << fixture.string() << " from its .sql file";
  const std::string path = (dir_ / "alertd.db").string();
  fs::copy_file(fixture, path);
  ASSERT_EQ(UserVersion(path), version);

  {
    auto store = OpenSqliteStateStore(path);
    ASSERT_TRUE(store.ok()) << store.error().message();
    auto alerts = (*store)->LoadAlerts(TimePoint{});
    ASSERT_TRUE(alerts.ok()) << alerts.error().message();
    ASSERT_EQ(alerts->size(), 2u);
    EXPECT_EQ((*alerts)[0].labels, (Labels{{"alertname", "Down"}, {"instance", "a"}}));
    EXPECT_EQ((*alerts)[0].state, AlertState::kFiring);
    EXPECT_EQ((*alerts)[0].fired_at, FromMillis(1700000060000));
    EXPECT_EQ((*alerts)[0].annotations, (Labels{{"summary", "down"}}));
    EXPECT_EQ((*alerts)[1].state, AlertState::kPending);
    EXPECT_EQ((*alerts)[1].active_at, FromMillis(1700000090000));
    auto entry = (*store)->GetNotification("team/webhook/0", "{}:{alertname=\"Down\"}");
    ASSERT_TRUE(entry.ok()) << entry.error().message();
    ASSERT_TRUE(entry->has_value());
    EXPECT_EQ((*entry)->firing, std::vector<uint64_t>{0xff});
    EXPECT_EQ((*entry)->sent_at, FromMillis(1700000100000));

    auto silences = (*store)->LoadSilences();
    ASSERT_TRUE(silences.ok()) << silences.error().message();
    auto received = (*store)->LoadReceivedAlerts();
    ASSERT_TRUE(received.ok()) << received.error().message();
    if (version >= 2) {
      ASSERT_EQ(silences->size(), 1u);
      EXPECT_EQ((*silences)[0].created_by, "ops");
      ASSERT_EQ((*silences)[0].matchers.size(), 1u);
      EXPECT_EQ((*silences)[0].matchers[0].value, "Down");
      ASSERT_EQ(received->size(), 1u);
      EXPECT_EQ((*received)[0].labels, (Labels{{"alertname", "Disk"}, {"instance", "c"}}));
      EXPECT_EQ((*received)[0].received_from, "");
    } else {
      EXPECT_TRUE(silences->empty());
      EXPECT_TRUE(received->empty());
    }
  }
  EXPECT_EQ(UserVersion(path), kStateSchemaVersion);

  // The migrated database opens again without another migration.
  auto again = OpenSqliteStateStore(path);
  ASSERT_TRUE(again.ok()) << again.error().message();
  auto alerts = (*again)->LoadAlerts(TimePoint{});
  ASSERT_TRUE(alerts.ok());
  EXPECT_EQ(alerts->size(), 2u);
}

// One case per shipped version before the current one.
INSTANTIATE_TEST_SUITE_P(ShippedVersions,
                         StateStoreFixtureTest,
                         ::testing::Range(1, kStateSchemaVersion),
                         [](const ::testing::TestParamInfo<int>& info) {
                           return "v" + std::to_string(info.param);
                         });

}  // namespace
}  // namespace alertd
