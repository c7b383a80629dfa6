// Tests of the web configuration file (web/web_config.h) and of how HttpServer applies it:
// basic auth, bearer tokens, TLS with client certificates, response headers, UpdateSecurity
// and the absence of secrets from the "web" log. Servers listen on 127.0.0.1 with port 0;
// certificates come from the openssl CLI into a temporary directory.
#include "web/web_config.h"

#include <crypt.h>
#include <openssl/evp.h>
#include <stdlib.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <curl/curl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>

#include "common/logging.h"
#include "web/http_server.h"

namespace alertd {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::Pair;

// --- Helpers ---

std::string MakeTempDir() {
  std::string pattern = (fs::temp_directory_path() / "alertd-web-config-XXXXXX").string();
  if (mkdtemp(pattern.data()) == nullptr) {
    return "";
  }
  return pattern;
}

void WriteFile(const std::string& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
}

// A bcrypt hash of `password` with cost 4 (the minimum, so tests stay fast), made by
// libxcrypt as htpasswd -B would.
std::string BcryptHash(const std::string& password) {
  char setting[CRYPT_GENSALT_OUTPUT_SIZE];
  if (crypt_gensalt_rn("$2b$", 4, nullptr, 0, setting, sizeof(setting)) == nullptr) {
    return "";
  }
  auto data = std::make_unique<crypt_data>();
  const char* hash = crypt_rn(password.c_str(), setting, data.get(), sizeof(crypt_data));
  return hash == nullptr || hash[0] == '*' ? "" : std::string(hash);
}

std::string Base64(const std::string& text) {
  std::string out(4 * ((text.size() + 2) / 3) + 1, '\0');
  int length = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                               reinterpret_cast<const unsigned char*>(text.data()),
                               static_cast<int>(text.size()));
  out.resize(static_cast<size_t>(length));
  return out;
}

// --- libcurl client with the TLS settings the tests need ---

struct ClientOptions {
  std::string user;  // basic auth, with password, when not empty
  std::string password;
  std::string authorization;  // a raw Authorization header value
  std::string ca_file;        // CA that verifies the server; empty: the system bundle
  std::string cert_file;      // client certificate, with key_file
  std::string key_file;
  bool max_tls12 = false;   // offer TLS 1.2 only
  std::string cipher_list;  // OpenSSL TLS 1.2 cipher list
  std::string curves;       // OpenSSL group list
};

struct Reply {
  CURLcode code = CURLE_OK;
  long status = 0;
  std::string body;
  std::string error;                                         // curl's error text
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased

  std::string Header(const std::string& name) const {
    for (const auto& [key, value] : headers) {
      if (key == name) {
        return value;
      }
    }
    return {};
  }
};

size_t AppendBody(char* data, size_t size, size_t count, void* user) {
  static_cast<std::string*>(user)->append(data, size * count);
  return size * count;
}

size_t AppendHeader(char* data, size_t size, size_t count, void* user) {
  std::string line(data, size * count);
  size_t colon = line.find(':');
  if (colon != std::string::npos) {
    std::string name = line.substr(0, colon);
    for (char& c : name) {
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    std::string value = line.substr(colon + 1);
    value.erase(0, value.find_first_not_of(' '));
    while (!value.empty() && (value.back() == '\n' || value.back() == '\r')) {
      value.pop_back();
    }
    static_cast<Reply*>(user)->headers.emplace_back(name, value);
  }
  return size * count;
}

Reply Get(const std::string& url, const ClientOptions& options = {}) {
  static const bool curl_initialized = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
  Reply reply;
  if (!curl_initialized) {
    reply.code = CURLE_FAILED_INIT;
    return reply;
  }
  char error[CURL_ERROR_SIZE] = {};
  CURL* curl = curl_easy_init();
  curl_slist* headers = nullptr;
  if (!options.authorization.empty()) {
    headers = curl_slist_append(headers, ("Authorization: " + options.authorization).c_str());
  }

  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_NOPROXY, "*");
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 10000L);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error);
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, AppendBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &reply.body);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, AppendHeader);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &reply);

  if (!options.user.empty()) {
    curl_easy_setopt(curl, CURLOPT_HTTPAUTH, static_cast<long>(CURLAUTH_BASIC));
    curl_easy_setopt(curl, CURLOPT_USERNAME, options.user.c_str());
    curl_easy_setopt(curl, CURLOPT_PASSWORD, options.password.c_str());
  }

  if (!options.ca_file.empty()) {
    curl_easy_setopt(curl, CURLOPT_CAINFO, options.ca_file.c_str());
  }
  if (!options.cert_file.empty()) {
    curl_easy_setopt(curl, CURLOPT_SSLCERT, options.cert_file.c_str());
    curl_easy_setopt(curl, CURLOPT_SSLKEY, options.key_file.c_str());
  }
  if (options.max_tls12) {
    curl_easy_setopt(curl,
                     CURLOPT_SSLVERSION,
                     static_cast<long>(CURL_SSLVERSION_TLSv1_2) |
                         static_cast<long>(CURL_SSLVERSION_MAX_TLSv1_2));
  }
  if (!options.cipher_list.empty()) {
    curl_easy_setopt(curl, CURLOPT_SSL_CIPHER_LIST, options.cipher_list.c_str());
  }
  if (!options.curves.empty()) {
    curl_easy_setopt(curl, CURLOPT_SSL_EC_CURVES, options.curves.c_str());
  }

  reply.code = curl_easy_perform(curl);
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &reply.status);
  reply.error = error[0] != '\0' ? error : curl_easy_strerror(reply.code);
  curl_slist_free_all(headers);
  curl_easy_cleanup(curl);
  return reply;
}

// Collects everything the "web" logger writes, at debug level and above, while it exists.
class WebLogCapture {
 public:
  WebLogCapture()
      : sink_(std::make_shared<spdlog::sinks::ostream_sink_mt>(out_)),
        logger_(Logger("web")),
        previous_level_(logger_->level()) {
    sink_->set_pattern("%l %v");
    logger_->sinks().push_back(sink_);
    logger_->set_level(spdlog::level::debug);
  }

