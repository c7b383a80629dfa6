#include "storage/sample_checkpoint.h"

#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace alertd {
namespace {

namespace fs = std::filesystem;

constexpr int64_t kNoRetention = std::numeric_limits<int64_t>::min();

class SampleCheckpointTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() /
            ("alertd_checkpoint_test_" + std::to_string(::getpid()) + "_" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
    fs::create_directories(root_);
    dir_ = (root_ / "samples").string();
  }

  void TearDown() override { fs::remove_all(root_); }

  SampleCheckpointOptions Options() const {
    SampleCheckpointOptions options;
    options.dir = dir_;
    // Long enough that only the explicit Flush calls of a test write the log.
    options.flush_interval = std::chrono::hours(1);
    return options;
  }

  std::unique_ptr<SampleCheckpoint> MustOpen(MemorySampleStore* store,
                                             int64_t min_t = kNoRetention) {
    auto checkpoint = SampleCheckpoint::Open(Options(), store, min_t);
    EXPECT_TRUE(checkpoint.ok()) << checkpoint.error().message();
    return checkpoint.ok() ? std::move(*checkpoint) : nullptr;
  }

  std::vector<std::string> Segments() const {
    std::vector<std::string> names;
    for (const auto& entry : fs::directory_iterator(dir_)) {
      std::string name = entry.path().filename().string();
      if (name.starts_with("wal-")) {
        names.push_back(name);
      }
    }
    std::sort(names.begin(), names.end());
    return names;
  }

  fs::path root_;
  std::string dir_;
};

// Every series of `store` with its samples, sorted by labels; values as bit patterns.
std::vector<std::pair<std::string, std::vector<std::pair<int64_t, uint64_t>>>> Dump(
    const MemorySampleStore& store) {
  std::vector<std::pair<std::string, std::vector<std::pair<int64_t, uint64_t>>>> out;
  for (const Series& series :
       store.Select({}, std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max())) {
    std::vector<std::pair<int64_t, uint64_t>> samples;
    for (const Sample& sample : series.samples) {
      samples.emplace_back(sample.t, std::bit_cast<uint64_t>(sample.v));
    }
    out.emplace_back(series.labels.ToString(), std::move(samples));
  }
  std::sort(out.begin(), out.end());
  return out;
}

const Labels kUp{{"__name__", "up"}, {"job", "node"}, {"instance", "127.0.0.1:9100"}};
const Labels kRequests{{"__name__", "http_requests_total"}, {"code", "200"}};

TEST(Crc32cTest, MatchesCheckValue) {
  // The published CRC-32C check value of "123456789".
  const char data[] = "123456789";
  EXPECT_EQ(Crc32c(data, 9), 0xE3069283u);
  EXPECT_EQ(Crc32c(data + 4, 5, Crc32c(data, 4)), 0xE3069283u);
  EXPECT_EQ(Crc32c(data, 0), 0u);
}

TEST_F(SampleCheckpointTest, RoundTripKeepsValuesAndStaleMarkers) {
  MemorySampleStore before;
  {
    auto checkpoint = MustOpen(&before);
    ASSERT_NE(checkpoint, nullptr);
    before.Append(kUp, 1000, 1);
    before.Append(kUp, 2000, 0);
    before.Append(kUp, 3000, StaleNaN());
    before.Append(kRequests, 1000, 12.5);
    before.Append(kRequests, 2000, -0.0);
    before.Append(kRequests, 2000, 13.25);  // replaces the sample at 2000
    before.Append(kRequests, 1500, 99);     // older than the newest: the store drops it
    before.Append(kRequests, 3000, std::numeric_limits<double>::infinity());
    before.Append(kRequests, 4000, std::numeric_limits<double>::quiet_NaN());
    ASSERT_TRUE(checkpoint->Flush().ok());
  }

  MemorySampleStore after;
  auto checkpoint = MustOpen(&after);
  ASSERT_NE(checkpoint, nullptr);
  EXPECT_EQ(Dump(after), Dump(before));
  EXPECT_EQ(after.NumSamples(), 7u);
  auto name = LabelMatcher::Create(MatchType::kEqual, "__name__", "up");
  ASSERT_TRUE(name.ok());
  auto up = after.Select({*name}, 3000, 3000);
  ASSERT_EQ(up.size(), 1u);
  ASSERT_EQ(up[0].samples.size(), 1u);
  EXPECT_TRUE(IsStaleNaN(up[0].samples[0].v));
  EXPECT_TRUE(checkpoint->replay_stats().truncations.empty());
  EXPECT_FALSE(checkpoint->replay_stats().snapshot);
  EXPECT_EQ(checkpoint->replay_stats().samples, 8u);  // the replaced sample is logged twice
}

