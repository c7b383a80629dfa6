#include <fstream>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "cmd/commands.h"
#include "common/logging.h"
#include "engine/rule_tester.h"

namespace alertd::cmd {

Command AddTestRulesCommand(CLI::App& test) {
  struct Flags {
    std::vector<std::string> files;
    std::string run;
    std::string junit;
  };

  auto flags = std::make_shared<Flags>();
  CLI::App* app = test.add_subcommand(
      "rules", "Run rule unit tests in promtool's format; exit 1 when any test fails.");
  app->add_option("files", flags->files, "Unit test files.")->required();
  app->add_option("--run", flags->run, "Run only the tests whose name matches this RE2 pattern.");
  app->add_option("--junit", flags->junit, "Write a JUnit XML report to this file.");
  return Command{app, [flags] {
                   // Rule evaluation failures are reported as test failures, not as logs.
                   (void)InitLogging("error", LogFormat::kLogfmt);
                   RuleUnitTestOptions options;
                   options.run = flags->run;
                   std::vector<RuleUnitTestFileResult> results;
                   int code =
                       RunRuleUnitTests(flags->files, options, std::cout, std::cerr, &results);
                   if (!flags->junit.empty()) {
                     std::ofstream report(flags->junit, std::ios::binary);
                     report << RuleUnitTestJUnit(results);
                     if (!report) {
                       std::cerr << "cannot write the JUnit report to " << flags->junit
                                 << "; check that its folder exists and is writable\n";
                       return 1;
                     }
                   }
                   return code;
                 }};
}

}  // namespace alertd::cmd
