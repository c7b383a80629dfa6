// The `limits` section of alertd.yml and the byte sizes it and body_size_limit take.
#include <gtest/gtest.h>

#include "config/config.h"
#include "config/config_internal.h"

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

// Reads `value` (YAML text) as the byte size `key`, collecting messages.
std::optional<uint64_t> ReadSize(const std::string& value, std::vector<std::string>& messages) {
  YAML::Node root = YAML::Load("size: " + value);
  yaml::Entry entry{"size", YAML::Node(), root["size"]};
  return internal::ReadByteSize(entry, [&messages](yaml::Position, std::string message) {
    messages.push_back(std::move(message));
  });
}

TEST(ByteSizeTest, ReadsUnitsAsPrometheus) {
  struct Case {
    std::string text;
    uint64_t bytes;
  };

  const std::vector<Case> cases = {
      {"0", 0},
      {"1000", 1000},
      {"+12", 12},
      {"1B", 1},
      {"1KB", 1024},
      {"1KiB", 1024},
      {"10MB", 10ull << 20},
      {"10MiB", 10ull << 20},
      {"1GB", 1ull << 30},
      {"2GiB", 2ull << 30},
      {"1TB", 1ull << 40},
      {"1TiB", 1ull << 40},
      {"1PB", 1ull << 50},
      {"1PiB", 1ull << 50},
      {"1EB", 1ull << 60},
      {"7EiB", 7ull << 60},
      {"1.5MiB", 3ull << 19},
      {".5KiB", 512},
      {"1GiB512MiB", (1ull << 30) + (512ull << 20)},
      {"1.1B", 1},
  };
  for (const Case& c : cases) {
    std::vector<std::string> messages;
    std::optional<uint64_t> bytes = ReadSize(c.text, messages);
    EXPECT_TRUE(messages.empty()) << c.text << ": " << (messages.empty() ? "" : messages[0]);
    ASSERT_TRUE(bytes.has_value()) << c.text;
    EXPECT_EQ(*bytes, c.bytes) << c.text;
  }
}

TEST(ByteSizeTest, ReportsInvalidSizes) {
  const std::string example =
      ": use a plain number of bytes or a number with a unit such as 512KiB, 10MB or 1GiB (KB, "
      "MB and GB are 1024 based like KiB, MiB and GiB)";

  struct Case {
    std::string text;
    std::string message;
  };

  const std::vector<Case> cases = {
      {"1kb", "invalid byte size \"1kb\" in size" + example},
      {"1K", "invalid byte size \"1K\" in size" + example},
      {"'1 KB'", "invalid byte size \"1 KB\" in size" + example},
      {"1KiB1KB", "invalid byte size \"1KiB1KB\" in size" + example},
      {"1.5", "invalid byte size \"1.5\" in size" + example},
      {"MiB", "invalid byte size \"MiB\" in size" + example},
      {"''", "invalid byte size \"\" in size" + example},
      {"-1KB", "invalid byte size \"-1KB\" in size: it must not be negative; use 0 for no limit"},
      {"8EiB",
       "invalid byte size \"8EiB\" in size: it is larger than the maximum of 8EiB minus one "
       "byte"},
      {"9223372036854775808",
       "invalid byte size \"9223372036854775808\" in size: it is larger than the maximum of 8EiB "
       "minus one byte"},
      {"[1]", "size must be a byte size such as 1MiB, got a list"},
  };
  for (const Case& c : cases) {
    std::vector<std::string> messages;
    std::optional<uint64_t> bytes = ReadSize(c.text, messages);
    EXPECT_FALSE(bytes.has_value()) << c.text;
    EXPECT_EQ(messages, std::vector<std::string>{c.message}) << c.text;
  }
}

TEST(ByteSizeTest, NullIsAbsent) {
  std::vector<std::string> messages;
  EXPECT_FALSE(ReadSize("", messages).has_value());
  EXPECT_TRUE(messages.empty());
}

TEST(LimitsConfigTest, DefaultsApplyWithoutSection) {
  std::vector<ConfigError> errors;
  Result<Config> config = ParseConfig("", "alertd.yml", &errors);
  ASSERT_TRUE(config.ok());
  EXPECT_EQ(config->limits.max_line_length, 1u << 20);
  EXPECT_EQ(config->limits.max_rules, 0u);
  EXPECT_EQ(config->limits.max_template_output, 1u << 20);
  EXPECT_EQ(config->limits.max_request_body_size, 10u << 20);
}

TEST(LimitsConfigTest, ReadsByteSizesAndCounts) {
  std::vector<ConfigError> errors;
  Result<Config> config = ParseConfig(
      "limits:\n  max_line_length: 64KiB\n  max_rules: 500\n  max_template_output: 2MB\n"
      "  max_request_body_size: 4096\n",
      "alertd.yml",
      &errors);
  ASSERT_TRUE(config.ok()) << (errors.empty() ? "" : errors[0].ToString());
  EXPECT_EQ(config->limits.max_line_length, 64u << 10);
  EXPECT_EQ(config->limits.max_rules, 500u);
  EXPECT_EQ(config->limits.max_template_output, 2u << 20);
  EXPECT_EQ(config->limits.max_request_body_size, 4096u);
}

TEST(LimitsConfigTest, ReportsBadValues) {
  struct Case {
    std::string text;
    std::string error;
  };

  const std::vector<Case> cases = {
      {"limits:\n  max_line_length: 1 MiB\n",
       "alertd.yml:2:20: invalid byte size \"1 MiB\" in max_line_length: use a plain number of "
       "bytes or a number with a unit such as 512KiB, 10MB or 1GiB (KB, MB and GB are 1024 "
       "based like KiB, MiB and GiB)"},
      {"limits:\n  max_request_body_size: -5\n",
       "alertd.yml:2:26: invalid byte size \"-5\" in max_request_body_size: it must not be "
       "negative; use 0 for no limit"},
      {"limits:\n  max_line_length: -1\n",
       "alertd.yml:2:20: invalid byte size \"-1\" in max_line_length: it must not be negative; "
       "use 0 for no limit"},
      {"limits:\n  max_template_output: 2 MB\n",
       "alertd.yml:2:24: invalid byte size \"2 MB\" in max_template_output: use a plain number "
       "of bytes or a number with a unit such as 512KiB, 10MB or 1GiB (KB, MB and GB are 1024 "
       "based like KiB, MiB and GiB)"},
      {"limits:\n  max_template_output: [1]\n",
       "alertd.yml:2:24: max_template_output must be a byte size such as 1MiB, got a list"},
      {"limits:\n  max_rules: -1\n",
       "alertd.yml:2:14: limits max_rules must not be negative, got -1; use 0 for no limit"},
      {"limits:\n  max_rules: 1KiB\n",
       "alertd.yml:2:14: invalid max_rules \"1KiB\": expected an integer"},
      {"limits:\n  max_line: 10\n",
       "alertd.yml:2:3: unknown field \"max_line\" in limits; valid fields are: "
       "max_line_length, max_rules, max_template_output, max_request_body_size"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(Errors(c.text), std::vector<std::string>{c.error}) << c.text;
  }
}

}  // namespace
}  // namespace alertd::config