TEST_F(SampleCheckpointTest, CloseFlushesBufferedSamples) {
  MemorySampleStore before;
  {
    auto checkpoint = MustOpen(&before);
    ASSERT_NE(checkpoint, nullptr);
    before.Append(kUp, 1000, 1);
  }
  MemorySampleStore after;
  auto checkpoint = MustOpen(&after);
  EXPECT_EQ(Dump(after), Dump(before));
}

TEST_F(SampleCheckpointTest, FlushIntervalWritesWithoutExplicitFlush) {
  MemorySampleStore before;
  SampleCheckpointOptions options = Options();
  options.flush_interval = std::chrono::milliseconds(20);
  auto checkpoint = SampleCheckpoint::Open(options, &before, kNoRetention);
  ASSERT_TRUE(checkpoint.ok()) << checkpoint.error().message();
  before.Append(kUp, 1000, 1);
  const std::string segment = dir_ + "/" + Segments().back();
  const auto header_only = fs::file_size(segment);
  for (int i = 0; i < 200 && fs::file_size(segment) == header_only; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_GT(fs::file_size(segment), header_only);
}

// Writes three records (one per Flush) and returns the segment and the size before the last.
struct ThreeRecords {
  std::string segment;
  uintmax_t before_last = 0;
  uintmax_t size = 0;
};

ThreeRecords WriteThreeRecords(const std::string& dir) {
  MemorySampleStore store;
  SampleCheckpointOptions options;
  options.dir = dir;
  options.flush_interval = std::chrono::hours(1);
  auto opened = SampleCheckpoint::Open(options, &store, kNoRetention);
  EXPECT_TRUE(opened.ok());
  if (!opened.ok()) {
    return {};
  }
  std::unique_ptr<SampleCheckpoint> checkpoint = std::move(*opened);
  ThreeRecords out;
  store.Append(kUp, 1000, 1);
  EXPECT_TRUE(checkpoint->Flush().ok());
  store.Append(kUp, 2000, 2);
  EXPECT_TRUE(checkpoint->Flush().ok());
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().filename().string().starts_with("wal-")) {
      out.segment = entry.path().string();
    }
  }
  out.before_last = fs::file_size(out.segment);
  store.Append(kUp, 3000, 3);
  store.Append(kRequests, 3000, StaleNaN());
  EXPECT_TRUE(checkpoint->Flush().ok());
  checkpoint->Close();
  out.size = fs::file_size(out.segment);
  return out;
}

