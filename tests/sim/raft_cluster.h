// A small harness for property tests of Raft in the simulator: N voters running RaftNode over a
// command-recording state machine, with helpers to run for a while, find the leader and ask what
// committed. Unlike the "raft" node kind it exposes the nodes directly, so tests can propose to a
// particular node and inspect terms and roles.
#ifndef QDSIM_TESTS_SIM_RAFT_CLUSTER_H_
#define QDSIM_TESTS_SIM_RAFT_CLUSTER_H_

#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "node/raft/raft_node.h"
#include "sim/simulation.h"

namespace qdsim::sim::testing {

// Records every applied command.
class AppliedCommands : public raft::StateMachine {
 public:
  void Apply(const raftpb::Entry& e) override {
    if (!e.data().empty()) commands.insert(e.data());
  }
  std::string Snapshot() const override {
    std::string out;
    for (const auto& c : commands) out += c + "\n";
    return out;
  }
  absl::Status Restore(std::string_view data) override {
    commands.clear();
    size_t start = 0;
    while (start < data.size()) {
      size_t end = data.find('\n', start);
      if (end == std::string_view::npos) end = data.size();  // a snapshot from a peer may lack it
      commands.insert(std::string(data.substr(start, end - start)));
      start = end + 1;
    }
    return absl::OkStatus();
  }
  std::set<std::string> commands;
};

class RaftCluster : public NodeKind {
 public:
  struct Options {
    uint32_t voters = 3;
    bool pre_vote = true;
    bool check_quorum = true;
    uint64_t seed = 1;
  };
  explicit RaftCluster(Options options);

  std::unique_ptr<SimNode> Boot(PeerId id, world::Env& env) override;
  std::vector<std::string> CheckNames() const override { return {}; }
  std::unique_ptr<Checker> MakeChecker(std::string_view) override { return nullptr; }

  Simulation& sim() { return *sim_; }
  // Runs the simulation for `d` of simulated time (now() advances by exactly `d`).
  void RunFor(world::Duration d);
  world::Instant now() const { return sim_->now(); }
  // Runs until some node is leader (at most `limit`); returns it.
  std::optional<PeerId> AwaitLeader(world::Duration limit = world::Seconds(30));
  // The leader with the highest term among live nodes, if any.
  std::optional<PeerId> Leader();
  raft::RaftNode* node(PeerId id);
  // True if any live node has applied `command`.
  bool Committed(const std::string& command);
  // Highest term among live nodes.
  uint64_t MaxTerm();
  // Isolates `id` from every other node, both ways.
  void Isolate(PeerId id) { sim_->network().Isolate(id); }

  world::Duration tick() const { return world::Millis(100); }
  static constexpr int kElectionTicks = 20;  // SPEC.md §3

 private:
  Options options_;
  std::unique_ptr<Simulation> sim_;
};

}  // namespace qdsim::sim::testing

#endif  // QDSIM_TESTS_SIM_RAFT_CLUSTER_H_