  ~WebLogCapture() {
    logger_->set_level(previous_level_);
    logger_->sinks().pop_back();
  }

  std::string Text() {
    logger_->flush();
    return out_.str();
  }

 private:
  std::ostringstream out_;
  std::shared_ptr<spdlog::sinks::ostream_sink_mt> sink_;
  std::shared_ptr<spdlog::logger> logger_;
  spdlog::level::level_enum previous_level_;
};

// --- Parsing ---

Result<WebServerSecurity> Parse(const std::string& text) {
  return ParseWebConfig(text, "web.yml");
}

// The message of a parse that is expected to fail, or a marker when it succeeded.
std::string ParseError(const std::string& text) {
  Result<WebServerSecurity> parsed = Parse(text);
  return parsed.ok() ? "<parsed without error>" : parsed.error().message();
}

class WebConfigParseTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = MakeTempDir();
    ASSERT_FALSE(dir_.empty());
  }

  void TearDown() override { fs::remove_all(dir_); }

  std::string dir_;
};

TEST_F(WebConfigParseTest, FullFileRoundTrips) {
  std::string hash = BcryptHash("alice-password");
  ASSERT_FALSE(hash.empty());
  WriteFile(dir_ + "/token", "  file-token\n");
  std::string path = dir_ + "/web.yml";
  WriteFile(path,
            "tls_server_config:\n"
            "  cert_file: tls/server.crt\n"
            "  key_file: /etc/keys/server.key\n"
            "  client_auth_type: VerifyClientCertIfGiven\n"
            "  client_ca_file: tls/clients.pem\n"
            "  min_version: TLS11\n"
            "  max_version: TLS12\n"
            "  cipher_suites:\n"
            "    - TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256\n"
            "    - TLS_AES_128_GCM_SHA256\n"
            "    - TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256\n"
            "  curve_preferences: [X25519, CurveP384]\n"
            "  prefer_server_cipher_suites: false\n"
            "http_server_config:\n"
            "  http2: false\n"
            "  headers:\n"
            "    X-Frame-Options: deny\n"
            "    Content-Security-Policy: default-src 'self'\n"
            "    X-Content-Type-Options: nosniff\n"
            "basic_auth_users:\n"
            "  alice: " +
                hash +
                "\n"
                "bearer_tokens: [list-token]\n"
                "bearer_token_files: [token]\n");

  Result<WebServerSecurity> loaded = LoadWebConfigFile(path);
  ASSERT_TRUE(loaded.ok()) << loaded.error().message();
  const WebServerSecurity& security = *loaded;
  EXPECT_EQ(security.file, path);
  ASSERT_TRUE(security.tls.has_value());
  const WebTlsConfig& tls = *security.tls;
  EXPECT_EQ(tls.cert_file, dir_ + "/tls/server.crt");
  EXPECT_EQ(tls.key_file, "/etc/keys/server.key");
  EXPECT_EQ(tls.client_auth_type, ClientAuthType::kVerifyClientCertIfGiven);
  EXPECT_EQ(tls.client_ca_file, dir_ + "/tls/clients.pem");
  EXPECT_EQ(tls.min_version, 0x0302);
  EXPECT_EQ(tls.max_version, 0x0303);
  EXPECT_THAT(tls.cipher_suites,
              ElementsAre("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
                          "TLS_AES_128_GCM_SHA256",
                          "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256"));
  EXPECT_THAT(tls.curve_preferences, ElementsAre("X25519", "CurveP384"));
  EXPECT_FALSE(tls.prefer_server_cipher_suites);
  EXPECT_FALSE(security.http2);
  EXPECT_THAT(security.headers,
              ElementsAre(Pair("X-Frame-Options", "deny"),
                          Pair("Content-Security-Policy", "default-src 'self'"),
                          Pair("X-Content-Type-Options", "nosniff")));
  EXPECT_THAT(security.basic_auth_users, ElementsAre(Pair("alice", hash)));
  EXPECT_THAT(security.bearer_tokens, ElementsAre("list-token", "file-token"));
  EXPECT_TRUE(security.RequiresAuthentication());

  // TLS 1.3 suites are left out of the OpenSSL list because they cannot be configured.
  EXPECT_EQ(OpenSslCipherList(tls), "ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-CHACHA20-POLY1305");
  EXPECT_EQ(OpenSslCurveList(tls), "X25519:P-384");
}

TEST_F(WebConfigParseTest, DefaultsWithoutTls) {
  Result<WebServerSecurity> parsed = Parse("http_server_config: {}\n");
  ASSERT_TRUE(parsed.ok()) << parsed.error().message();
  EXPECT_FALSE(parsed->tls.has_value());
  EXPECT_TRUE(parsed->http2);
  EXPECT_FALSE(parsed->RequiresAuthentication());

  parsed = Parse("tls_server_config:\n  cert_file: a.crt\n  key_file: a.key\n");
  ASSERT_TRUE(parsed.ok()) << parsed.error().message();
  ASSERT_TRUE(parsed->tls.has_value());
  EXPECT_EQ(parsed->tls->client_auth_type, ClientAuthType::kNoClientCert);
  EXPECT_EQ(parsed->tls->min_version, 0x0303);
  EXPECT_EQ(parsed->tls->max_version, 0x0304);
  EXPECT_TRUE(parsed->tls->prefer_server_cipher_suites);
  EXPECT_TRUE(parsed->tls->cipher_suites.empty());
  EXPECT_EQ(OpenSslCipherList(*parsed->tls), "");
}

// exporter-toolkit 0.8 reads an empty file as all defaults, so Prometheus serves plain HTTP
// without authentication; alertd does the same.
TEST_F(WebConfigParseTest, EmptyFileMeansNoSecurity) {
  std::string path = dir_ + "/web.yml";
  for (const std::string& text : {std::string(""), std::string("# nothing here\n")}) {
    WriteFile(path, text);
    Result<WebServerSecurity> loaded = LoadWebConfigFile(path);
    ASSERT_TRUE(loaded.ok()) << loaded.error().message();
    EXPECT_FALSE(loaded->tls.has_value());
    EXPECT_FALSE(loaded->RequiresAuthentication());
    EXPECT_TRUE(loaded->headers.empty());
  }
}

