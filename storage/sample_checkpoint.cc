#include "storage/sample_checkpoint.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <string_view>
#include <utility>

#include "common/logging.h"

namespace alertd {
namespace {

namespace fs = std::filesystem;

// File header: 8 bytes of magic, a u32 format version, a u32 of zero and a u64. A log segment
// stores its own index in the u64. A snapshot stores the index of the first segment it does not
// cover.
constexpr std::string_view kSegmentMagic = "ALRTDWAL";
constexpr std::string_view kSnapshotMagic = "ALRTDSNP";
constexpr uint32_t kFormatVersion = 1;
constexpr size_t kFileHeaderSize = 24;
// Record header: u32 payload length and u32 CRC-32C of the payload.
constexpr size_t kRecordHeaderSize = 8;
// Larger lengths come from a damaged header. The writer's records stay far below this.
constexpr uint32_t kMaxRecordSize = 256u << 20;
// Target payload size of one snapshot record.
constexpr size_t kSnapshotRecordSize = 1 << 20;

constexpr char kSnapshotName[] = "snapshot";
constexpr char kSnapshotTempName[] = "snapshot.tmp";
constexpr std::string_view kSegmentPrefix = "wal-";

constexpr std::array<uint32_t, 256> MakeCrc32cTable() {
  std::array<uint32_t, 256> table{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t crc = i;
    for (int bit = 0; bit < 8; ++bit) {
      crc = (crc & 1) != 0 ? (crc >> 1) ^ 0x82F63B78u : crc >> 1;
    }
    table[i] = crc;
  }
  return table;
}

constexpr std::array<uint32_t, 256> kCrc32cTable = MakeCrc32cTable();

void PutU32(std::string& out, uint32_t value) {
  for (int i = 0; i < 4; ++i) {
    out.push_back(static_cast<char>((value >> (8 * i)) & 0xff));
  }
}

void PutU64(std::string& out, uint64_t value) {
  for (int i = 0; i < 8; ++i) {
    out.push_back(static_cast<char>((value >> (8 * i)) & 0xff));
  }
}

void PutString(std::string& out, const std::string& value) {
  PutU32(out, static_cast<uint32_t>(value.size()));
  out.append(value);
}

void SetU32(std::string& out, size_t offset, uint32_t value) {
  for (int i = 0; i < 4; ++i) {
    out[offset + i] = static_cast<char>((value >> (8 * i)) & 0xff);
  }
}

// Little-endian reads with bounds checks: a read past the end sets ok to false.
class Reader {
 public:
  explicit Reader(std::string_view data) : data_(data) {}

  uint64_t Fixed(int bytes) {
    if (data_.size() - pos_ < static_cast<size_t>(bytes) || !ok_) {
      ok_ = false;
      return 0;
    }
    uint64_t value = 0;
    for (int i = 0; i < bytes; ++i) {
      value |= static_cast<uint64_t>(static_cast<unsigned char>(data_[pos_ + i])) << (8 * i);
    }
    pos_ += bytes;
    return value;
  }

  uint32_t U32() { return static_cast<uint32_t>(Fixed(4)); }

  uint64_t U64() { return Fixed(8); }

  std::string String() {
    size_t size = U32();
    if (!ok_ || data_.size() - pos_ < size) {
      ok_ = false;
      return {};
    }
    std::string value(data_.substr(pos_, size));
    pos_ += size;
    return value;
  }

  bool ok() const { return ok_; }

  bool at_end() const { return pos_ == data_.size(); }

