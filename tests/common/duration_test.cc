#include "common/duration.h"

#include <gtest/gtest.h>

namespace alertd {
namespace {

TEST(DurationTest, ParsesCombinedUnits) {
  auto d = ParseDuration("1h30m");
  ASSERT_TRUE(d.ok()) << d.error().message();
  EXPECT_EQ(d->count(), 90 * 60 * 1000);
}

TEST(DurationTest, ParsesMilliseconds) {
  auto d = ParseDuration("500ms");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->count(), 500);
}

TEST(DurationTest, ParsesZero) {
  auto d = ParseDuration("0");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->count(), 0);
}

TEST(DurationTest, RejectsUnitsOutOfOrder) {
  auto d = ParseDuration("30m1h");
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.error().message(),
            "invalid duration \"30m1h\": use a number followed by a unit (ms, s, m, h, d, w, y), "
            "for example 30s or 1h30m");
}

TEST(DurationTest, RejectsMissingUnit) {
  auto d = ParseDuration("5");
  ASSERT_FALSE(d.ok());
  EXPECT_NE(d.error().message().find("\"5\""), std::string::npos);
}

TEST(DurationTest, RejectsEmpty) {
  auto d = ParseDuration("");
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.error().message(), "empty duration: use a number followed by a unit, for example 30s");
}

TEST(DurationTest, FormatsLikePrometheus) {
  EXPECT_EQ(FormatDuration(Duration(0)), "0s");
  EXPECT_EQ(FormatDuration(Duration(90 * 60 * 1000)), "1h30m");
  EXPECT_EQ(FormatDuration(Duration(1500)), "1s500ms");
  EXPECT_EQ(FormatDuration(Duration(86400000LL * 8)), "1w1d");
}

}  // namespace
}  // namespace alertd
