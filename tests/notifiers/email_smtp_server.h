// Runs tests/notifiers/email_smtp_server.py (aiosmtpd) as a child process on 127.0.0.1 and reads
// back the messages it stores, for tests of the email notifier against a real SMTP server.
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

namespace alertd::testing {

inline constexpr const char* kSystemPython = "/usr/bin/python3";

// Whether /usr/bin/python3 can import aiosmtpd (Debian's python3-aiosmtpd).
inline bool HaveAiosmtpd() {
  std::string command = std::string(kSystemPython) + " -c 'import aiosmtpd' >/dev/null 2>&1";
  return std::system(command.c_str()) == 0;
}

// A fresh folder under the system temp folder, removed by the destructor.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "alertd-email-XXXXXX").string();
    path_ = ::mkdtemp(pattern.data()) != nullptr ? pattern : std::string();
  }

  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }

  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Writes a self-signed certificate for 127.0.0.1 and localhost to DIR/cert.pem and DIR/key.pem.
inline bool MakeSelfSignedCert(const std::string& dir) {
  std::string command =
      "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost "
      "-addext subjectAltName=IP:127.0.0.1,DNS:localhost -keyout " +
      dir + "/key.pem -out " + dir + "/cert.pem >/dev/null 2>&1";
  return std::system(command.c_str()) == 0;
}

struct ReceivedMail {
  std::string data;     // the DATA as received, CRLF line ends
  nlohmann::json meta;  // mail_from, rcpt_tos, ehlo, tls, auth_login
};

class SmtpTestServer {
 public:
  // Starts the server with extra command-line `args` (see the script's --help). port() is 0
  // when it did not start within 10 s.
  explicit SmtpTestServer(std::vector<std::string> args) {
    std::string script = std::string(ALERTD_SOURCE_DIR) + "/tests/notifiers/email_smtp_server.py";
    std::vector<std::string> argv = {kSystemPython, script, "--dir", dir_.path()};
    argv.insert(argv.end(), args.begin(), args.end());
    int out[2];
    if (::pipe(out) != 0) {
      return;
    }
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(out[1], STDOUT_FILENO);
      // aiosmtpd logs every session to stderr; the log stays beside the messages.
      int log = ::open((dir_.path() + "/server.log").c_str(), O_WRONLY | O_CREAT, 0600);
      if (log >= 0) {
        ::dup2(log, STDERR_FILENO);
      }
      ::close(out[0]);
      ::close(out[1]);
      std::vector<char*> raw;
      for (auto& arg : argv) {
        raw.push_back(arg.data());
      }
      raw.push_back(nullptr);
      ::execv(raw[0], raw.data());
      ::_exit(127);
    }
    ::close(out[1]);
    ReadPort(out[0]);
    ::close(out[0]);
  }

  ~SmtpTestServer() {
    if (pid_ <= 0) {
      return;
    }
    ::kill(pid_, SIGTERM);
    for (int i = 0; i < 200; ++i) {
      if (::waitpid(pid_, nullptr, WNOHANG) == pid_) {
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }

  SmtpTestServer(const SmtpTestServer&) = delete;
  SmtpTestServer& operator=(const SmtpTestServer&) = delete;

  int port() const { return port_; }

  std::string smarthost() const { return "127.0.0.1:" + std::to_string(port_); }

  // Returns the messages stored so far, waiting up to `limit` for at least `count` of them.
  std::vector<ReceivedMail> WaitForMail(
      size_t count, std::chrono::milliseconds limit = std::chrono::seconds(5)) const {
    auto deadline = std::chrono::steady_clock::now() + limit;
    std::vector<ReceivedMail> mail = Mail();
    while (mail.size() < count && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      mail = Mail();
    }
    return mail;
  }

 private:
  std::vector<ReceivedMail> Mail() const {
    std::vector<ReceivedMail> mail;
    for (int n = 1;; ++n) {
      std::string base = dir_.path() + "/" + std::to_string(n);
      std::ifstream eml(base + ".eml", std::ios::binary);
      if (!eml) {
        break;
      }
      std::stringstream data;
      data << eml.rdbuf();
      std::ifstream meta(base + ".json");
      ReceivedMail received;
      received.data = data.str();
      received.meta = nlohmann::json::parse(meta, nullptr, false);
      mail.push_back(std::move(received));
    }
    return mail;
  }

  void ReadPort(int fd) {
    std::string line;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (line.find('\n') == std::string::npos && std::chrono::steady_clock::now() < deadline) {
      pollfd pfd{fd, POLLIN, 0};
      if (::poll(&pfd, 1, 100) <= 0) {
        continue;
      }
      char buffer[256];
      ssize_t n = ::read(fd, buffer, sizeof(buffer));
      if (n <= 0) {
        break;
      }
      line.append(buffer, static_cast<size_t>(n));
    }
    if (line.starts_with("PORT ")) {
      port_ = std::atoi(line.c_str() + 5);
    }
  }

  TempDir dir_;
  pid_t pid_ = -1;
  int port_ = 0;
};

}  // namespace alertd::testing
