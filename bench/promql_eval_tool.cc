// Loads an OpenMetrics file (timestamps in seconds, as promtool's create-blocks-from openmetrics
// reads it) into a MemorySampleStore and times instant queries against it, for
// bench/promql_compare.py. Prints one JSON object per line: first the load figures, then one
// per expression with the median evaluation time and the result.
//
// Usage: promql_eval_tool DATA.om EXPRESSIONS.txt TIME_MS REPEAT
// EXPRESSIONS.txt contains one expression per line.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/promql/engine.h"
#include "engine/promql/parser.h"
#include "engine/scrape/textparse.h"
#include "storage/memory_sample_store.h"

namespace {

namespace promql = alertd::promql;
using Json = nlohmann::json;

constexpr size_t kLinesPerChunk = 50'000;

// Resident set size in bytes, from /proc/self/statm.
long ResidentBytes() {
  std::ifstream statm("/proc/self/statm");
  long pages = 0, resident = 0;
  statm >> pages >> resident;
  return resident * sysconf(_SC_PAGESIZE);
}

// Formats a float with 17 significant digits, which read back to the same double, and spells
// NaN and the infinities as Prometheus's JSON does.
std::string FormatValue(double v) {
  if (std::isnan(v)) {
    return "NaN";
  }
  if (std::isinf(v)) {
    return v > 0 ? "+Inf" : "-Inf";
  }
  char buf[40];
  std::snprintf(buf, sizeof(buf), "%.17g", v);
  return buf;
}

// The OpenMetrics sample lines the generator writes are text-format lines except for the
// timestamp unit, so each chunk is rewritten with millisecond timestamps and handed to the
// text-format parser. Comment lines, including "# EOF", are dropped.
bool ParseChunk(const std::string& chunk, alertd::MemorySampleStore& store, size_t& samples) {
  auto parsed = alertd::ParseTextFormat(chunk);
  if (!parsed.ok()) {
    std::cerr << "parse error: " << parsed.error().message() << "\n";
    return false;
  }
  for (const auto& sample : *parsed) {
    store.Append(sample.labels, sample.timestamp_ms.value_or(0), sample.value);
    ++samples;
  }
  return true;
}

bool LoadOpenMetrics(const char* path, alertd::MemorySampleStore& store, size_t& samples) {
  std::ifstream in(path);
  if (!in) {
    std::cerr << "cannot open " << path << "\n";
    return false;
  }
  std::string line, chunk;
  size_t lines = 0;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') {
      continue;
    }
    const size_t space = line.rfind(' ');
    if (space == std::string::npos) {
      std::cerr << "sample line without timestamp: " << line << "\n";
      return false;
    }
    const double seconds = std::strtod(line.c_str() + space + 1, nullptr);
    chunk.append(line, 0, space + 1);
    chunk += std::to_string(std::llround(seconds * 1000));
    chunk += '\n';
    if (++lines == kLinesPerChunk) {
      if (!ParseChunk(chunk, store, samples)) {
        return false;
      }
      chunk.clear();
      lines = 0;
    }
  }
  return chunk.empty() || ParseChunk(chunk, store, samples);
}

Json LabelsJson(const alertd::Labels& labels) {
  Json out = Json::object();
  for (const auto& label : labels) {
    out[label.name] = label.value;
  }
  return out;
}

Json ResultJson(const promql::Value& value) {
  Json out;
  if (const auto* vec = std::get_if<promql::Vector>(&value)) {
    out["resultType"] = "vector";
    out["result"] = Json::array();
    for (const auto& sample : *vec) {
      out["result"].push_back(
          {{"metric", LabelsJson(sample.metric)}, {"value", FormatValue(sample.v)}});
    }
  } else if (const auto* scalar = std::get_if<promql::Scalar>(&value)) {
    out["resultType"] = "scalar";
    out["result"] = FormatValue(scalar->v);
  } else if (std::holds_alternative<promql::Matrix>(value)) {
    out["resultType"] = "matrix";
  } else {
    out["resultType"] = "string";
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 5) {
    std::cerr << "usage: promql_eval_tool DATA.om EXPRESSIONS.txt TIME_MS REPEAT\n";
    return 2;
  }
  const int64_t t_ms = std::strtoll(argv[3], nullptr, 10);
  const int repeat = std::max(1, std::atoi(argv[4]));

  alertd::MemorySampleStore store;
  size_t samples = 0;
  const long rss_before = ResidentBytes();
  const auto load_start = std::chrono::steady_clock::now();
  if (!LoadOpenMetrics(argv[1], store, samples)) {
    return 1;
  }
  const double load_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - load_start).count();
  const long rss_delta = ResidentBytes() - rss_before;
  const size_t series = store.NumSeries();
  std::cout << Json{{"series", series},
                    {"samples", store.NumSamples()},
                    {"load_seconds", load_s},
                    {"rss_delta_bytes", rss_delta},
                    {"bytes_per_series", series ? static_cast<double>(rss_delta) / series : 0},
                    {"bytes_per_sample",
                     samples ? static_cast<double>(rss_delta) / store.NumSamples() : 0}}
                   .dump()
            << "\n";

  std::ifstream exprs(argv[2]);
  std::string query;
  promql::Engine engine;
  while (std::getline(exprs, query)) {
    if (query.empty()) {
      continue;
    }
    Json out{{"expr", query}};
    auto parsed = promql::ParseExpr(query);
    if (!parsed.ok()) {
      out["error"] = parsed.error().message();
      std::cout << out.dump() << "\n";
      continue;
    }
    std::vector<double> times_ms;
    alertd::Result<promql::Value> value = engine.Instant(**parsed, store, t_ms);
    for (int i = 0; i < repeat && value.ok(); ++i) {
      const auto start = std::chrono::steady_clock::now();
      value = engine.Instant(**parsed, store, t_ms);
      times_ms.push_back(
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
              .count());
    }
    if (!value.ok()) {
      out["error"] = value.error().message();
    } else {
      std::sort(times_ms.begin(), times_ms.end());
      out["median_ms"] = times_ms[times_ms.size() / 2];
      out["data"] = ResultJson(*value);
    }
    std::cout << out.dump() << "\n";
  }
  return 0;
}
