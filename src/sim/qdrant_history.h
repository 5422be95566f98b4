// What the "qdrant" node kind's workload did and what the cluster promised, for its checkers.
//
// The model of the data: every point the workload ever wrote, with the value the cluster must hold
// for it. A write the cluster acknowledged sets the value (or absence, for a delete); a write that
// failed or whose answer never came may or may not have been applied, so its ids become
// `uncertain` and are never written again (a write still in flight could land after a later one).
// The exact checks cover every certain id; the convergence check covers all of them.
#ifndef QDSIM_SIM_QDRANT_HISTORY_H_
#define QDSIM_SIM_QDRANT_HISTORY_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "node/world/time.h"
#include "proto/shard.pb.h"

namespace qdsim::sim {

struct PointModel {
  bool exists = false;        // after the last acknowledged write
  shardpb::Point point;       // its value when it exists (vectors as written, payload)
  bool uncertain = false;     // a write of it failed or went unanswered
};

// One client operation as invoked and completed (for the availability checks).
struct OpRecord {
  enum class Kind { kWrite, kRead, kMetadata };
  Kind kind = Kind::kWrite;
  world::Instant invoked;
  world::Instant completed;   // == invoked if it never completed
  bool answered = false;
  bool ok = false;
  std::string error;          // when answered and not ok
};

struct QdrantHistory {
  std::string collection = "docs";          // the collection the workload writes
  std::map<uint64_t, PointModel> points;    // point id -> model
  std::vector<OpRecord> ops;                // every operation, in invocation order
  bool collection_created = false;          // the workload's collection exists (acknowledged)
  world::Instant collection_created_at{};   // when it was acknowledged
  world::Instant faults_end{};
  // Counters for the summary.
  uint64_t acked_points = 0;                // points in acknowledged writes
  uint64_t failed_writes = 0;
  uint64_t reads_ok = 0;
};

}  // namespace qdsim::sim

#endif  // QDSIM_SIM_QDRANT_HISTORY_H_
