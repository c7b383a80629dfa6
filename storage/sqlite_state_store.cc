#include "storage/sqlite_state_store.h"

#include <array>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <mutex>
#include <string_view>

#include <nlohmann/json.hpp>
#include <sqlite3.h>

#include "common/logging.h"
#include "storage/state_store.h"

namespace alertd {
namespace {

// One forward migration: the SQL that takes the schema from `version - 1` to `version`.
// Migrations are append-only: a released entry is never edited, so every database that
// reached a version has the same schema.
struct Migration {
  int version;
  const char* sql;
};

constexpr Migration kMigrations[] = {
    {1, R"sql(
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
)sql"},
    {2, R"sql(
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
)sql"},
    {3, R"sql(
ALTER TABLE received_alerts ADD COLUMN received_from TEXT NOT NULL DEFAULT '';
)sql"},
};

static_assert(std::size(kMigrations) > 0 &&
                  kMigrations[std::size(kMigrations) - 1].version == kStateSchemaVersion,
              "the last migration must produce kStateSchemaVersion");

constexpr int kBusyTimeoutMs = 5000;

// Cached prepared statements, indexed by StatementId.
enum StatementId : size_t {
  kSelectAlerts,
  kUpsertAlert,
  kDeleteAlert,
  kSelectNotification,
  kUpsertNotification,
  kPruneNotifications,
  kSelectSilences,
  kUpsertSilence,
  kDeleteSilences,
  kSelectReceivedAlerts,
  kUpsertReceivedAlert,
  kDeleteReceivedAlert,
  kBegin,
  kCommit,
  kRollback,
  kStatementCount,
};

constexpr std::array<const char*, kStatementCount> kStatementSql = {
    "SELECT rule_key, labels, annotations, state, value, active_at, fired_at, resolved_at, "
    "keep_firing_since, last_eval FROM alerts "
    "WHERE state != 'inactive' OR resolved_at >= ?1 ORDER BY rule_key, labels",
    "INSERT OR REPLACE INTO alerts (rule_key, labels_hash, labels, annotations, state, value, "
    "active_at, fired_at, resolved_at, keep_firing_since, last_eval) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    "DELETE FROM alerts WHERE rule_key = ?1 AND labels = ?2",
    "SELECT firing, resolved, sent_at FROM notification_log WHERE receiver = ?1 AND group_key = ?2",
    "INSERT OR REPLACE INTO notification_log (receiver, group_key, firing, resolved, sent_at) "
    "VALUES (?1, ?2, ?3, ?4, ?5)",
    "DELETE FROM notification_log WHERE sent_at < ?1",
    "SELECT id, matchers, starts_at, ends_at, updated_at, created_by, comment FROM silences "
    "ORDER BY id",
    "INSERT OR REPLACE INTO silences (id, matchers, starts_at, ends_at, updated_at, created_by, "
    "comment) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    "DELETE FROM silences WHERE ends_at < ?1",
    "SELECT labels, annotations, starts_at, ends_at, updated_at, generator_url, timeout, "
    "received_from FROM received_alerts ORDER BY labels",
    "INSERT OR REPLACE INTO received_alerts (labels, fingerprint, annotations, starts_at, "
    "ends_at, updated_at, generator_url, timeout, received_from) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    "DELETE FROM received_alerts WHERE labels = ?1",
    "BEGIN IMMEDIATE",
    "COMMIT",
    "ROLLBACK",
};

// Encodes labels as a JSON object. nlohmann::json sorts keys the way Labels does, so equal
// label sets give equal text and the text can serve as a primary key.
std::string LabelsToJson(const Labels& labels) {
  nlohmann::json object = nlohmann::json::object();
  for (const auto& label : labels) {
    object[label.name] = label.value;
  }
  // NOTE: invalid UTF-8 in a label value is replaced by U+FFFD, so two values that differ only
  // in invalid bytes share one row.
  return object.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

Result<Labels> ParseLabelsJson(std::string_view text) {
  nlohmann::json object = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!object.is_object()) {
    return Error::Internal("invalid label set JSON " + std::string(text));
  }
  std::vector<Label> labels;
  for (const auto& [name, value] : object.items()) {
    if (!value.is_string()) {
      return Error::Internal("invalid label set JSON " + std::string(text));
    }
    labels.push_back(Label{name, value.get<std::string>()});
  }
  return Labels(std::move(labels));
}

std::string HashesToJson(const std::vector<uint64_t>& hashes) {
  nlohmann::json array = nlohmann::json::array();
  for (uint64_t hash : hashes) {
    char hex[17];
    std::snprintf(hex, sizeof(hex), "%016" PRIx64, hash);
    array.push_back(hex);
  }
  return array.dump();
}

Result<std::vector<uint64_t>> ParseHashesJson(std::string_view text) {
  nlohmann::json array = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!array.is_array()) {
    return Error::Internal("invalid alert hash list " + std::string(text));
  }
  std::vector<uint64_t> hashes;
  for (const auto& item : array) {
    uint64_t hash = 0;
    if (!item.is_string() ||
        std::sscanf(item.get_ref<const std::string&>().c_str(), "%" SCNx64, &hash) != 1) {
      return Error::Internal("invalid alert hash list " + std::string(text));
    }
    hashes.push_back(hash);
  }
  return hashes;
}

std::string MatchersToJson(const std::vector<StoredSilenceMatcher>& matchers) {
  nlohmann::json array = nlohmann::json::array();
  for (const auto& m : matchers) {
    array.push_back(
        {{"name", m.name}, {"value", m.value}, {"isRegex", m.is_regex}, {"isEqual", m.is_equal}});
  }
  return array.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

Result<std::vector<StoredSilenceMatcher>> ParseMatchersJson(std::string_view text) {
  nlohmann::json array = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  Error invalid = Error::Internal("invalid matcher list " + std::string(text));
  if (!array.is_array()) {
    return invalid;
  }
  std::vector<StoredSilenceMatcher> matchers;
  for (const auto& item : array) {
    if (!item.is_object() || !item.contains("name") || !item["name"].is_string() ||
        !item.contains("value") || !item["value"].is_string() || !item.contains("isRegex") ||
        !item["isRegex"].is_boolean() || !item.contains("isEqual") ||
        !item["isEqual"].is_boolean()) {
      return invalid;
    }
    matchers.push_back({item["name"].get<std::string>(),
                        item["value"].get<std::string>(),
                        item["isRegex"].get<bool>(),
                        item["isEqual"].get<bool>()});
  }
  return matchers;
}

Result<AlertState> ParseAlertState(std::string_view text) {
  for (AlertState state : {AlertState::kInactive, AlertState::kPending, AlertState::kFiring}) {
    if (text == AlertStateName(state)) {
      return state;
    }
  }
  return Error::Internal("invalid alert state \"" + std::string(text) + "\"");
}

std::string_view ColumnText(sqlite3_stmt* stmt, int column) {
  const unsigned char* text = sqlite3_column_text(stmt, column);
  if (text == nullptr) {
    return {};
  }
  return {reinterpret_cast<const char*>(text),
          static_cast<size_t>(sqlite3_column_bytes(stmt, column))};
}

std::optional<TimePoint> ColumnOptionalTime(sqlite3_stmt* stmt, int column) {
  if (sqlite3_column_type(stmt, column) == SQLITE_NULL) {
    return std::nullopt;
  }
  return FromMillis(sqlite3_column_int64(stmt, column));
}

// Binds the text by copy, because callers pass temporaries.
int BindText(sqlite3_stmt* stmt, int index, std::string_view text) {
  return sqlite3_bind_text(
      stmt, index, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
}

int BindOptionalTime(sqlite3_stmt* stmt, int index, const std::optional<TimePoint>& t) {
  if (!t) {
    return sqlite3_bind_null(stmt, index);
  }
  return sqlite3_bind_int64(stmt, index, ToMillis(*t));
}

// SQLite stores a NaN REAL as NULL, so NULL reads back as NaN.
int BindValue(sqlite3_stmt* stmt, int index, double value) {
  if (std::isnan(value)) {
    return sqlite3_bind_null(stmt, index);
  }
  return sqlite3_bind_double(stmt, index, value);
}

double ColumnValue(sqlite3_stmt* stmt, int column) {
  if (sqlite3_column_type(stmt, column) == SQLITE_NULL) {
    return std::nan("");
  }
  return sqlite3_column_double(stmt, column);
}

// Resets a cached statement when the scope ends, so the next use starts clean.
class StatementReset {
 public:
  explicit StatementReset(sqlite3_stmt* stmt) : stmt_(stmt) {}

  ~StatementReset() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }

  StatementReset(const StatementReset&) = delete;
  StatementReset& operator=(const StatementReset&) = delete;

 private:
  sqlite3_stmt* stmt_;
};

class SqliteStateStore final : public StateStore {
 public:
  static Result<std::unique_ptr<StateStore>> Open(const std::string& path);

  ~SqliteStateStore() override;

  // StateStore
  Result<std::vector<StoredAlert>> LoadAlerts(TimePoint resolved_since) override;
  Status WriteAlerts(const std::vector<StoredAlert>& upserts,
                     const std::vector<StoredAlert>& deletes) override;
  Result<std::optional<NotificationLogEntry>> GetNotification(
      const std::string& receiver, const std::string& group_key) override;
  Status PutNotification(const NotificationLogEntry& entry) override;
  Status PruneNotifications(TimePoint before) override;
  Result<std::vector<StoredSilence>> LoadSilences() override;
  Status PutSilences(const std::vector<StoredSilence>& silences) override;
  Result<size_t> DeleteSilencesEndedBefore(TimePoint before) override;
  Result<std::vector<StoredReceivedAlert>> LoadReceivedAlerts() override;
  Status WriteReceivedAlerts(const std::vector<StoredReceivedAlert>& upserts,
                             const std::vector<Labels>& deletes) override;

 private:
  explicit SqliteStateStore(std::string path) : path_(std::move(path)) {}

  Status Connect();
  Status Configure();
  Status Migrate();
  Status PrepareStatements();

  // "state database PATH: failed to WHAT: SQLITE MESSAGE", from the connection's last error.
  Error SqlError(std::string_view what) const;
  Status Exec(const char* sql, std::string_view what);
  // Steps a statement that returns no rows.
  Status StepDone(sqlite3_stmt* stmt, std::string_view what);

  Status UpsertAlert(const StoredAlert& alert);
  Status DeleteAlert(const StoredAlert& alert);
  Result<StoredAlert> ReadAlertRow(sqlite3_stmt* stmt) const;
  // Runs `body` inside BEGIN IMMEDIATE ... COMMIT, rolling back when it fails. REQUIRES: mu_.
  template <typename Body>
  Status InTransaction(std::string_view what, Body body);

  const std::string path_;
  std::mutex mu_;
  sqlite3* db_ = nullptr;                                    // guarded by mu_ after Open
  std::array<sqlite3_stmt*, kStatementCount> statements_{};  // guarded by mu_
};

Result<std::unique_ptr<StateStore>> SqliteStateStore::Open(const std::string& path) {
  std::unique_ptr<SqliteStateStore> store(new SqliteStateStore(path));
  for (Status (SqliteStateStore::*step)() : {&SqliteStateStore::Connect,
                                             &SqliteStateStore::Configure,
                                             &SqliteStateStore::Migrate,
                                             &SqliteStateStore::PrepareStatements}) {
    if (Status status = (store.get()->*step)(); !status.ok()) {
      return status.error();
    }
  }
  Logger("storage")->info(
      "State database opened path={} schema_version={}", LogValue(path), kStateSchemaVersion);
  return std::unique_ptr<StateStore>(std::move(store));
}

SqliteStateStore::~SqliteStateStore() {
  for (sqlite3_stmt* stmt : statements_) {
    sqlite3_finalize(stmt);
  }
  sqlite3_close_v2(db_);
}

Error SqliteStateStore::SqlError(std::string_view what) const {
  std::string message = "state database " + path_ + ": failed to " + std::string(what) + ": " +
                        (db_ != nullptr ? sqlite3_errmsg(db_) : "out of memory");
  int code = db_ != nullptr ? sqlite3_errcode(db_) : SQLITE_NOMEM;
  switch (code) {
    case SQLITE_NOTADB:
    case SQLITE_CORRUPT:
      message += ". Move the file away to start with empty alert state, or restore a backup";
      break;
    case SQLITE_CANTOPEN:
    case SQLITE_READONLY:
    case SQLITE_PERM:
      message += ". Check that the directory exists and that alertd may write to it";
      break;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      message += ". Stop the other process that holds a lock on the database, then retry";
      break;
    default:
      break;
  }
  return Error::Io(std::move(message));
}

Status SqliteStateStore::Exec(const char* sql, std::string_view what) {
  if (sqlite3_exec(db_, sql, nullptr, nullptr, nullptr) != SQLITE_OK) {
    return SqlError(what);
  }
  return Status::Ok();
}

Status SqliteStateStore::StepDone(sqlite3_stmt* stmt, std::string_view what) {
  if (sqlite3_step(stmt) != SQLITE_DONE) {
    return SqlError(what);
  }
  return Status::Ok();
}

Status SqliteStateStore::Connect() {
  // The store serializes access with its own mutex, so SQLite's connection mutex is not needed.
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
  if (sqlite3_open_v2(path_.c_str(), &db_, flags, nullptr) != SQLITE_OK) {
    return SqlError("open the file");
  }
  sqlite3_extended_result_codes(db_, 0);
  sqlite3_busy_timeout(db_, kBusyTimeoutMs);
  return Status::Ok();
}

Status SqliteStateStore::Configure() {
  // journal_mode is the first statement that reads the file, so a file that is not a database
  // fails here. An in-memory database stays in journal mode "memory", which is fine.
  if (Status s = Exec("PRAGMA journal_mode=WAL", "enable WAL mode"); !s.ok()) {
    return s;
  }
  if (Status s = Exec("PRAGMA synchronous=FULL", "set synchronous=FULL"); !s.ok()) {
    return s;
  }
  return Exec("PRAGMA foreign_keys=ON", "enable foreign keys");
}

Status SqliteStateStore::Migrate() {
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db_, "PRAGMA user_version", -1, &stmt, nullptr) != SQLITE_OK) {
    return SqlError("read the schema version");
  }
  int version = 0;
  int rc = sqlite3_step(stmt);
  if (rc == SQLITE_ROW) {
    version = sqlite3_column_int(stmt, 0);
  }
  sqlite3_finalize(stmt);
  if (rc != SQLITE_ROW) {
    return SqlError("read the schema version");
  }
  if (version > kStateSchemaVersion) {
    return Error::Io("state database " + path_ + " has schema version " + std::to_string(version) +
                     ", newer than the version " + std::to_string(kStateSchemaVersion) +
                     " this alertd supports. Run a newer alertd or move the file away");
  }
  for (const Migration& migration : kMigrations) {
    if (migration.version <= version) {
      continue;
    }
    std::string what = "migrate the schema to version " + std::to_string(migration.version);
    std::string sql = std::string("BEGIN IMMEDIATE;") + migration.sql +
                      "PRAGMA user_version = " + std::to_string(migration.version) + ";COMMIT;";
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, nullptr) != SQLITE_OK) {
      Error error = SqlError(what);
      sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
      return error;
    }
    Logger("storage")->info(
        "State database migrated path={} schema_version={}", LogValue(path_), migration.version);
  }
  return Status::Ok();
}

