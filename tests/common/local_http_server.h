// A minimal HTTP/1.1 server on 127.0.0.1 for tests of HTTP clients: one connection at a time,
// one request per connection, each response built by a handler that returns the raw response bytes.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace alertd::testing {

struct ReceivedRequest {
  std::string method;
  std::string target;                                        // path and query
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
  std::string body;

  std::string Header(const std::string& name) const {
    for (const auto& [key, value] : headers) {
      if (key == name) {
        return value;
      }
    }
    return {};
  }
};

// Builds a raw response with Content-Length and Connection: close.
inline std::string HttpResponseBytes(int status,
                                     const std::string& body,
                                     const std::vector<std::string>& extra_headers = {}) {
  std::string out = "HTTP/1.1 " + std::to_string(status) + " Status\r\n";
  for (const auto& header : extra_headers) {
    out += header + "\r\n";
  }
  out += "Content-Length: " + std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n";
  out += body;
  return out;
}

// Returns a TCP port on 127.0.0.1 that nothing listens on: bound once by the kernel's choice,
// then closed. Another process could take it in between, which is unlikely within a test.
inline int ClosedLocalPort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t len = sizeof(addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

class LocalHttpServer {
 public:
  using Handler = std::function<std::string(const ReceivedRequest&)>;

  explicit LocalHttpServer(Handler handler) : handler_(std::move(handler)) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
    ::listen(listen_fd_, 16);
    socklen_t len = sizeof(addr);
    ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { Serve(); });
  }

  ~LocalHttpServer() { Stop(); }

  LocalHttpServer(const LocalHttpServer&) = delete;
  LocalHttpServer& operator=(const LocalHttpServer&) = delete;

  void Stop() {
    {
      std::lock_guard lock(mu_);
      if (stopped_) {
        return;
      }
      stopped_ = true;
    }
    stop_cv_.notify_all();
    thread_.join();
    ::close(listen_fd_);
  }

  int port() const { return port_; }

  std::string BaseUrl() const { return "http://127.0.0.1:" + std::to_string(port_); }

  std::vector<ReceivedRequest> requests() const {
    std::lock_guard lock(mu_);
    return requests_;
  }

  // Blocks a handler until Stop() or `limit` passes; used to provoke client timeouts.
  void WaitForStop(std::chrono::milliseconds limit) {
    std::unique_lock lock(mu_);
    stop_cv_.wait_for(lock, limit, [this] { return stopped_; });
  }

 private:
  bool stopped() {
    std::lock_guard lock(mu_);
    return stopped_;
  }

  void Serve() {
    while (!stopped()) {
      pollfd pfd{listen_fd_, POLLIN, 0};
      if (::poll(&pfd, 1, 50) <= 0) {
        continue;
      }
      int fd = ::accept(listen_fd_, nullptr, nullptr);
      if (fd < 0) {
        continue;
      }
      HandleConnection(fd);
      ::close(fd);
    }
  }

  // Appends the next chunk read from `fd` to `data`; false on EOF, error or 5 s of silence.
  static bool ReadMore(int fd, std::string& data) {
    pollfd pfd{fd, POLLIN, 0};
    if (::poll(&pfd, 1, 5000) <= 0) {
      return false;
    }
    char buf[4096];
    ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n <= 0) {
      return false;
    }
    data.append(buf, static_cast<size_t>(n));
    return true;
  }

  void HandleConnection(int fd) {
    std::string data;
    size_t header_end;
    while ((header_end = data.find("\r\n\r\n")) == std::string::npos) {
      if (!ReadMore(fd, data)) {
        return;
      }
    }
    ReceivedRequest request;
    std::string head = data.substr(0, header_end);
    size_t line_end = head.find("\r\n");
    std::string request_line = head.substr(0, line_end);
    size_t sp1 = request_line.find(' ');
    size_t sp2 = request_line.find(' ', sp1 + 1);
    request.method = request_line.substr(0, sp1);
    request.target = request_line.substr(sp1 + 1, sp2 - sp1 - 1);
    size_t content_length = 0;
    size_t pos = line_end == std::string::npos ? head.size() : line_end + 2;
    while (pos < head.size()) {
      size_t end = head.find("\r\n", pos);
      if (end == std::string::npos) {
        end = head.size();
      }
      std::string line = head.substr(pos, end - pos);
      size_t colon = line.find(':');
      if (colon != std::string::npos) {
        std::string name = line.substr(0, colon);
        std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) {
          return static_cast<char>(std::tolower(c));
        });
        std::string value = line.substr(colon + 1);
        value.erase(0, value.find_first_not_of(' '));
        if (name == "content-length") {
          content_length = std::stoul(value);
        }
        request.headers.emplace_back(std::move(name), std::move(value));
      }
      pos = end + 2;
    }
    std::string body = data.substr(header_end + 4);
    while (body.size() < content_length) {
      if (!ReadMore(fd, body)) {
        return;
      }
    }
    request.body = body.substr(0, content_length);
    {
      std::lock_guard lock(mu_);
      requests_.push_back(request);
    }
    std::string response = handler_(request);
    size_t sent = 0;
    while (sent < response.size()) {
      ssize_t n = ::send(fd, response.data() + sent, response.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) {
        return;
      }
      sent += static_cast<size_t>(n);
    }
  }

  Handler handler_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::thread thread_;
  mutable std::mutex mu_;
  std::condition_variable stop_cv_;
  bool stopped_ = false;
  std::vector<ReceivedRequest> requests_;
};

}  // namespace alertd::testing
