#include "sim/raft_kind.h"

#include <algorithm>
#include <deque>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "node/world/crc32c.h"
#include "node/world/log.h"
#include "node/world/status_macros.h"
#include "node/world/strings.h"
#include "sim/kind_options.h"
#include "sim/raft_checkers.h"
#include "sim/simulation.h"

namespace qdsim::sim {
namespace {

using world::PeerId;

// The replicated test state: how many commands were applied, a hash chain over them, and the last
// few commands themselves (so that snapshots have some bulk to send in chunks).
class CommandLog : public raft::StateMachine {
 public:
  void Apply(const raftpb::Entry& e) override {
    if (e.data().empty()) return;  // a new leader's no-op
    ++count_;
    chain_ = world::Crc32cExtend(chain_, absl::StrCat(e.index(), ":", world::Sv(e.data())));
    recent_.push_back(e.data());
    if (recent_.size() > 64) recent_.pop_front();
  }
  std::string Snapshot() const override {
    std::string out = absl::StrCat(count_, " ", chain_);
    for (const auto& c : recent_) absl::StrAppend(&out, " ", c);
    return out;
  }
  absl::Status Restore(std::string_view data) override {
    std::vector<std::string> parts = absl::StrSplit(world::Sv(data), ' ', absl::SkipEmpty());
    if (parts.size() < 2 || !absl::SimpleAtoi(parts[0], &count_) || !absl::SimpleAtoi(parts[1], &chain_)) {
      if (data.empty()) {
        count_ = 0, chain_ = 0, recent_.clear();
        return absl::OkStatus();
      }
      return absl::DataLossError("bad command-log snapshot");
    }
    recent_.assign(parts.begin() + 2, parts.end());
    return absl::OkStatus();
  }

 private:
  uint64_t count_ = 0;           // commands applied
  uint32_t chain_ = 0;           // crc32c chain over "index:command"
  std::deque<std::string> recent_;  // the last 64 commands
};

class RaftSimNode : public SimNode {
 public:
  RaftSimNode(world::Env& env, raft::RaftNode::Options options) {
    auto node = raft::RaftNode::Open(env, sm_, std::move(options));
    if (!node.ok()) {
      QDSIM_LOG(env.logger(), kError) << "raft node failed to start: " << node.status().message();
      return;
    }
    raft_ = *std::move(node);
    env.transport().SetReceiver([this](PeerId from, std::string bytes) { raft_->Receive(from, bytes); });
  }
  raft::RaftNode* raft() { return raft_.get(); }

 private:
  CommandLog sm_;
  std::unique_ptr<raft::RaftNode> raft_;  // null if it failed to start
};

class RaftKind : public NodeKind {
 public:
  static absl::StatusOr<std::unique_ptr<NodeKind>> Create(const scenario::Scenario& s) {
    auto kind = std::unique_ptr<RaftKind>(new RaftKind(s));
    RETURN_IF_ERROR(kind->Configure(s));
    return std::unique_ptr<NodeKind>(std::move(kind));
  }

  std::unique_ptr<SimNode> Boot(PeerId id, world::Env& env) override {
    raft::RaftNode::Options options = options_;
    if (id > voters_) options.initial_voters.clear();  // joins later as a learner
    return std::make_unique<RaftSimNode>(env, std::move(options));
  }

  void Start(Simulation& sim) override {
    sim_ = &sim;
    if (ops_per_s_ > 0) ScheduleProposal();
    if (add_learners_at_ && voters_ < sim.nodes()) {
      sim.scheduler().At(world::Instant(world::SecondsF(*add_learners_at_)), [this] { AddNextLearner(); });
    }
  }

  void OnFaultsEnd(Simulation& sim) override { history_.faults_end = sim.now(); }

  std::optional<PeerId> FindRole(Simulation& sim, std::string_view role) override {
    if (role != "leader") return std::nullopt;
    std::optional<PeerId> best;
    uint64_t best_term = 0;
    for (PeerId id = 1; id <= sim.nodes(); ++id) {
      const raft::RaftNode* n = Lookup(id);
      if (n && n->raft().role() == raft::StateRole::kLeader && n->raft().term() >= best_term) {
        best = id;
        best_term = n->raft().term();
      }
    }
    return best;
  }

  std::vector<std::string> CheckNames() const override { return RaftCheckNames(); }
  std::unique_ptr<Checker> MakeChecker(std::string_view name) override {
    return MakeRaftChecker(name, history_, [this](uint64_t id) { return Lookup(id); }, nodes_);
  }

 private:
  explicit RaftKind(const scenario::Scenario& s)
      : nodes_(s.nodes()),
        history_([this](uint64_t id) { return Lookup(id); }, [this] { return sim_->now(); }) {}

