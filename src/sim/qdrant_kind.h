// The "qdrant" node kind: full nodes (node/node.h) — Raft, the metadata, local shard replicas, point
// replication, transfers and recovery — under the simulator, with a workload of clients that create
// collections, write and read points and run metadata operations, and the checkers of SPEC.md §6.
//
// Roles for scenario steps: "leader" (the Raft leader of the highest term) and "follower" (the
// lowest-id running node that is not the leader).
//
// Scenario options (all optional):
//   pre_vote, check_quorum          Raft switches (Qdrant runs with both off) [true]
//   tick_ms, compact_entries        Raft timing and compaction [100, 128]
//   voters                          initial voters 1..voters; the rest join at join_at_s [nodes]
//   join_at_s                       when peers voters+1.. join, 2 s apart [3]
//   shards, replication_factor, write_consistency_factor, dim, distance ("Dot", "Cosine", "Euclid",
//                                   "Manhattan")  the workload's collection [nodes, 2, 1, 8, Dot]
//   create_at_s                     when the collection is created [1]
//   second_collection_at_s          create collection "late" too (e.g. after joins) [never]
//   move_shard_at_s, replicate_shard_at_s   the user moves / replicates a shard of the collection
//   lose_node, lose_at_s            crash that node for good at that time; it is force-removed
//   repair_replication_at_s         from then on, replicate under-replicated shards onto other peers
//   qdrant_dead_marking             reproduce Qdrant's dead-marking (divergence #4626) [false]
//   op_timeout_s                    client timeout of point and metadata operations [2]
//   meta_ops_per_min                create/delete scratch collections at this rate [6]
//   read_consistency, write_ordering [1, weak]
//   upsert_batch, read_fraction     points per upsert 1..N; share of reads among operations [4, 0.38]
//   workload_stop_s                 clients stop issuing at this time [duration_s]
//   expect_metadata_unavailable_s   "A,B": every metadata operation invoked in [A, B] fails
//   expect_points_available_s       "A,B": most point writes and reads invoked in [A, B] succeed
//   expect_metadata_available_s     "A,B": most metadata operations invoked in [A, B] succeed
//   planted_bug                     "name[,name]": planted Raft bugs (raft/planted_bugs.h) and
//                                   cluster bugs (shard/cluster_bugs.h) switched on
//   watch_point                     trace every write of this point id and every change of its
//                                   replicas (see it with `qdsim run --trace`)
#ifndef QDSIM_SIM_QDRANT_KIND_H_
#define QDSIM_SIM_QDRANT_KIND_H_

#include "sim/node_kind.h"

namespace qdsim::sim {

void RegisterQdrantKind(NodeKindRegistry& registry);

}  // namespace qdsim::sim

#endif  // QDSIM_SIM_QDRANT_KIND_H_
