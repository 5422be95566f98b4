// The datadriven commands of InteractionEnv (see interaction_env.h for the list).
#include <algorithm>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "interaction_env.h"
#include "node/raft/describe.h"
#include "node/world/status_macros.h"

namespace qdsim::raft::testing {
namespace {

// Timing of every node in these tests: short, like etcd's interaction tests, to keep outputs small.
constexpr int kElectionTick = 3;
constexpr int kHeartbeatTick = 1;

absl::StatusOr<uint64_t> ParseUint(const std::string& text) {
  uint64_t v = 0;
  if (!absl::SimpleAtoi(text, &v)) return absl::InvalidArgumentError("not a number: " + text);
  return v;
}

// The i-th bare argument (a word without '=').
absl::StatusOr<std::string> Positional(const datadriven::TestData& d, size_t i) {
  size_t seen = 0;
  for (const datadriven::CmdArg& a : d.args) {
    if (!a.values.empty()) continue;
    if (seen++ == i) return a.key;
  }
  return absl::InvalidArgumentError(absl::StrCat(d.cmd, ": missing argument ", i + 1));
}

absl::StatusOr<uint64_t> PositionalUint(const datadriven::TestData& d, size_t i) {
  ASSIGN_OR_RETURN(std::string text, Positional(d, i));
  return ParseUint(text);
}

absl::StatusOr<uint64_t> KeyUint(const datadriven::TestData& d, const std::string& key,
                                 uint64_t default_value) {
  const datadriven::CmdArg* a = d.Find(key);
  if (a == nullptr) return default_value;
  if (a->values.size() != 1) return absl::InvalidArgumentError(key + " needs one value");
  return ParseUint(a->values[0]);
}

absl::StatusOr<bool> KeyBool(const datadriven::TestData& d, const std::string& key,
                             bool default_value) {
  const datadriven::CmdArg* a = d.Find(key);
  if (a == nullptr) return default_value;
  if (a->values.size() == 1 && a->values[0] == "true") return true;
  if (a->values.size() == 1 && a->values[0] == "false") return false;
  return absl::InvalidArgumentError(key + " must be true or false");
}

absl::StatusOr<std::vector<uint64_t>> KeyUints(const datadriven::TestData& d,
                                               const std::string& key) {
  std::vector<uint64_t> out;
  const datadriven::CmdArg* a = d.Find(key);
  if (a == nullptr) return out;
  for (const std::string& v : a->values) {
    ASSIGN_OR_RETURN(uint64_t id, ParseUint(v));
    out.push_back(id);
  }
  return out;
}

}  // namespace

absl::Status InteractionEnv::AddNodes(const datadriven::TestData& d) {
  ASSIGN_OR_RETURN(uint64_t count, PositionalUint(d, 0));
  ASSIGN_OR_RETURN(std::vector<uint64_t> voters, KeyUints(d, "voters"));
  ASSIGN_OR_RETURN(std::vector<uint64_t> learners, KeyUints(d, "learners"));
  ASSIGN_OR_RETURN(uint64_t index, KeyUint(d, "index", 0));
  Config base;
  base.election_tick = kElectionTick;
  base.heartbeat_tick = kHeartbeatTick;
  base.logger = &logger_;
  base.planted_bugs = bugs_for_new_nodes_;
  ASSIGN_OR_RETURN(base.pre_vote, KeyBool(d, "prevote", false));
  ASSIGN_OR_RETURN(base.check_quorum, KeyBool(d, "checkquorum", false));
  ASSIGN_OR_RETURN(uint64_t inflight, KeyUint(d, "max-inflight", 256));
  base.max_inflight_msgs = static_cast<int>(inflight);
  ASSIGN_OR_RETURN(base.max_entries_per_msg, KeyUint(d, "max-entries", 256));
  ASSIGN_OR_RETURN(base.max_size_per_msg, KeyUint(d, "max-size", 1 << 20));
  ASSIGN_OR_RETURN(base.learner_max_lag, KeyUint(d, "learner-max-lag", 0));
  raftpb::ConfState cs;
  for (uint64_t v : voters) cs.add_voters(v);
  for (uint64_t l : learners) cs.add_learners(l);
  for (uint64_t n = 0; n < count; ++n) {
    const uint64_t id = nodes_.empty() ? 1 : nodes_.rbegin()->first + 1;
    Node node;
    node.storage = std::make_unique<MemoryStorage>();
    if (index > 0) {
      raftpb::Snapshot snap;
      snap.mutable_metadata()->set_index(index);
      snap.mutable_metadata()->set_term(1);
      *snap.mutable_metadata()->mutable_conf_state() = cs;
      RETURN_IF_ERROR(node.storage->ApplySnapshot(snap));
    } else {
      node.storage->SetConfState(cs);
    }
    node.random = std::make_unique<world::Random>(id);
    node.conf_state = cs;
    Config config = base;
    config.id = id;
    config.storage = node.storage.get();
    config.random = node.random.get();
    ASSIGN_OR_RETURN(node.raw, RawNode::Create(config));
    nodes_.emplace(id, std::move(node));
  }
  return absl::OkStatus();
}

absl::Status InteractionEnv::Campaign(const datadriven::TestData& d) {
  ASSIGN_OR_RETURN(uint64_t id, PositionalUint(d, 0));
  ASSIGN_OR_RETURN(Node * node, GetNode(id));
  node->raw->Campaign();
  return absl::OkStatus();
}

absl::Status InteractionEnv::Propose(const datadriven::TestData& d) {
  ASSIGN_OR_RETURN(uint64_t id, PositionalUint(d, 0));
  ASSIGN_OR_RETURN(std::string data, Positional(d, 1));
  ASSIGN_OR_RETURN(Node * node, GetNode(id));
  return node->raw->Propose(data);
}

absl::Status InteractionEnv::ProposeConfChange(const datadriven::TestData& d) {
  ASSIGN_OR_RETURN(uint64_t id, PositionalUint(d, 0));
  ASSIGN_OR_RETURN(std::string change, Positional(d, 1));
  ASSIGN_OR_RETURN(Node * node, GetNode(id));
  if (change.size() < 2) return absl::InvalidArgumentError("conf change must look like v4, l4, r4");
  raftpb::ConfChange cc;
  switch (change[0]) {
    case 'v': cc.set_type(raftpb::CONF_CHANGE_ADD_NODE); break;
    case 'l': cc.set_type(raftpb::CONF_CHANGE_ADD_LEARNER_NODE); break;
    case 'r': cc.set_type(raftpb::CONF_CHANGE_REMOVE_NODE); break;
    default: return absl::InvalidArgumentError("conf change must start with v, l or r");
  }
  ASSIGN_OR_RETURN(uint64_t target, ParseUint(change.substr(1)));
  cc.set_node_id(target);
  return node->raw->ProposeConfChange(cc);
}

absl::Status InteractionEnv::Tick(const datadriven::TestData& d) {
  ASSIGN_OR_RETURN(uint64_t id, PositionalUint(d, 0));
  ASSIGN_OR_RETURN(uint64_t ticks, PositionalUint(d, 1));
  ASSIGN_OR_RETURN(Node * node, GetNode(id));
  TickNode(*node, static_cast<int>(ticks));
  return absl::OkStatus();
}

absl::Status InteractionEnv::TickHeartbeat(const datadriven::TestData& d) {
  ASSIGN_OR_RETURN(uint64_t id, PositionalUint(d, 0));
  ASSIGN_OR_RETURN(Node * node, GetNode(id));
  TickNode(*node, kHeartbeatTick);
  return absl::OkStatus();
}

absl::Status InteractionEnv::TickElection(const datadriven::TestData& d) {
  ASSIGN_OR_RETURN(uint64_t id, PositionalUint(d, 0));
  ASSIGN_OR_RETURN(Node * node, GetNode(id));
  const Raft& r = node->raw->raft();
  // A follower: exactly until its randomised timer fires. A leader: one check-quorum round.
  const int target =
      r.role() == StateRole::kLeader ? kElectionTick : r.randomized_election_timeout();
  TickNode(*node, std::max(1, target - r.election_elapsed()));
  return absl::OkStatus();
}

absl::Status InteractionEnv::ProcessReady(const datadriven::TestData& d) {
  ASSIGN_OR_RETURN(std::vector<uint64_t> ids, IdsOrAll(d));
  for (uint64_t id : ids) ProcessReadyOf(id);
  return absl::OkStatus();
}

absl::Status InteractionEnv::DeliverMsgs(const datadriven::TestData& d) {
  ASSIGN_OR_RETURN(bool drop, KeyBool(d, "drop", false));
  ASSIGN_OR_RETURN(std::vector<uint64_t> ids, IdsOrAll(d));
  for (uint64_t id : ids) DeliverTo(id, drop);
  return absl::OkStatus();
}

absl::Status InteractionEnv::Stabilize(const datadriven::TestData& d) {
  ASSIGN_OR_RETURN(std::vector<uint64_t> ids, IdsOrAll(d));
  for (int round = 0; round < 1000; ++round) {
    bool progress = false;
    for (uint64_t id : ids) progress |= ProcessReadyOf(id);
    for (uint64_t id : ids) progress |= DeliverTo(id, /*drop=*/false) > 0;
    if (!progress) return absl::OkStatus();
  }
  return absl::InternalError("stabilize did not converge in 1000 rounds");
}

absl::Status InteractionEnv::Isolate(const datadriven::TestData& d) {
  if (d.cmd == "heal") {
    isolated_.clear();
    return absl::OkStatus();
  }
  ASSIGN_OR_RETURN(uint64_t id, PositionalUint(d, 0));
  isolated_.insert(id);
  return absl::OkStatus();
}

absl::Status InteractionEnv::TransferLeadership(const datadriven::TestData& d) {
  ASSIGN_OR_RETURN(uint64_t from, KeyUint(d, "from", 0));
  ASSIGN_OR_RETURN(uint64_t to, KeyUint(d, "to", 0));
  ASSIGN_OR_RETURN(Node * node, GetNode(from));
  node->raw->TransferLeader(to);
  return absl::OkStatus();
}

absl::Status InteractionEnv::Compact(const datadriven::TestData& d) {
  ASSIGN_OR_RETURN(uint64_t id, PositionalUint(d, 0));
  ASSIGN_OR_RETURN(uint64_t index, PositionalUint(d, 1));
  ASSIGN_OR_RETURN(Node * node, GetNode(id));
  if (index > node->raw->raft().log().applied()) {
    return absl::InvalidArgumentError("can only compact applied entries");
  }
  // The membership recorded is the current one: tests compact at the applied index.
  RETURN_IF_ERROR(node->storage
                      ->CreateSnapshot(index, node->conf_state, absl::StrJoin(node->applied, ","))
                      .status());
  RETURN_IF_ERROR(node->storage->Compact(index));
  Print(absl::StrCat("compacted ", id, " to ", index, ": first index ",
                     node->storage->FirstIndex()));
  return absl::OkStatus();
}

absl::Status InteractionEnv::ReportUnreachable(const datadriven::TestData& d) {
  ASSIGN_OR_RETURN(uint64_t id, PositionalUint(d, 0));
  ASSIGN_OR_RETURN(uint64_t peer, PositionalUint(d, 1));
  ASSIGN_OR_RETURN(Node * node, GetNode(id));
  node->raw->ReportUnreachable(peer);
  return absl::OkStatus();
}

absl::Status InteractionEnv::PlantBug(const datadriven::TestData& d) {
  ASSIGN_OR_RETURN(std::string name, Positional(d, 0));
  ASSIGN_OR_RETURN(PlantedBug bug, ParsePlantedBug(name));
  const bool on = !d.Has("off");
  ASSIGN_OR_RETURN(std::vector<uint64_t> ids, KeyUints(d, "ids"));
  if (ids.empty()) {
    bugs_for_new_nodes_.Set(bug, on);
    for (const auto& [id, node] : nodes_) ids.push_back(id);
  }
  for (uint64_t id : ids) {
    ASSIGN_OR_RETURN(Node * node, GetNode(id));
    PlantedBugs bugs = node->raw->raft().planted_bugs();
    bugs.Set(bug, on);
    node->raw->mutable_raft().set_planted_bugs(bugs);
  }
  return absl::OkStatus();
}

absl::Status InteractionEnv::RaftState(const datadriven::TestData& d) {
  for (const auto& [id, node] : nodes_) {
    const Raft& r = node.raw->raft();
    const char* membership = r.tracker().IsVoter(id)     ? "Voter"
                              : r.tracker().IsLearner(id) ? "Learner"
                                                          : "NonMember";
    Print(absl::StrCat(id, ": ", StateRoleName(r.role()), " (", membership, ") Term:", r.term(),
                       " Lead:", r.lead(), " Commit:", r.log().committed(),
                       " Applied:", r.log().applied(), " LastIndex:", r.log().LastIndex(),
                       isolated_.count(id) ? " [isolated]" : ""));
  }
  return absl::OkStatus();
}

absl::Status InteractionEnv::RaftLog(const datadriven::TestData& d) {
  ASSIGN_OR_RETURN(uint64_t id, PositionalUint(d, 0));
  ASSIGN_OR_RETURN(Node * node, GetNode(id));
  const raft::RaftLog& log = node->raw->raft().log();
  std::vector<raftpb::Entry> entries = log.AllEntries();
  if (entries.empty()) {
    Print(absl::StrCat("log is empty: first index=", log.FirstIndex(),
                       ", last index=", log.LastIndex()));
  }
  for (const raftpb::Entry& e : entries) Print(DescribeEntry(e));
  return absl::OkStatus();
}

absl::Status InteractionEnv::Status(const datadriven::TestData& d) {
  ASSIGN_OR_RETURN(uint64_t id, PositionalUint(d, 0));
  ASSIGN_OR_RETURN(Node * node, GetNode(id));
  Print(node->raw->Status().ToString());
  return absl::OkStatus();
}

absl::Status InteractionEnv::Applied(const datadriven::TestData& d) {
  ASSIGN_OR_RETURN(uint64_t id, PositionalUint(d, 0));
  ASSIGN_OR_RETURN(Node * node, GetNode(id));
  Print(absl::StrCat(id, " applied: [", absl::StrJoin(node->applied, " "), "]"));
  return absl::OkStatus();
}

absl::Status InteractionEnv::LearnerCaughtUp(const datadriven::TestData& d) {
  ASSIGN_OR_RETURN(uint64_t id, PositionalUint(d, 0));
  ASSIGN_OR_RETURN(uint64_t peer, PositionalUint(d, 1));
  ASSIGN_OR_RETURN(Node * node, GetNode(id));
  Print(node->raw->LearnerCaughtUp(peer) ? "true" : "false");
  return absl::OkStatus();
}

}  // namespace qdsim::raft::testing