TEST_F(WebConfigParseTest, MissingFileIsError) {
  std::string path = dir_ + "/absent.yml";
  Result<WebServerSecurity> loaded = LoadWebConfigFile(path);
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.error().message(),
            "cannot read web config file \"" + path + "\": No such file or directory");
}

struct BadInput {
  std::string name;
  std::string text;
  std::string message;
};

TEST_F(WebConfigParseTest, BadInputsGiveExactErrors) {
  const std::vector<BadInput> cases = {
      {"top-level typo",
       "basic_auth_user:\n  alice: x\n",
       "web.yml:1:1: unknown field \"basic_auth_user\" in web config file; did you mean "
       "\"basic_auth_users\"?"},
      {"nested typo",
       "tls_server_config:\n  cert_file: a.crt\n  key_file: a.key\n  min_versoin: TLS12\n",
       "web.yml:4:3: unknown field \"min_versoin\" in tls_server_config; did you mean "
       "\"min_version\"?"},
      {"field of a newer exporter-toolkit",
       "tls_server_config:\n  cert_file: a.crt\n  key_file: a.key\n  client_allowed_sans: [x]\n",
       "web.yml:4:3: field \"client_allowed_sans\" in tls_server_config is not supported yet by "
       "alertd; remove it"},
      {"bad client_auth_type",
       "tls_server_config:\n  cert_file: a.crt\n  key_file: a.key\n"
       "  client_auth_type: RequireClientCerts\n",
       "web.yml:4:21: unknown client_auth_type \"RequireClientCerts\"; use NoClientCert, "
       "RequestClientCert, RequireAnyClientCert, VerifyClientCertIfGiven or "
       "RequireAndVerifyClientCert"},
      {"verifying without client_ca_file",
       "tls_server_config:\n  cert_file: a.crt\n  key_file: a.key\n"
       "  client_auth_type: RequireAndVerifyClientCert\n",
       "web.yml:4:21: client_auth_type RequireAndVerifyClientCert verifies client certificates, "
       "so client_ca_file must name the CA certificates to verify them with"},
      {"client_ca_file without client_auth_type",
       "tls_server_config:\n  cert_file: a.crt\n  key_file: a.key\n  client_ca_file: ca.crt\n",
       "web.yml:4:3: client_ca_file is set but client_auth_type is NoClientCert; set "
       "client_auth_type to RequireAndVerifyClientCert or VerifyClientCertIfGiven"},
      {"min_version above max_version",
       "tls_server_config:\n  cert_file: a.crt\n  key_file: a.key\n"
       "  min_version: TLS13\n  max_version: TLS12\n",
       "web.yml:4:16: min_version TLS13 is above max_version TLS12; lower min_version or raise "
       "max_version"},
      {"unknown TLS version",
       "tls_server_config:\n  cert_file: a.crt\n  key_file: a.key\n  max_version: TLS1.3\n",
       "web.yml:4:16: unknown TLS version \"TLS1.3\" in max_version; use TLS10, TLS11, TLS12 or "
       "TLS13"},
      {"unknown cipher suite",
       "tls_server_config:\n  cert_file: a.crt\n  key_file: a.key\n"
       "  cipher_suites:\n    - TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256\n"
       "    - ECDHE-RSA-AES128-GCM-SHA256\n",
       "web.yml:6:7: unknown cipher suite \"ECDHE-RSA-AES128-GCM-SHA256\" in cipher_suites; use a "
       "Go name such as TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"},
      {"unknown curve",
       "tls_server_config:\n  cert_file: a.crt\n  key_file: a.key\n"
       "  curve_preferences: [CurveP256, P-384]\n",
       "web.yml:4:34: unknown curve \"P-384\" in curve_preferences; use CurveP256, CurveP384, "
       "CurveP521 or X25519"},
      {"key_file without cert_file",
       "tls_server_config:\n  key_file: a.key\n",
       "web.yml:1:1: missing cert_file in tls_server_config; name the PEM server certificate"},
      {"cert_file without key_file",
       "tls_server_config:\n  cert_file: a.crt\n",
       "web.yml:1:1: missing key_file in tls_server_config; name the PEM private key"},
      {"plain password in basic_auth_users",
       "basic_auth_users:\n  alice: hunter2\n",
       "web.yml:2:10: the password hash of user \"alice\" is not a bcrypt hash (expected 60 "
       "characters starting with $2a$, $2b$ or $2y$ and a two-digit cost); create one with "
       "htpasswd -nBC 10 \"\" | tr -d ':\\n'"},
      {"bcrypt version $2x$",
       "basic_auth_users:\n  alice: $2x$10$XfdhHfwGmd/Nw4KKuhmh..wXHwrPzdVsPopqkxB2w/RiY9d0Zr8Oa\n",
       "web.yml:2:10: the password hash of user \"alice\" has the unsupported bcrypt version $2x$ "
       "instead of $2a$, $2b$ or $2y$; create one with htpasswd -nBC 10 \"\" | tr -d ':\\n'"},
      {"user name with a colon",
       "basic_auth_users:\n  \"al:ice\": "
       "$2b$10$XfdhHfwGmd/Nw4KKuhmh..wXHwrPzdVsPopqkxB2w/RiY9d0Zr8Oa\n",
       "web.yml:2:3: user name \"al:ice\" in basic_auth_users contains ':', which basic auth "
       "cannot send"},
      {"header that cannot be set",
       "http_server_config:\n  headers:\n    Server: alertd\n",
       "web.yml:3:5: HTTP header \"Server\" cannot be configured; allowed are "
       "Content-Security-Policy, X-Frame-Options, X-Content-Type-Options, X-XSS-Protection and "
       "Strict-Transport-Security"},
      {"bad X-Frame-Options",
       "http_server_config:\n  headers:\n    X-Frame-Options: allow\n",
       "web.yml:3:5: invalid value \"allow\" for X-Frame-Options; use deny or sameorigin"},
      {"line break in a header value",
       "http_server_config:\n  headers:\n"
       "    Content-Security-Policy: \"default-src 'self'\\r\\nX-Injected: 1\"\n",
       "web.yml:3:5: the value of HTTP header \"Content-Security-Policy\" contains a line break "
       "or another control character, which header values cannot contain"},
      {"empty bearer token",
       "bearer_tokens: [\"\"]\n",
       "web.yml:1:17: empty bearer token in bearer_tokens"},
      {"bearer token with whitespace",
       "bearer_tokens: [\"two words\"]\n",
       "web.yml:1:17: a bearer token in bearer_tokens contains whitespace, which an "
       "Authorization header cannot carry"},
      {"not a mapping",
       "- tls_server_config\n",
       "web.yml:1:1: web config file must be a mapping, got a list"},
      {"invalid YAML",
       "basic_auth_users: [\n",
       "web.yml:2:1: invalid YAML: end of sequence flow not found"},
  };
  for (const BadInput& input : cases) {
    SCOPED_TRACE(input.name);
    EXPECT_EQ(ParseError(input.text), input.message);
  }
}

