// The "raft" node kind: Raft (src/node/raft) replicating a test state machine, under the simulator.
//
// Options (scenario `options`, all optional):
//   voters: "3"                  the first N nodes bootstrap as voters (default: all nodes)
//   add_learners_at_s: "5"       from then on the other nodes are added as learners, one at a time
//                                (leaders promote them to voters once caught up)
//   pre_vote, check_quorum: "true"|"false"   (default true; both false reproduce Qdrant)
//   tick_ms: "100"               the tick period (SPEC.md §3)
//   compact_entries: "128"       snapshot + log truncation interval (compact_wal_entries)
//   snapshot_chunk_bytes: "65536"
//   max_entries_per_msg: "256", max_inflight_msgs: "256"   flow control (raft/config.h)
//   planted_bug: "name[,name]"   switches on planted Raft bugs (raft/planted_bugs.h)
// The workload proposes `workload.ops_per_s` commands through random live nodes.
#ifndef QDSIM_SIM_RAFT_KIND_H_
#define QDSIM_SIM_RAFT_KIND_H_

#include "sim/node_kind.h"

namespace qdsim::sim {

void RegisterRaftKind(NodeKindRegistry& registry);

}  // namespace qdsim::sim

#endif  // QDSIM_SIM_RAFT_KIND_H_
