#include "tests/sim/raft_cluster.h"

namespace qdsim::sim::testing {
namespace {

struct ClusterNode : SimNode {
  AppliedCommands sm;
  std::unique_ptr<raft::RaftNode> raft;
};

}  // namespace

RaftCluster::RaftCluster(Options options) : options_(options) {
  Simulation::Config config;
  config.nodes = options.voters;
  config.links.assign(options.voters * options.voters,
                      SimNetwork::LinkParams{world::Millis(2), 1000, 0, 0, 0});
  config.node_params.assign(options.voters, Simulation::NodeParams{{}, world::Millis(2)});
  sim_ = std::make_unique<Simulation>(config, options.seed, *this);
  for (PeerId id = 1; id <= options.voters; ++id) sim_->Boot(id);
}

std::unique_ptr<SimNode> RaftCluster::Boot(PeerId id, world::Env& env) {
  auto node = std::make_unique<ClusterNode>();
  raft::RaftNode::Options o;
  o.raft.pre_vote = options_.pre_vote;
  o.raft.check_quorum = options_.check_quorum;
  o.raft.election_tick = kElectionTicks;
  o.tick = tick();
  for (PeerId v = 1; v <= options_.voters; ++v) o.initial_voters.push_back(v);
  auto opened = raft::RaftNode::Open(env, node->sm, o);
  if (opened.ok()) {
    node->raft = *std::move(opened);
    raft::RaftNode* r = node->raft.get();
    env.transport().SetReceiver([r](PeerId from, std::string bytes) { r->Receive(from, bytes); });
  }
  return node;
}

void RaftCluster::RunFor(world::Duration d) { sim_->scheduler().RunUntil(sim_->now() + d); }

raft::RaftNode* RaftCluster::node(PeerId id) {
  auto* n = static_cast<ClusterNode*>(sim_->node(id));
  return n == nullptr ? nullptr : n->raft.get();
}

std::optional<PeerId> RaftCluster::Leader() {
  std::optional<PeerId> best;
  uint64_t best_term = 0;
  for (PeerId id = 1; id <= sim_->nodes(); ++id) {
    raft::RaftNode* n = node(id);
    if (n && n->raft().role() == raft::StateRole::kLeader && n->raft().term() >= best_term) {
      best = id;
      best_term = n->raft().term();
    }
  }
  return best;
}

std::optional<PeerId> RaftCluster::AwaitLeader(world::Duration limit) {
  const world::Instant until = sim_->now() + limit;
  while (sim_->now() < until) {
    if (auto l = Leader()) return l;
    RunFor(tick());
  }
  return Leader();
}

bool RaftCluster::Committed(const std::string& command) {
  for (PeerId id = 1; id <= sim_->nodes(); ++id) {
    auto* n = static_cast<ClusterNode*>(sim_->node(id));
    if (n && n->sm.commands.contains(command)) return true;
  }
  return false;
}

uint64_t RaftCluster::MaxTerm() {
  uint64_t term = 0;
  for (PeerId id = 1; id <= sim_->nodes(); ++id) {
    if (raft::RaftNode* n = node(id)) term = std::max(term, n->raft().term());
  }
  return term;
}

}  // namespace qdsim::sim::testing
