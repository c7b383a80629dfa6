#include "notifiers/email/smtp_sender.h"

#include <algorithm>
#include <cstring>
#include <mutex>
#include <string_view>
#include <utility>

#include <curl/curl.h>

namespace alertd {

namespace {

void InitCurlOnce() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_ALL); });
}

struct EasyDeleter {
  void operator()(CURL* handle) const { curl_easy_cleanup(handle); }
};

struct SlistDeleter {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};

// The DATA being uploaded and the server's reply lines, for one transaction.
struct Transfer {
  std::string_view data;
  size_t offset = 0;
  std::string last_reply;  // the server's last 4xx or 5xx reply line, CRLF removed
};

size_t OnRead(char* buffer, size_t size, size_t count, void* user) {
  auto* transfer = static_cast<Transfer*>(user);
  size_t n = std::min(size * count, transfer->data.size() - transfer->offset);
  std::memcpy(buffer, transfer->data.data() + transfer->offset, n);
  transfer->offset += n;
  return n;
}

// Keeps the server's replies only (CURLINFO_HEADER_IN): the client's lines include the AUTH
// exchange, which carries the credentials.
int OnDebug(CURL*, curl_infotype type, char* text, size_t size, void* user) {
  if (type != CURLINFO_HEADER_IN) {
    return 0;
  }
  auto* transfer = static_cast<Transfer*>(user);
  std::string line(text, size);
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) {
    line.pop_back();
  }
  // Only error replies explain a failure; the QUIT reply that follows one does not.
  if (!line.empty() && (line[0] == '4' || line[0] == '5')) {
    transfer->last_reply = std::move(line);
  }
  return 0;
}

std::string AngleAddress(const std::string& address) {
  return "<" + address + ">";
}

// Host for a URL: IPv6 literals need brackets.
std::string UrlHost(const std::string& host) {
  if (host.find(':') != std::string::npos && !host.starts_with("[")) {
    return "[" + host + "]";
  }
  return host;
}

SmtpFailure::Kind KindOf(CURLcode code) {
  switch (code) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_CONNECT:
      return SmtpFailure::Kind::kConnect;
    case CURLE_OPERATION_TIMEDOUT:
      return SmtpFailure::Kind::kTimeout;
    case CURLE_USE_SSL_FAILED:
      return SmtpFailure::Kind::kNoStartTls;
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
      return SmtpFailure::Kind::kTls;
    case CURLE_LOGIN_DENIED:
      return SmtpFailure::Kind::kAuth;
    default:
      return SmtpFailure::Kind::kOther;
  }
}

class CurlSmtpSender final : public SmtpSender {
 public:
  explicit CurlSmtpSender(SmtpEndpoint endpoint) : endpoint_(std::move(endpoint)) {}

  std::optional<SmtpFailure> Send(const SmtpMessage& message) override;

 private:
  void SetConnectionOptions(CURL* curl, curl_slist** connect_to) const;
  void SetTlsOptions(CURL* curl) const;

  SmtpEndpoint endpoint_;
};

void CurlSmtpSender::SetConnectionOptions(CURL* curl, curl_slist** connect_to) const {
  // The URL's path is the EHLO name, as libcurl's SMTP URLs define it.
  std::string url_host = endpoint_.tls.server_name.empty() ? UrlHost(endpoint_.host)
                                                           : UrlHost(endpoint_.tls.server_name);
  std::string url = std::string(endpoint_.implicit_tls ? "smtps://" : "smtp://") + url_host + ":" +
                    endpoint_.port + "/" + endpoint_.hello;
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  if (!endpoint_.tls.server_name.empty()) {
    // The certificate is checked against server_name while the connection goes to the
    // smarthost, as Go's tls.Config.ServerName does.
    std::string mapping = UrlHost(endpoint_.tls.server_name) + ":" + endpoint_.port + ":" +
                          UrlHost(endpoint_.host) + ":" + endpoint_.port;
    *connect_to = curl_slist_append(nullptr, mapping.c_str());
    curl_easy_setopt(curl, CURLOPT_CONNECT_TO, *connect_to);
  }
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(endpoint_.timeout.count()));
  if (!endpoint_.implicit_tls) {
    curl_easy_setopt(
        curl, CURLOPT_USE_SSL, endpoint_.require_starttls ? CURLUSESSL_ALL : CURLUSESSL_TRY);
  }
  if (!endpoint_.username.empty()) {
    curl_easy_setopt(curl, CURLOPT_USERNAME, endpoint_.username.c_str());
    curl_easy_setopt(curl, CURLOPT_PASSWORD, endpoint_.password.c_str());
    if (!endpoint_.identity.empty()) {
      curl_easy_setopt(curl, CURLOPT_SASL_AUTHZID, endpoint_.identity.c_str());
    }
  }
}

