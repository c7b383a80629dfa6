// The `query` section of alertd.yml.
#include <gtest/gtest.h>

#include "config/config.h"

namespace alertd::config {
namespace {

std::vector<std::string> Errors(const std::string& text) {
  std::vector<ConfigError> errors;
  Result<Config> config = ParseConfig(text, "alertd.yml", &errors);
  EXPECT_EQ(config.ok(), errors.empty());
  std::vector<std::string> out;
  for (const ConfigError& error : errors) {
    out.push_back(error.ToString());
  }
  return out;
}

TEST(QueryConfigTest, DefaultsMatchPrometheusFlags) {
  std::vector<ConfigError> errors;
  Result<Config> config = ParseConfig("", "alertd.yml", &errors);
  ASSERT_TRUE(config.ok());
  EXPECT_EQ(config->query.max_samples, 50'000'000);
  EXPECT_EQ(config->query.timeout, Duration(120000));
}

TEST(QueryConfigTest, ReadsLimits) {
  std::vector<ConfigError> errors;
  Result<Config> config =
      ParseConfig("query:\n  max_samples: 1000\n  timeout: 30s\n", "alertd.yml", &errors);
  ASSERT_TRUE(config.ok()) << (errors.empty() ? "" : errors[0].ToString());
  EXPECT_EQ(config->query.max_samples, 1000);
  EXPECT_EQ(config->query.timeout, Duration(30000));
}

TEST(QueryConfigTest, ReportsBadValues) {
  struct Case {
    std::string text;
    std::string error;
  };

  const std::vector<Case> cases = {
      {"query:\n  max_samples: 0\n",
       "alertd.yml:2:16: query max_samples must be positive, got 0; set it to the most samples "
       "one query may load"},
      {"query:\n  timeout: 0s\n",
       "alertd.yml:2:12: query timeout must be positive, got 0s; set it to how long one query "
       "may run, for example 2m"},
      {"query:\n  max_samples: lots\n",
       "alertd.yml:2:16: invalid max_samples \"lots\": expected an integer"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(Errors(c.text), std::vector<std::string>{c.error}) << c.text;
  }
}

TEST(QueryConfigTest, RejectsUnknownField) {
  std::vector<std::string> errors = Errors("query:\n  max_sample: 10\n");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_NE(errors[0].find("alertd.yml:2:3: "), std::string::npos) << errors[0];
  EXPECT_NE(errors[0].find("max_sample"), std::string::npos) << errors[0];
}

}  // namespace
}  // namespace alertd::config
