// Checkers of the "qdrant" node kind (beside Raft's, which it reuses):
//   metadata_agreement   every peer that applied Raft index i holds the same metadata after it
//   acked_writes         at the end, every Active replica holds every acknowledged write (the value
//                        of each certain point, or its absence after an acknowledged delete)
//   replica_convergence  at the end, all Active replicas of a shard hold identical points
//   search_oracle        near the end, searches through the API equal a brute-force top-k over the
//                        Active replicas' points (which acked_writes ties to the acknowledged data)
//   transfers_end        no shard transfer lasts longer than 120 s; none is left at the end
//   liveness             after the faults end, within liveness_s: one metadata view everywhere,
//                        every replica Active, no transfer, every peer ready
//   availability         the scenario's expect_metadata_unavailable_s / expect_points_available_s
#ifndef QDSIM_SIM_QDRANT_CHECKERS_H_
#define QDSIM_SIM_QDRANT_CHECKERS_H_

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "node/node.h"
#include "sim/node_kind.h"
#include "sim/qdrant_history.h"
#include "sim/raft_checkers.h"

namespace qdsim::sim {

// What the checkers see of the cluster.
struct QdrantView {
  std::function<Node*(world::PeerId)> node;    // a running, not permanently lost node, or null
  QdrantHistory* history = nullptr;
  uint32_t nodes = 0;
  // availability windows, in simulated seconds
  std::optional<std::pair<double, double>> metadata_unavailable;
  std::optional<std::pair<double, double>> points_available;
  std::optional<std::pair<double, double>> metadata_available;
  // Called by search_oracle to run a search on a node and hand back the answer (the kind issues it).
  std::function<void(world::PeerId via, shard::SearchRequest request,
                     std::function<void(absl::StatusOr<std::vector<shard::ScoredPoint>>)> done)>
      search;
  double end_s = 0;  // when the run ends (duration_s + liveness_s)
  const RaftHistory* raft = nullptr;  // elections and terms, for the liveness report
};

// The running node that has applied the most of the Raft log (lowest id on a tie), or null.
Node* MostAdvancedNode(QdrantView& view);

std::vector<std::string> QdrantCheckNames();
std::unique_ptr<Checker> MakeQdrantChecker(std::string_view name, QdrantView& view);

}  // namespace qdsim::sim

#endif  // QDSIM_SIM_QDRANT_CHECKERS_H_
