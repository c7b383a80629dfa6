#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "config/config.h"
#include "notifiers/route.h"

namespace alertd::config {
namespace {

std::vector<std::string> Errors(const std::string& text) {
  std::vector<ConfigError> errors;
  (void)ParseConfig(text, "alertd.yml", &errors);
  std::vector<std::string> out;
  for (const ConfigError& error : errors) {
    out.push_back(error.ToString());
  }
  return out;
}

const char kTree[] = R"(receivers:
  - name: default
  - name: db
  - name: pager
  - name: web
route:
  receiver: default
  group_by: ['alertname']
  group_wait: 10s
  routes:
    - matchers: ['team = "db"', 'severity=~"warn|crit"']
      receiver: db
      continue: true
      group_by: ['...']
      routes:
        - match: {severity: crit}
          receiver: pager
          repeat_interval: 1h
    - matchers: ['{team=~"db|web", env!="dev"}']
      receiver: web
    - match_re: {service: 'api.*'}
      group_wait: 1m
)";

TEST(RouteConfigTest, ChildrenInheritUnsetOptions) {
  Result<Config> config = ParseConfig(kTree, "alertd.yml", nullptr);
  ASSERT_TRUE(config.ok()) << config.error().message();
  const Route& root = *config->route;
  ASSERT_EQ(root.routes.size(), 3u);
  const Route& db = root.routes[0];
  EXPECT_EQ(db.receiver, "db");
  EXPECT_TRUE(db.continue_matching);
  EXPECT_EQ(db.group_by, std::vector<std::string>{"..."});
  EXPECT_EQ(db.group_wait, std::chrono::seconds(10));
  const Route& pager = db.routes.at(0);
  EXPECT_EQ(pager.group_by, std::vector<std::string>{"..."});
  EXPECT_EQ(pager.repeat_interval, std::chrono::hours(1));
  EXPECT_EQ(pager.group_interval, root.group_interval);
  const Route& api = root.routes[2];
  EXPECT_EQ(api.receiver, "default");
  EXPECT_EQ(api.group_by, std::vector<std::string>{"alertname"});
  EXPECT_EQ(api.group_wait, std::chrono::minutes(1));
  EXPECT_FALSE(api.continue_matching);
}

TEST(RouteConfigTest, TreeRoutesAsAlertmanager) {
  Result<Config> config = ParseConfig(kTree, "alertd.yml", nullptr);
  ASSERT_TRUE(config.ok()) << config.error().message();
  alertd::Route tree(*config->route);

  struct Case {
    Labels labels;
    std::string receivers;
  };

  for (const Case& c : std::vector<Case>{
           {Labels{}, "default"},
           {Labels{{"team", "db"}, {"severity", "warn"}}, "db,web"},
           {Labels{{"team", "db"}, {"severity", "crit"}, {"env", "dev"}}, "pager"},
           {Labels{{"team", "db"}, {"severity", "info"}}, "web"},
           {Labels{{"service", "apiserver"}}, "default"},
           {Labels{{"service", "xapi"}}, "default"},
       }) {
    std::string got;
    for (const alertd::Route* route : tree.Match(c.labels)) {
      got += (got.empty() ? "" : ",") + route->receiver();
    }
    EXPECT_EQ(got, c.receivers) << c.labels.ToString();
  }
  EXPECT_EQ(tree.routes()[0]->Key(), "{}/{severity=~\"warn|crit\",team=\"db\"}");
  EXPECT_EQ(tree.routes()[1]->Key(), "{}/{env!=\"dev\",team=~\"db|web\"}");
  EXPECT_EQ(tree.routes()[2]->ID(), "{}/{service=~\"api.*\"}/2");
}

TEST(RouteConfigTest, ReportsRouteErrorsWithPositions) {
  std::string text =
      "receivers:\n  - name: r\nroute:\n  receiver: r\n  match: {a: b}\n  routes:\n"
      "    - receiver: nope\n"
      "    - match_re: {x: '('}\n"
      "    - matchers: ['a=\"b', 'c']\n"
      "    - group_by: [a, a]\n"
      "    - group_by: ['...', b]\n";
  EXPECT_EQ(Errors(text),
            (std::vector<std::string>{
                "alertd.yml:5:3: the root route must not have matchers; move match to a route "
                "under routes",
                "alertd.yml:7:17: route receiver \"nope\" is not defined; add it under receivers "
                "or use one of: \"r\"",
                "alertd.yml:8:21: invalid regular expression in match_re for \"x\": "
                "invalid regular expression \"(\": missing ): (?s:()",
                "alertd.yml:9:18: invalid matcher \"a=\"b\": matcher value contains unescaped "
                "double quote: \"b",
                "alertd.yml:9:26: invalid matcher \"c\": bad matcher format: c",
                "alertd.yml:10:21: duplicate label \"a\" in group_by",
                "alertd.yml:11:17: group_by cannot mix \"...\" (all labels) with label names; use "
                "one or the other",
            }));
}

TEST(ParseMatchersTest, ParsesAlertmanagerSyntax) {
  struct Case {
    std::string text;
    std::string parsed;  // MatchersString, or the error message
  };

  for (const Case& c : std::vector<Case>{
           {"alertname = \"Watchdog\"", "{alertname=\"Watchdog\"}"},
           {"{a=b, c!~\"d,e\"}", "{a=\"b\",c!~\"d,e\"}"},
           {"a=\"x\\\"y\"", "{a=\"x\\\"y\"}"},
           {"a=", "{a=\"\"}"},
           {"a=b,", "{a=\"b\"}"},
           {"1a=b", "bad matcher format: 1a=b"},
           {"a=~\"(\"", "invalid regular expression \"(\": missing ): (?s:()"},
       }) {
    Result<std::vector<LabelMatcher>> parsed = ParseMatchers(c.text);
    EXPECT_EQ(parsed.ok() ? alertd::MatchersString(*parsed) : parsed.error().message(), c.parsed)
        << c.text;
  }
}

}  // namespace
}  // namespace alertd::config
