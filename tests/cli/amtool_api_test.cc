// Runs Debian's amtool 0.25 against `alertd run` on 127.0.0.1, as an operator would against an
// Alertmanager: silences, alerts and the routing tree over API v2, and state kept across a
// restart. Skipped when /usr/bin/amtool is absent.
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/http_client.h"

namespace alertd {
namespace {

constexpr char kAmtool[] = "/usr/bin/amtool";

int FreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t len = sizeof(addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  int port = ntohs(addr.sin_port);
  ::close(fd);
  return port;
}

// `alertd run` in a child process, stopped with SIGTERM.
class Daemon {
 public:
  Daemon(const std::string& dir, int port) : port_(port) {
    pid_ = ::fork();
    if (pid_ == 0) {
      std::string log = dir + "/alertd.log";
      FILE* out = std::freopen(log.c_str(), "a", stdout);
      (void)out;
      ::dup2(STDOUT_FILENO, STDERR_FILENO);
      if (::chdir(dir.c_str()) != 0) {
        ::_exit(127);
      }
      ::execl(ALERTD_BINARY, ALERTD_BINARY, "run", "--config.file=alertd.yml", nullptr);
      ::_exit(127);
    }
  }

  ~Daemon() { Stop(); }

  // Polls /-/ready for up to 20 seconds.
  bool WaitReady() {
    auto client = MakeCurlHttpClient();
    for (int i = 0; i < 200; ++i) {
      HttpRequest request;
      request.url = "http://127.0.0.1:" + std::to_string(port_) + "/-/ready";
      request.timeout = std::chrono::milliseconds(1000);
      auto response = client->Do(request);
      if (response.ok() && response->status == 200) {
        return true;
      }
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return false;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return false;
  }

  void Stop() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      int status = 0;
      ::waitpid(pid_, &status, 0);
      pid_ = -1;
    }
  }

 private:
  int port_;
  pid_t pid_ = -1;
};

class AmtoolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::access(kAmtool, X_OK) != 0) {
      GTEST_SKIP() << "amtool not found at " << kAmtool << "; install Debian's amtool to run this";
    }
    dir_ = std::filesystem::temp_directory_path() /
           ("alertd-amtool-test-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    port_ = FreePort();
    std::ofstream(dir_ / "alertd.yml") << "global:\n"
                                          "  resolve_timeout: 5m\n"
                                          "storage:\n"
                                          "  path: data/\n"
                                          "web:\n"
                                          "  listen_address: 127.0.0.1:"
                                       << port_
                                       << "\n"
                                          "route:\n"
                                          "  receiver: team\n"
                                          "  group_by: [alertname]\n"
                                          "  routes:\n"
                                          "    - receiver: db\n"
                                          "      matchers: ['team=\"db\"']\n"
                                          "receivers:\n"
                                          "  - name: team\n"
                                          "  - name: db\n";
  }

  void TearDown() override {
    if (!dir_.empty()) {
      std::filesystem::remove_all(dir_);
    }
  }

  // Runs amtool against the daemon with a 20-second bound. `output` is stdout; stderr goes to
  // `error`, because amtool warns there that alertd's version differs from its own.
  struct AmtoolResult {
    int exit_code = -1;
    std::string output;
    std::string error;
  };

  AmtoolResult Amtool(const std::string& args) {
    const std::string error_file = (dir_ / "amtool.err").string();
    std::string command = "timeout 20 " + std::string(kAmtool) +
                          " --alertmanager.url=http://127.0.0.1:" + std::to_string(port_) + " " +
                          args + " 2>" + error_file;
    AmtoolResult result;
    FILE* pipe = ::popen(command.c_str(), "r");
    if (pipe == nullptr) {
      return result;
    }
    char buffer[4096];
    size_t n;
    while ((n = std::fread(buffer, 1, sizeof(buffer), pipe)) > 0) {
      result.output.append(buffer, n);
    }
    int status = ::pclose(pipe);
    result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    std::ifstream in(error_file);
    result.error = std::string(std::istreambuf_iterator<char>(in), {});
    return result;
  }

  std::string DaemonLog() const {
    std::ifstream in(dir_ / "alertd.log");
    return std::string(std::istreambuf_iterator<char>(in), {});
  }

  std::filesystem::path dir_;
  int port_ = 0;
};

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) {
    s.pop_back();
  }
  return s;
}

