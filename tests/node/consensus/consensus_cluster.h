// ConsensusCluster: N voters in the simulator, each running Raft over a ConsensusManager, for
// tests of the metadata layer and of what is built on it (a boot hook adds more per-node parts).
#ifndef QDSIM_TESTS_NODE_CONSENSUS_CONSENSUS_CLUSTER_H_
#define QDSIM_TESTS_NODE_CONSENSUS_CONSENSUS_CLUSTER_H_

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "node/consensus/consensus_manager.h"
#include "node/raft/raft_node.h"
#include "node/rpc/rpc_endpoint.h"
#include "sim/simulation.h"

namespace qdsim::consensus::testing {

using sim::PeerId;

// N voters, each running Raft over a ConsensusManager; every peer is registered in the metadata
// by the first operation of the test.
class ConsensusCluster : public sim::NodeKind {
 public:
  struct Node : sim::SimNode {
    explicit Node(world::Env& env) : env(env), consensus(env) {}
    ~Node() override { extra.reset(); }  // parts built on the consensus go first
    world::Env& env;
    ConsensusManager consensus;
    std::unique_ptr<raft::RaftNode> raft;
    std::unique_ptr<rpc::RpcEndpoint> rpc;  // peer requests (envelopes with an rpc body)
    std::shared_ptr<void> extra;  // whatever the test's boot hook adds (built after Raft)
  };
  // Runs at every boot, after Raft and the consensus are up (e.g. to add LocalShards).
  std::function<void(Node&)> on_boot;

  // `raft_bugs`: planted Raft bugs switched on in every node.
  explicit ConsensusCluster(uint32_t n, uint64_t seed = 1, std::function<void(Node&)> boot_hook = nullptr,
                            raft::PlantedBugs raft_bugs = {})
      : on_boot(std::move(boot_hook)), n_(n), raft_bugs_(raft_bugs) {
    sim::Simulation::Config config;
    config.nodes = n;
    config.links.assign(n * n, sim::SimNetwork::LinkParams{world::Millis(2), 500, 0, 0, 0});
    config.node_params.assign(n, sim::Simulation::NodeParams{{}, world::Millis(2)});
    sim_ = std::make_unique<sim::Simulation>(config, seed, *this);
    for (PeerId id = 1; id <= n; ++id) sim_->Boot(id);
  }


  std::unique_ptr<sim::SimNode> Boot(PeerId id, world::Env& env) override {
    auto node = std::make_unique<Node>(env);
    raft::RaftNode::Options o;
    for (PeerId v = 1; v <= n_; ++v) o.initial_voters.push_back(v);
    o.raft.planted_bugs = raft_bugs_;
    node->raft = *raft::RaftNode::Open(env, node->consensus, o);
    node->consensus.Attach(node->raft.get());
    node->rpc = std::make_unique<rpc::RpcEndpoint>(env);
    Node* n = node.get();
    env.transport().SetReceiver([n](PeerId from, std::string bytes) {
      peerpb::Envelope envelope;
      if (!envelope.ParseFromString(bytes)) return;
      if (envelope.has_rpc()) {
        n->rpc->Receive(from, envelope.rpc());
      } else {
        n->raft->ReceiveEnvelope(from, envelope);
      }
    });
    if (on_boot) on_boot(*node);
    return node;
  }
  std::vector<std::string> CheckNames() const override { return {}; }
  std::unique_ptr<sim::Checker> MakeChecker(std::string_view) override { return nullptr; }

  Node* node(PeerId id) { return static_cast<Node*>(sim_->node(id)); }
  sim::Simulation& sim() { return *sim_; }
  void RunFor(world::Duration d) { sim_->scheduler().RunUntil(sim_->now() + d); }
  // Lets a leader be elected, then registers every peer in the metadata (each through itself);
  // true if every registration succeeded.
  bool RegisterPeers();
  // Proposes through `via` and runs until the verdict arrives (or `limit` passes).
  std::optional<absl::Status> ProposeAndWait(PeerId via, consensuspb::Operation op,
                                             world::Duration timeout = world::Seconds(10),
                                             world::Duration limit = world::Seconds(30)) {
    std::optional<absl::Status> verdict;
    sim_->PostToNode(via, sim_->now(), [&, via, op] {
      node(via)->consensus.Propose(op, timeout, [&](absl::Status s) { verdict = s; });
    });
    for (world::Duration waited{0}; !verdict && waited < limit; waited += world::Millis(10)) RunFor(world::Millis(10));
    return verdict;
  }

 private:
  uint32_t n_;
  raft::PlantedBugs raft_bugs_;
  std::unique_ptr<sim::Simulation> sim_;
};

// Registers peer `id` with a loopback URI.
inline consensuspb::Operation AddPeerOp(uint64_t id) {
  consensuspb::Operation op;
  op.mutable_add_peer()->set_peer_id(id);
  op.mutable_add_peer()->set_uri("http://127.0.0.1:" + std::to_string(6334 + id) + "/");
  return op;
}

// A collection of 2-dimensional Dot vectors (shard_number 0: one shard per peer).
inline consensuspb::Operation CreateCollectionOp(const std::string& name, uint32_t shards = 0,
                                                 uint32_t replication_factor = 2) {
  consensuspb::Operation op;
  auto* c = op.mutable_create_collection();
  c->set_name(name);
  auto* v = c->mutable_params()->add_vectors();
  v->set_size(2);
  v->set_distance(consensuspb::DOT);
  c->mutable_params()->set_shard_number(shards);
  c->mutable_params()->set_replication_factor(replication_factor);
  c->mutable_params()->set_write_consistency_factor(1);
  return op;
}

inline bool ConsensusCluster::RegisterPeers() {
  RunFor(world::Seconds(5));
  for (PeerId id = 1; id <= n_; ++id) {
    std::optional<absl::Status> verdict = ProposeAndWait(id, AddPeerOp(id));
    if (!verdict || !verdict->ok()) return false;
  }
  return true;
}

}  // namespace qdsim::consensus::testing

#endif  // QDSIM_TESTS_NODE_CONSENSUS_CONSENSUS_CLUSTER_H_