 private:
  std::string_view data_;
  size_t pos_ = 0;
  bool ok_ = true;
};

struct DecodedSample {
  uint32_t ref;
  int64_t t;
  double v;
};

// Decodes a record payload. Returns false when it is malformed, leaving the outputs partial.
bool DecodePayload(std::string_view payload,
                   std::vector<Labels>* series,
                   std::vector<DecodedSample>* samples) {
  Reader reader(payload);
  uint32_t num_series = reader.U32();
  for (uint32_t i = 0; i < num_series && reader.ok(); ++i) {
    uint32_t num_labels = reader.U32();
    std::vector<Label> labels;
    for (uint32_t j = 0; j < num_labels && reader.ok(); ++j) {
      std::string name = reader.String();
      std::string value = reader.String();
      labels.push_back(Label{std::move(name), std::move(value)});
    }
    series->emplace_back(std::move(labels));
  }
  uint32_t num_samples = reader.U32();
  for (uint32_t i = 0; i < num_samples && reader.ok(); ++i) {
    DecodedSample sample;
    sample.ref = reader.U32();
    sample.t = static_cast<int64_t>(reader.U64());
    sample.v = std::bit_cast<double>(reader.U64());
    if (sample.ref >= series->size()) {
      return false;
    }
    samples->push_back(sample);
  }
  return reader.ok() && reader.at_end();
}

std::string FileHeader(std::string_view magic, uint64_t number) {
  std::string header(magic);
  PutU32(header, kFormatVersion);
  PutU32(header, 0);
  PutU64(header, number);
  return header;
}

Error ErrnoError(const std::string& action, const std::string& path, int error) {
  return Error::Io(action + " " + path + " failed: " + std::strerror(error) +
                   "; check that the directory exists, is writable and its disk has space");
}

Status WriteAll(int fd, std::string_view data, const std::string& path) {
  while (!data.empty()) {
    ssize_t written = ::write(fd, data.data(), data.size());
    if (written < 0) {
      if (errno == EINTR) {
        continue;
      }
      return ErrnoError("writing", path, errno);
    }
    data.remove_prefix(static_cast<size_t>(written));
  }
  return Status::Ok();
}

Status SyncDir(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    return ErrnoError("opening directory", dir, errno);
  }
  int rc = ::fsync(fd);
  int error = errno;
  ::close(fd);
  if (rc != 0) {
    return ErrnoError("syncing directory", dir, error);
  }
  return Status::Ok();
}

// Returns the index of a segment file name "wal-NNNNNNNN", or nullopt for other names.
std::optional<uint64_t> SegmentIndex(const std::string& name) {
  if (!name.starts_with(kSegmentPrefix) || name.size() == kSegmentPrefix.size()) {
    return std::nullopt;
  }
  std::string_view digits = std::string_view(name).substr(kSegmentPrefix.size());
  if (!std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; }) ||
      digits.size() > 18) {
    return std::nullopt;
  }
  return std::stoull(std::string(digits));
}

}  // namespace

uint32_t Crc32c(const void* data, size_t size, uint32_t crc) {
  const auto* bytes = static_cast<const unsigned char*>(data);
  crc = ~crc;
  for (size_t i = 0; i < size; ++i) {
    crc = kCrc32cTable[(crc ^ bytes[i]) & 0xff] ^ (crc >> 8);
  }
  return ~crc;
}

uint32_t SampleCheckpoint::Batch::Ref(const Labels& labels) {
  std::vector<uint32_t>& candidates = refs_[labels.Hash()];
  for (uint32_t ref : candidates) {
    if (series_[ref] == labels) {
      return ref;
    }
  }
  auto ref = static_cast<uint32_t>(series_.size());
  series_.push_back(labels);
  candidates.push_back(ref);
  encoded_size_ += 4;
  for (const Label& label : labels) {
    encoded_size_ += 8 + label.name.size() + label.value.size();
  }
  return ref;
}

void SampleCheckpoint::Batch::Add(const Labels& labels, int64_t t, double v) {
  samples_.push_back(Entry{Ref(labels), t, v});
  encoded_size_ += 20;
}

std::string SampleCheckpoint::Batch::EncodeRecord() const {
  std::string out;
  out.reserve(kRecordHeaderSize + encoded_size_);
  out.resize(kRecordHeaderSize);
  PutU32(out, static_cast<uint32_t>(series_.size()));
  for (const Labels& labels : series_) {
    PutU32(out, static_cast<uint32_t>(labels.size()));
    for (const Label& label : labels) {
      PutString(out, label.name);
      PutString(out, label.value);
    }
  }
  PutU32(out, static_cast<uint32_t>(samples_.size()));
  for (const Entry& entry : samples_) {
    PutU32(out, entry.ref);
    PutU64(out, static_cast<uint64_t>(entry.t));
    // The bit pattern, so staleness markers and other NaNs come back unchanged.
    PutU64(out, std::bit_cast<uint64_t>(entry.v));
  }
  size_t payload_size = out.size() - kRecordHeaderSize;
  SetU32(out, 0, static_cast<uint32_t>(payload_size));
  SetU32(out, 4, Crc32c(out.data() + kRecordHeaderSize, payload_size));
  return out;
}

SampleCheckpoint::SampleCheckpoint(SampleCheckpointOptions options, MemorySampleStore* store)
    : options_(std::move(options)), store_(store) {}

SampleCheckpoint::~SampleCheckpoint() {
  Close();
}

