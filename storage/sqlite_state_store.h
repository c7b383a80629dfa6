// SQLite implementation of StateStore; OpenSqliteStateStore in storage/state_store.h is the
// entry point. The tables, columns and migration policy are documented in docs/state-schema.md.
#pragma once

namespace alertd {

// Schema version this build writes and expects (PRAGMA user_version). Opening a database with
// a lower version migrates it forward; a higher version is rejected, because an older alertd
// cannot know what a newer schema means.
inline constexpr int kStateSchemaVersion = 3;

}  // namespace alertd