TEST_F(WebConfigParseTest, ErrorCarriesFirstPosition) {
  Result<WebServerSecurity> parsed =
      Parse("http_server_config:\n  http2: true\n  header: {}\nbasic_auth_users:\n  bob: x\n");
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(parsed.error().line(), 3);
  EXPECT_EQ(parsed.error().column(), 3);
  // Every problem is listed, one per line.
  EXPECT_THAT(parsed.error().message(),
              HasSubstr("web.yml:3:3: unknown field \"header\" in http_server_config; did you "
                        "mean \"headers\"?\nweb.yml:5:8: the password hash of user \"bob\""));
}

TEST_F(WebConfigParseTest, MissingTokenFileNamesPath) {
  std::string path = dir_ + "/web.yml";
  WriteFile(path, "bearer_token_files:\n  - missing-token\n");
  Result<WebServerSecurity> loaded = LoadWebConfigFile(path);
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.error().message(),
            path + ":2:5: cannot read bearer token file \"" + dir_ +
                "/missing-token\": No such file or directory");
}

TEST_F(WebConfigParseTest, EmptyTokenFileIsError) {
  std::string path = dir_ + "/web.yml";
  WriteFile(dir_ + "/blank", " \n");
  WriteFile(path, "bearer_token_files: [blank]\n");
  Result<WebServerSecurity> loaded = LoadWebConfigFile(path);
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.error().message(),
            path + ":1:22: empty bearer token in bearer token file \"" + dir_ + "/blank\"");
}

TEST_F(WebConfigParseTest, ErrorsHideSecrets) {
  std::string message = ParseError(
      "basic_auth_users:\n  alice: plaintext-secret-1\n"
      "bearer_tokens: [\"token secret-2\"]\n");
  EXPECT_THAT(message, HasSubstr("user \"alice\""));
  EXPECT_THAT(message, HasSubstr("a bearer token in bearer_tokens"));
  EXPECT_THAT(message, Not(HasSubstr("secret-1")));
  EXPECT_THAT(message, Not(HasSubstr("secret-2")));
}

// --- WebAuthenticator without a server ---

TEST(WebAuthenticator, ParsesAuthorizationHeader) {
  auto security = std::make_shared<WebServerSecurity>();
  security->basic_auth_users["alice"] = BcryptHash("open sesame");
  ASSERT_FALSE(security->basic_auth_users["alice"].empty());
  security->bearer_tokens = {"tok-1", "tok-2"};
  WebAuthenticator authenticator(security);
  using Outcome = WebAuthenticator::Outcome;

  std::string user;
  EXPECT_EQ(authenticator.Check("Basic " + Base64("alice:open sesame"), &user), Outcome::kAllowed);
  EXPECT_EQ(user, "alice");
  // A second check is served from the cache and gives the same result.
  EXPECT_EQ(authenticator.Check("Basic " + Base64("alice:open sesame")), Outcome::kAllowed);
  EXPECT_EQ(authenticator.Check("basic " + Base64("alice:open sesame")), Outcome::kAllowed);
  EXPECT_EQ(authenticator.Check("Basic " + Base64("alice:open sesame!")), Outcome::kDenied);
  EXPECT_EQ(authenticator.Check("Basic " + Base64("alice")), Outcome::kDenied);
  EXPECT_EQ(authenticator.Check("Basic !!!"), Outcome::kDenied);
  EXPECT_EQ(authenticator.Check("Bearer tok-2", &user), Outcome::kAllowed);
  EXPECT_EQ(user, "bearer");
  EXPECT_EQ(authenticator.Check("bearer tok-1"), Outcome::kAllowed);
  EXPECT_EQ(authenticator.Check("Bearer tok-3"), Outcome::kDenied);
  EXPECT_EQ(authenticator.Check("Bearer tok"), Outcome::kDenied);
  EXPECT_EQ(authenticator.Check(""), Outcome::kMissing);
  EXPECT_EQ(authenticator.Check("Digest username=alice"), Outcome::kMissing);

  WebAuthenticator open(nullptr);
  EXPECT_EQ(open.Check(""), Outcome::kAllowed);
}

TEST(WebAuthenticator, ConstantTimeEquals) {
  EXPECT_TRUE(ConstantTimeEquals("", ""));
  EXPECT_TRUE(ConstantTimeEquals("abc", "abc"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "abd"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "abcd"));
  EXPECT_FALSE(ConstantTimeEquals("", "a"));
}

// --- A real HttpServer with a web configuration ---

constexpr char kAlicePassword[] = "correct horse battery";

