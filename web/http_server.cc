#include "web/http_server.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <condition_variable>
#include <exception>
#include <limits>
#include <mutex>
#include <optional>
#include <thread>
#include <type_traits>
#include <unordered_map>

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include "common/logging.h"
#include "web/metrics.h"

namespace alertd {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

namespace {

constexpr std::chrono::milliseconds kAcceptRetryDelay{100};
// How long a connection that is closed after an error response keeps draining the rest of
// the request, so that the client reads the response instead of a connection reset.
constexpr std::chrono::milliseconds kLingerTimeout{1000};
constexpr size_t kLingerMaxBytes = 1 << 20;

std::string ToLower(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

std::string_view ToStd(beast::string_view text) {
  return {text.data(), text.size()};
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  if (c >= 'a' && c <= 'f') {
    return c - 'a' + 10;
  }
  if (c >= 'A' && c <= 'F') {
    return c - 'A' + 10;
  }
  return -1;
}

std::string FormatEndpoint(const tcp::endpoint& endpoint) {
  const asio::ip::address address = endpoint.address();
  std::string host = address.to_string();
  if (address.is_v6()) {
    host = "[" + host + "]";
  }
  return host + ":" + std::to_string(endpoint.port());
}

Error InvalidAddress(const std::string& address, const std::string& reason) {
  return Error::Invalid("Invalid listen address \"" + address + "\": " + reason);
}

// Resolves a host name, preferring IPv4 like Go's net.Listen does for "localhost".
Result<asio::ip::address> ResolveHost(const std::string& address, const std::string& host) {
  asio::io_context io;
  tcp::resolver resolver(io);
  beast::error_code ec;
  tcp::resolver::results_type results = resolver.resolve(host, "", ec);
  if (ec || results.empty()) {
    return InvalidAddress(address,
                          "cannot resolve host \"" + host + "\" (" +
                              (ec ? ec.message() : std::string("no addresses")) +
                              "). Use an IP address or a resolvable host name.");
  }
  for (const auto& entry : results) {
    if (entry.endpoint().address().is_v4()) {
      return entry.endpoint().address();
    }
  }
  return results.begin()->endpoint().address();
}

Result<tcp::endpoint> ParseListenAddress(const std::string& address) {
  constexpr char kExpected[] = "expected host:port, e.g. 127.0.0.1:9095 or [::1]:9095.";
  std::string host;
  std::string port_text;
  if (!address.empty() && address.front() == '[') {
    size_t close = address.find(']');
    if (close == std::string::npos) {
      return InvalidAddress(address,
                            "missing ']' after the IPv6 address; " + std::string(kExpected));
    }
    if (close + 1 >= address.size() || address[close + 1] != ':') {
      return InvalidAddress(address, "missing ':port' after ']'; " + std::string(kExpected));
    }
    host = address.substr(1, close - 1);
    port_text = address.substr(close + 2);
  } else {
    size_t colon = address.rfind(':');
    if (colon == std::string::npos) {
      return InvalidAddress(address, "missing port; " + std::string(kExpected));
    }
    host = address.substr(0, colon);
    port_text = address.substr(colon + 1);
    if (host.find(':') != std::string::npos) {
      return InvalidAddress(address,
                            "an IPv6 address must be in brackets; " + std::string(kExpected));
    }
  }
  bool digits = !port_text.empty() && port_text.size() <= 5 &&
                std::all_of(port_text.begin(), port_text.end(), [](unsigned char c) {
                  return std::isdigit(c) != 0;
                });
  if (!digits || std::stoi(port_text) > 65535) {
    return InvalidAddress(address,
                          "the port \"" + port_text + "\" is not a number from 0 to 65535.");
  }
  auto port = static_cast<uint16_t>(std::stoi(port_text));
  if (host.empty()) {
    return tcp::endpoint(asio::ip::address_v4::any(), port);
  }
  beast::error_code ec;
  asio::ip::address ip = asio::ip::make_address(host, ec);
  bool bracketed = address.front() == '[';
  if (bracketed && (ec || !ip.is_v6())) {
    return InvalidAddress(address, "\"" + host + "\" is not an IPv6 address.");
  }
  if (!ec) {
    return tcp::endpoint(ip, port);
  }
  Result<asio::ip::address> resolved = ResolveHost(address, host);
  if (!resolved.ok()) {
    return resolved.error();
  }
  return tcp::endpoint(*resolved, port);
}

std::string BindHint(const beast::error_code& ec) {
  if (ec == asio::error::address_in_use) {
    return "Stop the process that uses this address or choose another listen address.";
  }
  if (ec == asio::error::access_denied) {
    return "Ports below 1024 need privileges; choose a higher port.";
  }
  if (ec.value() == EADDRNOTAVAIL) {
    return "The address is not assigned to this host; use one of its addresses or 0.0.0.0.";
  }
  return "Check the listen address.";
}

bool IsFormMethod(std::string_view method) {
  return method == "POST" || method == "PUT" || method == "PATCH";
}

bool IsFormContentType(std::string_view content_type) {
  std::string media = ToLower(content_type.substr(0, content_type.find(';')));
  media.erase(std::remove(media.begin(), media.end(), ' '), media.end());
  return media == "application/x-www-form-urlencoded";
}

bool StatusHasNoBody(int status) {
  return status < 200 || status == 204 || status == 304;
}

struct RouteHandler {
  HttpHandler handler;
  HttpRouteOptions options;
};

struct Route {
  std::map<std::string, RouteHandler> by_method;
};

struct RouteMatch {
  std::string pattern;  // the registered path or prefix
  HttpHandler handler;  // empty when nothing matched
  HttpRouteOptions options;
  bool path_found = false;
  std::string allow;  // methods of the matched path, for 405
};

class Router {
 public:
  void Add(bool prefix,
           std::string method,
           std::string path,
           HttpHandler handler,
           HttpRouteOptions options) {
    std::lock_guard lock(mu_);
    auto& routes = prefix ? prefix_ : exact_;
    routes[std::move(path)].by_method[std::move(method)] = {std::move(handler), options};
  }

  RouteMatch Find(const std::string& method, const std::string& path) const {
    std::lock_guard lock(mu_);
    const Route* route = nullptr;
    const std::string* pattern = nullptr;
    auto exact = exact_.find(path);
    if (exact != exact_.end()) {
      route = &exact->second;
      pattern = &exact->first;
    } else {
      for (const auto& [prefix, candidate] : prefix_) {
        if (path.starts_with(prefix) && (route == nullptr || prefix.size() > pattern->size())) {
          route = &candidate;
          pattern = &prefix;
        }
      }
    }
    RouteMatch match;
    if (route == nullptr) {
      return match;
    }
    match.path_found = true;
    match.pattern = *pattern;
    auto it = route->by_method.find(method);
    if (it == route->by_method.end() && method == "HEAD") {
      it = route->by_method.find("GET");
    }
    if (it != route->by_method.end()) {
      match.handler = it->second.handler;
      match.options = it->second.options;
      return match;
    }
    std::vector<std::string> methods;
    for (const auto& [name, handler] : route->by_method) {
      methods.push_back(name);
    }
    if (route->by_method.count("GET") > 0 && route->by_method.count("HEAD") == 0) {
      methods.push_back("HEAD");
    }
    std::sort(methods.begin(), methods.end());
    for (const auto& name : methods) {
      match.allow += (match.allow.empty() ? "" : ", ") + name;
    }
    return match;
  }

 private:
  mutable std::mutex mu_;
  std::map<std::string, Route> exact_;
  std::map<std::string, Route> prefix_;
};

class SessionBase;

// The TLS context and authenticator built from one WebServerSecurity. Immutable once built;
// UpdateSecurity swaps in a new one, and sessions keep the one they were accepted with.
struct SecurityState {
  std::shared_ptr<const WebServerSecurity> config;  // never null
  std::shared_ptr<ssl::context> tls;                // null: plain HTTP
  std::shared_ptr<const WebAuthenticator> authenticator;
};

// Pops OpenSSL's error queue and returns its entries as text. Sets `key_mismatch` when one
// of them reports that a private key does not match its certificate.
std::string OpenSslErrors(bool* key_mismatch = nullptr) {
  std::string out;
  while (unsigned long code = ERR_get_error()) {
    if (key_mismatch != nullptr && ERR_GET_LIB(code) == ERR_LIB_X509 &&
        ERR_GET_REASON(code) == X509_R_KEY_VALUES_MISMATCH) {
      *key_mismatch = true;
    }
    char buffer[256];
    ERR_error_string_n(code, buffer, sizeof(buffer));
    out += (out.empty() ? "" : "; ") + std::string(buffer);
  }
  return out.empty() ? "unknown OpenSSL error" : out;
}

Error TlsFileError(const WebServerSecurity& security,
                   std::string_view field,
                   const std::string& path,
                   const std::string& reason) {
  return Error::Invalid(security.file + ": cannot load " + std::string(field) + " \"" + path +
                        "\": " + reason +
                        ". Check that the file exists, is readable and holds "
                        "PEM data.");
}

Error KeyMismatchError(const WebServerSecurity& security, const WebTlsConfig& tls) {
  return Error::Invalid(security.file + ": the private key in key_file \"" + tls.key_file +
                        "\" does not match the certificate in cert_file \"" + tls.cert_file +
                        "\". Use the key the certificate was issued for.");
}

// Mirrors Go's tls.Config for exporter-toolkit's settings: client certificates as
// client_auth_type says, protocol versions, TLS 1.2 cipher suites and curves.
Result<std::shared_ptr<ssl::context>> BuildTlsContext(const WebServerSecurity& security) {
  const WebTlsConfig& tls = *security.tls;
  auto context = std::make_shared<ssl::context>(ssl::context::tls_server);
  SSL_CTX* native = context->native_handle();
  ERR_clear_error();
  SSL_CTX_set_options(native, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
  if (tls.prefer_server_cipher_suites) {
    SSL_CTX_set_options(native, SSL_OP_CIPHER_SERVER_PREFERENCE);
  }
  if (SSL_CTX_use_certificate_chain_file(native, tls.cert_file.c_str()) != 1) {
    return TlsFileError(security, "cert_file", tls.cert_file, OpenSslErrors());
  }
  // OpenSSL 3 compares the key with the certificate while loading it, so a mismatch shows up
  // here as well as in SSL_CTX_check_private_key.
  bool key_mismatch = false;
  if (SSL_CTX_use_PrivateKey_file(native, tls.key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
    std::string errors = OpenSslErrors(&key_mismatch);
    if (!key_mismatch) {
      return TlsFileError(security, "key_file", tls.key_file, errors);
    }
  }
  if (key_mismatch || SSL_CTX_check_private_key(native) != 1) {
    ERR_clear_error();
    return KeyMismatchError(security, tls);
  }
  if (SSL_CTX_set_min_proto_version(native, tls.min_version) != 1 ||
      SSL_CTX_set_max_proto_version(native, tls.max_version) != 1) {
    return Error::Invalid(security.file + ": the TLS versions of min_version and max_version " +
                          "are not supported by this OpenSSL build: " + OpenSslErrors());
  }
  std::string ciphers = OpenSslCipherList(tls);
  if (!ciphers.empty() && SSL_CTX_set_cipher_list(native, ciphers.c_str()) != 1) {
    return Error::Invalid(security.file + ": no cipher suite of cipher_suites is available in " +
                          "this OpenSSL build: " + OpenSslErrors());
  }
  std::string curves = OpenSslCurveList(tls);
  if (!curves.empty() && SSL_CTX_set1_groups_list(native, curves.c_str()) != 1) {
    return Error::Invalid(security.file + ": the curves of curve_preferences are not " +
                          "available in this OpenSSL build: " + OpenSslErrors());
  }
  if (!tls.client_ca_file.empty()) {
    if (SSL_CTX_load_verify_locations(native, tls.client_ca_file.c_str(), nullptr) != 1) {
      return TlsFileError(security, "client_ca_file", tls.client_ca_file, OpenSslErrors());
    }
    // The CA names are sent in the certificate request, so clients pick a matching
    // certificate.
    STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(tls.client_ca_file.c_str());
    if (names == nullptr) {
      return TlsFileError(
          security, "client_ca_file", tls.client_ca_file, "no certificate found in it");
    }
    SSL_CTX_set_client_CA_list(native, names);
  }
  int mode = SSL_VERIFY_NONE;
  bool verify = false;
  switch (tls.client_auth_type) {
    case ClientAuthType::kNoClientCert:
      break;
    case ClientAuthType::kRequestClientCert:
      mode = SSL_VERIFY_PEER;
      break;
    case ClientAuthType::kRequireAnyClientCert:
      mode = SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
      break;
    case ClientAuthType::kVerifyClientCertIfGiven:
      mode = SSL_VERIFY_PEER;
      verify = true;
      break;
    case ClientAuthType::kRequireAndVerifyClientCert:
      mode = SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
      verify = true;
      break;
  }
  // Without verification a client certificate is requested (or required) but any one is
  // accepted, as Go does for RequestClientCert and RequireAnyClientCert.
  SSL_verify_cb accept_any = [](int, X509_STORE_CTX*) {
    return 1;
  };
  SSL_CTX_set_verify(native, mode, verify ? nullptr : accept_any);
  ERR_clear_error();
  return context;
}

Result<std::shared_ptr<const SecurityState>> BuildSecurityState(
    std::shared_ptr<const WebServerSecurity> security) {
  auto state = std::make_shared<SecurityState>();
  state->config = security ? std::move(security) : std::make_shared<const WebServerSecurity>();
  if (state->config->tls) {
    Result<std::shared_ptr<ssl::context>> context = BuildTlsContext(*state->config);
    if (!context.ok()) {
      return context.error();
    }
    state->tls = std::move(*context);
  }
  state->authenticator = std::make_shared<const WebAuthenticator>(state->config);
  return std::shared_ptr<const SecurityState>(std::move(state));
}

}  // namespace

class HttpServer::Impl {
 public:
  Impl(std::string configured_address, tcp::endpoint endpoint, HttpServerOptions options)
      : configured_address_(std::move(configured_address)),
        endpoint_(endpoint),
        options_(options),
        io_(std::max(1, options.threads)),
        acceptor_(asio::make_strand(io_)),
        accept_retry_timer_(acceptor_.get_executor()) {
    if (options_.metrics != nullptr) {
      requests_ = &options_.metrics->AddCounterFamily(
          "alertd_http_requests_total",
          "Number of HTTP requests served, by handler and status code.",
          {"code", "handler"});
      // Prometheus's own buckets for prometheus_http_request_duration_seconds.
      durations_ =
          &options_.metrics->AddHistogramFamily("alertd_http_request_duration_seconds",
                                                "Time spent serving HTTP requests, by handler.",
                                                {"handler"},
                                                {0.1, 0.2, 0.4, 1, 3, 8, 20, 60, 120});
    }
  }

  ~Impl() { Stop(); }

  Status Start();
  void Stop();

  Status UpdateSecurity(std::shared_ptr<const WebServerSecurity> security) {
    Result<std::shared_ptr<const SecurityState>> state = BuildSecurityState(std::move(security));
    if (!state.ok()) {
      return state.error();
    }
    std::lock_guard lock(mu_);
    security_ = std::move(*state);
    return Status::Ok();
  }

  std::shared_ptr<const SecurityState> security() const {
    std::lock_guard lock(mu_);
    return security_;
  }

  void Register(SessionBase* session, const std::shared_ptr<SessionBase>& shared);
  void Unregister(SessionBase* session);

  Router& router() { return router_; }

  const HttpServerOptions& options() const { return options_; }

  bool stopping() const { return stopping_.load(); }

  int port() const { return bound_port_.load(); }

  void RecordRequest(const std::string& pattern, int status, double seconds) {
    if (requests_ == nullptr) {
      return;
    }
    requests_->WithLabels({std::to_string(status), pattern}).Inc();
    durations_->WithLabels({pattern}).Observe(seconds);
  }

  std::string address() const {
    std::lock_guard lock(mu_);
    return bound_address_.empty() ? configured_address_ : bound_address_;
  }

 private:
  void Accept();
  void OnAccept(beast::error_code ec, tcp::socket socket);
  void RunLoop();

  const std::string configured_address_;
  const tcp::endpoint endpoint_;
  const HttpServerOptions options_;
  Router router_;
  metrics::Family<metrics::Counter>* requests_ = nullptr;
  metrics::Family<metrics::Histogram>* durations_ = nullptr;

  // Declared before io_: sessions still owned by handlers in io_ unregister themselves while
  // io_ is destroyed.
  mutable std::mutex mu_;
  std::condition_variable sessions_changed_;
  std::unordered_map<SessionBase*, std::weak_ptr<SessionBase>> sessions_;
  std::shared_ptr<const SecurityState> security_;
  std::string bound_address_;
  bool started_ = false;
  bool running_ = false;  // threads were started
  bool stopped_ = false;
  std::atomic<bool> stopping_{false};
  std::atomic<int> bound_port_{0};

  asio::io_context io_;
  tcp::acceptor acceptor_;
  asio::steady_timer accept_retry_timer_;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work_;
  std::vector<std::thread> threads_;
};

namespace {

// What the server needs of a connection of either kind (plain or TLS).
class SessionBase {
 public:
  virtual ~SessionBase() = default;
  // Called on the strand when the server stops: a connection that waits for or receives a
  // request is closed now, and one whose request is in flight closes after its response.
  virtual void OnServerStop() = 0;
  // Closes the socket from outside the strand. REQUIRES: no thread runs the io_context.
  virtual void CloseNow() = 0;
  virtual asio::any_io_executor executor() = 0;
};

using TlsStream = beast::ssl_stream<beast::tcp_stream>;

// One client connection over `Stream`, beast::tcp_stream or TlsStream. All of its handlers
// run on the socket's strand, so its state needs no lock. The session owns itself through
// the shared_ptr held by its pending operation.
template <typename Stream>
class Session : public SessionBase, public std::enable_shared_from_this<Session<Stream>> {
 public:
  static constexpr bool kTls = std::is_same_v<Stream, TlsStream>;

  // `security` is the server's security state when the connection was accepted; it carries
  // the TLS context for a TLS session.
  Session(tcp::socket socket,
          std::shared_ptr<const SecurityState> security,
          HttpServer::Impl* server)
      : security_(std::move(security)),
        stream_(MakeStream(std::move(socket), *security_)),
        server_(server) {
    beast::error_code ec;
    tcp::endpoint remote = Lowest().socket().remote_endpoint(ec);
    remote_address_ = ec ? "unknown" : FormatEndpoint(remote);
  }

  ~Session() override { server_->Unregister(this); }

  void Start() {
    server_->Register(this, this->shared_from_this());
    asio::dispatch(stream_.get_executor(), [self = this->shared_from_this()] {
      if (self->server_->stopping()) {
        self->Close();
        return;
      }
      if constexpr (kTls) {
        self->Handshake();
      } else {
        self->ReadHeader();
      }
    });
  }

  void OnServerStop() override {
    if (state_ == State::kReading) {
      Close();
    }
  }

  void CloseNow() override { Close(); }

  asio::any_io_executor executor() override { return stream_.get_executor(); }

 private:
  enum class State { kReading, kHandling, kWriting, kClosed };

  static Stream MakeStream(tcp::socket socket, const SecurityState& security) {
    if constexpr (kTls) {
      return Stream(std::move(socket), *security.tls);
    } else {
      (void)security;
      return Stream(std::move(socket));
    }
  }

  beast::tcp_stream& Lowest() { return beast::get_lowest_layer(stream_); }

  std::shared_ptr<Session> Self() { return this->shared_from_this(); }

  // The handshake shares the header timeout, so a client that connects and sends nothing is
  // dropped as an idle plain connection is.
  void Handshake() {
    Lowest().expires_after(server_->options().header_timeout);
    stream_.async_handshake(ssl::stream_base::server,
                            beast::bind_front_handler(&Session::OnHandshake, Self()));
  }

  void OnHandshake(beast::error_code ec) {
    if (ec) {
      Logger("web")->debug("TLS handshake failed remote_address={} error={}",
                           remote_address_,
                           LogValue(ec.message()));
      Close();
      return;
    }
    ReadHeader();
  }

  void ReadHeader() {
    state_ = State::kReading;
    parser_.emplace();
    parser_->header_limit(static_cast<uint32_t>(server_->options().max_header_bytes));
    // max_body_bytes 0 means no limit. Beast's body_limit(0) would reject every non-empty body,
    // and Boost 1.74's parser compares a Content-Length with boost::none as larger, so the
    // largest uint64_t stands for no limit.
    size_t max_body_bytes = server_->options().max_body_bytes;
    parser_->body_limit(max_body_bytes == 0 ? std::numeric_limits<std::uint64_t>::max()
                                            : static_cast<std::uint64_t>(max_body_bytes));
    Lowest().expires_after(server_->options().header_timeout);
    http::async_read_header(
        stream_, buffer_, *parser_, beast::bind_front_handler(&Session::OnHeader, Self()));
  }

  void OnHeader(beast::error_code ec, size_t /*bytes*/) {
    if (ec) {
      OnReadError(ec);
      return;
    }
    const auto& request = parser_->get();
    if (request.version() >= 11 && beast::iequals(request[http::field::expect], "100-continue") &&
        !parser_->is_done()) {
      continue_.emplace(http::status::continue_, request.version());
      http::async_write(
          stream_, *continue_, beast::bind_front_handler(&Session::OnContinue, Self()));
      return;
    }
    ReadBody();
  }

  void OnContinue(beast::error_code ec, size_t /*bytes*/) {
    if (ec) {
      Close();
      return;
    }
    ReadBody();
  }

  void ReadBody() {
    if (parser_->is_done()) {
      Dispatch();
      return;
    }
    Lowest().expires_after(server_->options().body_timeout);
    http::async_read(
        stream_, buffer_, *parser_, beast::bind_front_handler(&Session::OnBody, Self()));
  }

  void OnBody(beast::error_code ec, size_t /*bytes*/) {
    if (ec) {
      OnReadError(ec);
      return;
    }
    Dispatch();
  }

  void OnReadError(const beast::error_code& ec) {
    if (ec == http::error::body_limit) {
      SendErrorAndClose(413,
                        "Request body is larger than the limit of " +
                            std::to_string(server_->options().max_body_bytes) + " bytes.\n");
      return;
    }
    if (ec == http::error::header_limit) {
      SendErrorAndClose(431,
                        "Request header is larger than the limit of " +
                            std::to_string(server_->options().max_header_bytes) + " bytes.\n");
      return;
    }
    if (ec.category() == http::make_error_code(http::error::bad_method).category() &&
        ec != http::error::end_of_stream && ec != http::error::partial_message) {
      SendErrorAndClose(400, "400 Bad Request: " + ec.message() + "\n");
      return;
    }
    if (ec != http::error::end_of_stream && ec != asio::error::operation_aborted) {
      Logger("web")->debug("HTTP connection closed remote_address={} error={}",
                           remote_address_,
                           LogValue(ec.message()));
    }
    Close();
  }

  HttpServerRequest BuildRequest() {
    auto& message = parser_->get();
    HttpServerRequest request;
    request.method = std::string(message.method_string());
    request.target = std::string(message.target());
    std::string_view target = ToStd(message.target());
    size_t question = target.find('?');
    request.path = PercentDecode(target.substr(0, question), false);
    if (question != std::string_view::npos) {
      request.query = ParseUrlEncoded(target.substr(question + 1));
    }
    for (const auto& field : message) {
      request.headers.emplace_back(ToLower(ToStd(field.name_string())), std::string(field.value()));
    }
    request.body = std::move(message.body());
    if (IsFormMethod(request.method) && IsFormContentType(request.Header("content-type"))) {
      request.form = ParseUrlEncoded(request.body);
    }
    request.remote_address = remote_address_;
    return request;
  }

  // Routes and runs the request. Sets `pattern` to the matched route when a handler ran.
  HttpServerResponse RunHandler(const HttpServerRequest& request, std::string& pattern) {
    RouteMatch match = server_->router().Find(request.method, request.path);
    if (!(match.handler && match.options.own_authentication)) {
      std::optional<HttpServerResponse> denied = Authenticate(request);
      if (denied) {
        if (match.handler) {
          pattern = match.pattern;
        }
        return std::move(*denied);
      }
    }
    if (!match.path_found) {
      return HttpServerResponse::Text(404, "404 page not found\n");
    }
    if (!match.handler) {
      HttpServerResponse response = HttpServerResponse::Text(405, "Method Not Allowed\n");
      response.headers.emplace_back("Allow", match.allow);
      return response;
    }
    pattern = match.pattern;
    std::string failure;
    try {
      HttpServerResponse response = match.handler(request);
      if (response.status >= 100 && response.status <= 999) {
        return response;
      }
      failure = "handler returned invalid status " + std::to_string(response.status);
    } catch (const std::exception& e) {
      failure = e.what();
    } catch (...) {
      failure = "unknown exception";
    }
    Logger("web")->error("HTTP handler failed method={} path={} error={}",
                         request.method,
                         LogValue(request.path),
                         LogValue(failure));
    return HttpServerResponse::Text(500, "Internal Server Error\n");
  }

  // Returns the 401 response when the request lacks valid credentials. Nothing of the
  // Authorization header is logged, not even the user name, which may be a mistyped password.
  std::optional<HttpServerResponse> Authenticate(const HttpServerRequest& request) {
    std::shared_ptr<const SecurityState> state = server_->security();
    WebAuthenticator::Outcome outcome =
        state->authenticator->Check(request.Header("authorization"));
    if (outcome == WebAuthenticator::Outcome::kAllowed) {
      return std::nullopt;
    }
    bool missing = outcome == WebAuthenticator::Outcome::kMissing;
    Logger("web")->info("HTTP request unauthorized method={} path={} remote_address={} reason={}",
                        request.method,
                        LogValue(request.path),
                        remote_address_,
                        LogValue(missing ? "missing credentials" : "invalid credentials"));
    HttpServerResponse response = HttpServerResponse::Text(401, "Unauthorized\n");
    response.headers.emplace_back("WWW-Authenticate", "Basic");
    return response;
  }

  void Dispatch() {
    state_ = State::kHandling;
    auto started = std::chrono::steady_clock::now();
    unsigned version = parser_->get().version();
    bool keep_alive = parser_->get().keep_alive();
    HttpServerRequest request = BuildRequest();
    std::string pattern;
    HttpServerResponse response = RunHandler(request, pattern);
    double duration_ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started)
            .count();
    if (!pattern.empty()) {
      server_->RecordRequest(pattern, response.status, duration_ms / 1000);
    }
    Logger("web")->debug(
        "HTTP request method={} path={} status={} duration_ms={:.3f} remote_address={}",
        request.method,
        LogValue(request.path),
        response.status,
        duration_ms,
        remote_address_);
    keep_alive = keep_alive && !server_->stopping();
    Write(std::move(response), version, request.method == "HEAD", keep_alive, false);
  }

  void Write(
      HttpServerResponse response, unsigned version, bool head, bool keep_alive, bool linger) {
    state_ = State::kWriting;
    auto message = std::make_shared<http::response<http::string_body>>();
    message->version(version);
    message->result(static_cast<unsigned>(response.status));
    if (!response.content_type.empty()) {
      message->set(http::field::content_type, response.content_type);
    }
    for (auto& [name, value] : response.headers) {
      message->insert(name, value);
    }
    for (const auto& [name, value] : server_->security()->config->headers) {
      message->set(name, value);
    }
    if (!StatusHasNoBody(response.status)) {
      message->content_length(response.body.size());
      if (!head) {
        message->body() = std::move(response.body);
      }
    }
    message->keep_alive(keep_alive);
    response_ = message;
    Lowest().expires_after(server_->options().write_timeout);
    http::async_write(stream_,
                      *message,
                      beast::bind_front_handler(&Session::OnWrite, Self(), !keep_alive, linger));
  }

  void OnWrite(bool close, bool linger, beast::error_code ec, size_t /*bytes*/) {
    response_.reset();
    if (ec) {
      Close();
      return;
    }
    if (linger) {
      Linger();
      return;
    }
    if (close || server_->stopping()) {
      Close();
      return;
    }
    ReadHeader();
  }

  void SendErrorAndClose(int status, std::string body) {
    Logger("web")->debug(
        "HTTP request rejected status={} remote_address={}", status, remote_address_);
    unsigned version = parser_ ? parser_->get().version() : 11;
    Write(HttpServerResponse::Text(status, std::move(body)),
          version == 10 ? 10 : 11,
          false,
          false,
          true);
  }

  // Sends FIN, then discards what the client still sends until it closes or a limit is hit.
  // Closing a socket with unread data makes the kernel reset the connection, and the reset
  // can discard the error response before the client reads it.
  void Linger() {
    state_ = State::kWriting;
    beast::error_code ignored;
    Lowest().socket().shutdown(tcp::socket::shutdown_send, ignored);
    Lowest().expires_after(kLingerTimeout);
    linger_buffer_.resize(16 << 10);
    ReadLinger();
  }

  void ReadLinger() {
    Lowest().async_read_some(asio::buffer(linger_buffer_),
                             [self = Self()](beast::error_code ec, size_t bytes) {
                               self->lingered_bytes_ += bytes;
                               if (ec || self->lingered_bytes_ > kLingerMaxBytes) {
                                 self->Close();
                                 return;
                               }
                               self->ReadLinger();
                             });
  }

  void Close() {
    if (state_ == State::kClosed) {
      return;
    }
    state_ = State::kClosed;
    beast::error_code ignored;
    Lowest().socket().shutdown(tcp::socket::shutdown_both, ignored);
    Lowest().close();
  }

  std::shared_ptr<const SecurityState> security_;  // declared before stream_, which uses it
  Stream stream_;
  HttpServer::Impl* server_;
  std::string remote_address_;
  State state_ = State::kReading;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::optional<http::response<http::empty_body>> continue_;
  std::shared_ptr<http::response<http::string_body>> response_;  // alive while being written
  std::vector<char> linger_buffer_;
  size_t lingered_bytes_ = 0;
};

}  // namespace

Status HttpServer::Impl::Start() {
  {
    std::lock_guard lock(mu_);
    if (started_) {
      return Error::Internal("HTTP server on " + configured_address_ + " was already started.");
    }
    started_ = true;
  }
  const std::string listen = FormatEndpoint(endpoint_);
  beast::error_code ec;
  acceptor_.open(endpoint_.protocol(), ec);
  if (!ec) {
    acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
  }
  if (!ec && endpoint_.address().is_v6()) {
    acceptor_.set_option(asio::ip::v6_only(true), ec);
  }
  if (!ec) {
    acceptor_.bind(endpoint_, ec);
  }
  if (!ec) {
    acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  }
  if (ec) {
    beast::error_code ignored;
    acceptor_.close(ignored);
    return Error::Io("Cannot listen on " + listen + ": " + ec.message() + ". " + BindHint(ec));
  }
  tcp::endpoint bound = acceptor_.local_endpoint(ec);
  {
    std::lock_guard lock(mu_);
    bound_address_ = ec ? listen : FormatEndpoint(bound);
  }
  bound_port_ = ec ? endpoint_.port() : bound.port();
  {
    std::lock_guard lock(mu_);
    running_ = true;
  }
  work_.emplace(io_.get_executor());
  Accept();
  for (int i = 0; i < std::max(1, options_.threads); ++i) {
    threads_.emplace_back([this] { RunLoop(); });
  }
  {
    std::shared_ptr<const SecurityState> state = security();
    Logger("web")->info("HTTP server listening address={} tls={} authentication={}",
                        address(),
                        state->tls != nullptr,
                        state->config->RequiresAuthentication());
  }
  return Status::Ok();
}

void HttpServer::Impl::RunLoop() {
  for (;;) {
    try {
      io_.run();
      return;
    } catch (const std::exception& e) {
      Logger("web")->error("HTTP server thread caught an exception error={}", LogValue(e.what()));
    }
  }
}

void HttpServer::Impl::Accept() {
  acceptor_.async_accept(asio::make_strand(io_), [this](beast::error_code ec, tcp::socket socket) {
    OnAccept(ec, std::move(socket));
  });
}

void HttpServer::Impl::OnAccept(beast::error_code ec, tcp::socket socket) {
  if (stopping_ || ec == asio::error::operation_aborted) {
    return;
  }
  if (ec) {
    // Running out of file descriptors must not end the accept loop, but retrying at once
    // would spin.
    Logger("web")->warn("Accepting an HTTP connection failed address={} error={}",
                        address(),
                        LogValue(ec.message()));
    accept_retry_timer_.expires_after(kAcceptRetryDelay);
    accept_retry_timer_.async_wait([this](beast::error_code timer_ec) {
      if (!timer_ec && !stopping_) {
        Accept();
      }
    });
    return;
  }
  std::shared_ptr<const SecurityState> state = security();
  if (state->tls) {
    std::make_shared<Session<TlsStream>>(std::move(socket), std::move(state), this)->Start();
  } else {
    std::make_shared<Session<beast::tcp_stream>>(std::move(socket), std::move(state), this)
        ->Start();
  }
  Accept();
}

void HttpServer::Impl::Register(SessionBase* session, const std::shared_ptr<SessionBase>& shared) {
  std::lock_guard lock(mu_);
  sessions_[session] = shared;
}

void HttpServer::Impl::Unregister(SessionBase* session) {
  std::lock_guard lock(mu_);
  sessions_.erase(session);
  sessions_changed_.notify_all();
}

void HttpServer::Impl::Stop() {
  std::vector<std::shared_ptr<SessionBase>> open;
  {
    std::lock_guard lock(mu_);
    if (!running_ || stopped_) {
      stopped_ = true;
      return;
    }
    stopped_ = true;
    // Set under mu_ so that a session registering concurrently either is in sessions_ below
    // or reads stopping_ as true when it starts.
    stopping_ = true;
    for (auto& [pointer, weak] : sessions_) {
      if (auto session = weak.lock()) {
        open.push_back(std::move(session));
      }
    }
  }
  asio::post(acceptor_.get_executor(), [this] {
    beast::error_code ignored;
    acceptor_.close(ignored);
    accept_retry_timer_.cancel();
  });
  for (auto& session : open) {
    asio::post(session->executor(), [session] { session->OnServerStop(); });
  }
  open.clear();
  work_.reset();

  size_t remaining = 0;
  {
    std::unique_lock lock(mu_);
    sessions_changed_.wait_for(
        lock, options_.shutdown_timeout, [this] { return sessions_.empty(); });
    remaining = sessions_.size();
  }
  if (remaining > 0) {
    Logger("web")->warn(
        "HTTP server shutdown timed out, closing connections address={} open_connections={}",
        address(),
        remaining);
  }
  io_.stop();
  for (auto& thread : threads_) {
    thread.join();
  }
  threads_.clear();
  // No thread runs handlers now, so sockets may be closed from here. The acceptor close
  // posted above may not have run before io_ stopped.
  beast::error_code ignored;
  acceptor_.close(ignored);
  {
    std::lock_guard lock(mu_);
    for (auto& [pointer, weak] : sessions_) {
      if (auto session = weak.lock()) {
        open.push_back(std::move(session));
      }
    }
  }
  for (auto& session : open) {
    session->CloseNow();
  }
  open.clear();
  Logger("web")->info("HTTP server stopped address={}", address());
}

std::string HttpServerRequest::Header(std::string_view name) const {
  std::string lower = ToLower(name);
  for (const auto& [key, value] : headers) {
    if (key == lower) {
      return value;
    }
  }
  return {};
}

std::string HttpServerRequest::Query(std::string_view name) const {
  auto it = query.find(std::string(name));
  return it == query.end() ? std::string() : it->second;
}

std::vector<std::string> HttpServerRequest::QueryValues(std::string_view name) const {
  std::vector<std::string> values;
  auto [begin, end] = query.equal_range(std::string(name));
  for (auto it = begin; it != end; ++it) {
    values.push_back(it->second);
  }
  return values;
}

std::string HttpServerRequest::FormValue(std::string_view name) const {
  auto it = form.find(std::string(name));
  if (it != form.end()) {
    return it->second;
  }
  return Query(name);
}

std::vector<std::string> HttpServerRequest::FormValues(std::string_view name) const {
  std::vector<std::string> values;
  auto [begin, end] = form.equal_range(std::string(name));
  for (auto it = begin; it != end; ++it) {
    values.push_back(it->second);
  }
  std::vector<std::string> from_query = QueryValues(name);
  values.insert(values.end(), from_query.begin(), from_query.end());
  return values;
}

HttpServerResponse HttpServerResponse::Json(int status, std::string body) {
  HttpServerResponse response;
  response.status = status;
  response.content_type = "application/json";
  response.body = std::move(body);
  return response;
}

HttpServerResponse HttpServerResponse::Text(int status, std::string body) {
  HttpServerResponse response;
  response.status = status;
  response.body = std::move(body);
  return response;
}

Result<std::unique_ptr<HttpServer>> HttpServer::Create(const std::string& listen_address,
                                                       HttpServerOptions options) {
  Result<tcp::endpoint> endpoint = ParseListenAddress(listen_address);
  if (!endpoint.ok()) {
    return endpoint.error();
  }
  auto impl = std::make_unique<Impl>(listen_address, *endpoint, options);
  if (Status security = impl->UpdateSecurity(options.security); !security.ok()) {
    return security.error();
  }
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));
}

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

HttpServer::~HttpServer() {
  Stop();
}

void HttpServer::Handle(std::string method,
                        std::string path,
                        HttpHandler handler,
                        HttpRouteOptions route_options) {
  impl_->router().Add(false, std::move(method), std::move(path), std::move(handler), route_options);
}

void HttpServer::HandlePrefix(std::string method,
                              std::string prefix,
                              HttpHandler handler,
                              HttpRouteOptions route_options) {
  impl_->router().Add(
      true, std::move(method), std::move(prefix), std::move(handler), route_options);
}

Status HttpServer::UpdateSecurity(std::shared_ptr<const WebServerSecurity> security) {
  return impl_->UpdateSecurity(std::move(security));
}

Status HttpServer::Start() {
  return impl_->Start();
}

void HttpServer::Stop() {
  impl_->Stop();
}

int HttpServer::port() const {
  return impl_->port();
}

std::string HttpServer::address() const {
  return impl_->address();
}

std::string PercentDecode(std::string_view text, bool plus_is_space) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '%' && i + 2 < text.size() && HexValue(text[i + 1]) >= 0 &&
        HexValue(text[i + 2]) >= 0) {
      out.push_back(static_cast<char>(HexValue(text[i + 1]) * 16 + HexValue(text[i + 2])));
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::multimap<std::string, std::string> ParseUrlEncoded(std::string_view text) {
  std::multimap<std::string, std::string> values;
  while (!text.empty()) {
    size_t amp = text.find('&');
    std::string_view pair = text.substr(0, amp);
    text = amp == std::string_view::npos ? std::string_view() : text.substr(amp + 1);
    if (pair.empty()) {
      continue;
    }
    size_t eq = pair.find('=');
    std::string key = PercentDecode(pair.substr(0, eq), true);
    std::string value =
        eq == std::string_view::npos ? std::string() : PercentDecode(pair.substr(eq + 1), true);
    values.emplace(std::move(key), std::move(value));
  }
  return values;
}

}  // namespace alertd