Result<std::unique_ptr<SampleCheckpoint>> SampleCheckpoint::Open(SampleCheckpointOptions options,
                                                                 MemorySampleStore* store,
                                                                 int64_t min_t) {
  std::error_code ec;
  fs::create_directories(options.dir, ec);
  if (ec) {
    return Error::Io("creating the sample checkpoint directory " + options.dir + " failed: " +
                     ec.message() + "; check that its parent exists and is a writable directory");
  }
  std::unique_ptr<SampleCheckpoint> checkpoint(new SampleCheckpoint(std::move(options), store));
  checkpoint->Replay(min_t);
  {
    std::lock_guard lock(checkpoint->file_mu_);
    if (Status opened = checkpoint->OpenSegmentLocked(); !opened.ok()) {
      return opened.error();
    }
  }
  store->SetObserver(checkpoint.get());
  checkpoint->flusher_ = std::thread([raw = checkpoint.get()] { raw->FlushLoop(); });
  return checkpoint;
}

void SampleCheckpoint::Replay(int64_t min_t) {
  auto log = Logger("storage");
  const fs::path dir(options_.dir);
  uint64_t first_segment = 1;
  std::string snapshot_path = (dir / kSnapshotName).string();
  std::error_code ec;
  if (fs::exists(snapshot_path, ec)) {
    if (auto number = ReplayFile(snapshot_path, /*is_snapshot=*/true, min_t)) {
      first_segment = *number;
      replay_stats_.snapshot = true;
    }
  }
  // A temporary snapshot is what a crash during Snapshot left behind.
  fs::remove(dir / kSnapshotTempName, ec);

  std::vector<uint64_t> segments;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    if (auto index = SegmentIndex(entry.path().filename().string())) {
      segments.push_back(*index);
    }
  }
  if (ec) {
    log->error("Listing the sample checkpoint directory failed path={} err={}",
               LogValue(options_.dir),
               LogValue(ec.message()));
  }
  std::sort(segments.begin(), segments.end());
  next_segment_ = first_segment;
  for (uint64_t index : segments) {
    std::string path = SegmentPath(index);
    if (index < first_segment) {
      // The snapshot contains these samples; a crash came between its rename and this delete.
      fs::remove(path, ec);
      continue;
    }
    ReplayFile(path, /*is_snapshot=*/false, min_t);
    ++replay_stats_.segments;
    next_segment_ = index + 1;
  }
  log->info(
      "Replayed the sample checkpoint dir={} snapshot={} segments={} samples={} "
      "dropped_samples={} truncated_files={}",
      LogValue(options_.dir),
      replay_stats_.snapshot,
      replay_stats_.segments,
      replay_stats_.samples,
      replay_stats_.dropped_samples,
      replay_stats_.truncations.size());
}