// Certificates for the whole suite, made once: a CA for the server certificate
// (SAN IP:127.0.0.1), a CA for client certificates with one client certificate, and an
// unrelated CA with a client certificate of its own.
class WebSecurityTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = MakeTempDir();
    error_.clear();
    if (dir_.empty()) {
      error_ = "cannot create a temporary directory";
      return;
    }
    const std::string ec = "-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 ";
    const std::vector<std::string> commands = {
        "openssl req -x509 " + ec + "-keyout ca.key -out ca.crt -subj /CN=alertd-test-ca",
        "openssl req -x509 " + ec +
            "-keyout client-ca.key -out client-ca.crt -subj /CN=alertd-test-client-ca",
        "openssl req -x509 " + ec +
            "-keyout other-ca.key -out other-ca.crt -subj /CN=alertd-test-other-ca",
        "openssl req -x509 " + ec +
            "-keyout server.key -out server.crt -subj /CN=127.0.0.1 -CA ca.crt -CAkey ca.key "
            "-addext subjectAltName=IP:127.0.0.1 -addext basicConstraints=critical,CA:FALSE "
            "-addext extendedKeyUsage=serverAuth",
        "openssl req -x509 " + ec +
            "-keyout client.key -out client.crt -subj /CN=client -CA client-ca.crt "
            "-CAkey client-ca.key -addext basicConstraints=critical,CA:FALSE "
            "-addext extendedKeyUsage=clientAuth",
        "openssl req -x509 " + ec +
            "-keyout other-client.key -out other-client.crt -subj /CN=other-client "
            "-CA other-ca.crt -CAkey other-ca.key -addext basicConstraints=critical,CA:FALSE "
            "-addext extendedKeyUsage=clientAuth",
    };
    for (const std::string& command : commands) {
      std::string full = "cd '" + dir_ + "' && " + command + " > openssl.log 2>&1";
      if (std::system(full.c_str()) != 0) {
        error_ = "failed: " + command + " (see " + dir_ + "/openssl.log)";
        return;
      }
    }
    alice_hash_ = BcryptHash(kAlicePassword);
    if (alice_hash_.empty()) {
      error_ = "crypt_gensalt_rn or crypt_rn failed to make a bcrypt hash";
    }
  }

  static void TearDownTestSuite() {
    // The directory stays for inspection when making the certificates failed.
    if (error_.empty()) {
      fs::remove_all(dir_);
    }
  }

  void SetUp() override { ASSERT_TRUE(error_.empty()) << error_; }

  void TearDown() override { server_.reset(); }

  static std::string Path(const std::string& name) { return dir_ + "/" + name; }

  // Writes `yaml` next to the certificates, so it can name them by relative path, and loads
  // it with LoadWebConfigFile.
  static std::shared_ptr<const WebServerSecurity> Load(const std::string& yaml) {
    const ::testing::TestInfo* test = ::testing::UnitTest::GetInstance()->current_test_info();
    std::string path = Path(std::string(test->name()) + ".yml");
    WriteFile(path, yaml);
    Result<WebServerSecurity> loaded = LoadWebConfigFile(path);
    EXPECT_TRUE(loaded.ok()) << loaded.error().message();
    if (!loaded.ok()) {
      return nullptr;
    }
    return std::make_shared<const WebServerSecurity>(std::move(*loaded));
  }

  static std::string AliceYaml() { return "basic_auth_users:\n  alice: " + alice_hash_ + "\n"; }

  static std::string TlsYaml(const std::string& extra = "") {
    return "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n" + extra;
  }

  // Starts a server on 127.0.0.1 with a free port, GET /ok and GET /hook, which is
  // registered with own_authentication.
  void Start(std::shared_ptr<const WebServerSecurity> security) {
    HttpServerOptions options;
    options.threads = 1;
    options.security = std::move(security);
    https_ = options.security != nullptr && options.security->tls.has_value();
    auto created = HttpServer::Create("127.0.0.1:0", options);
    ASSERT_TRUE(created.ok()) << created.error().message();
    server_ = std::move(created).value();
    server_->Handle("GET", "/ok", [](const HttpServerRequest&) {
      return HttpServerResponse::Text(200, "ok\n");
    });
    HttpRouteOptions own;
    own.own_authentication = true;
    server_->Handle(
        "GET",
        "/hook",
        [](const HttpServerRequest&) { return HttpServerResponse::Text(200, "hook\n"); },
        own);
    Status started = server_->Start();
    ASSERT_TRUE(started.ok()) << started.error().message();
  }

  std::string Url(const std::string& path, bool https) const {
    return std::string(https ? "https" : "http") +
           "://127.0.0.1:" + std::to_string(server_->port()) + path;
  }

  std::string Url(const std::string& path) const { return Url(path, https_); }

  // Options of a client that trusts the server's CA.
  static ClientOptions Trusting() {
    ClientOptions options;
    options.ca_file = Path("ca.crt");
    return options;
  }

  static ClientOptions Alice(std::string password = kAlicePassword) {
    ClientOptions options;
    options.user = "alice";
    options.password = std::move(password);
    return options;
  }

  static inline std::string dir_;
  static inline std::string error_;  // why the certificates or the hash could not be made
  static inline std::string alice_hash_;
  std::unique_ptr<HttpServer> server_;
  bool https_ = false;
};

// --- Basic auth ---

TEST_F(WebSecurityTest, BasicAuthCorrectPassword) {
  Start(Load(AliceYaml()));
  Reply reply = Get(Url("/ok"), Alice());
  ASSERT_EQ(reply.code, CURLE_OK) << reply.error;
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(reply.body, "ok\n");
}

TEST_F(WebSecurityTest, BasicAuthWrongPassword) {
  Start(Load(AliceYaml()));
  Reply reply = Get(Url("/ok"), Alice("correct horse battery!"));
  ASSERT_EQ(reply.code, CURLE_OK) << reply.error;
  EXPECT_EQ(reply.status, 401);
  EXPECT_EQ(reply.Header("www-authenticate"), "Basic");
  EXPECT_EQ(reply.body, "Unauthorized\n");
}

TEST_F(WebSecurityTest, BasicAuthMissingHeader) {
  Start(Load(AliceYaml()));
  Reply reply = Get(Url("/ok"));
  ASSERT_EQ(reply.code, CURLE_OK) << reply.error;
  EXPECT_EQ(reply.status, 401);
  EXPECT_EQ(reply.Header("www-authenticate"), "Basic");
}

TEST_F(WebSecurityTest, BasicAuthUnknownUser) {
  Start(Load(AliceYaml()));
  ClientOptions mallory;
  mallory.user = "mallory";
  mallory.password = kAlicePassword;
  Reply reply = Get(Url("/ok"), mallory);
  ASSERT_EQ(reply.code, CURLE_OK) << reply.error;
  EXPECT_EQ(reply.status, 401);
  EXPECT_EQ(reply.Header("www-authenticate"), "Basic");
}

