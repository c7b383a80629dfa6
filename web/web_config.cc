#include "web/web_config.h"

#include <crypt.h>
#include <openssl/crypto.h>
#include <openssl/sha.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <filesystem>

#include "rules/yaml_util.h"

namespace alertd {
namespace {

using yaml::Entry;
using yaml::Position;

const yaml::Schema kTopSchema{"web config file",
                              {"tls_server_config",
                               "http_server_config",
                               "basic_auth_users",
                               "bearer_tokens",
                               "bearer_token_files"},
                              // Fields of exporter-toolkit releases newer than Prometheus 2.42's.
                              {"rate_limit"},
                              {}};

const yaml::Schema kTlsSchema{"tls_server_config",
                              {"cert_file",
                               "key_file",
                               "client_auth_type",
                               "client_ca_file",
                               "cipher_suites",
                               "curve_preferences",
                               "min_version",
                               "max_version",
                               "prefer_server_cipher_suites"},
                              {"cert", "key", "client_ca", "client_allowed_sans"},
                              {}};

const yaml::Schema kHttpSchema{"http_server_config", {"http2", "headers"}, {}, {}};

struct NamedVersion {
  std::string_view name;
  int version;
};

constexpr NamedVersion kTlsVersions[] = {
    {"TLS10", 0x0301}, {"TLS11", 0x0302}, {"TLS12", 0x0303}, {"TLS13", 0x0304}};

struct ClientAuthName {
  std::string_view name;
  ClientAuthType type;
};

constexpr ClientAuthName kClientAuthTypes[] = {
    {"NoClientCert", ClientAuthType::kNoClientCert},
    {"RequestClientCert", ClientAuthType::kRequestClientCert},
    {"RequireAnyClientCert", ClientAuthType::kRequireAnyClientCert},
    // exporter-toolkit keeps this older name for RequireAnyClientCert.
    {"RequireClientCert", ClientAuthType::kRequireAnyClientCert},
    {"VerifyClientCertIfGiven", ClientAuthType::kVerifyClientCertIfGiven},
    {"RequireAndVerifyClientCert", ClientAuthType::kRequireAndVerifyClientCert},
};

struct CipherName {
  std::string_view go_name;
  std::string_view openssl_name;  // empty for TLS 1.3 suites, which are not configurable
};

// Go's tls.CipherSuites() (the suites exporter-toolkit accepts) with their OpenSSL names.
constexpr CipherName kCipherSuites[] = {
    {"TLS_RSA_WITH_AES_128_CBC_SHA", "AES128-SHA"},
    {"TLS_RSA_WITH_AES_256_CBC_SHA", "AES256-SHA"},
    {"TLS_RSA_WITH_AES_128_GCM_SHA256", "AES128-GCM-SHA256"},
    {"TLS_RSA_WITH_AES_256_GCM_SHA384", "AES256-GCM-SHA384"},
    {"TLS_AES_128_GCM_SHA256", ""},
    {"TLS_AES_256_GCM_SHA384", ""},
    {"TLS_CHACHA20_POLY1305_SHA256", ""},
    {"TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA", "ECDHE-ECDSA-AES128-SHA"},
    {"TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA", "ECDHE-ECDSA-AES256-SHA"},
    {"TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", "ECDHE-RSA-AES128-SHA"},
    {"TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA", "ECDHE-RSA-AES256-SHA"},
    {"TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "ECDHE-ECDSA-AES128-GCM-SHA256"},
    {"TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", "ECDHE-ECDSA-AES256-GCM-SHA384"},
    {"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "ECDHE-RSA-AES128-GCM-SHA256"},
    {"TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", "ECDHE-RSA-AES256-GCM-SHA384"},
    {"TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256", "ECDHE-RSA-CHACHA20-POLY1305"},
    {"TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", "ECDHE-ECDSA-CHACHA20-POLY1305"},
};

struct CurveName {
  std::string_view go_name;
  std::string_view openssl_name;
};

constexpr CurveName kCurves[] = {
    {"CurveP256", "P-256"}, {"CurveP384", "P-384"}, {"CurveP521", "P-521"}, {"X25519", "X25519"}};

// The response headers exporter-toolkit lets http_server_config.headers set.
constexpr std::string_view kAllowedHeaders[] = {"Content-Security-Policy",
                                                "X-Frame-Options",
                                                "X-Content-Type-Options",
                                                "X-XSS-Protection",
                                                "Strict-Transport-Security"};

// A valid bcrypt hash, checked against when the user name is unknown so that the time taken
// does not tell whether a user exists (exporter-toolkit does the same).
constexpr char kDummyHash[] = "$2b$10$XfdhHfwGmd/Nw4KKuhmh..wXHwrPzdVsPopqkxB2w/RiY9d0Zr8Oa";

constexpr size_t kAuthCacheSize = 100;  // exporter-toolkit's cache size

std::string_view VersionName(int version) {
  for (const NamedVersion& named : kTlsVersions) {
    if (named.version == version) {
      return named.name;
    }
  }
  return "unknown";
}

std::string Quote(std::string_view text) {
  return "\"" + std::string(text) + "\"";
}

std::string Lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

std::string Trim(std::string_view text) {
  size_t begin = 0;
  size_t end = text.size();
  while (begin < end && std::isspace(static_cast<unsigned char>(text[begin])) != 0) {
    ++begin;
  }
  while (end > begin && std::isspace(static_cast<unsigned char>(text[end - 1])) != 0) {
    --end;
  }
  return std::string(text.substr(begin, end - begin));
}

// Checks the shape Go's bcrypt.Cost accepts: $2<minor>$<cost>$ and 53 base-64 characters.
std::string BcryptHashProblem(const std::string& hash) {
  constexpr std::string_view kAlphabet =
      "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  if (hash.size() != 60 || hash[0] != '$' || hash[1] != '2' || hash[3] != '$' || hash[6] != '$' ||
      std::isdigit(static_cast<unsigned char>(hash[4])) == 0 ||
      std::isdigit(static_cast<unsigned char>(hash[5])) == 0) {
    return "is not a bcrypt hash (expected 60 characters starting with $2a$, $2b$ or $2y$ and "
           "a two-digit cost)";
  }
  if (hash[2] != 'a' && hash[2] != 'b' && hash[2] != 'y') {
    return "has the unsupported bcrypt version $2" + std::string(1, hash[2]) +
           "$ instead of $2a$, $2b$ or $2y$";
  }
  int cost = (hash[4] - '0') * 10 + (hash[5] - '0');
  if (cost < 4 || cost > 31) {
    return "has the bcrypt cost " + std::to_string(cost) + ", which is outside 4 to 31";
  }
  if (hash.find_first_not_of(kAlphabet, 7) != std::string::npos) {
    return "is not a bcrypt hash (invalid character after the cost)";
  }
  return "";
}

class Parser {
 public:
  Parser(const std::string& text, const std::string& file) : text_(text), file_(file) {
    base_dir_ = std::filesystem::path(file).parent_path().string();
  }

  Result<WebServerSecurity> Parse() {
    WebServerSecurity security;
    security.file = file_;
    Result<YAML::Node> document = yaml::ParseDocument(text_);
    if (!document.ok()) {
      Report({document.error().line(), document.error().column()}, document.error().message());
      return Finish(std::move(security));
    }
    yaml::Fields fields = yaml::ReadMapping(*document, kTopSchema, Sink());
    if (const Entry* tls = fields.Find("tls_server_config")) {
      ReadTls(*tls, security);
    }
    if (const Entry* http = fields.Find("http_server_config")) {
      ReadHttp(*http, security);
    }
    if (const Entry* users = fields.Find("basic_auth_users")) {
      ReadUsers(*users, security);
    }
    if (const Entry* tokens = fields.Find("bearer_tokens")) {
      for (const yaml::StringItem& item : yaml::ReadStringItems(*tokens, Sink())) {
        AddToken(item.value_position, item.value, "bearer_tokens", security);
      }
    }
    if (const Entry* files = fields.Find("bearer_token_files")) {
      for (const yaml::StringItem& item : yaml::ReadStringItems(*files, Sink())) {
        ReadTokenFile(item, security);
      }
    }
    return Finish(std::move(security));
  }

 private:
  yaml::ErrorSink Sink() {
    return [this](Position position, std::string message) {
      Report(position, std::move(message));
    };
  }

  void Report(Position position, std::string message) {
    if (first_position_.line == 0 && errors_.empty()) {
      first_position_ = position;
    }
    std::string located = file_;
    if (position.line > 0) {
      located += ":" + std::to_string(position.line) + ":" + std::to_string(position.column);
    }
    errors_.push_back(located + ": " + message);
  }

  Result<WebServerSecurity> Finish(WebServerSecurity security) {
    if (errors_.empty()) {
      return security;
    }
    std::string message;
    for (const std::string& error : errors_) {
      message += (message.empty() ? "" : "\n") + error;
    }
    return Error::Invalid(message, first_position_.line, first_position_.column);
  }

  std::string Resolve(const std::string& path) const {
    if (path.empty() || std::filesystem::path(path).is_absolute() || base_dir_.empty()) {
      return path;
    }
    return (std::filesystem::path(base_dir_) / path).string();
  }

  std::string ReadPath(const Entry& entry) {
    return Resolve(yaml::ReadString(entry, Sink()).value_or(""));
  }

  int ReadVersion(const Entry& entry, int fallback) {
    std::optional<std::string> value = yaml::ReadString(entry, Sink());
    if (!value) {
      return fallback;
    }
    for (const NamedVersion& version : kTlsVersions) {
      if (version.name == *value) {
        return version.version;
      }
    }
    Report(entry.value_position(),
           "unknown TLS version " + Quote(*value) + " in " + entry.key +
               "; use TLS10, TLS11, TLS12 or TLS13");
    return fallback;
  }

  void ReadTls(const Entry& entry, WebServerSecurity& security) {
    yaml::Fields fields = yaml::ReadMapping(entry.value, kTlsSchema, Sink());
    if (fields.entries().empty()) {
      return;  // an empty tls_server_config means plain HTTP, as in exporter-toolkit
    }
    WebTlsConfig tls;
    const Entry* cert = fields.Find("cert_file");
    const Entry* key = fields.Find("key_file");
    const Entry* ca = fields.Find("client_ca_file");
    const Entry* auth = fields.Find("client_auth_type");
    if (cert != nullptr) {
      tls.cert_file = ReadPath(*cert);
    }
    if (key != nullptr) {
      tls.key_file = ReadPath(*key);
    }
    if (ca != nullptr) {
      tls.client_ca_file = ReadPath(*ca);
    }
    if (tls.cert_file.empty()) {
      Report(cert != nullptr ? cert->value_position() : entry.key_position(),
             "missing cert_file in tls_server_config; name the PEM server certificate");
    }
    if (tls.key_file.empty()) {
      Report(key != nullptr ? key->value_position() : entry.key_position(),
             "missing key_file in tls_server_config; name the PEM private key");
    }
    if (auth != nullptr) {
      ReadClientAuth(*auth, tls);
    }
    bool verifies = tls.client_auth_type == ClientAuthType::kVerifyClientCertIfGiven ||
                    tls.client_auth_type == ClientAuthType::kRequireAndVerifyClientCert;
    if (!tls.client_ca_file.empty() && tls.client_auth_type == ClientAuthType::kNoClientCert) {
      Report(ca->key_position(),
             "client_ca_file is set but client_auth_type is NoClientCert; set client_auth_type "
             "to RequireAndVerifyClientCert or VerifyClientCertIfGiven");
    }
    if (verifies && tls.client_ca_file.empty()) {
      Report(auth->value_position(),
             "client_auth_type " + yaml::ReadString(*auth, Sink()).value_or("") +
                 " verifies client certificates, so client_ca_file must name the CA "
                 "certificates to verify them with");
    }
    if (const Entry* min = fields.Find("min_version")) {
      tls.min_version = ReadVersion(*min, tls.min_version);
    }
    if (const Entry* max = fields.Find("max_version")) {
      tls.max_version = ReadVersion(*max, tls.max_version);
    }
    if (tls.min_version > tls.max_version) {
      const Entry* at =
          fields.Find("min_version") ? fields.Find("min_version") : fields.Find("max_version");
      Report(at->value_position(),
             "min_version " + std::string(VersionName(tls.min_version)) + " is above max_version " +
                 std::string(VersionName(tls.max_version)) +
                 "; lower min_version or raise max_version");
    }
    if (const Entry* ciphers = fields.Find("cipher_suites")) {
      ReadCiphers(*ciphers, tls);
    }
    if (const Entry* curves = fields.Find("curve_preferences")) {
      ReadCurves(*curves, tls);
    }
    if (const Entry* prefer = fields.Find("prefer_server_cipher_suites")) {
      tls.prefer_server_cipher_suites = yaml::ReadBool(*prefer, Sink()).value_or(true);
    }
    security.tls = std::move(tls);
  }

  void ReadClientAuth(const Entry& auth, WebTlsConfig& tls) {
    std::string value = yaml::ReadString(auth, Sink()).value_or("");
    if (value.empty()) {
      return;
    }
    for (const ClientAuthName& name : kClientAuthTypes) {
      if (name.name == value) {
        tls.client_auth_type = name.type;
        return;
      }
    }
    Report(auth.value_position(),
           "unknown client_auth_type " + Quote(value) +
               "; use NoClientCert, RequestClientCert, RequireAnyClientCert, "
               "VerifyClientCertIfGiven or RequireAndVerifyClientCert");
  }

  void ReadCiphers(const Entry& entry, WebTlsConfig& tls) {
    for (const yaml::StringItem& item : yaml::ReadStringItems(entry, Sink())) {
      auto it = std::find_if(std::begin(kCipherSuites),
                             std::end(kCipherSuites),
                             [&](const CipherName& name) { return name.go_name == item.value; });
      if (it == std::end(kCipherSuites)) {
        Report(item.value_position,
               "unknown cipher suite " + Quote(item.value) +
                   " in cipher_suites; use a Go name such as "
                   "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256");
        continue;
      }
      tls.cipher_suites.push_back(item.value);
    }
  }

  void ReadCurves(const Entry& entry, WebTlsConfig& tls) {
    for (const yaml::StringItem& item : yaml::ReadStringItems(entry, Sink())) {
      auto it = std::find_if(std::begin(kCurves), std::end(kCurves), [&](const CurveName& name) {
        return name.go_name == item.value;
      });
      if (it == std::end(kCurves)) {
        Report(item.value_position,
               "unknown curve " + Quote(item.value) +
                   " in curve_preferences; use CurveP256, CurveP384, CurveP521 or X25519");
        continue;
      }
      tls.curve_preferences.push_back(item.value);
    }
  }

  void ReadHttp(const Entry& entry, WebServerSecurity& security) {
    yaml::Fields fields = yaml::ReadMapping(entry.value, kHttpSchema, Sink());
    if (const Entry* http2 = fields.Find("http2")) {
      security.http2 = yaml::ReadBool(*http2, Sink()).value_or(true);
    }
    const Entry* headers = fields.Find("headers");
    if (headers == nullptr) {
      return;
    }
    for (const yaml::StringItem& item : yaml::ReadStringMap(*headers, Sink())) {
      std::string problem = HeaderProblem(item.key, item.value);
      if (!problem.empty()) {
        Report(item.key_position, problem);
        continue;
      }
      security.headers.emplace_back(item.key, item.value);
    }
  }

  // exporter-toolkit's validateHeaderConfig: a fixed set of security headers, two of them
  // with fixed values. Header names compare without regard to case, as in HTTP. Values with
  // control characters are rejected too (Go's net/http would replace line breaks with spaces).
  static std::string HeaderProblem(const std::string& name, const std::string& value) {
    std::string lower = Lower(name);
    auto allowed = std::find_if(std::begin(kAllowedHeaders),
                                std::end(kAllowedHeaders),
                                [&](std::string_view known) { return Lower(known) == lower; });
    if (allowed == std::end(kAllowedHeaders)) {
      return "HTTP header " + Quote(name) +
             " cannot be configured; allowed are Content-Security-Policy, X-Frame-Options, "
             "X-Content-Type-Options, X-XSS-Protection and Strict-Transport-Security";
    }
    // Beast writes header values as they are, so a line break would end the header early and
    // start a header or body the file did not intend.
    bool has_control = std::any_of(value.begin(), value.end(), [](char c) {
      return (static_cast<unsigned char>(c) < 0x20 && c != '\t') || c == 0x7f;
    });
    if (has_control) {
      return "the value of HTTP header " + Quote(name) +
             " contains a line break or another control character, which header values "
             "cannot contain";
    }
    if (lower == "x-content-type-options" && Lower(value) != "nosniff") {
      return "invalid value " + Quote(value) + " for X-Content-Type-Options; use nosniff";
    }
    if (lower == "x-frame-options" && Lower(value) != "deny" && Lower(value) != "sameorigin") {
      return "invalid value " + Quote(value) + " for X-Frame-Options; use deny or sameorigin";
    }
    return "";
  }

  void ReadUsers(const Entry& entry, WebServerSecurity& security) {
    for (const yaml::StringItem& item : yaml::ReadStringMap(entry, Sink())) {
      if (item.key.empty()) {
        Report(item.key_position, "empty user name in basic_auth_users");
        continue;
      }
      if (item.key.find(':') != std::string::npos) {
        Report(item.key_position,
               "user name " + Quote(item.key) +
                   " in basic_auth_users contains ':', which basic auth cannot send");
        continue;
      }
      // The hash itself is not shown: it is a secret too.
      std::string problem = BcryptHashProblem(item.value);
      if (!problem.empty()) {
        Report(item.value_position,
               "the password hash of user " + Quote(item.key) + " " + problem +
                   "; create one with htpasswd -nBC 10 \"\" | tr -d ':\\n'");
        continue;
      }
      security.basic_auth_users[item.key] = item.value;
    }
  }

  void AddToken(Position position,
                const std::string& token,
                std::string_view field,
                WebServerSecurity& security) {
    if (token.empty()) {
      Report(position, "empty bearer token in " + std::string(field));
      return;
    }
    if (token.find_first_of(" \t\r\n") != std::string::npos) {
      Report(position,
             "a bearer token in " + std::string(field) +
                 " contains whitespace, which an Authorization header cannot carry");
      return;
    }
    security.bearer_tokens.push_back(token);
  }

  void ReadTokenFile(const yaml::StringItem& item, WebServerSecurity& security) {
    std::string path = Resolve(item.value);
    Result<std::string> content = yaml::ReadTextFile(path);
    if (!content.ok()) {
      Report(item.value_position,
             "cannot read bearer token file " + Quote(path) + ": " + content.error().message());
      return;
    }
    AddToken(item.value_position, Trim(*content), "bearer token file " + Quote(path), security);
  }

  const std::string& text_;
  std::string file_;
  std::string base_dir_;
  std::vector<std::string> errors_;
  Position first_position_;
};

std::string CacheKey(const std::string& user, const std::string& hash, const std::string& pass) {
  std::string material = user;
  material.push_back('\0');
  material += hash;
  material.push_back('\0');
  material += pass;
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(material.data()), material.size(), digest);
  OPENSSL_cleanse(material.data(), material.size());
  return std::string(reinterpret_cast<const char*>(digest), sizeof(digest));
}

int Base64Value(char c) {
  if (c >= 'A' && c <= 'Z') {
    return c - 'A';
  }
  if (c >= 'a' && c <= 'z') {
    return c - 'a' + 26;
  }
  if (c >= '0' && c <= '9') {
    return c - '0' + 52;
  }
  if (c == '+') {
    return 62;
  }
  if (c == '/') {
    return 63;
  }
  return -1;
}

// Decodes standard base64 with optional padding; nullopt when invalid.
std::optional<std::string> DecodeBase64(std::string_view text) {
  while (!text.empty() && text.back() == '=') {
    text.remove_suffix(1);
  }
  std::string out;
  uint32_t buffer = 0;
  int bits = 0;
  for (char c : text) {
    int value = Base64Value(c);
    if (value < 0) {
      return std::nullopt;
    }
    buffer = (buffer << 6) | static_cast<uint32_t>(value);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((buffer >> bits) & 0xff));
    }
  }
  if (bits >= 6) {
    return std::nullopt;  // one stray character cannot encode a byte
  }
  return out;
}

