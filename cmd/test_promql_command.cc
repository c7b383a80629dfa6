// alertd test promql FILE...: runs PromQL test scripts (Prometheus's promql/testdata format)
// and prints a summary per file and in total.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "cmd/commands.h"
#include "engine/promql/test_script.h"

namespace alertd::cmd {
namespace {

namespace fs = std::filesystem;

// Expands folders to the *.test files directly inside them, sorted by name.
std::vector<std::string> ExpandFiles(const std::vector<std::string>& args) {
  std::vector<std::string> out;
  for (const std::string& arg : args) {
    std::error_code ec;
    if (!fs::is_directory(arg, ec)) {
      out.push_back(arg);
      continue;
    }
    std::vector<std::string> found;
    for (const auto& entry : fs::directory_iterator(arg, ec)) {
      if (entry.path().extension() == ".test") {
        found.push_back(entry.path().string());
      }
    }
    std::sort(found.begin(), found.end());
    out.insert(out.end(), found.begin(), found.end());
  }
  return out;
}

int RunTestPromql(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  size_t passed = 0, failed = 0, skipped = 0;
  bool ok = true;
  for (const std::string& file : ExpandFiles(args)) {
    std::ifstream in(file, std::ios::binary);
    std::error_code ec;
    if (!in || fs::is_directory(file, ec)) {
      err << file << ": cannot read the file; check that it exists and is readable\n";
      ok = false;
      continue;
    }
    std::stringstream text;
    text << in.rdbuf();
    Result<promql::TestScriptResult> result = promql::RunTestScript(text.str(), file);
    if (!result.ok()) {
      // The message already starts with the file name and line.
      err << result.error().message() << "\n";
      ok = false;
      continue;
    }
    const size_t p = result->Count(promql::EvalOutcome::kPassed);
    const size_t f = result->Count(promql::EvalOutcome::kFailed);
    const size_t s = result->Count(promql::EvalOutcome::kSkipped);
    out << file << ": " << p << " passed, " << f << " failed, " << s << " skipped\n";
    for (const promql::EvalCaseResult& c : result->cases) {
      if (c.outcome == promql::EvalOutcome::kFailed) {
        out << "  FAIL " << file << ":" << c.line << ": " << c.expr << "\n    " << c.reason << "\n";
      }
    }
    passed += p;
    failed += f;
    skipped += s;
  }
  out << passed << " passed, " << failed << " failed, " << skipped << " skipped\n";
  return ok && failed == 0 ? 0 : 1;
}

}  // namespace

Command AddTestPromqlCommand(CLI::App& test) {
  auto files = std::make_shared<std::vector<std::string>>();
  CLI::App* app = test.add_subcommand(
      "promql", "Run PromQL test scripts (files or folders of *.test); exit 1 on any failure.");
  app->add_option("files", *files, "Test script files, or folders of *.test files.")->required();
  return Command{app, [files] {
                   return RunTestPromql(*files, std::cout, std::cerr);
                 }};
}

}  // namespace alertd::cmd
