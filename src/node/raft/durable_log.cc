#include "node/raft/durable_log.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "node/world/records.h"
#include "node/world/status_macros.h"
#include "node/world/strings.h"

namespace qdsim::raft {
namespace {

enum RecordType : uint8_t {
  kBase = 1,       // raftpb::SnapshotMetadata (index, term) of the snapshot the log follows
  kHardState = 2,  // raftpb::HardState
  kEntry = 3,      // raftpb::Entry
  kSnapshot = 4,   // raftpb::Snapshot (the snapshot file's only record)
};

constexpr char kLogFile[] = "log";
constexpr char kLogTmpFile[] = "log.tmp";
constexpr char kSnapshotFile[] = "snapshot";
constexpr char kSnapshotTmpFile[] = "snapshot.tmp";

// Replays log records into `out`; returns the valid prefix length.
size_t ReplayLog(std::string_view bytes, raftpb::SnapshotMetadata* base, DurableLog::Recovered* out) {
  world::RecordReader reader(bytes);
  while (auto record = reader.Next()) {
    switch (record->type) {
      case kBase: {
        raftpb::SnapshotMetadata m;
        if (!m.ParseFromArray(record->payload.data(), static_cast<int>(record->payload.size()))) {
          return reader.valid_bytes() - record->payload.size() - 9;
        }
        *base = m;
        break;
      }
      case kHardState: {
        raftpb::HardState hs;
        if (!hs.ParseFromArray(record->payload.data(), static_cast<int>(record->payload.size()))) {
          return reader.valid_bytes() - record->payload.size() - 9;
        }
        out->hard_state = hs;
        break;
      }
      case kEntry: {
        raftpb::Entry e;
        if (!e.ParseFromArray(record->payload.data(), static_cast<int>(record->payload.size()))) {
          return reader.valid_bytes() - record->payload.size() - 9;
        }
        auto& entries = out->entries;
        // An entry at or before the end replaces the suffix from its index (a conflict was resolved).
        while (!entries.empty() && entries.back().index() >= e.index()) entries.pop_back();
        if (!entries.empty() && entries.back().index() + 1 != e.index()) {
          return reader.valid_bytes() - record->payload.size() - 9;  // a gap: not ours
        }
        entries.push_back(std::move(e));
        break;
      }
      default:
        return reader.valid_bytes() - record->payload.size() - 9;
    }
  }
  return reader.valid_bytes();
}

// Keeps the entries that continue `snapshot`: those after its index, provided the log either was
// written to follow it (base) or agrees with it at its index.
void TrimToSnapshot(const raftpb::SnapshotMetadata& snap, const raftpb::SnapshotMetadata& base,
                    std::vector<raftpb::Entry>& entries) {
  const bool follows_snapshot = base.index() == snap.index() && base.term() == snap.term();
  bool agrees = follows_snapshot;
  for (const auto& e : entries) {
    if (e.index() == snap.index()) agrees = e.term() == snap.term();
  }
  if (!agrees && !follows_snapshot) {
    // Only entries the snapshot covers may remain; anything after belongs to another history.
    entries.clear();
    return;
  }
  entries.erase(std::remove_if(entries.begin(), entries.end(),
                               [&](const raftpb::Entry& e) { return e.index() <= snap.index(); }),
                entries.end());
  if (!entries.empty() && entries.front().index() != snap.index() + 1) entries.clear();
}

}  // namespace

DurableLog::DurableLog(world::Disk& disk, std::string dir) : disk_(disk), dir_(std::move(dir)) {}

absl::Status DurableLog::RollForwardLogTmp(const std::optional<raftpb::Snapshot>& snapshot) {
  absl::StatusOr<std::string> bytes = world::ReadRecordFile(disk_, Path(kLogTmpFile), /*whole_file_must_parse=*/true);
  if (absl::IsNotFound(bytes.status())) return absl::OkStatus();
  bool matches = false;
  if (bytes.ok() && snapshot) {
    world::RecordReader reader(*bytes);
    auto first = reader.Next();
    raftpb::SnapshotMetadata base;
    matches = first && first->type == kBase &&
              base.ParseFromArray(first->payload.data(), static_cast<int>(first->payload.size())) &&
              base.index() == snapshot->metadata().index() && base.term() == snapshot->metadata().term();
  }
  // A complete log.tmp written for the snapshot now in place is the newest log (the crash came
  // between the two renames); anything else is a leftover that never became the state.
  return matches ? disk_.Rename(Path(kLogTmpFile), Path(kLogFile)) : disk_.Remove(Path(kLogTmpFile));
}

absl::StatusOr<DurableLog::Recovered> DurableLog::Recover() {
  Recovered out;
  // snapshot.tmp was never renamed into place: the old snapshot and log are still the state.
  RETURN_IF_ERROR(disk_.Remove(Path(kSnapshotTmpFile)));

  absl::StatusOr<std::string> snap_bytes = world::ReadRecordFile(disk_, Path(kSnapshotFile), /*whole_file_must_parse=*/true);
  if (snap_bytes.ok()) {
    world::RecordReader reader(*snap_bytes);
    auto record = reader.Next();
    raftpb::Snapshot snap;
    if (!record || record->type != kSnapshot ||
        !snap.ParseFromArray(record->payload.data(), static_cast<int>(record->payload.size()))) {
      return absl::DataLossError(absl::StrCat(Path(kSnapshotFile), " does not hold a snapshot"));
    }
    out.snapshot = std::move(snap);
  } else if (!absl::IsNotFound(snap_bytes.status())) {
    return snap_bytes.status();
  }

  RETURN_IF_ERROR(RollForwardLogTmp(out.snapshot));

  absl::StatusOr<std::string> log_bytes = world::ReadRecordFile(disk_, Path(kLogFile), /*whole_file_must_parse=*/false);
  if (absl::IsNotFound(log_bytes.status())) {
    // Start a log that says which snapshot it follows, so that entries appended to it are tied to
    // that snapshot after the next crash (a log without a base would be dropped by TrimToSnapshot).
    raftpb::SnapshotMetadata base;
    if (out.snapshot) base = out.snapshot->metadata();
    RETURN_IF_ERROR(WriteLogFile(Path(kLogFile), base, out.hard_state, {}));
    if (out.snapshot && out.hard_state.commit() < out.snapshot->metadata().index()) {
      out.hard_state.set_commit(out.snapshot->metadata().index());
    }
    return out;
  }
  RETURN_IF_ERROR(log_bytes.status());
  raftpb::SnapshotMetadata base;
  const size_t valid = ReplayLog(*log_bytes, &base, &out);
  if (valid < log_bytes->size()) {
    out.dropped_tail_bytes = log_bytes->size() - valid;
    RETURN_IF_ERROR(disk_.Truncate(Path(kLogFile), valid));
  }
  log_bytes_ = valid;
  if (out.snapshot) TrimToSnapshot(out.snapshot->metadata(), base, out.entries);
  const uint64_t snap_index = out.snapshot ? out.snapshot->metadata().index() : 0;
  // A hard state may have reached the disk with only part of the entries it was written with (a
  // torn write keeps a prefix): it can never claim a commit index beyond what the log holds.
  const uint64_t last = out.entries.empty() ? snap_index : out.entries.back().index();
  out.hard_state.set_commit(std::max(snap_index, std::min<uint64_t>(out.hard_state.commit(), last)));
  return out;
}

absl::Status DurableLog::Append(const std::optional<raftpb::HardState>& hard_state,
                                const std::vector<raftpb::Entry>& entries) {
  std::string bytes;
  if (hard_state) world::AppendRecord(bytes, kHardState, hard_state->SerializeAsString());
  for (const auto& e : entries) world::AppendRecord(bytes, kEntry, e.SerializeAsString());
  if (bytes.empty()) return absl::OkStatus();
  RETURN_IF_ERROR(disk_.Append(Path(kLogFile), bytes));
  log_bytes_ += bytes.size();
  return absl::OkStatus();
}

void DurableLog::Sync(Done done) { disk_.Sync(Path(kLogFile), std::move(done)); }

absl::Status DurableLog::WriteLogFile(const std::string& file, const raftpb::SnapshotMetadata& base,
                                      const raftpb::HardState& hs,
                                      const std::vector<raftpb::Entry>& entries) {
  raftpb::SnapshotMetadata header;
  header.set_index(base.index());
  header.set_term(base.term());
  std::string bytes;
  world::AppendRecord(bytes, kBase, header.SerializeAsString());
  if (hs.term() != 0) world::AppendRecord(bytes, kHardState, hs.SerializeAsString());
  for (const auto& e : entries) world::AppendRecord(bytes, kEntry, e.SerializeAsString());
  RETURN_IF_ERROR(disk_.Remove(file));
  RETURN_IF_ERROR(disk_.Append(file, bytes));
  return absl::OkStatus();
}

void DurableLog::SaveSnapshot(raftpb::Snapshot snapshot, raftpb::HardState hard_state,
                              std::vector<raftpb::Entry> entries, Done done) {
  // 1. snapshot.tmp and log.tmp written and synced (the old files are still the current state);
  // 2. snapshot.tmp renamed over snapshot, synced (old log + new snapshot recover consistently: the
  //    log's entries are trimmed to those continuing the snapshot);
  // 3. log.tmp renamed over log, synced.
  const raftpb::SnapshotMetadata base = snapshot.metadata();
  absl::Status s = disk_.Remove(Path(kSnapshotTmpFile));
  if (s.ok()) s = disk_.Append(Path(kSnapshotTmpFile), world::EncodeRecord(kSnapshot, snapshot.SerializeAsString()));
  if (s.ok()) s = WriteLogFile(Path(kLogTmpFile), base, hard_state, entries);
  if (!s.ok()) {
    done(s);
    return;
  }
  disk_.Sync(Path(kSnapshotTmpFile), [this, done = std::move(done)](absl::Status s1) mutable {
    if (!s1.ok()) return done(s1);
    disk_.Sync(Path(kLogTmpFile), [this, done = std::move(done)](absl::Status s2) mutable {
      if (!s2.ok()) return done(s2);
      if (absl::Status r = disk_.Rename(Path(kSnapshotTmpFile), Path(kSnapshotFile)); !r.ok()) return done(r);
      disk_.Sync(Path(kSnapshotFile), [this, done = std::move(done)](absl::Status s3) mutable {
        if (!s3.ok()) return done(s3);
        if (absl::Status r = disk_.Rename(Path(kLogTmpFile), Path(kLogFile)); !r.ok()) return done(r);
        absl::StatusOr<uint64_t> size = disk_.Size(Path(kLogFile));
        log_bytes_ = size.ok() ? *size : 0;
        disk_.Sync(Path(kLogFile), std::move(done));
      });
    });
  });
}

}  // namespace qdsim::raft