TEST_F(WebSecurityTest, BasicAuthCoversUnroutedPaths) {
  Start(Load(AliceYaml()));
  // Without credentials even a missing page is 401, so paths cannot be probed.
  Reply anonymous = Get(Url("/missing"));
  ASSERT_EQ(anonymous.code, CURLE_OK) << anonymous.error;
  EXPECT_EQ(anonymous.status, 401);
  Reply alice = Get(Url("/missing"), Alice());
  ASSERT_EQ(alice.code, CURLE_OK) << alice.error;
  EXPECT_EQ(alice.status, 404);
}

TEST_F(WebSecurityTest, OwnAuthenticationSkipsCheck) {
  Start(Load(AliceYaml()));
  Reply hook = Get(Url("/hook"));
  ASSERT_EQ(hook.code, CURLE_OK) << hook.error;
  EXPECT_EQ(hook.status, 200);
  EXPECT_EQ(hook.body, "hook\n");
  Reply wrong = Get(Url("/hook"), Alice("wrong"));
  ASSERT_EQ(wrong.code, CURLE_OK) << wrong.error;
  EXPECT_EQ(wrong.status, 200);
  // The skip is for that route only.
  Reply ok = Get(Url("/ok"));
  ASSERT_EQ(ok.code, CURLE_OK) << ok.error;
  EXPECT_EQ(ok.status, 401);
}

// --- Bearer tokens ---

TEST_F(WebSecurityTest, BearerTokenFromList) {
  Start(Load("bearer_tokens: [first-token, second-token]\n"));
  ClientOptions right;
  right.authorization = "Bearer second-token";
  Reply accepted = Get(Url("/ok"), right);
  ASSERT_EQ(accepted.code, CURLE_OK) << accepted.error;
  EXPECT_EQ(accepted.status, 200);

  ClientOptions wrong;
  wrong.authorization = "Bearer third-token";
  Reply rejected = Get(Url("/ok"), wrong);
  ASSERT_EQ(rejected.code, CURLE_OK) << rejected.error;
  EXPECT_EQ(rejected.status, 401);
  EXPECT_EQ(rejected.Header("www-authenticate"), "Basic");
}

TEST_F(WebSecurityTest, BearerTokenFromFile) {
  WriteFile(Path("token.txt"), "file-token-value\n");
  Start(Load("bearer_token_files: [token.txt]\n"));
  ClientOptions right;
  right.authorization = "Bearer file-token-value";
  Reply accepted = Get(Url("/ok"), right);
  ASSERT_EQ(accepted.code, CURLE_OK) << accepted.error;
  EXPECT_EQ(accepted.status, 200);

  ClientOptions wrong;
  wrong.authorization = "Bearer other-token";
  Reply rejected = Get(Url("/ok"), wrong);
  ASSERT_EQ(rejected.code, CURLE_OK) << rejected.error;
  EXPECT_EQ(rejected.status, 401);
}

TEST_F(WebSecurityTest, BasicAndBearerTogether) {
  Start(Load(AliceYaml() + "bearer_tokens: [shared-token]\n"));
  ClientOptions bearer;
  bearer.authorization = "Bearer shared-token";
  EXPECT_EQ(Get(Url("/ok"), bearer).status, 200);
  EXPECT_EQ(Get(Url("/ok"), Alice()).status, 200);
  // A bearer token is not accepted as a basic auth password.
  EXPECT_EQ(Get(Url("/ok"), Alice("shared-token")).status, 401);
}

// --- TLS ---

TEST_F(WebSecurityTest, TlsServesHttpsOnly) {
  Start(Load(TlsYaml()));
  Reply https = Get(Url("/ok"), Trusting());
  ASSERT_EQ(https.code, CURLE_OK) << https.error;
  EXPECT_EQ(https.status, 200);
  EXPECT_EQ(https.body, "ok\n");

  Reply plain = Get(Url("/ok", false));
  EXPECT_NE(plain.code, CURLE_OK);
  EXPECT_NE(plain.status, 200);

  // Without the test CA the server certificate does not verify.
  Reply untrusting = Get(Url("/ok"));
  EXPECT_EQ(untrusting.code, CURLE_PEER_FAILED_VERIFICATION) << untrusting.error;
}

TEST_F(WebSecurityTest, TlsWithBasicAuth) {
  Start(Load(TlsYaml() + AliceYaml()));
  ClientOptions alice = Alice();
  alice.ca_file = Path("ca.crt");
  Reply accepted = Get(Url("/ok"), alice);
  ASSERT_EQ(accepted.code, CURLE_OK) << accepted.error;
  EXPECT_EQ(accepted.status, 200);
  Reply anonymous = Get(Url("/ok"), Trusting());
  ASSERT_EQ(anonymous.code, CURLE_OK) << anonymous.error;
  EXPECT_EQ(anonymous.status, 401);
}

TEST_F(WebSecurityTest, TlsRequiresClientCert) {
  Start(Load(TlsYaml(
      "  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: client-ca.crt\n")));
  Reply without = Get(Url("/ok"), Trusting());
  EXPECT_NE(without.code, CURLE_OK);
  EXPECT_THAT(without.error, HasSubstr("alert certificate required"));

  ClientOptions signed_by_client_ca = Trusting();
  signed_by_client_ca.cert_file = Path("client.crt");
  signed_by_client_ca.key_file = Path("client.key");
  Reply accepted = Get(Url("/ok"), signed_by_client_ca);
  ASSERT_EQ(accepted.code, CURLE_OK) << accepted.error;
  EXPECT_EQ(accepted.status, 200);

  ClientOptions signed_by_other_ca = Trusting();
  signed_by_other_ca.cert_file = Path("other-client.crt");
  signed_by_other_ca.key_file = Path("other-client.key");
  Reply rejected = Get(Url("/ok"), signed_by_other_ca);
  EXPECT_NE(rejected.code, CURLE_OK);
  EXPECT_THAT(rejected.error, HasSubstr("alert unknown ca"));
}

