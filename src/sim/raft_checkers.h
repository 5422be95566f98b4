// The Raft checkers: safety invariants checked after every simulator event, and liveness after the
// faults end. They see the cluster through RaftHistory, which every simulated node's RaftNode feeds
// through the RaftObserver hooks (and which reads node state directly when it needs more).
//
// Checks (names as scenarios give them):
//   election_safety        at most one leader per term
//   log_matching           an (index, term) pair identifies one entry and one predecessor term
//   leader_completeness    a new leader's log holds every entry committed so far
//   state_machine_safety   every node applies the same entry at the same index
//   monotonic_commit       commit and applied never decrease within an incarnation; applied <= commit
//   commit_rule            a leader advances its commit index only onto an entry of its own term
//   durability             nothing a node acknowledged (an append, a vote) is lost in a crash
//   liveness               after the faults end a leader is elected and a new proposal commits
//   all_voters             by the end every node is a voter (learners were promoted)
#ifndef QDSIM_SIM_RAFT_CHECKERS_H_
#define QDSIM_SIM_RAFT_CHECKERS_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "node/raft/raft_node.h"
#include "sim/node_kind.h"
#include "sim/simulation.h"

namespace qdsim::sim {

// What every node told the observer, reduced to what the invariants need.
class RaftHistory : public raft::RaftObserver {
 public:
  // Looks up a live node's RaftNode (null while it is down).
  using NodeLookup = std::function<const raft::RaftNode*(uint64_t id)>;
  RaftHistory(NodeLookup lookup, std::function<world::Instant()> now)
      : lookup_(std::move(lookup)), now_(std::move(now)) {}

  void OnRecovered(uint64_t node, const raft::DurableLog::Recovered& state) override;
  void OnDurable(uint64_t node, const raftpb::HardState& hs,
                 const std::vector<raftpb::Entry>& entries, uint64_t prev_term) override;
  void OnSend(uint64_t node, const raftpb::Message& m) override;
  void OnApply(uint64_t node, const raftpb::Entry& entry) override;
  void OnRestore(uint64_t node, const raftpb::SnapshotMetadata& meta) override;
  void OnRoleChange(uint64_t node, raft::StateRole role, uint64_t term, uint64_t lead) override;

  // Violations found so far, by check name (drained by the checkers).
  std::map<std::string, std::vector<std::string>> findings;
  void Report(const std::string& check, std::string detail);

  // Liveness bookkeeping, set by the kind.
  std::optional<world::Instant> faults_end;
  std::optional<world::Instant> commit_after_faults;   // first apply of a proposal made after them
  std::map<std::string, world::Instant> proposed_at;   // command -> when the workload proposed it
  uint64_t leaders_elected = 0;
  uint64_t max_term = 0;

 private:
  // An acknowledgement a node sent: it promised these facts were durable.
  struct Promise {
    uint64_t msg_term = 0;        // term of the acknowledging message
    uint64_t index = 0;           // MsgAppResp: highest index acknowledged
    uint64_t entry_term = 0;      // term of the node's entry at `index` when it acknowledged
  };
  struct NodeRecord {
    Promise appended;                          // latest append acknowledgement
    std::map<uint64_t, uint64_t> votes;        // term -> candidate granted
    uint64_t max_acked_term = 0;               // highest term of any acknowledgement
  };
  uint64_t TermAt(uint64_t node, uint64_t index) const;

  NodeLookup lookup_;
  std::function<world::Instant()> now_;
  std::map<uint64_t, uint64_t> leader_of_term_;                          // term -> leader
  std::map<std::pair<uint64_t, uint64_t>, std::pair<uint64_t, uint64_t>> entries_;  // (i,t)->(hash, prev term)
  std::map<uint64_t, std::pair<uint64_t, uint64_t>> applied_;           // index -> (term, hash)
  // index -> (entry term, an upper bound on the term it was committed in: the term of the first
  // node seen applying it). Leader completeness binds leaders of terms above the commit term.
  std::map<uint64_t, std::pair<uint64_t, uint64_t>> committed_;
  std::map<uint64_t, NodeRecord> nodes_;
};

// The checker for one check name, reporting RaftHistory's findings and running the per-event and
// end-of-run checks. `nodes` lists the node ids whose commit/applied indexes are watched.
std::unique_ptr<Checker> MakeRaftChecker(std::string_view name, RaftHistory& history,
                                         RaftHistory::NodeLookup lookup, uint32_t nodes);

std::vector<std::string> RaftCheckNames();

}  // namespace qdsim::sim

#endif  // QDSIM_SIM_RAFT_CHECKERS_H_