TEST_F(AmtoolTest, SilencesAlertsAndRoutesWorkAndSurviveRestart) {
  std::string silence_id;
  {
    Daemon daemon(dir_.string(), port_);
    ASSERT_TRUE(daemon.WaitReady()) << DaemonLog();

    auto add = Amtool("silence add alertname=X -c 'planned work' --duration=2h");
    ASSERT_EQ(add.exit_code, 0) << add.error;
    silence_id = Trim(add.output);
    EXPECT_EQ(silence_id.size(), 36u) << add.output;

    auto query = Amtool("silence query");
    ASSERT_EQ(query.exit_code, 0) << query.output;
    EXPECT_NE(query.output.find(silence_id), std::string::npos) << query.output;
    EXPECT_NE(query.output.find("planned work"), std::string::npos) << query.output;
    EXPECT_NE(query.output.find("alertname=\"X\""), std::string::npos) << query.output;

    auto by_matcher = Amtool("silence query -q alertname=X");
    ASSERT_EQ(by_matcher.exit_code, 0) << by_matcher.output;
    EXPECT_EQ(Trim(by_matcher.output), silence_id);

    auto bad = Amtool("silence add alertname=~'.*' -c all");
    EXPECT_NE(bad.exit_code, 0);
    EXPECT_NE(bad.error.find("every matcher of the silence matches the empty string"),
              std::string::npos)
        << bad.error;

    auto alert = Amtool("alert add alertname=X team=db --annotation=summary='disk full'");
    ASSERT_EQ(alert.exit_code, 0) << alert.output;
    auto other = Amtool("alert add alertname=Y team=web");
    ASSERT_EQ(other.exit_code, 0) << other.output;

    // amtool's alert query lists active (unsilenced) alerts unless asked for more.
    auto alerts = Amtool("-o json alert query");
    ASSERT_EQ(alerts.exit_code, 0) << alerts.output;
    auto json = nlohmann::json::parse(alerts.output, nullptr, false);
    ASSERT_TRUE(json.is_array()) << alerts.output;
    ASSERT_EQ(json.size(), 1u) << alerts.output;
    EXPECT_EQ(json[0]["labels"]["alertname"], "Y");
    auto all = Amtool("-o json alert query -a -s");
    ASSERT_EQ(all.exit_code, 0) << all.output;
    auto both = nlohmann::json::parse(all.output, nullptr, false);
    ASSERT_TRUE(both.is_array()) << all.output;
    EXPECT_EQ(both.size(), 2u) << all.output;

    auto simple = Amtool("alert query -s alertname=X");
    ASSERT_EQ(simple.exit_code, 0) << simple.output;
    EXPECT_NE(simple.output.find("disk full"), std::string::npos) << simple.output;

    auto routes = Amtool("config routes");
    ASSERT_EQ(routes.exit_code, 0) << routes.output;
    EXPECT_NE(routes.output.find("team"), std::string::npos) << routes.output;
    EXPECT_NE(routes.output.find("{team=\"db\"}  receiver: db"), std::string::npos)
        << routes.output;
  }

  // After a restart the silence and the alerts come back from the state database.
  Daemon daemon(dir_.string(), port_);
  ASSERT_TRUE(daemon.WaitReady()) << DaemonLog();
  auto query = Amtool("silence query -q");
  ASSERT_EQ(query.exit_code, 0) << query.output;
  EXPECT_EQ(Trim(query.output), silence_id);
  auto alerts = Amtool("-o json alert query -a -s");
  ASSERT_EQ(alerts.exit_code, 0) << alerts.output;
  auto json = nlohmann::json::parse(alerts.output, nullptr, false);
  ASSERT_TRUE(json.is_array()) << alerts.output;
  EXPECT_EQ(json.size(), 2u) << alerts.output;

  auto expire = Amtool("silence expire " + silence_id);
  ASSERT_EQ(expire.exit_code, 0) << expire.output;
  std::this_thread::sleep_for(std::chrono::milliseconds(20));  // the end must be in the past
  auto after = Amtool("silence query -q");
  ASSERT_EQ(after.exit_code, 0) << after.output;
  EXPECT_EQ(Trim(after.output), "");
  auto expired = Amtool("silence query -q --expired");
  ASSERT_EQ(expired.exit_code, 0) << expired.output;
  EXPECT_EQ(Trim(expired.output), silence_id);
}

}  // namespace
}  // namespace alertd