TEST_F(WebSecurityTest, TlsVerifyClientCertIfGiven) {
  Start(Load(
      TlsYaml("  client_auth_type: VerifyClientCertIfGiven\n  client_ca_file: client-ca.crt\n")));
  Reply without = Get(Url("/ok"), Trusting());
  ASSERT_EQ(without.code, CURLE_OK) << without.error;
  EXPECT_EQ(without.status, 200);

  ClientOptions signed_by_other_ca = Trusting();
  signed_by_other_ca.cert_file = Path("other-client.crt");
  signed_by_other_ca.key_file = Path("other-client.key");
  Reply rejected = Get(Url("/ok"), signed_by_other_ca);
  EXPECT_NE(rejected.code, CURLE_OK);
  EXPECT_THAT(rejected.error, HasSubstr("alert unknown ca"));
}

TEST_F(WebSecurityTest, TlsRequireAnyClientCert) {
  Start(Load(TlsYaml("  client_auth_type: RequireAnyClientCert\n")));
  Reply without = Get(Url("/ok"), Trusting());
  EXPECT_NE(without.code, CURLE_OK);
  EXPECT_THAT(without.error, HasSubstr("alert certificate required"));

  // Any certificate is accepted, also one no configured CA signed.
  ClientOptions signed_by_other_ca = Trusting();
  signed_by_other_ca.cert_file = Path("other-client.crt");
  signed_by_other_ca.key_file = Path("other-client.key");
  Reply accepted = Get(Url("/ok"), signed_by_other_ca);
  ASSERT_EQ(accepted.code, CURLE_OK) << accepted.error;
  EXPECT_EQ(accepted.status, 200);
}

TEST_F(WebSecurityTest, TlsMinVersion13RejectsTls12) {
  ClientOptions tls12 = Trusting();
  tls12.max_tls12 = true;

  // The default minimum is TLS 1.2, so this client works against a default server.
  Start(Load(TlsYaml()));
  Reply accepted = Get(Url("/ok"), tls12);
  ASSERT_EQ(accepted.code, CURLE_OK) << accepted.error;
  EXPECT_EQ(accepted.status, 200);
  server_.reset();

  Start(Load(TlsYaml("  min_version: TLS13\n")));
  Reply rejected = Get(Url("/ok"), tls12);
  EXPECT_EQ(rejected.code, CURLE_SSL_CONNECT_ERROR) << rejected.error;
  Reply tls13 = Get(Url("/ok"), Trusting());
  ASSERT_EQ(tls13.code, CURLE_OK) << tls13.error;
  EXPECT_EQ(tls13.status, 200);
}

TEST_F(WebSecurityTest, TlsCipherSuitesApplyToTls12) {
  Start(
      Load(TlsYaml("  max_version: TLS12\n"
                   "  cipher_suites: [TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256]\n")));
  ClientOptions listed = Trusting();
  listed.cipher_list = "ECDHE-ECDSA-AES128-GCM-SHA256";
  Reply accepted = Get(Url("/ok"), listed);
  ASSERT_EQ(accepted.code, CURLE_OK) << accepted.error;
  EXPECT_EQ(accepted.status, 200);

  ClientOptions unlisted = Trusting();
  unlisted.cipher_list = "ECDHE-ECDSA-AES256-GCM-SHA384";
  Reply rejected = Get(Url("/ok"), unlisted);
  EXPECT_EQ(rejected.code, CURLE_SSL_CONNECT_ERROR) << rejected.error;
}

TEST_F(WebSecurityTest, TlsCurvePreferences) {
  Start(Load(TlsYaml("  curve_preferences: [CurveP384]\n")));
  ClientOptions p384 = Trusting();
  p384.curves = "P-384";
  Reply accepted = Get(Url("/ok"), p384);
  ASSERT_EQ(accepted.code, CURLE_OK) << accepted.error;
  EXPECT_EQ(accepted.status, 200);

  ClientOptions p256 = Trusting();
  p256.curves = "P-256";
  Reply rejected = Get(Url("/ok"), p256);
  EXPECT_EQ(rejected.code, CURLE_SSL_CONNECT_ERROR) << rejected.error;
}

TEST_F(WebSecurityTest, CreateRejectsBadTlsFiles) {
  WriteFile(Path("garbage.crt"), "not a certificate\n");

  struct Case {
    std::string yaml;
    std::string message;
  };

  const std::vector<Case> cases = {
      {"tls_server_config:\n  cert_file: absent.crt\n  key_file: server.key\n",
       "cannot load cert_file \"" + Path("absent.crt") + "\""},
      {"tls_server_config:\n  cert_file: garbage.crt\n  key_file: server.key\n",
       "cannot load cert_file \"" + Path("garbage.crt") + "\""},
      {"tls_server_config:\n  cert_file: server.crt\n  key_file: garbage.crt\n",
       "cannot load key_file \"" + Path("garbage.crt") + "\""},
      {"tls_server_config:\n  cert_file: server.crt\n  key_file: client.key\n",
       "the private key in key_file \"" + Path("client.key") +
           "\" does not match the certificate in cert_file \"" + Path("server.crt") + "\""},
      {TlsYaml("  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: garbage.crt\n"),
       "cannot load client_ca_file \"" + Path("garbage.crt") + "\""},
  };
  for (const Case& item : cases) {
    SCOPED_TRACE(item.yaml);
    std::shared_ptr<const WebServerSecurity> security = Load(item.yaml);
    ASSERT_NE(security, nullptr);
    HttpServerOptions options;
    options.security = security;
    auto created = HttpServer::Create("127.0.0.1:0", options);
    ASSERT_FALSE(created.ok());
    EXPECT_THAT(created.error().message(), HasSubstr(security->file + ": "));
    EXPECT_THAT(created.error().message(), HasSubstr(item.message));
  }
}

// --- Response headers ---