TEST_F(SampleCheckpointTest, TornTailAtEveryOffsetKeepsEarlierRecords) {
  ThreeRecords written = WriteThreeRecords(dir_);
  ASSERT_GT(written.size, written.before_last);
  std::ifstream in(written.segment, std::ios::binary);
  std::string full((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ASSERT_EQ(full.size(), written.size);

  for (uintmax_t cut = written.before_last; cut < written.size; ++cut) {
    SCOPED_TRACE("cut at " + std::to_string(cut));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    {
      std::ofstream out(written.segment, std::ios::binary);
      out.write(full.data(), static_cast<std::streamsize>(cut));
    }
    MemorySampleStore store;
    auto checkpoint = MustOpen(&store);
    ASSERT_NE(checkpoint, nullptr);
    EXPECT_EQ(store.NumSeries(), 1u);
    EXPECT_EQ(store.NumSamples(), 2u);
    const SampleReplayStats& stats = checkpoint->replay_stats();
    if (cut == written.before_last) {
      EXPECT_TRUE(stats.truncations.empty());
    } else {
      ASSERT_EQ(stats.truncations.size(), 1u);
      EXPECT_NE(stats.truncations[0].find(written.segment), std::string::npos);
      EXPECT_NE(stats.truncations[0].find("offset " + std::to_string(written.before_last)),
                std::string::npos)
          << stats.truncations[0];
      EXPECT_EQ(fs::file_size(written.segment), written.before_last);
    }
  }
}

TEST_F(SampleCheckpointTest, CorruptChecksumCutsRecord) {
  ThreeRecords written = WriteThreeRecords(dir_);
  {
    // Flip one bit in the last byte of the last record's payload (its last sample's value).
    std::fstream file(written.segment, std::ios::binary | std::ios::in | std::ios::out);
    file.seekg(static_cast<std::streamoff>(written.size - 1));
    char byte = 0;
    file.read(&byte, 1);
    byte = static_cast<char>(byte ^ 0x01);
    file.seekp(static_cast<std::streamoff>(written.size - 1));
    file.write(&byte, 1);
  }
  MemorySampleStore store;
  auto checkpoint = MustOpen(&store);
  ASSERT_NE(checkpoint, nullptr);
  EXPECT_EQ(store.NumSamples(), 2u);
  ASSERT_EQ(checkpoint->replay_stats().truncations.size(), 1u);
  EXPECT_NE(checkpoint->replay_stats().truncations[0].find("checksum mismatch"), std::string::npos)
      << checkpoint->replay_stats().truncations[0];
  EXPECT_EQ(fs::file_size(written.segment), written.before_last);
}

TEST_F(SampleCheckpointTest, ZeroFilledTailIsCut) {
  ThreeRecords written = WriteThreeRecords(dir_);
  {
    std::ofstream out(written.segment, std::ios::binary | std::ios::app);
    std::string zeros(64, '\0');
    out.write(zeros.data(), static_cast<std::streamsize>(zeros.size()));
  }
  MemorySampleStore store;
  auto checkpoint = MustOpen(&store);
  EXPECT_EQ(store.NumSamples(), 4u);
  ASSERT_EQ(checkpoint->replay_stats().truncations.size(), 1u);
  EXPECT_EQ(fs::file_size(written.segment), written.size);
}

TEST_F(SampleCheckpointTest, SnapshotThenAppendsReplaysBoth) {
  MemorySampleStore before;
  {
    auto checkpoint = MustOpen(&before);
    ASSERT_NE(checkpoint, nullptr);
    for (int64_t t = 1000; t <= 5000; t += 1000) {
      before.Append(kUp, t, static_cast<double>(t));
      ASSERT_TRUE(checkpoint->Flush().ok());
    }
    ASSERT_TRUE(checkpoint->Snapshot().ok());
    EXPECT_EQ(checkpoint->snapshots_total(), 1u);
    // The segments the snapshot covers are gone: only the one started by Snapshot is left.
    EXPECT_EQ(Segments().size(), 1u);
    before.Append(kUp, 6000, 6000);
    before.Append(kRequests, 6000, StaleNaN());
    ASSERT_TRUE(checkpoint->Flush().ok());
  }
  EXPECT_TRUE(fs::exists(dir_ + "/snapshot"));
  EXPECT_FALSE(fs::exists(dir_ + "/snapshot.tmp"));

  MemorySampleStore after;
  auto checkpoint = MustOpen(&after);
  ASSERT_NE(checkpoint, nullptr);
  EXPECT_TRUE(checkpoint->replay_stats().snapshot);
  EXPECT_EQ(checkpoint->replay_stats().segments, 1u);
  EXPECT_EQ(Dump(after), Dump(before));
  EXPECT_EQ(after.NumSamples(), 7u);
}

TEST_F(SampleCheckpointTest, SecondSnapshotReplacesFirst) {
  MemorySampleStore before;
  {
    auto checkpoint = MustOpen(&before);
    before.Append(kUp, 1000, 1);
    ASSERT_TRUE(checkpoint->Snapshot().ok());
    before.Append(kUp, 2000, 2);
    before.Truncate(1500);  // the window drops the first sample, so the next snapshot does too
    ASSERT_TRUE(checkpoint->Snapshot().ok());
    before.Append(kUp, 3000, 3);
  }
  MemorySampleStore after;
  auto checkpoint = MustOpen(&after);
  EXPECT_EQ(Dump(after), Dump(before));
  EXPECT_EQ(after.NumSamples(), 2u);
}

TEST_F(SampleCheckpointTest, LeftoverCoveredSegmentIsIgnored) {
  MemorySampleStore before;
  std::string old_segment;
  std::string old_contents;
  {
    auto checkpoint = MustOpen(&before);
    before.Append(kUp, 1000, 1);
    ASSERT_TRUE(checkpoint->Flush().ok());
    old_segment = dir_ + "/" + Segments().front();
    std::ifstream in(old_segment, std::ios::binary);
    old_contents.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    ASSERT_TRUE(checkpoint->Snapshot().ok());
    before.Truncate(2000);
    before.Append(kUp, 3000, 3);
  }
  // As after a crash between the snapshot's rename and the deletion of the old segments.
  {
    std::ofstream out(old_segment, std::ios::binary);
    out << old_contents;
  }
  MemorySampleStore after;
  auto checkpoint = MustOpen(&after);
  EXPECT_FALSE(fs::exists(old_segment));
  // The snapshot still has the sample at 1000; the old segment is not replayed a second time.
  EXPECT_EQ(checkpoint->replay_stats().segments, 1u);
  EXPECT_EQ(after.NumSamples(), 2u);
}

TEST_F(SampleCheckpointTest, ReplayDropsSamplesOlderThanRetention) {
  {
    MemorySampleStore before;
    auto checkpoint = MustOpen(&before);
    for (int64_t t = 1000; t <= 3000; t += 1000) {
      before.Append(kUp, t, 1);
    }
    ASSERT_TRUE(checkpoint->Snapshot().ok());
    for (int64_t t = 4000; t <= 6000; t += 1000) {
      before.Append(kUp, t, 1);
      before.Append(kRequests, t - 3500, 1);
    }
  }
  MemorySampleStore after;
  auto checkpoint = MustOpen(&after, /*min_t=*/2500);
  // Kept: up at 3000..6000 and http_requests_total at 2500. Dropped: up at 1000 and 2000 from
  // the snapshot, http_requests_total at 500 and 1500 from the log.
  EXPECT_EQ(after.NumSamples(), 5u);
  EXPECT_EQ(checkpoint->replay_stats().dropped_samples, 4u);
  EXPECT_EQ(after.Select({}, 0, 2499).size(), 0u);
}

TEST_F(SampleCheckpointTest, NotADirectoryNamesPath) {
  const fs::path file = root_ / "file";
  std::ofstream(file) << "x";
  SampleCheckpointOptions options = Options();
  options.dir = (file / "samples").string();
  MemorySampleStore store;
  auto checkpoint = SampleCheckpoint::Open(options, &store, kNoRetention);
  ASSERT_FALSE(checkpoint.ok());
  EXPECT_NE(checkpoint.error().message().find(options.dir), std::string::npos)
      << checkpoint.error().message();
  EXPECT_NE(checkpoint.error().message().find("Not a directory"), std::string::npos)
      << checkpoint.error().message();
}

TEST_F(SampleCheckpointTest, UnwritableDirectoryNamesPath) {
  if (::geteuid() == 0) {
    GTEST_SKIP() << "root bypasses directory permissions";
  }
  fs::create_directories(dir_);
  fs::permissions(dir_, fs::perms::owner_read | fs::perms::owner_exec);
  MemorySampleStore store;
  auto checkpoint = SampleCheckpoint::Open(Options(), &store, kNoRetention);
  fs::permissions(dir_, fs::perms::owner_all);
  ASSERT_FALSE(checkpoint.ok());
  EXPECT_NE(checkpoint.error().message().find(dir_ + "/wal-00000001"), std::string::npos)
      << checkpoint.error().message();
  EXPECT_NE(checkpoint.error().message().find("Permission denied"), std::string::npos)
      << checkpoint.error().message();
}

TEST_F(SampleCheckpointTest, WriteFailureIsCountedAndAppendsContinue) {
  MemorySampleStore store;
  auto checkpoint = MustOpen(&store);
  ASSERT_NE(checkpoint, nullptr);
  store.Append(kUp, 1000, 1);
  ASSERT_TRUE(checkpoint->Flush().ok());
  // Removing the directory makes creating the next segment fail.
  ASSERT_TRUE(checkpoint->Snapshot().ok());
  fs::remove_all(dir_);
  std::ofstream(dir_) << "not a directory";
  store.Append(kUp, 2000, 2);
  Status flushed = checkpoint->Flush();
  Status snapshot = checkpoint->Snapshot();
  EXPECT_EQ(store.NumSamples(), 2u);
  store.Append(kUp, 3000, 3);
  EXPECT_EQ(store.NumSamples(), 3u);
  EXPECT_FALSE(snapshot.ok());
  if (!snapshot.ok()) {
    EXPECT_NE(snapshot.error().message().find(dir_), std::string::npos)
        << snapshot.error().message();
  }
  EXPECT_GE(checkpoint->snapshot_failures_total(), 1u);
  // The open segment was unlinked with the directory, so its write may still succeed; the
  // segment that Snapshot tried to start could not be created.
  EXPECT_GE(checkpoint->write_failures_total(), 1u);
  (void)flushed;
  checkpoint->Close();
  fs::remove(dir_);
}

TEST_F(SampleCheckpointTest, ForeignFileIsSkipped) {
  fs::create_directories(dir_);
  std::ofstream(dir_ + "/wal-00000001") << "this is not a sample log segment at all";
  MemorySampleStore store;
  auto checkpoint = MustOpen(&store);
  ASSERT_NE(checkpoint, nullptr);
  EXPECT_EQ(store.NumSamples(), 0u);
  store.Append(kUp, 1000, 1);
  ASSERT_TRUE(checkpoint->Flush().ok());
  // The new segment does not overwrite the foreign file.
  EXPECT_EQ(Segments().size(), 2u);
}

}  // namespace
}  // namespace alertd
