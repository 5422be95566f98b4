// Replication policy: the pure rules of SPEC.md §6 that decide who takes a write, whether a write
// succeeded, who serves a read, and which failed replicas to mark Dead. The replication layer applies
// them; keeping them here, free of I/O, lets every rule be tested on its own.
//
//   ShardReplicas replicas = ...;                         // from the cluster metadata
//   std::vector<uint64_t> targets = WriteTargets(replicas, WriteOrdering::kWeak);
//   WriteOutcome out = JudgeWrite(replicas, write_consistency_factor, successes, failures);
//   if (!out.status.ok()) ...; for (uint64_t peer : out.mark_dead) ProposeDead(peer);
#ifndef QDSIM_NODE_REPLICATION_CONSISTENCY_H_
#define QDSIM_NODE_REPLICATION_CONSISTENCY_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "proto/consensus.pb.h"

namespace qdsim::replication {

using ReplicaState = consensuspb::ReplicaState;

// One shard's replicas as the metadata has them (peer ids ascending).
using ShardReplicas = std::vector<consensuspb::Replica>;

// Ordering of a write (SPEC.md §6): weak fans out to every updatable replica; medium goes through
// the highest-id Active replica; strong through the highest-id replica, failing if it is not Active.
enum class WriteOrdering { kWeak, kMedium, kStrong };

absl::StatusOr<WriteOrdering> ParseWriteOrdering(std::string_view text);  // "weak" | "medium" | "strong"

// Replicas that must receive writes: Active, Partial (receiving a transfer), Initializing and
// Listener ones. Dead and Recovery replicas miss writes until a transfer brings them back.
bool IsUpdatable(ReplicaState state);
// Replicas that may serve reads: Active only.
bool IsReadable(ReplicaState state);

// The peers a write is sent to, in ascending id order. For medium and strong ordering a single
// peer (the one the write is routed through). Unavailable if no replica can take the write, or
// (weak) if the shard has no Active replica: such a write could not succeed.
absl::StatusOr<std::vector<uint64_t>> WriteTargets(const ShardReplicas& replicas, WriteOrdering ordering);

// The verdict on a write that `attempted` replicas were asked to apply.
struct WriteOutcome {
  absl::Status status;             // OK, or the error the client sees
  std::vector<uint64_t> mark_dead; // failed replicas to propose Dead (compare-and-set from `state`)
};

// Success needs min(write_consistency_factor, attempted) successes, at least one of them on an
// Active replica. Failed replicas are to be marked Dead — except that one Active replica always
// remains (if every Active replica failed, all but the highest-id one are marked, so the shard
// converges on that one). As in Qdrant, replicas that applied a write that then fails keep it.
WriteOutcome JudgeWrite(const ShardReplicas& replicas, uint32_t write_consistency_factor,
                        const std::vector<uint64_t>& succeeded, const std::vector<uint64_t>& failed);

// Read consistency (SPEC.md §6): an integer N, "majority", "quorum" or "all".
struct ReadConsistency {
  enum class Kind { kCount, kMajority, kQuorum, kAll } kind = Kind::kCount;
  uint32_t count = 1;  // for kCount
};
absl::StatusOr<ReadConsistency> ParseReadConsistency(std::string_view text);

// How many readable replicas a read must hear from: N (capped at the readable replicas), a
// majority of them, a quorum of all replicas (capped), or all readable ones. At least 1.
uint32_t RequiredReads(const ReadConsistency& consistency, const ShardReplicas& replicas);

// Readable replicas in the order a read should try them: the local peer first, then ascending id.
std::vector<uint64_t> ReadOrder(const ShardReplicas& replicas, uint64_t local_peer);

}  // namespace qdsim::replication

#endif  // QDSIM_NODE_REPLICATION_CONSISTENCY_H_
