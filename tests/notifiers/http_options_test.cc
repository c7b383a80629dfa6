#include "notifiers/http_options.h"

#include <gtest/gtest.h>

namespace alertd {
namespace {

TEST(Base64EncodeTest, MatchesRfc4648Vectors) {
  EXPECT_EQ(Base64Encode(""), "");
  EXPECT_EQ(Base64Encode("f"), "Zg==");
  EXPECT_EQ(Base64Encode("fo"), "Zm8=");
  EXPECT_EQ(Base64Encode("foo"), "Zm9v");
  EXPECT_EQ(Base64Encode("foob"), "Zm9vYg==");
  EXPECT_EQ(Base64Encode("fooba"), "Zm9vYmE=");
  EXPECT_EQ(Base64Encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(Base64Encode("\xff\xfe"), "//4=");
}

TEST(AuthorizationHeaderTest, BasicAuthWinsOverCredentials) {
  config::HttpClientConfig http;
  http.basic_auth_username = "user";
  http.basic_auth_password = "pass";
  http.authorization_credentials = "token";
  auto header = AuthorizationHeader(http);
  ASSERT_TRUE(header.has_value());
  EXPECT_EQ(header->first, "Authorization");
  EXPECT_EQ(header->second, "Basic dXNlcjpwYXNz");
}

TEST(AuthorizationHeaderTest, CredentialsUseTheirType) {
  config::HttpClientConfig http;
  http.authorization_credentials = "token";
  auto header = AuthorizationHeader(http);
  ASSERT_TRUE(header.has_value());
  EXPECT_EQ(header->second, "Bearer token");
  http.authorization_type = "Token";
  EXPECT_EQ(AuthorizationHeader(http)->second, "Token token");
}

TEST(AuthorizationHeaderTest, NothingWithoutAuth) {
  EXPECT_FALSE(AuthorizationHeader(config::HttpClientConfig{}).has_value());
}

}  // namespace
}  // namespace alertd
