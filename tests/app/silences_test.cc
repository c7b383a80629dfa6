#include "notifiers/silences.h"

#include <chrono>
#include <regex>

#include <gtest/gtest.h>

#include "storage/state_store.h"

namespace alertd {
namespace {

using std::chrono::hours;
using std::chrono::minutes;

const TimePoint kT0 = FromMillis(1'700'000'000'000);  // 2023-11-14T22:13:20Z

StoredSilence MakeSilence(TimePoint starts, TimePoint ends) {
  StoredSilence silence;
  silence.matchers = {{"alertname", "Down", false, true}};
  silence.starts_at = starts;
  silence.ends_at = ends;
  silence.created_by = "ops";
  silence.comment = "maintenance";
  return silence;
}

std::unique_ptr<StateStore> OpenMemoryStore() {
  auto store = OpenSqliteStateStore(":memory:");
  EXPECT_TRUE(store.ok());
  return std::move(store).value();
}

TEST(SilencesTest, NewUuidIsVersionFour) {
  std::regex uuid("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}");
  std::string a = NewUuid();
  EXPECT_TRUE(std::regex_match(a, uuid)) << a;
  EXPECT_NE(a, NewUuid());
}

TEST(SilencesTest, StateFollowsStartAndEnd) {
  StoredSilence silence = MakeSilence(kT0, kT0 + hours(1));
  EXPECT_EQ(StateOf(silence, kT0 - minutes(1)), SilenceState::kPending);
  EXPECT_EQ(StateOf(silence, kT0), SilenceState::kActive);
  EXPECT_EQ(StateOf(silence, kT0 + hours(1)), SilenceState::kActive);
  EXPECT_EQ(StateOf(silence, kT0 + hours(1) + minutes(1)), SilenceState::kExpired);
  EXPECT_STREQ(SilenceStateName(SilenceState::kPending), "pending");
}

TEST(SilencesTest, CreateGivesIdAndStartsNowWhenStartIsPast) {
  FakeClock clock(kT0);
  Silences silences(nullptr, &clock);
  auto id = silences.Set(MakeSilence(kT0 - hours(1), kT0 + hours(1)));
  ASSERT_TRUE(id.ok()) << id.error().message();
  auto got = silences.Get(*id);
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->starts_at, kT0);
  EXPECT_EQ(got->updated_at, kT0);
  EXPECT_EQ(got->created_by, "ops");
}

struct BadSilence {
  const char* name;
  std::function<void(StoredSilence&)> edit;
  std::string message;
};

TEST(SilencesTest, InvalidSilencesAreRejectedWithReason) {
  const std::vector<BadSilence> cases = {
      {"no matchers",
       [](StoredSilence& s) { s.matchers.clear(); },
       "the silence has no matchers: give at least one matcher"},
      {"bad name",
       [](StoredSilence& s) {
         s.matchers.push_back({"0x", "a", false, true});
       },
       "matcher 2: invalid label name \"0x\": a label name starts with a letter or underscore "
       "and contains only letters, digits and underscores"},
      {"bad regex",
       [](StoredSilence& s) {
         s.matchers[0] = {"job", "(", true, true};
       },
       ""},
      {"all match empty",
       [](StoredSilence& s) {
         s.matchers = {{"job", ".*", true, true}, {"env", "prod", false, false}};
       },
       "every matcher of the silence matches the empty string, so it would silence all alerts: "
       "add a matcher that requires a non-empty label value"},
      {"end before start",
       [](StoredSilence& s) { s.ends_at = s.starts_at - minutes(1); },
       "the silence's end time 2023-11-14T23:12:20.000Z is not after its start time "
       "2023-11-14T23:13:20.000Z: give an end time after the start"},
      {"end equals start",
       [](StoredSilence& s) { s.ends_at = s.starts_at; },
       "the silence's end time 2023-11-14T23:13:20.000Z is not after its start time "
       "2023-11-14T23:13:20.000Z: give an end time after the start"},
      {"end in past",
       [](StoredSilence& s) {
         s.starts_at = kT0 - hours(2);
         s.ends_at = kT0 - hours(1);
       },
       "the silence's end time 2023-11-14T21:13:20.000Z is in the past: give an end time after "
       "now (2023-11-14T22:13:20.000Z)"},
  };
  for (const auto& c : cases) {
    FakeClock clock(kT0);
    Silences silences(nullptr, &clock);
    StoredSilence silence = MakeSilence(kT0 + hours(1), kT0 + hours(2));
    c.edit(silence);
    auto id = silences.Set(silence);
    ASSERT_FALSE(id.ok()) << c.name;
    EXPECT_EQ(id.error().code(), ErrorCode::kInvalidArgument) << c.name;
    if (c.message.empty()) {
      EXPECT_EQ(id.error().message().rfind("matcher 1: ", 0), 0u) << id.error().message();
    } else {
      EXPECT_EQ(id.error().message(), c.message) << c.name;
    }
    EXPECT_TRUE(silences.List().empty()) << c.name;
  }
}

TEST(SilencesTest, UnknownIdIsNotFound) {
  FakeClock clock(kT0);
  Silences silences(nullptr, &clock);
  StoredSilence silence = MakeSilence(kT0, kT0 + hours(1));
  silence.id = "nope";
  auto id = silences.Set(silence);
  ASSERT_FALSE(id.ok());
  EXPECT_EQ(id.error().code(), ErrorCode::kNotFound);
  EXPECT_EQ(id.error().message(), "silence \"nope\" not found");
  Status expired = silences.Expire("nope");
  ASSERT_FALSE(expired.ok());
  EXPECT_EQ(expired.error().message(), "silence \"nope\" not found");
}

TEST(SilencesTest, ExtendingActiveSilenceKeepsId) {
  FakeClock clock(kT0);
  Silences silences(nullptr, &clock);
  auto id = silences.Set(MakeSilence(kT0, kT0 + hours(1)));
  ASSERT_TRUE(id.ok());
  clock.Advance(minutes(10));
  StoredSilence update = *silences.Get(*id);
  update.ends_at = kT0 + hours(3);
  update.comment = "longer";
  auto same = silences.Set(update);
  ASSERT_TRUE(same.ok()) << same.error().message();
  EXPECT_EQ(*same, *id);
  ASSERT_EQ(silences.List().size(), 1u);
  EXPECT_EQ(silences.Get(*id)->ends_at, kT0 + hours(3));
  EXPECT_EQ(silences.Get(*id)->comment, "longer");
  EXPECT_EQ(silences.Get(*id)->updated_at, kT0 + minutes(10));
}

TEST(SilencesTest, ChangingMatchersExpiresOldAndCreatesNew) {
  FakeClock clock(kT0);
  Silences silences(nullptr, &clock);
  auto id = silences.Set(MakeSilence(kT0, kT0 + hours(1)));
  ASSERT_TRUE(id.ok());
  clock.Advance(minutes(10));
  StoredSilence update = *silences.Get(*id);
  update.matchers.push_back({"env", "prod", false, true});
  auto other = silences.Set(update);
  ASSERT_TRUE(other.ok()) << other.error().message();
  EXPECT_NE(*other, *id);
  EXPECT_EQ(silences.Get(*id)->ends_at, kT0 + minutes(10));
  EXPECT_EQ(silences.Get(*other)->starts_at, kT0 + minutes(10));
  EXPECT_EQ(silences.List().size(), 2u);
}

TEST(SilencesTest, MovingActiveStartCreatesNewSilence) {
  FakeClock clock(kT0);
  Silences silences(nullptr, &clock);
  auto id = silences.Set(MakeSilence(kT0, kT0 + hours(1)));
  ASSERT_TRUE(id.ok());
  clock.Advance(minutes(10));
  StoredSilence update = *silences.Get(*id);
  update.starts_at = kT0 + minutes(5);
  auto other = silences.Set(update);
  ASSERT_TRUE(other.ok());
  EXPECT_NE(*other, *id);
}

TEST(SilencesTest, PendingSilenceUpdatesInPlaceWhileStartIsFuture) {
  FakeClock clock(kT0);
  Silences silences(nullptr, &clock);
  auto id = silences.Set(MakeSilence(kT0 + hours(1), kT0 + hours(2)));
  ASSERT_TRUE(id.ok());
  StoredSilence update = *silences.Get(*id);
  update.starts_at = kT0 + minutes(30);
  auto same = silences.Set(update);
  ASSERT_TRUE(same.ok());
  EXPECT_EQ(*same, *id);
  EXPECT_EQ(silences.Get(*id)->starts_at, kT0 + minutes(30));

  // A start moved into the past cannot rewrite a pending silence: the old one ends.
  update.starts_at = kT0 - minutes(1);
  auto other = silences.Set(update);
  ASSERT_TRUE(other.ok());
  EXPECT_NE(*other, *id);
  EXPECT_EQ(silences.Get(*id)->starts_at, kT0);
  EXPECT_EQ(silences.Get(*id)->ends_at, kT0);
  EXPECT_EQ(silences.Get(*other)->starts_at, kT0);
}

TEST(SilencesTest, ExpireEndsSilencesAndIsIdempotent) {
  FakeClock clock(kT0);
  Silences silences(nullptr, &clock);
  auto active = silences.Set(MakeSilence(kT0, kT0 + hours(1)));
  auto pending = silences.Set(MakeSilence(kT0 + hours(1), kT0 + hours(2)));
  ASSERT_TRUE(active.ok());
  ASSERT_TRUE(pending.ok());
  clock.Advance(minutes(5));
  ASSERT_TRUE(silences.Expire(*active).ok());
  ASSERT_TRUE(silences.Expire(*pending).ok());
  EXPECT_EQ(silences.Get(*active)->ends_at, kT0 + minutes(5));
  EXPECT_EQ(silences.Get(*pending)->starts_at, kT0 + minutes(5));
  EXPECT_EQ(silences.Get(*pending)->ends_at, kT0 + minutes(5));
  clock.Advance(minutes(1));
  EXPECT_TRUE(silences.Expire(*active).ok());
  EXPECT_EQ(silences.Get(*active)->ends_at, kT0 + minutes(5));
}

TEST(SilencesTest, MutedByListsActiveMatchingSilences) {
  FakeClock clock(kT0);
  Silences silences(nullptr, &clock);
  StoredSilence regex = MakeSilence(kT0, kT0 + hours(1));
  regex.matchers = {{"instance", "db-.*", true, true}};
  StoredSilence negated = MakeSilence(kT0, kT0 + hours(1));
  negated.matchers = {{"alertname", "Down", false, true}, {"env", "prod", false, false}};
  auto a = silences.Set(regex);
  auto b = silences.Set(negated);
  auto later = silences.Set(MakeSilence(kT0 + hours(1), kT0 + hours(2)));
  ASSERT_TRUE(a.ok() && b.ok() && later.ok());
  std::vector<std::string> both = {*a, *b};
  std::sort(both.begin(), both.end());
  EXPECT_EQ(silences.MutedBy(Labels{{"alertname", "Down"}, {"instance", "db-1"}}, kT0), both);
  EXPECT_EQ(
      silences.MutedBy(Labels{{"alertname", "Down"}, {"instance", "db-1"}, {"env", "prod"}}, kT0),
      std::vector<std::string>{*a});
  EXPECT_TRUE(silences.MutedBy(Labels{{"alertname", "Up"}, {"instance", "web"}}, kT0).empty());
  EXPECT_EQ(silences.MutedBy(Labels{{"alertname", "Down"}}, kT0 + hours(1) + minutes(1)),
            std::vector<std::string>{*later});
}

TEST(SilencesTest, SilencesSurviveReloadFromStore) {
  auto store = OpenMemoryStore();
  FakeClock clock(kT0);
  std::string id;
  {
    Silences silences(store.get(), &clock);
    auto created = silences.Set(MakeSilence(kT0, kT0 + hours(1)));
    ASSERT_TRUE(created.ok());
    id = *created;
  }
  Silences reloaded(store.get(), &clock);
  auto count = reloaded.Load();
  ASSERT_TRUE(count.ok());
  EXPECT_EQ(*count, 1u);
  EXPECT_EQ(reloaded.MutedBy(Labels{{"alertname", "Down"}}, kT0), std::vector<std::string>{id});
}

TEST(SilencesTest, GcDropsSilencesPastRetention) {
  auto store = OpenMemoryStore();
  FakeClock clock(kT0);
  Silences silences(store.get(), &clock, hours(120));
  auto id = silences.Set(MakeSilence(kT0, kT0 + hours(1)));
  ASSERT_TRUE(id.ok());
  clock.Advance(hours(121));
  EXPECT_EQ(silences.Gc(), 0u);
  EXPECT_EQ(silences.List().size(), 1u);
  clock.Advance(hours(1));
  EXPECT_EQ(silences.Gc(), 1u);
  EXPECT_TRUE(silences.List().empty());
  auto stored = store->LoadSilences();
  ASSERT_TRUE(stored.ok());
  EXPECT_TRUE(stored->empty());
}

}  // namespace
}  // namespace alertd
