#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "config/config.h"

namespace alertd::config {
namespace {

std::vector<std::string> ErrorStrings(const std::string& text) {
  std::vector<ConfigError> errors;
  Result<Config> config = ParseConfig(text, "alertd.yml", &errors);
  EXPECT_EQ(config.ok(), errors.empty());
  std::vector<std::string> out;
  for (const ConfigError& error : errors) {
    out.push_back(error.ToString());
  }
  return out;
}

Config MustParse(const std::string& text, const std::string& file = "alertd.yml") {
  std::vector<ConfigError> errors;
  Result<Config> config = ParseConfig(text, file, &errors);
  for (const ConfigError& error : errors) {
    ADD_FAILURE() << error.ToString();
  }
  return config.ok() ? *config : Config{};
}

TEST(WebhookReceiversConfig, ReadsEveryFieldOfAnAlertmanagerEndpoint) {
  Config config = MustParse(
      "webhook_receivers:\n"
      "  - name: am-eu\n"
      "    type: alertmanager\n"
      "    authorization:\n"
      "      credentials: s3cret\n"
      "    max_body_size: 2MiB\n"
      "    labels: {source: am-eu}\n"
      "    max_age: 12h\n");
  ASSERT_EQ(config.webhook_receivers.size(), 1u);
  const WebhookReceiverConfig& r = config.webhook_receivers[0];
  EXPECT_EQ(r.name, "am-eu");
  EXPECT_EQ(r.type, "alertmanager");
  EXPECT_EQ(r.bearer_token, "s3cret");
  EXPECT_EQ(r.max_body_size, 2u << 20);
  EXPECT_EQ(r.labels.Get("source"), "am-eu");
  EXPECT_EQ(r.max_age, std::chrono::hours(12));
  EXPECT_EQ(r.mark.line, 2);
  EXPECT_EQ(r.mark.column, 5);
  EXPECT_EQ(r.mark.file, "alertd.yml");
}

TEST(WebhookReceiversConfig, EmptyLabelValueRemovesTheLabel) {
  Config config = MustParse(
      "webhook_receivers:\n  - {name: g, type: grafana, labels: {instance: '', team: ops}}\n");
  ASSERT_EQ(config.webhook_receivers.size(), 1u);
  const WebhookReceiverConfig& r = config.webhook_receivers[0];
  EXPECT_EQ(r.labels, (Labels{{"team", "ops"}}));
  EXPECT_EQ(r.removed_labels, std::vector<std::string>{"instance"});
}

TEST(WebhookReceiversConfig, AppliesDefaults) {
  Config config = MustParse("webhook_receivers:\n  - {name: g, type: grafana}\n");
  ASSERT_EQ(config.webhook_receivers.size(), 1u);
  const WebhookReceiverConfig& r = config.webhook_receivers[0];
  EXPECT_EQ(r.max_body_size, 1u << 20);
  EXPECT_EQ(r.max_age, std::chrono::hours(24));
  EXPECT_EQ(r.hmac_header, "X-Hub-Signature-256");
  EXPECT_EQ(r.hmac_prefix, "sha256=");
  EXPECT_TRUE(r.bearer_token.empty());
}

TEST(WebhookReceiversConfig, ReadsBasicAuthAndHmac) {
  Config config = MustParse(
      "webhook_receivers:\n"
      "  - name: b\n"
      "    type: grafana\n"
      "    basic_auth: {username: u, password: p}\n"
      "  - name: h\n"
      "    type: alertmanager\n"
      "    hmac: {secret: k, header: X-Signature, prefix: ''}\n"
      "    max_body_size: 512KB\n");
  ASSERT_EQ(config.webhook_receivers.size(), 2u);
  EXPECT_EQ(config.webhook_receivers[0].basic_auth_username, "u");
  EXPECT_EQ(config.webhook_receivers[0].basic_auth_password, "p");
  EXPECT_EQ(config.webhook_receivers[1].hmac_secret, "k");
  EXPECT_EQ(config.webhook_receivers[1].hmac_header, "X-Signature");
  EXPECT_EQ(config.webhook_receivers[1].hmac_prefix, "");
  EXPECT_EQ(config.webhook_receivers[1].max_body_size, 512u << 10);
}

TEST(WebhookReceiversConfig, ReadsJsonTemplates) {
  Config config = MustParse(
      "webhook_receivers:\n"
      "  - name: uptime\n"
      "    type: json\n"
      "    json:\n"
      "      labels:\n"
      "        alertname: '{{ .check.name }}'\n"
      "        severity: critical\n"
      "      annotations:\n"
      "        summary: '{{ .message }}'\n"
      "      resolved: '{{ eq .status \"up\" }}'\n");
  ASSERT_EQ(config.webhook_receivers.size(), 1u);
  const WebhookReceiverConfig& r = config.webhook_receivers[0];
  EXPECT_EQ(r.label_templates.at("alertname"), "{{ .check.name }}");
  EXPECT_EQ(r.label_templates.at("severity"), "critical");
  EXPECT_EQ(r.annotation_templates.at("summary"), "{{ .message }}");
  EXPECT_EQ(r.resolved_template, "{{ eq .status \"up\" }}");
}

struct BadCase {
  std::string name;
  std::string text;
  std::vector<std::string> errors;
};

class WebhookReceiversBadInput : public ::testing::TestWithParam<BadCase> {};

TEST_P(WebhookReceiversBadInput, ReportsExactErrors) {
  EXPECT_EQ(ErrorStrings(GetParam().text), GetParam().errors);
}

const char kHead[] = "webhook_receivers:\n";

INSTANTIATE_TEST_SUITE_P(
    Cases,
    WebhookReceiversBadInput,
    ::testing::Values(
        BadCase{"NotAList",
                std::string(kHead) + "  name: x\n",
                {"alertd.yml:2:3: webhook_receivers must be a list of endpoints, got a mapping"}},
        BadCase{"EntryNotAMapping",
                std::string(kHead) + "  - am-eu\n",
                {"alertd.yml:2:5: webhook receiver must be a mapping, got a string"}},
        BadCase{"MissingName",
                std::string(kHead) + "  - type: json_x\n",
                {"alertd.yml:2:5: webhook receiver has no name: set name, which makes the "
                 "endpoint /api/v1/webhook/NAME",
                 "alertd.yml:2:11: webhook receiver: unknown type \"json_x\"; use alertmanager, "
                 "grafana or json"}},
        BadCase{"InvalidName",
                std::string(kHead) + "  - {name: 'a/b', type: grafana}\n",
                {"alertd.yml:2:12: invalid webhook receiver name \"a/b\": use only letters, "
                 "digits, '_' and '-', because the name is the last part of the URL path "
                 "/api/v1/webhook/NAME"}},
        BadCase{"DuplicateName",
                std::string(kHead) + "  - {name: a, type: grafana}\n  - {name: a, type: json_x}\n",
                {"alertd.yml:3:12: duplicate webhook receiver name \"a\": each endpoint needs its "
                 "own name",
                 "alertd.yml:3:21: webhook receiver \"a\": unknown type \"json_x\"; use "
                 "alertmanager, grafana or json"}},
        BadCase{"MissingType",
                std::string(kHead) + "  - name: a\n",
                {"alertd.yml:2:5: webhook receiver \"a\" has no type: set type to alertmanager, "
                 "grafana or json"}},
        BadCase{"UnknownField",
                std::string(kHead) + "  - {name: a, type: grafana, max_ag: 1h}\n",
                {"alertd.yml:2:30: unknown field \"max_ag\" in webhook receiver; did you mean "
                 "\"max_age\"?"}},
        BadCase{"TwoAuthentications",
                std::string(kHead) +
                    "  - name: a\n    type: grafana\n    authorization: {credentials: x}\n"
                    "    basic_auth: {username: u, password: p}\n    hmac: {secret: k}\n",
                {"alertd.yml:5:5: webhook receiver \"a\": set only one of authorization, "
                 "basic_auth and hmac, not both authorization and basic_auth",
                 "alertd.yml:6:5: webhook receiver \"a\": set only one of authorization, "
                 "basic_auth and hmac, not both authorization and hmac"}},
        BadCase{"CredentialsAndFile",
                std::string(kHead) + "  - name: a\n    type: grafana\n"
                                     "    authorization: {credentials: x, credentials_file: f}\n",
                {"alertd.yml:4:37: webhook receiver \"a\" authorization: set credentials or "
                 "credentials_file, not both"}},
        BadCase{"NoCredentials",
                std::string(kHead) + "  - name: a\n    type: grafana\n    authorization: {}\n",
                {"alertd.yml:4:5: webhook receiver \"a\" authorization: set credentials or "
                 "credentials_file"}},
        BadCase{"EmptyCredentials",
                std::string(kHead) +
                    "  - name: a\n    type: grafana\n    authorization: {credentials: ''}\n",
                {"alertd.yml:4:34: webhook receiver \"a\" authorization credentials is empty; "
                 "set a secret or remove authorization"}},
        BadCase{"NotBearer",
                std::string(kHead) + "  - name: a\n    type: grafana\n"
                                     "    authorization: {type: Basic, credentials: x}\n",
                {"alertd.yml:4:27: webhook receiver \"a\" authorization: type \"Basic\" is not "
                 "supported; only Bearer is, so remove type or set it to Bearer"}},
        BadCase{
            "BasicAuthWithoutUsername",
            std::string(kHead) + "  - name: a\n    type: grafana\n    basic_auth: {password: p}\n",
            {"alertd.yml:4:5: webhook receiver \"a\" basic_auth: set a username"}},
        BadCase{"BasicAuthUsernameWithColon",
                std::string(kHead) + "  - name: a\n    type: grafana\n"
                                     "    basic_auth: {username: 'a:b', password: p}\n",
                {"alertd.yml:4:28: webhook receiver \"a\" basic_auth: the username must not "
                 "contain ':', because HTTP basic authentication separates the username from "
                 "the password with it"}},
        BadCase{
            "BasicAuthWithoutPassword",
            std::string(kHead) + "  - name: a\n    type: grafana\n    basic_auth: {username: u}\n",
            {"alertd.yml:4:5: webhook receiver \"a\" basic_auth: set password or "
             "password_file"}},
        BadCase{"HmacBadHeader",
                std::string(kHead) + "  - name: a\n    type: grafana\n"
                                     "    hmac: {secret: k, header: 'X Sig'}\n",
                {"alertd.yml:4:31: webhook receiver \"a\" hmac: invalid header name \"X Sig\"; "
                 "use letters, digits and '-', for example X-Hub-Signature-256"}},
        BadCase{"HmacWithoutSecret",
                std::string(kHead) + "  - name: a\n    type: grafana\n    hmac: {header: X-S}\n",
                {"alertd.yml:4:5: webhook receiver \"a\" hmac: set secret or secret_file"}},
        BadCase{"BadByteSize",
                std::string(kHead) + "  - {name: a, type: grafana, max_body_size: 1MiBs}\n",
                {"alertd.yml:2:45: invalid byte size \"1MiBs\" in max_body_size: use a plain "
                 "number of bytes or a number with a unit such as 512KiB, 10MB or 1GiB (KB, MB "
                 "and GB are 1024 based like KiB, MiB and GiB)"}},
        BadCase{"ZeroByteSize",
                std::string(kHead) + "  - {name: a, type: grafana, max_body_size: 0}\n",
                {"alertd.yml:2:45: webhook receiver \"a\": max_body_size must be positive; "
                 "remove it for the default of 1MiB"}},
        BadCase{"ZeroMaxAge",
                std::string(kHead) + "  - {name: a, type: grafana, max_age: 0s}\n",
                {"alertd.yml:2:39: webhook receiver \"a\": max_age must be positive, got 0s; set "
                 "how long a firing alert lasts without an update, for example 24h"}},
        BadCase{"BadLabelName",
                std::string(kHead) + "  - {name: a, type: grafana, labels: {bad-name: x}}\n",
                {"alertd.yml:2:39: webhook receiver \"a\": invalid label name \"bad-name\" in "
                 "labels: label names must match [a-zA-Z_][a-zA-Z0-9_]*"}},
        BadCase{"EmptyAlertnameLabel",
                std::string(kHead) + "  - {name: a, type: grafana, labels: {alertname: ''}}\n",
                {"alertd.yml:2:39: webhook receiver \"a\": labels.alertname is empty, which "
                 "would remove every alert's name; set a name or remove the entry"}},
        BadCase{"JsonSectionOnOtherType",
                std::string(kHead) +
                    "  - name: a\n    type: grafana\n    json: {labels: {alertname: x}}\n",
                {"alertd.yml:4:5: webhook receiver \"a\": the json section applies only to type "
                 "json, not grafana; remove it"}},
        BadCase{"JsonWithoutSection",
                std::string(kHead) + "  - {name: a, type: json}\n",
                {"alertd.yml:2:5: webhook receiver \"a\" of type json has no json section: set "
                 "json.labels.alertname to a template over the request body, for example "
                 "'{{ .check.name }}'"}},
        BadCase{"JsonWithoutAlertname",
                std::string(kHead) + "  - name: a\n    type: json\n    json:\n"
                                     "      labels: {severity: x}\n",
                {"alertd.yml:5:7: webhook receiver \"a\": json.labels has no alertname; set it "
                 "to a template over the request body, for example alertname: "
                 "'{{ .check.name }}'"}},
        BadCase{"JsonTemplateParseError",
                std::string(kHead) + "  - name: a\n    type: json\n    json:\n"
                                     "      labels:\n        alertname: '{{ .check.name '\n",
                {"alertd.yml:6:36: webhook receiver \"a\": invalid template in "
                 "json.labels.alertname: template: json.labels.alertname:1: unclosed action"}},
        BadCase{"JsonResolvedTemplateParseError",
                std::string(kHead) + "  - name: a\n    type: json\n    json:\n"
                                     "      labels: {alertname: x}\n"
                                     "      resolved: '{{ if }}'\n",
                {"alertd.yml:6:24: webhook receiver \"a\": invalid template in json.resolved: "
                 "template: json.resolved:1: missing value for if"}},
        BadCase{"JsonBadAnnotationName",
                std::string(kHead) + "  - name: a\n    type: json\n    json:\n"
                                     "      labels: {alertname: x}\n"
                                     "      annotations: {'a b': x}\n",
                {"alertd.yml:6:21: webhook receiver \"a\": invalid annotation name \"a b\" in "
                 "json.annotations: names must match [a-zA-Z_][a-zA-Z0-9_]*"}},
        BadCase{"NoAuthenticationOnPublicAddress",
                "web:\n  listen_address: 0.0.0.0:9095\n" + std::string(kHead) +
                    "  - {name: open, type: alertmanager}\n",
                {"alertd.yml:4:5: webhook receiver \"open\" has no authentication while "
                 "web.listen_address \"0.0.0.0:9095\" is not a loopback address: set "
                 "authorization, basic_auth or hmac, or listen on 127.0.0.1"}},
        BadCase{"NoAuthenticationOnAllInterfaces",
                "web:\n  listen_address: :9095\n" + std::string(kHead) +
                    "  - {name: open, type: grafana}\n",
                {"alertd.yml:4:5: webhook receiver \"open\" has no authentication while "
                 "web.listen_address \":9095\" is not a loopback address: set authorization, "
                 "basic_auth or hmac, or listen on 127.0.0.1"}}),
    [](const ::testing::TestParamInfo<BadCase>& info) { return info.param.name; });

TEST(WebhookReceiversConfig, AllowsNoAuthenticationOnLoopbackAddresses) {
  for (const char* address : {"127.0.0.1:9095", "127.1.2.3:80", "localhost:9095", "[::1]:9095"}) {
    Config config = MustParse(std::string("web:\n  listen_address: '") + address + "'\n" + kHead +
                              "  - {name: open, type: grafana}\n");
    EXPECT_EQ(config.webhook_receivers.size(), 1u) << address;
  }
}

TEST(WebhookReceiversConfig, AllowsAuthenticatedEndpointsOnPublicAddresses) {
  Config config = MustParse("web:\n  listen_address: 0.0.0.0:9095\n" + std::string(kHead) +
                            "  - {name: a, type: grafana, hmac: {secret: k}}\n");
  EXPECT_EQ(config.webhook_receivers.size(), 1u);
}

class WebhookReceiversSecretFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::path(::testing::TempDir()) /
           ("webhook_receivers_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
  }

