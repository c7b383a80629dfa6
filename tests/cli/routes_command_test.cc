// Runs `alertd routes test` against amtool's verdicts: the corpus table and, when amtool is
// installed, amtool itself on a routing file with nested routes, continue and regexes.
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace {

namespace fs = std::filesystem;

struct CommandResult {
  int exit_code = -1;
  std::string out;  // stdout only
};

CommandResult RunShell(const std::string& command) {
  CommandResult result;
  FILE* pipe = popen((command + " 2>/dev/null").c_str(), "r");
  if (pipe == nullptr) {
    return result;
  }
  std::array<char, 4096> buffer{};
  size_t n;
  while ((n = fread(buffer.data(), 1, buffer.size(), pipe)) > 0) {
    result.out.append(buffer.data(), n);
  }
  int status = pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

std::string Alertd(const std::string& file, const std::string& labels) {
  return std::string(ALERTD_BINARY) + " routes test --config.file='" + file + "' " + labels;
}

std::vector<std::string> Split(const std::string& line, char separator) {
  std::vector<std::string> fields;
  std::stringstream in(line);
  std::string field;
  while (std::getline(in, field, separator)) {
    fields.push_back(field);
  }
  return fields;
}

TEST(RoutesCommandTest, MatchesAmtoolReferenceTable) {
  fs::path corpus(ALERTD_CORPUS_DIR);
  fs::path table = corpus / "REFERENCE-amtool-routes.tsv";
  if (!fs::exists(table)) {
    GTEST_SKIP() << "corpus table not found: " << table;
  }
  std::ifstream in(table);
  std::string line;
  std::getline(in, line);  // header: path labels exit_code receivers ...
  int rows = 0;
  while (std::getline(in, line) && rows < 1000) {
    std::vector<std::string> fields = Split(line, '\t');
    if (fields.size() < 4) {
      continue;
    }
    ++rows;
    CommandResult result = RunShell(Alertd((corpus / fields[0]).string(), fields[1]));
    EXPECT_EQ(result.exit_code, std::stoi(fields[2])) << line;
    EXPECT_EQ(result.out, fields[3] + "\n") << line;
  }
  EXPECT_GT(rows, 0);
}

const char kRouting[] = R"(route:
  receiver: default
  group_by: ['alertname']
  routes:
    - matchers: ['team = "db"', 'severity=~"warn|crit"']
      receiver: db
      continue: true
      routes:
        - match: {severity: crit}
          receiver: pager
    - matchers: ['{team=~"db|web", env!="dev"}']
      receiver: web
      continue: true
    - match_re: {service: 'api.*'}
      receiver: api
      routes:
        - matchers: [instance!~"a.*"]
          receiver: api-b
receivers:
  - name: default
  - name: db
  - name: pager
  - name: web
  - name: api
  - name: api-b
)";

TEST(RoutesCommandTest, AgreesWithAmtool) {
  const char* amtool = "/usr/bin/amtool";
  if (!fs::exists(amtool)) {
    GTEST_SKIP() << "amtool is not installed";
  }
  fs::path dir = fs::temp_directory_path() / ("alertd-routes-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  std::string file = (dir / "alertmanager.yml").string();
  std::ofstream(file) << kRouting;
  for (const std::string& labels : std::vector<std::string>{
           "",
           "team=db",
           "team=db severity=warn",
           "team=db severity=crit",
           "team=db severity=crit env=dev",
           "team=web",
           "team=web env=dev",
           "service=apiserver",
           "service=apiserver instance=abc",
           "service=apiserver instance=bcd team=web",
           "service=xapi",
           "'alertname=\"Watch dog\"' team=db",
           "--verify.receivers=db,web team=db severity=warn",
           "--verify.receivers=db team=db severity=warn",
           "team!=db",
           "bad-label",
       }) {
    CommandResult ours = RunShell(Alertd(file, labels));
    CommandResult theirs = RunShell(std::string(amtool) + " config routes test --config.file='" +
                                    file + "' " + labels);
    EXPECT_EQ(ours.exit_code, theirs.exit_code) << labels;
    EXPECT_EQ(ours.out, theirs.out) << labels;
  }
  fs::remove_all(dir);
}

}  // namespace