bool StartsWithScheme(std::string_view header, std::string_view scheme) {
  return header.size() > scheme.size() && Lower(header.substr(0, scheme.size())) == scheme &&
         header[scheme.size()] == ' ';
}

}  // namespace

Result<WebServerSecurity> ParseWebConfig(const std::string& text, const std::string& file) {
  return Parser(text, file).Parse();
}

Result<WebServerSecurity> LoadWebConfigFile(const std::string& path) {
  Result<std::string> text = yaml::ReadTextFile(path);
  if (!text.ok()) {
    return Error::Invalid("cannot read web config file " + Quote(path) + ": " +
                          text.error().message());
  }
  return ParseWebConfig(*text, path);
}

bool BcryptMatches(const std::string& password, const std::string& hash) {
  auto data = std::make_unique<crypt_data>();
  std::memset(data.get(), 0, sizeof(crypt_data));
  const char* result = crypt_rn(password.c_str(), hash.c_str(), data.get(), sizeof(crypt_data));
  bool match = result != nullptr && result[0] != '*' && ConstantTimeEquals(result, hash);
  OPENSSL_cleanse(data.get(), sizeof(crypt_data));
  return match;
}

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) {
    return false;
  }
  return a.empty() || CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

WebAuthenticator::WebAuthenticator(std::shared_ptr<const WebServerSecurity> security)
    : security_(security ? std::move(security) : std::make_shared<const WebServerSecurity>()) {}