TEST_F(WebSecurityTest, ConfiguredHeadersAddedToResponses) {
  Start(Load(AliceYaml() + "http_server_config:\n"
                           "  headers:\n"
                           "    X-Frame-Options: deny\n"
                           "    Content-Security-Policy: default-src 'self'\n"
                           "    Strict-Transport-Security: max-age=31536000\n"));

  struct Case {
    std::string path;
    ClientOptions client;
    long status;
  };

  const std::vector<Case> cases = {
      {"/ok", Alice(), 200}, {"/ok", {}, 401}, {"/missing", Alice(), 404}, {"/hook", {}, 200}};
  for (const Case& item : cases) {
    SCOPED_TRACE(item.path + " " + std::to_string(item.status));
    Reply reply = Get(Url(item.path), item.client);
    ASSERT_EQ(reply.code, CURLE_OK) << reply.error;
    EXPECT_EQ(reply.status, item.status);
    EXPECT_EQ(reply.Header("x-frame-options"), "deny");
    EXPECT_EQ(reply.Header("content-security-policy"), "default-src 'self'");
    EXPECT_EQ(reply.Header("strict-transport-security"), "max-age=31536000");
  }
}

TEST_F(WebSecurityTest, NoHeadersWithoutConfig) {
  Start(nullptr);
  Reply reply = Get(Url("/ok"));
  ASSERT_EQ(reply.code, CURLE_OK) << reply.error;
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(reply.Header("x-frame-options"), "");
}

// --- UpdateSecurity ---

TEST_F(WebSecurityTest, UpdateAddsBasicAuth) {
  Start(nullptr);
  Reply before = Get(Url("/ok"));
  ASSERT_EQ(before.code, CURLE_OK) << before.error;
  EXPECT_EQ(before.status, 200);

  Status updated = server_->UpdateSecurity(Load(AliceYaml()));
  ASSERT_TRUE(updated.ok()) << updated.error().message();
  Reply anonymous = Get(Url("/ok"));
  ASSERT_EQ(anonymous.code, CURLE_OK) << anonymous.error;
  EXPECT_EQ(anonymous.status, 401);
  Reply alice = Get(Url("/ok"), Alice());
  ASSERT_EQ(alice.code, CURLE_OK) << alice.error;
  EXPECT_EQ(alice.status, 200);

  // And back: null settings remove authentication again.
  updated = server_->UpdateSecurity(nullptr);
  ASSERT_TRUE(updated.ok()) << updated.error().message();
  EXPECT_EQ(Get(Url("/ok")).status, 200);
}

TEST_F(WebSecurityTest, UpdateSwitchesToTls) {
  Start(nullptr);
  Status updated = server_->UpdateSecurity(Load(TlsYaml()));
  ASSERT_TRUE(updated.ok()) << updated.error().message();
  Reply https = Get(Url("/ok", true), Trusting());
  ASSERT_EQ(https.code, CURLE_OK) << https.error;
  EXPECT_EQ(https.status, 200);
  Reply plain = Get(Url("/ok", false));
  EXPECT_NE(plain.code, CURLE_OK);
}

TEST_F(WebSecurityTest, UpdateWithBadCertKeepsOld) {
  Start(Load(AliceYaml()));
  WriteFile(Path("broken.crt"), "-----BEGIN CERTIFICATE-----\nbroken\n-----END CERTIFICATE-----\n");
  std::shared_ptr<const WebServerSecurity> broken =
      Load("tls_server_config:\n  cert_file: broken.crt\n  key_file: server.key\n");
  ASSERT_NE(broken, nullptr);

  Status updated = server_->UpdateSecurity(broken);
  ASSERT_FALSE(updated.ok());
  EXPECT_EQ(updated.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_THAT(updated.error().message(),
              HasSubstr(broken->file + ": cannot load cert_file \"" + Path("broken.crt") + "\""));

  // Still plain HTTP with basic auth.
  Reply anonymous = Get(Url("/ok", false));
  ASSERT_EQ(anonymous.code, CURLE_OK) << anonymous.error;
  EXPECT_EQ(anonymous.status, 401);
  Reply alice = Get(Url("/ok", false), Alice());
  ASSERT_EQ(alice.code, CURLE_OK) << alice.error;
  EXPECT_EQ(alice.status, 200);
}

// --- Logs ---

TEST_F(WebSecurityTest, SecretsNotLogged) {
  const std::string token = "tok-7c1e0d-secret";
  Start(Load(AliceYaml() + "bearer_tokens: [" + token + "]\n"));
  const std::string wrong_password = "pw-9a4b2f-wrong";
  const std::string wrong_token = "tok-31f8aa-wrong";
  const std::string stranger = "user-5d02ce-unknown";

  WebLogCapture capture;
  ClientOptions wrong_basic = Alice(wrong_password);
  EXPECT_EQ(Get(Url("/ok"), wrong_basic).status, 401);
  ClientOptions unknown_user;
  unknown_user.user = stranger;
  unknown_user.password = wrong_password;
  EXPECT_EQ(Get(Url("/ok"), unknown_user).status, 401);
  ClientOptions wrong_bearer;
  wrong_bearer.authorization = "Bearer " + wrong_token;
  EXPECT_EQ(Get(Url("/ok"), wrong_bearer).status, 401);
  ClientOptions right_bearer;
  right_bearer.authorization = "Bearer " + token;
  EXPECT_EQ(Get(Url("/ok"), right_bearer).status, 200);
  EXPECT_EQ(Get(Url("/ok"), Alice()).status, 200);
  EXPECT_EQ(Get(Url("/ok")).status, 401);

  std::string logs = capture.Text();
  // The failures were logged, so the capture works.
  EXPECT_THAT(logs, HasSubstr("HTTP request unauthorized"));
  // The reason is quoted, so logfmt and JSON output keep both of its words.
  EXPECT_THAT(logs, HasSubstr("reason=\"invalid credentials\""));
  EXPECT_THAT(logs, HasSubstr("reason=\"missing credentials\""));
  for (const std::string& secret : {wrong_password,
                                    wrong_token,
                                    token,
                                    stranger,
                                    std::string(kAlicePassword),
                                    Base64("alice:" + wrong_password),
                                    Base64("alice:" + std::string(kAlicePassword)),
                                    alice_hash_}) {
    EXPECT_THAT(logs, Not(HasSubstr(secret))) << "secret: " << secret;
  }
}

}  // namespace
}  // namespace alertd