  void TearDown() override { std::filesystem::remove_all(dir_); }

  void Write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ / name) << text;
  }

  std::filesystem::path dir_;
};

TEST_F(WebhookReceiversSecretFiles, ReadsEachSecretFromItsFileRelativeToTheConfig) {
  Write("token", "t0ken\n");
  Write("password", " pw \n");
  Write("key", "hmac-key");
  Config config = MustParse(
      "webhook_receivers:\n"
      "  - {name: a, type: grafana, authorization: {credentials_file: token}}\n"
      "  - {name: b, type: grafana, basic_auth: {username: u, password_file: password}}\n"
      "  - {name: c, type: grafana, hmac: {secret_file: key}}\n",
      (dir_ / "alertd.yml").string());
  ASSERT_EQ(config.webhook_receivers.size(), 3u);
  EXPECT_EQ(config.webhook_receivers[0].bearer_token, "t0ken");
  EXPECT_EQ(config.webhook_receivers[1].basic_auth_password, "pw");
  EXPECT_EQ(config.webhook_receivers[2].hmac_secret, "hmac-key");
}

TEST_F(WebhookReceiversSecretFiles, ReportsAMissingSecretFileAndDropsTheEndpoint) {
  std::string file = (dir_ / "alertd.yml").string();
  std::vector<ConfigError> errors;
  Result<Config> config =
      ParseConfig("webhook_receivers:\n  - {name: a, type: grafana, hmac: {secret_file: absent}}\n",
                  file,
                  &errors);
  EXPECT_FALSE(config.ok());
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].ToString(),
            file + ":2:50: cannot read secret_file \"" + (dir_ / "absent").string() +
                "\": No such file or directory");
}

}  // namespace
}  // namespace alertd::config
