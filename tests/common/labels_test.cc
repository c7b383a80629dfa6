#include "common/labels.h"

#include <gtest/gtest.h>

#include "common/matcher.h"

namespace alertd {
namespace {

TEST(LabelsTest, SortsAndDropsEmptyValues) {
  Labels labels{{"b", "2"}, {"a", "1"}, {"c", ""}};
  ASSERT_EQ(labels.size(), 2u);
  EXPECT_EQ(labels.items()[0].name, "a");
  EXPECT_EQ(labels.items()[1].name, "b");
  EXPECT_FALSE(labels.Has("c"));
}

TEST(LabelsTest, FingerprintMatchesAlertmanager) {
  // model.LabelSet{"alertname": "TargetDown"}.Fingerprint() in Go is fnv64a over
  // "alertname\xffTargetDown\xff".
  Labels labels{{"alertname", "TargetDown"}};
  uint64_t h = 14695981039346656037ULL;
  for (unsigned char c : std::string("alertname\xffTargetDown\xff")) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  EXPECT_EQ(labels.Hash(), h);
  EXPECT_EQ(labels.Fingerprint().size(), 16u);
}

TEST(LabelsTest, ToStringPutsNameFirst) {
  Labels labels{{"__name__", "up"}, {"job", "a\"b"}};
  EXPECT_EQ(labels.ToString(), "up{job=\"a\\\"b\"}");
}

TEST(LabelsTest, ValidatesNames) {
  EXPECT_TRUE(IsValidLabelName("instance"));
  EXPECT_FALSE(IsValidLabelName("ins-tance"));
  EXPECT_FALSE(IsValidLabelName("1abc"));
  EXPECT_TRUE(IsValidMetricName("job:rate5m"));
  EXPECT_FALSE(IsValidLabelName("job:rate5m"));
}

TEST(LabelMatcherTest, RegexIsFullyAnchored) {
  auto m = LabelMatcher::Create(MatchType::kRegexMatch, "status", "5..");
  ASSERT_TRUE(m.ok());
  EXPECT_TRUE(m->Matches("500"));
  EXPECT_FALSE(m->Matches("5000"));
  EXPECT_FALSE(m->Matches("1500"));
}

TEST(LabelMatcherTest, InvalidRegexNamesExpression) {
  auto m = LabelMatcher::Create(MatchType::kRegexMatch, "status", "5(");
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.error().message().rfind("invalid regular expression \"5(\": ", 0), 0u);
}

}  // namespace
}  // namespace alertd