Status SqliteStateStore::PrepareStatements() {
  for (size_t i = 0; i < kStatementCount; ++i) {
    if (sqlite3_prepare_v3(
            db_, kStatementSql[i], -1, SQLITE_PREPARE_PERSISTENT, &statements_[i], nullptr) !=
        SQLITE_OK) {
      return SqlError("prepare statement \"" + std::string(kStatementSql[i]) + "\"");
    }
  }
  return Status::Ok();
}

Result<StoredAlert> SqliteStateStore::ReadAlertRow(sqlite3_stmt* stmt) const {
  StoredAlert alert;
  alert.rule_key = std::string(ColumnText(stmt, 0));
  Result<Labels> labels = ParseLabelsJson(ColumnText(stmt, 1));
  Result<Labels> annotations = ParseLabelsJson(ColumnText(stmt, 2));
  Result<AlertState> state = ParseAlertState(ColumnText(stmt, 3));
  for (const Error* error : {labels.ok() ? nullptr : &labels.error(),
                             annotations.ok() ? nullptr : &annotations.error(),
                             state.ok() ? nullptr : &state.error()}) {
    if (error != nullptr) {
      return Error::Io("state database " + path_ + ": table alerts, rule " + alert.rule_key + ": " +
                       error->message());
    }
  }
  alert.labels = std::move(labels).value();
  alert.annotations = std::move(annotations).value();
  alert.state = *state;
  alert.value = ColumnValue(stmt, 4);
  alert.active_at = FromMillis(sqlite3_column_int64(stmt, 5));
  alert.fired_at = ColumnOptionalTime(stmt, 6);
  alert.resolved_at = ColumnOptionalTime(stmt, 7);
  alert.keep_firing_since = ColumnOptionalTime(stmt, 8);
  alert.last_eval = FromMillis(sqlite3_column_int64(stmt, 9));
  return alert;
}

