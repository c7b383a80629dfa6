#include "notifiers/route.h"

#include <chrono>
#include <memory>

#include <gtest/gtest.h>

#include "notifiers/dispatcher.h"
#include "notifiers/fakes.h"
#include "notifiers/time_util.h"

namespace alertd {
namespace {

using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;

LabelMatcher Eq(std::string name, std::string value) {
  return *LabelMatcher::Create(MatchType::kEqual, std::move(name), std::move(value));
}

LabelMatcher Re(std::string name, std::string value) {
  return *LabelMatcher::Create(MatchType::kRegexMatch, std::move(name), std::move(value));
}

config::Route Node(std::string receiver, std::vector<LabelMatcher> matchers, bool cont = false) {
  config::Route route;
  route.receiver = std::move(receiver);
  route.matchers = std::move(matchers);
  route.continue_matching = cont;
  return route;
}

// root(default)
//   0 {team="db"} -> db, continue
//     0 {severity="page"} -> db-pager
//   1 {team=~"db|web"} -> web
//   2 {team="db"} -> never (1 matched first)
config::Route Tree() {
  config::Route root = Node("default", {});
  config::Route db = Node("db", {Eq("team", "db")}, true);
  db.routes.push_back(Node("db-pager", {Eq("severity", "page")}));
  root.routes.push_back(std::move(db));
  root.routes.push_back(Node("web", {Re("team", "db|web")}));
  root.routes.push_back(Node("never", {Eq("team", "db")}));
  return root;
}

std::string Receivers(const Route& tree, const Labels& labels) {
  std::string out;
  for (const Route* route : tree.Match(labels)) {
    out += (out.empty() ? "" : ",") + route->receiver();
  }
  return out;
}

TEST(RouteTest, MatchesDepthFirstHonouringContinue) {
  Route tree(Tree());

  struct Case {
    Labels labels;
    std::string receivers;
  };

  for (const Case& c : std::vector<Case>{
           {Labels{}, "default"},
           {Labels{{"team", "other"}}, "default"},
           {Labels{{"team", "web"}}, "web"},
           {Labels{{"team", "db"}}, "db,web"},
           {Labels{{"team", "db"}, {"severity", "page"}}, "db-pager,web"},
           {Labels{{"team", "dbx"}}, "default"},
       }) {
    EXPECT_EQ(Receivers(tree, c.labels), c.receivers) << c.labels.ToString();
  }
}

TEST(RouteTest, KeyAndIdFollowAlertmanager) {
  Route tree(Tree());
  EXPECT_EQ(tree.Key(), "{}");
  EXPECT_EQ(tree.ID(), "{}");
  EXPECT_EQ(tree.routes()[0]->Key(), "{}/{team=\"db\"}");
  EXPECT_EQ(tree.routes()[0]->ID(), "{}/{team=\"db\"}/0");
  EXPECT_EQ(tree.routes()[0]->routes()[0]->ID(), "{}/{team=\"db\"}/0/{severity=\"page\"}/0");
  EXPECT_EQ(tree.routes()[1]->Key(), "{}/{team=~\"db|web\"}");
  EXPECT_EQ(tree.routes()[2]->ID(), "{}/{team=\"db\"}/2");
}

TEST(RouteTest, MatchersStringQuotesAsGo) {
  EXPECT_EQ(MatchersString({Eq("a", "x\"y\\z\n\t"), Re("b", "c")}),
            "{a=\"x\\\"y\\\\z\\n\\t\",b=~\"c\"}");
}

TEST(RouteTest, GroupLabelsKeepGroupByOrAll) {
  config::Route config = Node("r", {});
  config.group_by = {"alertname"};
  Labels labels{{"alertname", "A"}, {"instance", "i"}};
  EXPECT_EQ(Route(config).GroupLabels(labels), (Labels{{"alertname", "A"}}));
  config.group_by = {"..."};
  EXPECT_EQ(Route(config).GroupLabels(labels), labels);
}

// Two routes, each with its own receiver and timing.
TEST(RouteDispatcherTest, EachMatchingRouteGetsItsOwnGroupAndTiming) {
  config::Route root = Node("default", {});
  root.group_by = {"alertname"};
  root.group_wait = seconds(30);
  root.group_interval = minutes(5);
  root.repeat_interval = hours(4);
  config::Route fast = root;
  fast.receiver = "fast";
  fast.matchers = {Eq("team", "db")};
  fast.continue_matching = true;
  fast.group_wait = seconds(5);
  config::Route slow = root;
  slow.receiver = "slow";
  slow.matchers = {Re("team", ".+")};
  slow.group_wait = seconds(60);
  root.routes = {fast, slow};

  auto fast_log = std::make_shared<testing::NotifierLog>();
  auto slow_log = std::make_shared<testing::NotifierLog>();
  auto default_log = std::make_shared<testing::NotifierLog>();
  std::map<std::string, std::vector<std::unique_ptr<Notifier>>> receivers;
  receivers["fast"].push_back(
      std::make_unique<testing::RecordingNotifier>("webhook", true, fast_log));
  receivers["slow"].push_back(
      std::make_unique<testing::RecordingNotifier>("webhook", true, slow_log));
  receivers["default"].push_back(
      std::make_unique<testing::RecordingNotifier>("webhook", true, default_log));
  FakeClock clock(testing::Utc(2026, 12, 4, 15, 0, 0));
  testing::FakeStateStore store;
  DispatcherOptions options;
  options.executor = [](std::function<void()> job) {
    job();
  };
  Dispatcher dispatcher(root, std::move(receivers), &store, &clock, std::move(options));

  NotifyAlert alert;
  alert.labels = Labels{{"alertname", "X"}, {"team", "db"}};
  alert.starts_at = clock.Now();
  dispatcher.Put({alert});
  EXPECT_EQ(dispatcher.group_count(), 2u);

  clock.Advance(seconds(5));
  dispatcher.Tick();
  ASSERT_EQ(fast_log->calls(), 1u);
  EXPECT_EQ(slow_log->calls(), 0u);
  EXPECT_EQ(fast_log->last().receiver, "fast");
  EXPECT_EQ(fast_log->last().group_key, "{}/{team=\"db\"}:{alertname=\"X\"}");

  clock.Advance(seconds(55));
  dispatcher.Tick();
  ASSERT_EQ(slow_log->calls(), 1u);
  EXPECT_EQ(slow_log->last().receiver, "slow");
  EXPECT_EQ(slow_log->last().group_key, "{}/{team=~\".+\"}:{alertname=\"X\"}");
  EXPECT_EQ(fast_log->calls(), 1u);
  EXPECT_EQ(default_log->calls(), 0u);

  std::vector<IntegrationCounters> counters = dispatcher.Counters();
  ASSERT_EQ(counters.size(), 3u);
  EXPECT_EQ(counters[0].receiver, "default");
  EXPECT_EQ(counters[1].receiver, "fast");
  EXPECT_EQ(counters[1].notifications_sent, 1u);
  EXPECT_EQ(counters[2].receiver, "slow");
  EXPECT_EQ(counters[2].notifications_sent, 1u);
}

TEST(RouteDispatcherTest, RootGroupKeyHasNoRoutePath) {
  config::Route root = Node("default", {});
  root.group_by = {"alertname"};
  auto log = std::make_shared<testing::NotifierLog>();
  std::map<std::string, std::vector<std::unique_ptr<Notifier>>> receivers;
  receivers["default"].push_back(
      std::make_unique<testing::RecordingNotifier>("webhook", true, log));
  FakeClock clock(testing::Utc(2026, 12, 4, 15, 0, 0));
  testing::FakeStateStore store;
  DispatcherOptions options;
  options.executor = [](std::function<void()> job) {
    job();
  };
  Dispatcher dispatcher(root, std::move(receivers), &store, &clock, std::move(options));
  NotifyAlert alert;
  alert.labels = Labels{{"alertname", "X"}};
  alert.starts_at = clock.Now();
  dispatcher.Put({alert});
  clock.Advance(root.group_wait);
  dispatcher.Tick();
  ASSERT_EQ(log->calls(), 1u);
  EXPECT_EQ(log->last().group_key, "{}:{alertname=\"X\"}");
}

}  // namespace
}  // namespace alertd
