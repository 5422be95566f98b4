// ConsensusManager: this peer's view of the cluster metadata, and the one way to change it.
//
// It is the Raft state machine for the metadata (it implements raft::StateMachine over a
// ClusterStateMachine) and tracks proposals the way Qdrant's consensus does (SPEC.md §3):
//  - Propose() waits up to `timeout` for a known leader, else fails with
//    "Failed to propose operation: leader is not established within N secs";
//  - it then proposes through Raft (a follower forwards to the leader) and answers only once the
//    operation is applied locally, with the state machine's verdict; if that takes longer than
//    `timeout`, it fails with "Waiting for consensus operation commit failed. Timeout set at: N
//    seconds" (the operation may still be applied later: the caller learns nothing more);
//  - identical operations in flight at once are proposed once and every caller gets the verdict.
// Listeners see every applied operation with its verdict, in log order, on every peer (the
// collection layer creates and drops local shards from them).
//
//   ConsensusManager consensus(env);
//   ASSIGN_OR_RETURN(auto raft, raft::RaftNode::Open(env, consensus, options));
//   consensus.Attach(raft.get());
//   consensus.Propose(op, world::Seconds(10), [](absl::Status verdict) { ... });
//
// Thread-safety: none; every call happens on the node's logical thread.
#ifndef QDSIM_NODE_CONSENSUS_CONSENSUS_MANAGER_H_
#define QDSIM_NODE_CONSENSUS_CONSENSUS_MANAGER_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "node/consensus/cluster_state.h"
#include "node/raft/raft_node.h"
#include "node/world/env.h"
#include "proto/consensus.pb.h"

namespace qdsim::consensus {

class ConsensusManager : public raft::StateMachine {
 public:
  using Done = std::function<void(absl::Status verdict)>;
  using Listener = std::function<void(const consensuspb::Operation& op, const absl::Status& verdict)>;

  // Proposal ids start at a random point so that an incarnation never takes a (proposer, id) that
  // an earlier incarnation of this peer may still have in the log.
  explicit ConsensusManager(world::Env& env) : env_(env), next_proposal_id_(env.random().Next() >> 1) {}
  ~ConsensusManager() override;

  // The Raft node that replicates this state machine (not owned). REQUIRES: called once, before
  // Propose().
  void Attach(raft::RaftNode* raft) { raft_ = raft; }

  // Proposes `op` (proposer and proposal_id are filled in) and calls `done` exactly once: with the
  // verdict when it is applied here, or with a DeadlineExceeded error as described above.
  void Propose(consensuspb::Operation op, world::Duration timeout, Done done);

  void AddListener(Listener listener) { listeners_.push_back(std::move(listener)); }
  // Called after the whole state was replaced by a snapshot (listeners saw none of its operations).
  void AddRestoreListener(std::function<void()> listener) { restore_listeners_.push_back(std::move(listener)); }

  const ClusterStateMachine& metadata() const { return sm_; }
  // Proposals waiting for a leader or for their apply.
  size_t pending_operations() const { return waiting_.size(); }

  // raft::StateMachine
  void Apply(const raftpb::Entry& entry) override;
  std::string Snapshot() const override { return sm_.Snapshot(); }
  absl::Status Restore(std::string_view data) override;

 private:
  // One proposal and everyone waiting for it.
  struct Waiting {
    consensuspb::Operation op;           // with proposer and proposal_id set
    std::string dedupe_key;              // the operation without its identity
    std::vector<Done> callers;
    world::Instant deadline;             // of the current phase
    world::Duration timeout;
    bool proposed = false;               // false: still waiting for a leader
    world::TimerId timer = 0;
  };

  void TryPropose(uint64_t id);
  void Expire(uint64_t id);
  void Finish(uint64_t id, const absl::Status& verdict);

  world::Env& env_;
  raft::RaftNode* raft_ = nullptr;
  ClusterStateMachine sm_;
  std::vector<Listener> listeners_;
  std::vector<std::function<void()>> restore_listeners_;
  uint64_t next_proposal_id_;
  std::map<uint64_t, std::unique_ptr<Waiting>> waiting_;  // proposal_id -> waiting (ordered)
  std::map<std::string, uint64_t> by_key_;                // dedupe key -> proposal_id in flight
};

}  // namespace qdsim::consensus

#endif  // QDSIM_NODE_CONSENSUS_CONSENSUS_MANAGER_H_