Result<std::vector<StoredAlert>> SqliteStateStore::LoadAlerts(TimePoint resolved_since) {
  std::lock_guard lock(mu_);
  sqlite3_stmt* stmt = statements_[kSelectAlerts];
  StatementReset reset(stmt);
  sqlite3_bind_int64(stmt, 1, ToMillis(resolved_since));
  std::vector<StoredAlert> alerts;
  int rc;
  while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    Result<StoredAlert> alert = ReadAlertRow(stmt);
    if (!alert.ok()) {
      return alert.error();
    }
    alerts.push_back(std::move(alert).value());
  }
  if (rc != SQLITE_DONE) {
    return SqlError("load alerts");
  }
  return alerts;
}

Status SqliteStateStore::UpsertAlert(const StoredAlert& alert) {
  sqlite3_stmt* stmt = statements_[kUpsertAlert];
  StatementReset reset(stmt);
  BindText(stmt, 1, alert.rule_key);
  BindText(stmt, 2, alert.labels.Fingerprint());
  BindText(stmt, 3, LabelsToJson(alert.labels));
  BindText(stmt, 4, LabelsToJson(alert.annotations));
  BindText(stmt, 5, AlertStateName(alert.state));
  BindValue(stmt, 6, alert.value);
  sqlite3_bind_int64(stmt, 7, ToMillis(alert.active_at));
  BindOptionalTime(stmt, 8, alert.fired_at);
  BindOptionalTime(stmt, 9, alert.resolved_at);
  BindOptionalTime(stmt, 10, alert.keep_firing_since);
  sqlite3_bind_int64(stmt, 11, ToMillis(alert.last_eval));
  return StepDone(stmt, "write alert " + alert.labels.ToString());
}

