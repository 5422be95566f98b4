// DurableLog: Raft's persistent state — hard state, log entries and the latest snapshot — on the
// world disk, and its recovery after a crash at any instant.
//
// Files (under `dir`):
//   log       a sequence of records: BASE (the snapshot the log follows), HARD_STATE, ENTRY.
//             An ENTRY whose index is not past the last one replaces the suffix from that index.
//   snapshot  one SNAPSHOT record (written to snapshot.tmp, synced, then renamed).
// Record: [u32 length][u32 crc32c(type + payload)][u8 type][payload], little-endian; payloads are
// serialized raftpb messages. Recovery keeps the longest valid prefix of `log` (reading it a few
// times: read faults are transient, a torn or corrupt tail is not), truncates the rest, and drops
// log entries that do not continue the snapshot it finds.
//
// Nothing is durable until a Sync() (or SaveSnapshot()) callback has run.
//
//   DurableLog log(env.disk(), "raft");
//   ASSIGN_OR_RETURN(DurableLog::Recovered state, log.Recover());
//   RETURN_IF_ERROR(log.Append(hard_state, entries));
//   log.Sync([](absl::Status s) { /* now acknowledge */ });
//
// Thread-safety: none; used on the node's logical thread.
#ifndef QDSIM_NODE_RAFT_DURABLE_LOG_H_
#define QDSIM_NODE_RAFT_DURABLE_LOG_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "node/world/disk.h"
#include "proto/raft.pb.h"

namespace qdsim::raft {

class DurableLog {
 public:
  using Done = std::function<void(absl::Status)>;

  // What Recover() found.
  struct Recovered {
    std::optional<raftpb::Snapshot> snapshot;  // latest durable snapshot, if any
    raftpb::HardState hard_state;              // latest durable hard state (zero if none)
    std::vector<raftpb::Entry> entries;        // contiguous, all after the snapshot's index
    uint64_t dropped_tail_bytes = 0;           // torn or corrupt bytes cut off the log
    bool empty() const { return !snapshot && entries.empty() && hard_state.term() == 0; }
  };

  DurableLog(world::Disk& disk, std::string dir);

  // Reads the durable state back and truncates a torn or corrupt log tail. DataLoss if the snapshot
  // file is unreadable after retries (a fault outside the model: refuse to start rather than guess).
  absl::StatusOr<Recovered> Recover();

  // Appends a hard state (if given) and entries to the log; volatile until Sync().
  absl::Status Append(const std::optional<raftpb::HardState>& hard_state,
                      const std::vector<raftpb::Entry>& entries);

  // Makes every earlier Append durable, then calls `done`.
  void Sync(Done done);

  // Durably replaces the snapshot with `snapshot` and the log with `hard_state` + `entries` (which
  // must all follow the snapshot), then calls `done`. Until then the old state stays recoverable;
  // a crash in between recovers either the old or the new state, both consistent. Appends made
  // before `done` runs are not allowed. REQUIRES: no other SaveSnapshot in flight.
  void SaveSnapshot(raftpb::Snapshot snapshot, raftpb::HardState hard_state,
                    std::vector<raftpb::Entry> entries, Done done);

  // Bytes appended to the log since it was last rewritten (a compaction hint).
  uint64_t log_bytes() const { return log_bytes_; }

 private:
  std::string Path(std::string_view name) const { return dir_ + "/" + std::string(name); }
  // Renames a complete log.tmp that follows `snapshot` over the log, or removes it.
  absl::Status RollForwardLogTmp(const std::optional<raftpb::Snapshot>& snapshot);
  absl::Status WriteLogFile(const std::string& file, const raftpb::SnapshotMetadata& base,
                            const raftpb::HardState& hs, const std::vector<raftpb::Entry>& entries);

  world::Disk& disk_;
  std::string dir_;
  uint64_t log_bytes_ = 0;  // size of `log` as this incarnation knows it
};

}  // namespace qdsim::raft

#endif  // QDSIM_NODE_RAFT_DURABLE_LOG_H_