std::optional<uint64_t> SampleCheckpoint::ReplayFile(const std::string& path,
                                                     bool is_snapshot,
                                                     int64_t min_t) {
  auto log = Logger("storage");
  std::ifstream in(path, std::ios::binary);
  if (!in.is_open()) {
    log->error("Reading a sample checkpoint file failed, skipping it path={} err={}",
               LogValue(path),
               LogValue(std::strerror(errno)));
    return std::nullopt;
  }
  std::stringstream contents;
  contents << in.rdbuf();
  const std::string data = std::move(contents).str();
  const std::string_view magic = is_snapshot ? kSnapshotMagic : kSegmentMagic;

  // Cuts the file off at `offset` (log segments only: the snapshot is replaced as a whole).
  auto cut = [&](size_t offset, const std::string& reason) {
    std::string message = path + ": " + reason + " at offset " + std::to_string(offset) + " of " +
                          std::to_string(data.size()) + " bytes";
    replay_stats_.truncations.push_back(message);
    if (is_snapshot) {
      log->error(
          "Sample snapshot is damaged, keeping the samples before the damage path={} "
          "offset={} err={}",
          LogValue(path),
          offset,
          LogValue(reason));
      return;
    }
    log->warn(
        "Sample log segment has a torn or corrupt tail, truncating it path={} offset={} "
        "size={} err={}",
        LogValue(path),
        offset,
        data.size(),
        LogValue(reason));
    std::error_code ec;
    if (offset < kFileHeaderSize) {
      // Nothing of a segment without a complete header can be read.
      fs::remove(path, ec);
    } else {
      fs::resize_file(path, offset, ec);
    }
    if (ec) {
      log->error("Truncating a sample log segment failed path={} err={}",
                 LogValue(path),
                 LogValue(ec.message()));
    }
  };

  if (data.size() < kFileHeaderSize) {
    cut(0, "file is shorter than its header");
    return std::nullopt;
  }
  if (std::string_view(data).substr(0, magic.size()) != magic) {
    log->error("Not a sample checkpoint file of this kind, skipping it path={}", LogValue(path));
    return std::nullopt;
  }
  Reader header(data);
  header.Fixed(static_cast<int>(magic.size()));
  uint32_t version = header.U32();
  header.U32();
  uint64_t number = header.U64();
  if (version != kFormatVersion) {
    log->error(
        "Unsupported sample checkpoint format version, skipping the file path={} "
        "version={} supported={}",
        LogValue(path),
        version,
        kFormatVersion);
    return std::nullopt;
  }

  size_t offset = kFileHeaderSize;
  while (offset < data.size()) {
    if (data.size() - offset < kRecordHeaderSize) {
      cut(offset, "incomplete record header");
      break;
    }
    Reader record_header(std::string_view(data).substr(offset, kRecordHeaderSize));
    uint32_t length = record_header.U32();
    uint32_t crc = record_header.U32();
    if (length == 0 || length > kMaxRecordSize) {
      cut(offset, "invalid record length " + std::to_string(length));
      break;
    }
    if (data.size() - offset - kRecordHeaderSize < length) {
      cut(offset, "incomplete record of " + std::to_string(length) + " bytes");
      break;
    }
    std::string_view payload = std::string_view(data).substr(offset + kRecordHeaderSize, length);
    if (Crc32c(payload.data(), payload.size()) != crc) {
      cut(offset, "record checksum mismatch");
      break;
    }
    std::vector<Labels> series;
    std::vector<DecodedSample> samples;
    if (!DecodePayload(payload, &series, &samples)) {
      cut(offset, "malformed record");
      break;
    }
    for (const DecodedSample& sample : samples) {
      if (sample.t < min_t) {
        ++replay_stats_.dropped_samples;
        continue;
      }
      store_->Append(series[sample.ref], sample.t, sample.v);
      ++replay_stats_.samples;
    }
    offset += kRecordHeaderSize + length;
  }
  return number;
}

void SampleCheckpoint::OnAppend(const Labels& labels, int64_t t, double v) {
  // NOTE: while a flush is stuck in a slow write, the buffer grows without a limit.
  std::lock_guard lock(buffer_mu_);
  buffer_.Add(labels, t, v);
  if (buffer_.encoded_size() >= options_.flush_bytes && !flush_requested_) {
    flush_requested_ = true;
    flush_cv_.notify_one();
  }
}

void SampleCheckpoint::FlushLoop() {
  while (true) {
    {
      std::unique_lock lock(buffer_mu_);
      flush_cv_.wait_for(
          lock, options_.flush_interval, [this] { return closing_ || flush_requested_; });
      if (closing_) {
        return;
      }
    }
    // Failures are logged and counted by FlushLocked.
    (void)Flush();
  }
}

Status SampleCheckpoint::Flush() {
  std::lock_guard lock(file_mu_);
  return FlushLocked();
}

Status SampleCheckpoint::FlushLocked() {
  Batch batch;
  {
    std::lock_guard lock(buffer_mu_);
    std::swap(batch, buffer_);
    flush_requested_ = false;
  }
  if (batch.empty()) {
    return Status::Ok();
  }
  Status status = Status::Ok();
  if (fd_ < 0) {
    status = OpenSegmentLocked();
  }
  if (status.ok()) {
    std::string path = SegmentPath(next_segment_ - 1);
    status = WriteAll(fd_, batch.EncodeRecord(), path);
    if (status.ok() && ::fdatasync(fd_) != 0) {
      status = ErrnoError("syncing", path, errno);
    }
    if (!status.ok()) {
      // The segment may end in a partial record now. Replay cuts it there, and later records
      // go to a new segment so that they still replay.
      ::close(fd_);
      fd_ = -1;
    }
  }
  if (!status.ok()) {
    ++write_failures_;
    samples_lost_ += batch.size();
  }
  ReportLocked(status, log_error_, "Writing the sample log");
  return status;
}

Status SampleCheckpoint::OpenSegmentLocked() {
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
  const uint64_t index = next_segment_++;
  const std::string path = SegmentPath(index);
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    return ErrnoError("creating sample log segment", path, errno);
  }
  Status status = WriteAll(fd, FileHeader(kSegmentMagic, index), path);
  if (status.ok() && ::fdatasync(fd) != 0) {
    status = ErrnoError("syncing", path, errno);
  }
  if (status.ok()) {
    status = SyncDir(options_.dir);
  }
  if (!status.ok()) {
    ::close(fd);
    return status;
  }
  fd_ = fd;
  return Status::Ok();
}