Status SqliteStateStore::DeleteAlert(const StoredAlert& alert) {
  sqlite3_stmt* stmt = statements_[kDeleteAlert];
  StatementReset reset(stmt);
  BindText(stmt, 1, alert.rule_key);
  BindText(stmt, 2, LabelsToJson(alert.labels));
  return StepDone(stmt, "delete alert " + alert.labels.ToString());
}

Status SqliteStateStore::WriteAlerts(const std::vector<StoredAlert>& upserts,
                                     const std::vector<StoredAlert>& deletes) {
  if (upserts.empty() && deletes.empty()) {
    return Status::Ok();
  }
  std::lock_guard lock(mu_);
  {
    StatementReset reset(statements_[kBegin]);
    if (Status s = StepDone(statements_[kBegin], "begin a transaction"); !s.ok()) {
      return s;
    }
  }
  Status status = Status::Ok();
  for (const StoredAlert& alert : deletes) {
    if (status = DeleteAlert(alert); !status.ok()) {
      break;
    }
  }
  for (size_t i = 0; status.ok() && i < upserts.size(); ++i) {
    status = UpsertAlert(upserts[i]);
  }
  if (status.ok()) {
    StatementReset reset(statements_[kCommit]);
    status = StepDone(statements_[kCommit], "commit alerts");
  }
  if (!status.ok()) {
    StatementReset reset(statements_[kRollback]);
    sqlite3_step(statements_[kRollback]);
  }
  return status;
}

