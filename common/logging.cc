#include "common/logging.h"

#include <ctime>
#include <mutex>
#include <vector>

#include <nlohmann/json.hpp>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>

namespace alertd {
namespace {

struct LoggingState {
  std::mutex mu;
  spdlog::level::level_enum level = spdlog::level::info;
  LogFormat format = LogFormat::kLogfmt;
  spdlog::sink_ptr sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
};

LoggingState& State() {
  static LoggingState* state = new LoggingState();
  return *state;
}

// Splits "Message text key=value key2=value2" into the message and its fields. Fields are the
// trailing run of tokens that contain '=' and start with a lower-case key.
void SplitFields(std::string_view text, std::string_view& message,
                 std::vector<std::pair<std::string, std::string>>& fields) {
  // Scan tokens from the start; the first token of the form key=... begins the fields.
  size_t pos = 0;
  size_t fields_start = std::string_view::npos;
  while (pos < text.size()) {
    size_t end = text.find(' ', pos);
    if (end == std::string_view::npos) {
      end = text.size();
    }
    std::string_view token = text.substr(pos, end - pos);
    size_t eq = token.find('=');
    if (eq != std::string_view::npos && eq > 0 && token[0] >= 'a' && token[0] <= 'z') {
      fields_start = pos;
      break;
    }
    pos = end + 1;
  }
  if (fields_start == std::string_view::npos) {
    message = text;
    return;
  }
  message = text.substr(0, fields_start == 0 ? 0 : fields_start - 1);
  // Parse key=value pairs, where value may be double-quoted with backslash escapes.
  pos = fields_start;
  while (pos < text.size()) {
    size_t eq = text.find('=', pos);
    if (eq == std::string_view::npos) {
      break;
    }
    std::string key(text.substr(pos, eq - pos));
    std::string value;
    size_t i = eq + 1;
    if (i < text.size() && text[i] == '"') {
      ++i;
      while (i < text.size() && text[i] != '"') {
        if (text[i] == '\\' && i + 1 < text.size()) {
          ++i;
        }
        value += text[i++];
      }
      ++i;  // closing quote
    } else {
      while (i < text.size() && text[i] != ' ') {
        value += text[i++];
      }
    }
    fields.emplace_back(std::move(key), std::move(value));
    while (i < text.size() && text[i] == ' ') {
      ++i;
    }
    pos = i;
  }
}

// Renders a record as one JSON object: ts, level, component, msg, then the message's fields.
class JsonFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    std::string_view text(msg.payload.data(), msg.payload.size());
    std::string_view message;
    std::vector<std::pair<std::string, std::string>> fields;
    SplitFields(text, message, fields);
    nlohmann::ordered_json record;
    record["ts"] = FormatTime(msg.time);
    record["level"] = std::string(spdlog::level::to_string_view(msg.level).data(),
                                  spdlog::level::to_string_view(msg.level).size());
    record["component"] = std::string(msg.logger_name.data(), msg.logger_name.size());
    record["msg"] = std::string(message);
    for (auto& [key, value] : fields) {
      record[key] = value;
    }
    std::string line = record.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    line += '\n';
    dest.append(line.data(), line.data() + line.size());
  }

  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<JsonFormatter>();
  }

 public:
  static std::string FormatTime(spdlog::log_clock::time_point t) {
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch());
    std::time_t secs = ms.count() / 1000;
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char buf[64];
    std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                  tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                  static_cast<int>(ms.count() % 1000));
    return buf;
  }
};

// Renders a record as logfmt: ts, level, component, msg="...", then the message's fields.
class LogfmtFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    std::string_view text(msg.payload.data(), msg.payload.size());
    std::string_view message;
    std::vector<std::pair<std::string, std::string>> fields;
    SplitFields(text, message, fields);
    auto level = spdlog::level::to_string_view(msg.level);
    std::string line = "ts=" + JsonFormatter::FormatTime(msg.time);
    line += " level=";
    line.append(level.data(), level.size());
    line += " component=";
    line.append(msg.logger_name.data(), msg.logger_name.size());
    line += " msg=" + LogValue(message);
    for (const auto& [key, value] : fields) {
      line += ' ';
      line += key;
      line += '=';
      line += LogValue(value);
    }
    line += '\n';
    dest.append(line.data(), line.data() + line.size());
  }

  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<LogfmtFormatter>();
  }
};

std::unique_ptr<spdlog::formatter> MakeFormatter(LogFormat format) {
  if (format == LogFormat::kJson) {
    return std::make_unique<JsonFormatter>();
  }
  return std::make_unique<LogfmtFormatter>();
}

}  // namespace

Status InitLogging(std::string_view level, LogFormat format) {
  auto parsed = spdlog::level::from_str(std::string(level));
  if (level != "debug" && level != "info" && level != "warn" && level != "error") {
    return Error::Invalid("invalid log level \"" + std::string(level) +
                          "\": use debug, info, warn or error");
  }
  auto& state = State();
  std::lock_guard lock(state.mu);
  state.level = parsed;
  state.format = format;
  state.sink->set_formatter(MakeFormatter(format));
  spdlog::apply_all([&](const std::shared_ptr<spdlog::logger>& logger) {
    logger->set_level(parsed);
  });
  return Status::Ok();
}

std::shared_ptr<spdlog::logger> Logger(std::string_view component) {
  auto& state = State();
  std::lock_guard lock(state.mu);
  std::string name(component);
  if (auto existing = spdlog::get(name)) {
    return existing;
  }
  static bool formatter_set = false;
  if (!formatter_set) {
    state.sink->set_formatter(MakeFormatter(state.format));
    formatter_set = true;
  }
  auto logger = std::make_shared<spdlog::logger>(name, state.sink);
  logger->set_level(state.level);
  logger->flush_on(spdlog::level::info);
  spdlog::register_logger(logger);
  return logger;
}

std::string LogValue(std::string_view value) {
  bool needs_quotes = value.empty() || value.find_first_of(" \"=\t\n") != std::string_view::npos;
  if (!needs_quotes) {
    return std::string(value);
  }
  std::string out = "\"";
  for (char c : value) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  out += '"';
  return out;
}

}  // namespace alertd