WebAuthenticator::Outcome WebAuthenticator::Check(std::string_view authorization,
                                                  std::string* user) const {
  if (!security_->RequiresAuthentication()) {
    return Outcome::kAllowed;
  }
  std::string_view header = authorization;
  while (!header.empty() && header.front() == ' ') {
    header.remove_prefix(1);
  }
  if (header.empty()) {
    return Outcome::kMissing;
  }
  if (StartsWithScheme(header, "bearer")) {
    if (user != nullptr) {
      *user = "bearer";
    }
    std::string token = Trim(header.substr(7));
    bool match = false;
    // Every token is compared, so the time taken does not tell which one matched.
    for (const std::string& candidate : security_->bearer_tokens) {
      match = ConstantTimeEquals(token, candidate) || match;
    }
    return match ? Outcome::kAllowed : Outcome::kDenied;
  }
  if (!StartsWithScheme(header, "basic")) {
    return Outcome::kMissing;
  }
  std::optional<std::string> decoded = DecodeBase64(Trim(header.substr(6)));
  size_t colon = decoded ? decoded->find(':') : std::string::npos;
  if (colon == std::string::npos) {
    return Outcome::kDenied;
  }
  std::string name = decoded->substr(0, colon);
  std::string password = decoded->substr(colon + 1);
  OPENSSL_cleanse(decoded->data(), decoded->size());
  if (user != nullptr) {
    *user = name;
  }
  bool match = CheckBasic(name, password);
  OPENSSL_cleanse(password.data(), password.size());
  return match ? Outcome::kAllowed : Outcome::kDenied;
}