Result<std::optional<NotificationLogEntry>> SqliteStateStore::GetNotification(
    const std::string& receiver, const std::string& group_key) {
  std::lock_guard lock(mu_);
  sqlite3_stmt* stmt = statements_[kSelectNotification];
  StatementReset reset(stmt);
  BindText(stmt, 1, receiver);
  BindText(stmt, 2, group_key);
  int rc = sqlite3_step(stmt);
  if (rc == SQLITE_DONE) {
    return std::optional<NotificationLogEntry>();
  }
  if (rc != SQLITE_ROW) {
    return SqlError("read the notification log");
  }
  NotificationLogEntry entry;
  entry.receiver = receiver;
  entry.group_key = group_key;
  Result<std::vector<uint64_t>> firing = ParseHashesJson(ColumnText(stmt, 0));
  Result<std::vector<uint64_t>> resolved = ParseHashesJson(ColumnText(stmt, 1));
  if (!firing.ok() || !resolved.ok()) {
    const Error& error = firing.ok() ? resolved.error() : firing.error();
    return Error::Io("state database " + path_ + ": table notification_log, receiver " + receiver +
                     ": " + error.message());
  }
  entry.firing = std::move(firing).value();
  entry.resolved = std::move(resolved).value();
  entry.sent_at = FromMillis(sqlite3_column_int64(stmt, 2));
  return std::optional<NotificationLogEntry>(std::move(entry));
}

