// Logging: one named spdlog logger per component ("rules", "scrape", "notify", ...), all
// writing to stderr in logfmt or JSON. Messages carry their fields as key=value pairs with
// snake_case keys, e.g. "Notification sent receiver=slack group_key=... alerts=3".
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include <spdlog/spdlog.h>

#include "common/result.h"

namespace alertd {

enum class LogFormat { kLogfmt, kJson };

// Configures every logger, existing and future. `level` is one of debug, info, warn, error.
Status InitLogging(std::string_view level, LogFormat format);

// Returns the logger for `component`, creating it on first use. Thread-safe.
std::shared_ptr<spdlog::logger> Logger(std::string_view component);

// Quotes a value for logfmt when it contains spaces, quotes or '='.
std::string LogValue(std::string_view value);

}  // namespace alertd