  absl::Status Configure(const scenario::Scenario& s) {
    options_.raft.pre_vote = OptionBool(s, "pre_vote", true);
    options_.raft.check_quorum = OptionBool(s, "check_quorum", true);
    ASSIGN_OR_RETURN(double tick_ms, OptionNumber(s, "tick_ms", 100));
    ASSIGN_OR_RETURN(double compact, OptionNumber(s, "compact_entries", 128));
    ASSIGN_OR_RETURN(double chunk, OptionNumber(s, "snapshot_chunk_bytes", 64 * 1024));
    ASSIGN_OR_RETURN(double voters, OptionNumber(s, "voters", s.nodes()));
    ASSIGN_OR_RETURN(double per_msg, OptionNumber(s, "max_entries_per_msg", 256));
    ASSIGN_OR_RETURN(double inflight, OptionNumber(s, "max_inflight_msgs", 256));
    if (inflight < 1) return absl::InvalidArgumentError("option max_inflight_msgs must be >= 1");
    options_.raft.max_entries_per_msg = static_cast<uint64_t>(per_msg);
    options_.raft.max_inflight_msgs = static_cast<int>(inflight);
    if (tick_ms < 1 || chunk < 1 || voters < 1 || voters > s.nodes()) {
      return absl::InvalidArgumentError("options: tick_ms and snapshot_chunk_bytes >= 1, 1 <= voters <= nodes");
    }
    options_.tick = world::Micros(static_cast<int64_t>(tick_ms * 1000));
    options_.compact_entries = static_cast<uint64_t>(compact);
    options_.snapshot_chunk_bytes = static_cast<size_t>(chunk);
    voters_ = static_cast<uint32_t>(voters);
    for (PeerId id = 1; id <= voters_; ++id) options_.initial_voters.push_back(id);
    options_.observer = &history_;
    if (auto it = s.options().find("add_learners_at_s"); it != s.options().end()) {
      ASSIGN_OR_RETURN(double at, OptionNumber(s, "add_learners_at_s", 0));
      add_learners_at_ = at;
    }
    if (auto it = s.options().find("planted_bug"); it != s.options().end()) {
      for (absl::string_view name : absl::StrSplit(it->second, ',', absl::SkipEmpty())) {
        ASSIGN_OR_RETURN(raft::PlantedBug bug, raft::ParsePlantedBug(std::string_view(name.data(), name.size())));
        options_.raft.planted_bugs.Set(bug);
      }
    }
    ops_per_s_ = s.workload().ops_per_s();
    return absl::OkStatus();
  }

  raft::RaftNode* Lookup(uint64_t id) {
    if (sim_ == nullptr || id < 1 || id > sim_->nodes()) return nullptr;
    auto* node = static_cast<RaftSimNode*>(sim_->node(id));
    return node == nullptr ? nullptr : node->raft();
  }

  void ScheduleProposal() {
    const double gap_s = sim_->workload_random().Exponential(1.0 / ops_per_s_);
    sim_->scheduler().After(world::SecondsF(gap_s), [this] {
      Propose();
      ScheduleProposal();
    });
  }

  // Proposes the next command through a random live node (followers forward to the leader).
  void Propose() {
    std::vector<PeerId> up;
    for (PeerId id = 1; id <= sim_->nodes(); ++id) {
      if (sim_->state(id) == NodeState::kUp && Lookup(id) != nullptr) up.push_back(id);
    }
    if (up.empty()) return;
    const PeerId via = up[sim_->workload_random().Uniform(up.size())];
    const std::string command = absl::StrCat("c", ++proposals_);
    history_.proposed_at.emplace(command, sim_->now());
    sim_->PostToNode(via, sim_->now(), [this, via, command] {
      if (raft::RaftNode* n = Lookup(via)) (void)n->Propose(command);
    });
  }

  // Adds the first non-member as a learner through the current leader; retries until every node is
  // a member. Promotion to voter is the leader's job (RaftNode::Options::promote_learners).
  void AddNextLearner() {
    std::optional<PeerId> leader = FindRole(*sim_, "leader");
    if (leader) {
      raft::RaftNode* n = Lookup(*leader);
      const raftpb::ConfState& conf = n->conf_state();
      if (conf.voters_size() == static_cast<int>(sim_->nodes())) return;  // everyone is a voter
      for (PeerId id = voters_ + 1; id <= sim_->nodes(); ++id) {
        const bool member = std::count(conf.voters().begin(), conf.voters().end(), id) > 0 ||
                            std::count(conf.learners().begin(), conf.learners().end(), id) > 0;
        if (member) continue;
        raftpb::ConfChange cc;
        cc.set_type(raftpb::CONF_CHANGE_ADD_LEARNER_NODE);
        cc.set_node_id(id);
        sim_->PostToNode(*leader, sim_->now(), [this, leader, cc] {
          if (raft::RaftNode* l = Lookup(*leader)) (void)l->ProposeConfChange(cc);
        });
        break;
      }
    }
    sim_->scheduler().After(world::Millis(500), [this] { AddNextLearner(); });
  }

  uint32_t nodes_;
  uint32_t voters_ = 0;
  raft::RaftNode::Options options_;
  double ops_per_s_ = 0;
  std::optional<double> add_learners_at_;
  uint64_t proposals_ = 0;
  Simulation* sim_ = nullptr;
  RaftHistory history_;
};

}  // namespace

void RegisterRaftKind(NodeKindRegistry& registry) { registry.Register("raft", RaftKind::Create); }

}  // namespace qdsim::sim