Status SqliteStateStore::PutNotification(const NotificationLogEntry& entry) {
  std::lock_guard lock(mu_);
  sqlite3_stmt* stmt = statements_[kUpsertNotification];
  StatementReset reset(stmt);
  BindText(stmt, 1, entry.receiver);
  BindText(stmt, 2, entry.group_key);
  BindText(stmt, 3, HashesToJson(entry.firing));
  BindText(stmt, 4, HashesToJson(entry.resolved));
  sqlite3_bind_int64(stmt, 5, ToMillis(entry.sent_at));
  return StepDone(stmt, "write the notification log");
}

Status SqliteStateStore::PruneNotifications(TimePoint before) {
  std::lock_guard lock(mu_);
  sqlite3_stmt* stmt = statements_[kPruneNotifications];
  StatementReset reset(stmt);
  sqlite3_bind_int64(stmt, 1, ToMillis(before));
  return StepDone(stmt, "prune the notification log");
}

template <typename Body>
Status SqliteStateStore::InTransaction(std::string_view what, Body body) {
  {
    StatementReset reset(statements_[kBegin]);
    if (Status s = StepDone(statements_[kBegin], "begin a transaction"); !s.ok()) {
      return s;
    }
  }
  Status status = body();
  if (status.ok()) {
    StatementReset reset(statements_[kCommit]);
    status = StepDone(statements_[kCommit], "commit " + std::string(what));
  }
  if (!status.ok()) {
    StatementReset reset(statements_[kRollback]);
    sqlite3_step(statements_[kRollback]);
  }
  return status;
}

Result<std::vector<StoredSilence>> SqliteStateStore::LoadSilences() {
  std::lock_guard lock(mu_);
  sqlite3_stmt* stmt = statements_[kSelectSilences];
  StatementReset reset(stmt);
  std::vector<StoredSilence> silences;
  int rc;
  while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    StoredSilence silence;
    silence.id = std::string(ColumnText(stmt, 0));
    auto matchers = ParseMatchersJson(ColumnText(stmt, 1));
    if (!matchers.ok()) {
      return Error::Io("state database " + path_ + ": table silences, silence " + silence.id +
                       ": " + matchers.error().message());
    }
    silence.matchers = std::move(matchers).value();
    silence.starts_at = FromMillis(sqlite3_column_int64(stmt, 2));
    silence.ends_at = FromMillis(sqlite3_column_int64(stmt, 3));
    silence.updated_at = FromMillis(sqlite3_column_int64(stmt, 4));
    silence.created_by = std::string(ColumnText(stmt, 5));
    silence.comment = std::string(ColumnText(stmt, 6));
    silences.push_back(std::move(silence));
  }
  if (rc != SQLITE_DONE) {
    return SqlError("load silences");
  }
  return silences;
}

Status SqliteStateStore::PutSilences(const std::vector<StoredSilence>& silences) {
  if (silences.empty()) {
    return Status::Ok();
  }
  std::lock_guard lock(mu_);
  return InTransaction("silences", [&]() -> Status {
    for (const StoredSilence& silence : silences) {
      sqlite3_stmt* stmt = statements_[kUpsertSilence];
      StatementReset reset(stmt);
      BindText(stmt, 1, silence.id);
      BindText(stmt, 2, MatchersToJson(silence.matchers));
      sqlite3_bind_int64(stmt, 3, ToMillis(silence.starts_at));
      sqlite3_bind_int64(stmt, 4, ToMillis(silence.ends_at));
      sqlite3_bind_int64(stmt, 5, ToMillis(silence.updated_at));
      BindText(stmt, 6, silence.created_by);
      BindText(stmt, 7, silence.comment);
      if (Status s = StepDone(stmt, "write silence " + silence.id); !s.ok()) {
        return s;
      }
    }
    return Status::Ok();
  });
}

