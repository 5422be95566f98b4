// DeadMarks: proposing that replicas which missed a write are Dead, and not forgetting it.
//
// A replica that failed a write may lack it, so it must stop serving reads until a transfer has
// brought it back (SPEC.md §6). The mark is a compare-and-set through consensus: on the generation
// (life) the writer saw, whatever its state now, so a mark that arrives late never kills a replica that has been
// recovered since. When consensus cannot commit the mark in time (no majority: two peers, one
// down), the write may still succeed on the remaining replica — so the mark is made durable on this
// peer's disk before the write is acknowledged, and proposed again every second, across restarts,
// until consensus gives its verdict. Qdrant instead blocks the write for up to 30 s (and forgets the
// mark on restart).
//
//   DeadMarks marks(env, consensus);            // reloads and retries marks left by a crash
//   marks.Propose(mark, timeout, [&](DeadMarks::Outcome o) {
//     if (o == DeadMarks::Outcome::kTimedOut) marks.Persist(mark, [&](absl::Status s) { ... });
//   });
//
// File `replication/dead_marks`: framed records (world/records.h), one per mark (type 1) and one
// per settled mark (type 2); a torn tail is dropped (its write was never acknowledged). The file is
// removed once nothing is outstanding.
//
// Thread-safety: none; every call happens on the node's logical thread.
#ifndef QDSIM_NODE_REPLICATION_DEAD_MARKS_H_
#define QDSIM_NODE_REPLICATION_DEAD_MARKS_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "node/consensus/consensus_manager.h"
#include "node/world/env.h"
#include "proto/consensus.pb.h"

namespace qdsim::replication {

class DeadMarks {
 public:
  enum class Outcome {
    kApplied,   // the replica is now Dead
    kRefused,   // consensus refused it: the replica changed state or life since, or is the last Active
    kTimedOut,  // no verdict within the timeout (it may still be applied later)
  };
  using Done = std::function<void(Outcome)>;

  // Reloads outstanding marks from disk and starts retrying them. A corrupt file is logged and
  // its valid prefix kept.
  DeadMarks(world::Env& env, consensus::ConsensusManager& consensus);
  ~DeadMarks();

  // The mark for `peer`'s replica of (collection, shard) as the writer saw it; `witnesses` are the
  // Active replicas that took the write (see SetReplicaState.witnesses).
  static consensuspb::SetReplicaState Mark(const std::string& collection, uint32_t shard,
                                           const consensuspb::Replica& replica,
                                           const std::vector<consensuspb::Replica>& witnesses = {});

  // Proposes `mark` once; `done` runs exactly once.
  void Propose(const consensuspb::SetReplicaState& mark, world::Duration timeout, Done done);

  // Makes `mark` durable, then proposes it every second until consensus gives a verdict. `done`
  // runs once the mark is synced (OK) or could not be written (the write must then fail).
  void Persist(const consensuspb::SetReplicaState& mark, std::function<void(absl::Status)> done);

  // Marks persisted and not yet settled.
  size_t outstanding() const { return outstanding_.size(); }
  // True if a persisted, unsettled mark covers `replica` of (collection, shard) in its current life
  // (as its first replica or in also_dead).
  bool Pending(const std::string& collection, uint32_t shard, const consensuspb::Replica& replica) const;
  // True if exactly this mark (witnesses included) is persisted and unsettled.

 private:
  // Marks are kept by the replica lives they name and their witnesses: a mark is retried with the
  // witnesses of every write that needed it, since any one of them still Active makes it valid.
  static std::string KeyOf(const consensuspb::SetReplicaState& mark);
  void Load();
  void Retry();
  void Settle(const std::string& key);
  void ScheduleRetry();

  world::Env& env_;
  consensus::ConsensusManager& consensus_;
  std::map<std::string, consensuspb::SetReplicaState> outstanding_;  // key -> persisted mark
  std::map<std::string, bool> in_flight_;   // keys with a retry proposal waiting for a verdict
  int persisting_ = 0;                      // Persist() calls waiting for their sync (keep the file)
  world::TimerId retry_timer_ = 0;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);  // false once destroyed
};

}  // namespace qdsim::replication

#endif  // QDSIM_NODE_REPLICATION_DEAD_MARKS_H_