bool WebAuthenticator::CheckBasic(const std::string& user, const std::string& password) const {
  auto it = security_->basic_auth_users.find(user);
  bool known = it != security_->basic_auth_users.end();
  const std::string hash = known ? it->second : std::string(kDummyHash);
  std::string key = CacheKey(user, hash, password);
  {
    std::lock_guard lock(cache_mu_);
    if (known && cache_.count(key) > 0) {
      return true;
    }
  }
  bool match = BcryptMatches(password, hash) && known;
  if (match) {
    std::lock_guard lock(cache_mu_);
    if (cache_.size() >= kAuthCacheSize) {
      cache_.erase(cache_.begin());  // an arbitrary entry, as exporter-toolkit evicts
    }
    cache_.insert(std::move(key));
  }
  return match;
}

std::string OpenSslCipherList(const WebTlsConfig& tls) {
  std::string out;
  for (const std::string& go_name : tls.cipher_suites) {
    for (const CipherName& name : kCipherSuites) {
      if (name.go_name == go_name && !name.openssl_name.empty()) {
        out += (out.empty() ? "" : ":") + std::string(name.openssl_name);
      }
    }
  }
  return out;
}

std::string OpenSslCurveList(const WebTlsConfig& tls) {
  std::string out;
  for (const std::string& go_name : tls.curve_preferences) {
    for (const CurveName& name : kCurves) {
      if (name.go_name == go_name) {
        out += (out.empty() ? "" : ":") + std::string(name.openssl_name);
      }
    }
  }
  return out;
}

}  // namespace alertd