Result<size_t> SqliteStateStore::DeleteSilencesEndedBefore(TimePoint before) {
  std::lock_guard lock(mu_);
  sqlite3_stmt* stmt = statements_[kDeleteSilences];
  StatementReset reset(stmt);
  sqlite3_bind_int64(stmt, 1, ToMillis(before));
  if (Status s = StepDone(stmt, "delete expired silences"); !s.ok()) {
    return s.error();
  }
  return static_cast<size_t>(sqlite3_changes(db_));
}

Result<std::vector<StoredReceivedAlert>> SqliteStateStore::LoadReceivedAlerts() {
  std::lock_guard lock(mu_);
  sqlite3_stmt* stmt = statements_[kSelectReceivedAlerts];
  StatementReset reset(stmt);
  std::vector<StoredReceivedAlert> alerts;
  int rc;
  while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    Result<Labels> labels = ParseLabelsJson(ColumnText(stmt, 0));
    Result<Labels> annotations = ParseLabelsJson(ColumnText(stmt, 1));
    if (!labels.ok() || !annotations.ok()) {
      const Error& error = labels.ok() ? annotations.error() : labels.error();
      return Error::Io("state database " + path_ + ": table received_alerts: " + error.message());
    }
    StoredReceivedAlert alert;
    alert.labels = std::move(labels).value();
    alert.annotations = std::move(annotations).value();
    alert.starts_at = FromMillis(sqlite3_column_int64(stmt, 2));
    alert.ends_at = FromMillis(sqlite3_column_int64(stmt, 3));
    alert.updated_at = FromMillis(sqlite3_column_int64(stmt, 4));
    alert.generator_url = std::string(ColumnText(stmt, 5));
    alert.timeout = sqlite3_column_int(stmt, 6) != 0;
    alert.received_from = std::string(ColumnText(stmt, 7));
    alerts.push_back(std::move(alert));
  }
  if (rc != SQLITE_DONE) {
    return SqlError("load received alerts");
  }
  return alerts;
}

Status SqliteStateStore::WriteReceivedAlerts(const std::vector<StoredReceivedAlert>& upserts,
                                             const std::vector<Labels>& deletes) {
  if (upserts.empty() && deletes.empty()) {
    return Status::Ok();
  }
  std::lock_guard lock(mu_);
  return InTransaction("received alerts", [&]() -> Status {
    for (const Labels& labels : deletes) {
      sqlite3_stmt* stmt = statements_[kDeleteReceivedAlert];
      StatementReset reset(stmt);
      BindText(stmt, 1, LabelsToJson(labels));
      if (Status s = StepDone(stmt, "delete received alert " + labels.ToString()); !s.ok()) {
        return s;
      }
    }
    for (const StoredReceivedAlert& alert : upserts) {
      sqlite3_stmt* stmt = statements_[kUpsertReceivedAlert];
      StatementReset reset(stmt);
      BindText(stmt, 1, LabelsToJson(alert.labels));
      BindText(stmt, 2, alert.labels.Fingerprint());
      BindText(stmt, 3, LabelsToJson(alert.annotations));
      sqlite3_bind_int64(stmt, 4, ToMillis(alert.starts_at));
      sqlite3_bind_int64(stmt, 5, ToMillis(alert.ends_at));
      sqlite3_bind_int64(stmt, 6, ToMillis(alert.updated_at));
      BindText(stmt, 7, alert.generator_url);
      sqlite3_bind_int(stmt, 8, alert.timeout ? 1 : 0);
      BindText(stmt, 9, alert.received_from);
      if (Status s = StepDone(stmt, "write received alert " + alert.labels.ToString()); !s.ok()) {
        return s;
      }
    }
    return Status::Ok();
  });
}

}  // namespace

Result<std::unique_ptr<StateStore>> OpenSqliteStateStore(const std::string& path) {
  return SqliteStateStore::Open(path);
}

}  // namespace alertd