Status SampleCheckpoint::Snapshot() {
  std::lock_guard snapshot_lock(snapshot_mu_);
  {
    std::lock_guard lock(buffer_mu_);
    if (closing_) {
      return Status::Ok();
    }
  }
  uint64_t first_segment = 0;
  {
    std::lock_guard lock(file_mu_);
    // A failed flush is fine here: its samples are in the window, so the snapshot has them.
    (void)FlushLocked();
    first_segment = next_segment_;
    // Every sample the window kept before this point is in a segment below first_segment,
    // and the Select below happens later, so the snapshot contains all of them. Samples
    // appended in between are in both, and replaying them twice changes nothing.
    Status opened = OpenSegmentLocked();
    ReportLocked(opened, log_error_, "Writing the sample log");
    if (!opened.ok()) {
      ++write_failures_;
    }
  }
  std::vector<Series> window =
      store_->Select({}, std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max());
  Status status = WriteSnapshot(window, first_segment);
  if (status.ok()) {
    ++snapshots_;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(options_.dir, ec)) {
      auto index = SegmentIndex(entry.path().filename().string());
      if (index && *index < first_segment) {
        std::error_code remove_ec;
        fs::remove(entry.path(), remove_ec);
      }
    }
  } else {
    ++snapshot_failures_;
  }
  ReportLocked(status, snapshot_error_, "Writing the sample snapshot");
  return status;
}

Status SampleCheckpoint::WriteSnapshot(const std::vector<Series>& window, uint64_t first_segment) {
  const fs::path dir(options_.dir);
  const std::string temp_path = (dir / kSnapshotTempName).string();
  const std::string path = (dir / kSnapshotName).string();
  int fd = ::open(temp_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    return ErrnoError("creating", temp_path, errno);
  }

  Status status = WriteAll(fd, FileHeader(kSnapshotMagic, first_segment), temp_path);
  Batch batch;
  for (size_t i = 0; i < window.size() && status.ok(); ++i) {
    for (const Sample& sample : window[i].samples) {
      batch.Add(window[i].labels, sample.t, sample.v);
    }
    if (batch.encoded_size() >= kSnapshotRecordSize || i + 1 == window.size()) {
      status = WriteAll(fd, batch.EncodeRecord(), temp_path);
      batch = Batch();
    }
  }

  if (status.ok() && ::fsync(fd) != 0) {
    status = ErrnoError("syncing", temp_path, errno);
  }
  if (::close(fd) != 0 && status.ok()) {
    status = ErrnoError("closing", temp_path, errno);
  }
  if (status.ok() && std::rename(temp_path.c_str(), path.c_str()) != 0) {
    status = ErrnoError("renaming " + temp_path + " to", path, errno);
  }
  if (!status.ok()) {
    ::unlink(temp_path.c_str());
    return status;
  }
  return SyncDir(options_.dir);
}

void SampleCheckpoint::Close() {
  // Waits for a running snapshot, and keeps later ones from opening a segment.
  std::lock_guard snapshot_lock(snapshot_mu_);
  {
    std::lock_guard lock(buffer_mu_);
    if (closing_) {
      return;
    }
    closing_ = true;
  }
  flush_cv_.notify_all();
  if (flusher_.joinable()) {
    flusher_.join();
  }
  store_->SetObserver(nullptr);
  std::lock_guard lock(file_mu_);
  (void)FlushLocked();
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
}

void SampleCheckpoint::ReportLocked(const Status& status,
                                    std::string& last_error,
                                    const char* what) {
  auto log = Logger("storage");
  if (status.ok()) {
    if (!last_error.empty()) {
      log->info("{} succeeded again dir={}", what, LogValue(options_.dir));
      last_error.clear();
    }
    return;
  }
  if (status.error().message() != last_error) {
    log->error("{} failed, evaluation continues without it err={}",
               what,
               LogValue(status.error().message()));
    last_error = status.error().message();
  }
}

std::string SampleCheckpoint::SegmentPath(uint64_t index) const {
  char name[32];
  std::snprintf(name, sizeof(name), "wal-%08llu", static_cast<unsigned long long>(index));
  return (fs::path(options_.dir) / name).string();
}

}  // namespace alertd
