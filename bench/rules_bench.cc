// Parses and evaluates public alerting rules (the corpus's awesome-prometheus-alerts
// collection and examples/xcord/rules.yml) over a synthetic store of 10k series whose metric
// names are the ones the rules select.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>
#include <string>
#include <type_traits>
#include <variant>
#include <vector>

#include <benchmark/benchmark.h>

#include "engine/promql/engine.h"
#include "engine/promql/parser.h"
#include "rules/rule_file.h"
#include "storage/memory_sample_store.h"

namespace {

namespace fs = std::filesystem;
using alertd::Labels;
using alertd::MemorySampleStore;
using alertd::Result;
namespace promql = alertd::promql;

constexpr int kSeries = 10'000;
constexpr int64_t kScrapeMs = 15'000;
constexpr int kSamplesPerSeries = 41;  // 10 minutes of scrapes
constexpr int64_t kEvalMs = (kSamplesPerSeries - 1) * kScrapeMs;

std::vector<fs::path> RuleFiles() {
  std::vector<fs::path> files;
  const fs::path corpus = fs::path(ALERTD_CORPUS_DIR) / "awesome" / "dist" / "rules";
  std::error_code ec;
  if (fs::is_directory(corpus, ec)) {
    for (const auto& entry : fs::recursive_directory_iterator(corpus, ec)) {
      const std::string ext = entry.path().extension().string();
      if (entry.is_regular_file() && (ext == ".yml" || ext == ".yaml")) {
        files.push_back(entry.path());
      }
    }
  } else {
    std::cerr << "corpus rules not found at " << corpus << "; using the xcord example only\n";
  }
  std::sort(files.begin(), files.end());
  files.push_back(fs::path(ALERTD_SOURCE_DIR) / "examples" / "xcord" / "rules.yml");
  return files;
}

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

struct Corpus {
  std::vector<std::pair<std::string, std::string>> texts;  // path, content
  std::vector<alertd::rules::RuleFile> files;              // those that loaded
};

const Corpus& GetCorpus() {
  static const Corpus* corpus = [] {
    auto* c = new Corpus;
    for (const fs::path& path : RuleFiles()) {
      c->texts.emplace_back(path.string(), ReadFile(path));
      Result<alertd::rules::RuleFile> file =
          alertd::rules::ParseRuleFile(c->texts.back().second, path.string(), nullptr);
      if (file.ok()) {
        c->files.push_back(std::move(file).value());
      }
    }
    return c;
  }();
  return *corpus;
}

void CollectNames(const promql::Expr& expr, std::set<std::string>& names) {
  std::visit(
      [&](const auto& node) {
        using T = std::decay_t<decltype(node)>;
        if constexpr (std::is_same_v<T, promql::VectorSelector>) {
          if (!node.name.empty()) {
            names.insert(node.name);
          }
        } else if constexpr (std::is_same_v<T, promql::MatrixSelector>) {
          CollectNames(*node.vector_selector, names);
        } else if constexpr (std::is_same_v<T, promql::SubqueryExpr> ||
                             std::is_same_v<T, promql::ParenExpr> ||
                             std::is_same_v<T, promql::UnaryExpr>) {
          CollectNames(*node.expr, names);
        } else if constexpr (std::is_same_v<T, promql::BinaryExpr>) {
          CollectNames(*node.lhs, names);
          CollectNames(*node.rhs, names);
        } else if constexpr (std::is_same_v<T, promql::AggregateExpr>) {
          CollectNames(*node.expr, names);
        } else if constexpr (std::is_same_v<T, promql::Call>) {
          for (const auto& arg : node.args) {
            CollectNames(*arg, names);
          }
        }
      },
      expr.node);
}

// 10k series spread over the metric names the rules select, with job and instance labels and
// counter-like values.
const MemorySampleStore& GetStore() {
  static const MemorySampleStore* store = [] {
    std::set<std::string> name_set;
    for (const auto& file : GetCorpus().files) {
      for (const auto& group : file.groups) {
        for (const auto& rule : group.rules) {
          CollectNames(*rule.parsed, name_set);
        }
      }
    }
    std::vector<std::string> names(name_set.begin(), name_set.end());
    if (names.empty()) {
      names.push_back("up");
    }
    auto* s = new MemorySampleStore;
    for (int i = 0; i < kSeries; ++i) {
      Labels labels{{"__name__", names[static_cast<size_t>(i) % names.size()]},
                    {"instance", "host-" + std::to_string(i % 100) + ":9100"},
                    {"job", "job-" + std::to_string(i % 7)}};
      for (int j = 0; j < kSamplesPerSeries; ++j) {
        s->Append(labels, j * kScrapeMs, static_cast<double>((i % 13) * j));
      }
    }
    return s;
  }();
  return *store;
}

void BM_ParseRuleFiles(benchmark::State& state) {
  const Corpus& corpus = GetCorpus();
  size_t rules = 0;
  for (auto _ : state) {
    rules = 0;
    for (const auto& [path, text] : corpus.texts) {
      Result<alertd::rules::RuleFile> file = alertd::rules::ParseRuleFile(text, path, nullptr);
      if (file.ok()) {
        rules += file->RuleCount();
      }
    }
    benchmark::DoNotOptimize(rules);
  }
  state.counters["files"] = static_cast<double>(corpus.texts.size());
  state.counters["rules"] = static_cast<double>(rules);
}

BENCHMARK(BM_ParseRuleFiles)->Unit(benchmark::kMillisecond);

void BM_EvaluateRules(benchmark::State& state) {
  const Corpus& corpus = GetCorpus();
  const MemorySampleStore& store = GetStore();
  promql::Engine engine;
  size_t rules = 0, failed = 0, samples = 0;
  for (auto _ : state) {
    rules = failed = samples = 0;
    for (const auto& file : corpus.files) {
      for (const auto& group : file.groups) {
        for (const auto& rule : group.rules) {
          ++rules;
          Result<promql::Value> value = engine.Instant(*rule.parsed, store, kEvalMs);
          if (!value.ok()) {
            ++failed;
          } else if (const auto* vec = std::get_if<promql::Vector>(&*value)) {
            samples += vec->size();
          }
        }
      }
    }
    benchmark::DoNotOptimize(samples);
  }
  state.counters["rules"] = static_cast<double>(rules);
  state.counters["failed"] = static_cast<double>(failed);
  state.counters["output_samples"] = static_cast<double>(samples);
  state.counters["series"] = static_cast<double>(store.NumSeries());
}

BENCHMARK(BM_EvaluateRules)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
