// Config: everything a Raft node is constructed with.
//
//   raft::MemoryStorage storage;
//   world::Random rng = env.random().Fork("raft");
//   raft::Config config;
//   config.id = 1;
//   config.storage = &storage;
//   config.random = &rng;
//   ASSIGN_OR_RETURN(std::unique_ptr<raft::RawNode> node, raft::RawNode::Create(config));
//
// Thread-safety: a value type.
#ifndef QDSIM_NODE_RAFT_CONFIG_H_
#define QDSIM_NODE_RAFT_CONFIG_H_

#include <cstdint>

#include "absl/status/status.h"
#include "node/raft/planted_bugs.h"
#include "node/raft/storage.h"
#include "node/world/env.h"
#include "node/world/random.h"

namespace qdsim::raft {

// The id meaning "nobody" (no leader known, no vote cast).
inline constexpr uint64_t kNone = 0;

struct Config {
  // This node's id. REQUIRES: != kNone.
  uint64_t id = kNone;

  // Ticks without hearing from a leader before a follower campaigns; the actual timeout is drawn
  // uniformly from [election_tick, 2 * election_tick) after every reset. SPEC.md §3: 20.
  // REQUIRES: > heartbeat_tick.
  int election_tick = 20;

  // Ticks between leader heartbeats. SPEC.md §3: 2. REQUIRES: > 0.
  int heartbeat_tick = 2;

  // The durable log the node reads (not owned; must outlive the node). REQUIRES: non-null.
  const Storage* storage = nullptr;

  // The source of randomised election timeouts (not owned; must outlive the node). REQUIRES:
  // non-null.
  world::Random* random = nullptr;

  // Where state transitions are reported (not owned; may be null: silent).
  world::Logger* logger = nullptr;

  // The last index the application applied before a restart; entries up to it are not handed out
  // again. 0 for a new node.
  uint64_t applied = 0;

  // Cap on the entry bytes in one MsgApp (one entry is always allowed). 0 sends at most one entry.
  uint64_t max_size_per_msg = 1 << 20;

  // Cap on the number of entries in one MsgApp; 0 = unlimited.
  uint64_t max_entries_per_msg = 256;

  // Cap on the entry bytes of one Ready's committed_entries (one entry is always allowed).
  uint64_t max_committed_size_per_ready = 1 << 20;

  // Flow control: MsgApps in flight to one follower in Replicate state. REQUIRES: > 0.
  int max_inflight_msgs = 256;

  // Flow control: entry bytes in flight to one follower; 0 = unlimited.
  uint64_t max_inflight_bytes = 0;

  // Run a pre-vote round before incrementing the term, so a partitioned node cannot disrupt the
  // group when it returns. SPEC.md §1: default true; false reproduces Qdrant.
  bool pre_vote = true;

  // A leader steps down if it has not heard from a quorum within an election timeout, and a
  // follower that heard from a leader within the timeout ignores (pre)vote requests (leader
  // lease). SPEC.md §1: default true; false reproduces Qdrant.
  bool check_quorum = true;

  // LearnerCaughtUp() holds when a learner's match index is within this many entries of the
  // leader's last index.
  uint64_t learner_max_lag = 0;

  // Deliberate deviations for testing the testers; all off by default.
  PlantedBugs planted_bugs;

  // OK, or InvalidArgument naming the first violated REQUIRES above.
  absl::Status Validate() const;
};

}  // namespace qdsim::raft

#endif  // QDSIM_NODE_RAFT_CONFIG_H_