void CurlSmtpSender::SetTlsOptions(CURL* curl) const {
  const config::TlsConfig& tls = endpoint_.tls;
  if (!tls.ca_file.empty()) {
    curl_easy_setopt(curl, CURLOPT_CAINFO, tls.ca_file.c_str());
  }
  if (!tls.cert_file.empty()) {
    curl_easy_setopt(curl, CURLOPT_SSLCERT, tls.cert_file.c_str());
  }
  if (!tls.key_file.empty()) {
    curl_easy_setopt(curl, CURLOPT_SSLKEY, tls.key_file.c_str());
  }
  if (tls.insecure_skip_verify) {
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 0L);
  }
  long version = CURL_SSLVERSION_DEFAULT;
  if (tls.min_version == "TLS10") {
    version = CURL_SSLVERSION_TLSv1_0;
  } else if (tls.min_version == "TLS11") {
    version = CURL_SSLVERSION_TLSv1_1;
  } else if (tls.min_version == "TLS12") {
    version = CURL_SSLVERSION_TLSv1_2;
  } else if (tls.min_version == "TLS13") {
    version = CURL_SSLVERSION_TLSv1_3;
  }
  if (version != CURL_SSLVERSION_DEFAULT) {
    curl_easy_setopt(curl, CURLOPT_SSLVERSION, version);
  }
}

std::optional<SmtpFailure> CurlSmtpSender::Send(const SmtpMessage& message) {
  InitCurlOnce();
  std::unique_ptr<CURL, EasyDeleter> curl(curl_easy_init());
  if (!curl) {
    return SmtpFailure{SmtpFailure::Kind::kOther, 0, "curl_easy_init failed"};
  }
  char error_buffer[CURL_ERROR_SIZE] = {0};
  curl_easy_setopt(curl.get(), CURLOPT_ERRORBUFFER, error_buffer);
  curl_slist* connect_to = nullptr;
  SetConnectionOptions(curl.get(), &connect_to);
  std::unique_ptr<curl_slist, SlistDeleter> connect_to_owner(connect_to);
  SetTlsOptions(curl.get());

  std::string from = AngleAddress(message.from);
  curl_easy_setopt(curl.get(), CURLOPT_MAIL_FROM, from.c_str());
  curl_slist* recipients = nullptr;
  for (const auto& recipient : message.recipients) {
    recipients = curl_slist_append(recipients, AngleAddress(recipient).c_str());
  }
  std::unique_ptr<curl_slist, SlistDeleter> recipients_owner(recipients);
  curl_easy_setopt(curl.get(), CURLOPT_MAIL_RCPT, recipients);

  Transfer transfer;
  transfer.data = message.data;
  curl_easy_setopt(curl.get(), CURLOPT_UPLOAD, 1L);
  curl_easy_setopt(curl.get(), CURLOPT_READFUNCTION, OnRead);
  curl_easy_setopt(curl.get(), CURLOPT_READDATA, &transfer);
  curl_easy_setopt(
      curl.get(), CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(message.data.size()));
  curl_easy_setopt(curl.get(), CURLOPT_DEBUGFUNCTION, OnDebug);
  curl_easy_setopt(curl.get(), CURLOPT_DEBUGDATA, &transfer);
  curl_easy_setopt(curl.get(), CURLOPT_VERBOSE, 1L);

  CURLcode code = curl_easy_perform(curl.get());
  if (code == CURLE_OK) {
    return std::nullopt;
  }
  SmtpFailure failure;
  failure.kind = KindOf(code);
  long reply_code = 0;
  curl_easy_getinfo(curl.get(), CURLINFO_RESPONSE_CODE, &reply_code);
  failure.reply_code = static_cast<int>(reply_code);
  if (failure.kind == SmtpFailure::Kind::kOther && reply_code >= 400) {
    failure.kind = SmtpFailure::Kind::kReply;
  }
  failure.message = error_buffer[0] != '\0' ? error_buffer : curl_easy_strerror(code);
  if (!transfer.last_reply.empty() && reply_code >= 400) {
    failure.message += ": server replied \"" + transfer.last_reply + "\"";
  }
  if (!endpoint_.password.empty()) {
    // libcurl does not put credentials in its messages; this keeps it so if that changes.
    constexpr std::string_view kRedacted = "<redacted>";
    size_t pos = 0;
    while ((pos = failure.message.find(endpoint_.password, pos)) != std::string::npos) {
      failure.message.replace(pos, endpoint_.password.size(), kRedacted);
      pos += kRedacted.size();
    }
  }
  return failure;
}

}  // namespace

std::unique_ptr<SmtpSender> MakeCurlSmtpSender(SmtpEndpoint endpoint) {
  return std::make_unique<CurlSmtpSender>(std::move(endpoint));
}

}  // namespace alertd
