#include "node/raft/raw_node.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "node/raft/describe.h"
#include "node/world/status_macros.h"

namespace qdsim::raft {
namespace {

bool SameHardState(const raftpb::HardState& a, const raftpb::HardState& b) {
  return a.term() == b.term() && a.vote() == b.vote() && a.commit() == b.commit();
}

}  // namespace

bool Ready::Empty() const {
  return !soft_state && !hard_state && entries.empty() && !snapshot && committed_entries.empty() &&
         messages.empty();
}

std::string Ready::ToString() const {
  std::string out = absl::StrCat("Ready MustSync=", must_sync ? "true" : "false", ":\n");
  if (soft_state) {
    absl::StrAppend(&out, "Lead:", soft_state->lead, " State:", StateRoleName(soft_state->role),
                    "\n");
  }
  if (hard_state) absl::StrAppend(&out, "HardState ", DescribeHardState(*hard_state), "\n");
  if (!entries.empty()) {
    absl::StrAppend(&out, "Entries:\n");
    for (const raftpb::Entry& e : entries) absl::StrAppend(&out, DescribeEntry(e), "\n");
  }
  if (snapshot) absl::StrAppend(&out, "Snapshot ", DescribeSnapshot(*snapshot), "\n");
  if (!committed_entries.empty()) {
    absl::StrAppend(&out, "CommittedEntries:\n");
    for (const raftpb::Entry& e : committed_entries) absl::StrAppend(&out, DescribeEntry(e), "\n");
  }
  if (!messages.empty()) {
    absl::StrAppend(&out, "Messages:\n");
    for (const raftpb::Message& m : messages) absl::StrAppend(&out, DescribeMessage(m), "\n");
  }
  return out;
}

std::string NodeStatus::ToString() const {
  std::string out = absl::StrCat(id, ": ", StateRoleName(soft_state.role), " term=",
                                 hard_state.term(), " vote=", hard_state.vote(), " commit=",
                                 hard_state.commit(), " applied=", applied, " lead=",
                                 soft_state.lead);
  if (lead_transferee != kNone) absl::StrAppend(&out, " transferee=", lead_transferee);
  for (const auto& [peer, pr] : progress) {
    absl::StrAppend(&out, "\n", peer, ": ", pr.ToString());
  }
  return out;
}

RawNode::RawNode(std::unique_ptr<Raft> raft)
    : raft_(std::move(raft)),
      prev_soft_state_(raft_->soft_state()),
      prev_hard_state_(raft_->hard_state()) {}

absl::StatusOr<std::unique_ptr<RawNode>> RawNode::Create(const Config& config) {
  ASSIGN_OR_RETURN(std::unique_ptr<Raft> raft, Raft::Create(config));
  return std::unique_ptr<RawNode>(new RawNode(std::move(raft)));
}

void RawNode::Campaign() {
  raftpb::Message m;
  m.set_type(raftpb::MSG_HUP);
  m.set_from(raft_->id());
  (void)raft_->Step(m);
}

absl::Status RawNode::Propose(std::string data) {
  raftpb::Message m;
  m.set_type(raftpb::MSG_PROP);
  m.set_from(raft_->id());
  m.add_entries()->set_data(std::move(data));
  return raft_->Step(m);
}

absl::Status RawNode::ProposeConfChange(const raftpb::ConfChange& cc) {
  raftpb::Message m;
  m.set_type(raftpb::MSG_PROP);
  m.set_from(raft_->id());
  raftpb::Entry* e = m.add_entries();
  e->set_type(raftpb::ENTRY_CONF_CHANGE);
  e->set_data(cc.SerializeAsString());
  return raft_->Step(m);
}

absl::Status RawNode::Step(const raftpb::Message& m) {
  if (IsLocalMessage(m.type())) {
    return absl::InvalidArgumentError(
        absl::StrCat("raft: cannot step local message ", MessageTypeName(m.type())));
  }
  if (IsResponseMessage(m.type()) && !raft_->tracker().IsMember(m.from())) {
    return absl::NotFoundError(absl::StrCat("raft: cannot step response from non-member ",
                                            m.from()));
  }
  return raft_->Step(m);
}

void RawNode::TransferLeader(uint64_t transferee) {
  raftpb::Message m;
  m.set_type(raftpb::MSG_TRANSFER_LEADER);
  m.set_from(transferee);
  (void)raft_->Step(m);
}

void RawNode::ReportUnreachable(uint64_t id) {
  raftpb::Message m;
  m.set_type(raftpb::MSG_UNREACHABLE);
  m.set_from(id);
  (void)raft_->Step(m);
}

void RawNode::ReportSnapshot(uint64_t id, bool ok) {
  raftpb::Message m;
  m.set_type(raftpb::MSG_SNAP_STATUS);
  m.set_from(id);
  m.set_reject(!ok);
  (void)raft_->Step(m);
}

bool RawNode::HasReady() const {
  if (!(raft_->soft_state() == prev_soft_state_)) return true;
  if (!SameHardState(raft_->hard_state(), prev_hard_state_)) return true;
  const RaftLog& log = raft_->log();
  return log.UnstableSnapshot().has_value() || !log.UnstableEntries().empty() ||
         raft_->HasMessages() || raft_->HasEntriesToApply();
}

Ready RawNode::GetReady() {
  Ready rd;
  Pending pending;
  const SoftState soft = raft_->soft_state();
  if (!(soft == prev_soft_state_)) {
    rd.soft_state = soft;
    prev_soft_state_ = soft;
  }
  const raftpb::HardState hard = raft_->hard_state();
  if (!SameHardState(hard, prev_hard_state_)) {
    rd.hard_state = hard;
    rd.must_sync = hard.term() != prev_hard_state_.term() || hard.vote() != prev_hard_state_.vote();
    prev_hard_state_ = hard;
  }
  const RaftLog& log = raft_->log();
  rd.entries = log.UnstableEntries();
  if (!rd.entries.empty()) {
    rd.must_sync = true;
    pending.last_entry = std::make_pair(rd.entries.back().index(), rd.entries.back().term());
  }
  if (log.UnstableSnapshot()) {
    rd.snapshot = *log.UnstableSnapshot();
    pending.snapshot_index = rd.snapshot->metadata().index();
    pending.applied = pending.snapshot_index;
  }
  rd.committed_entries = raft_->EntriesToApply();
  if (!rd.committed_entries.empty()) pending.applied = rd.committed_entries.back().index();
  rd.messages = raft_->TakeMessages();
  pending_ = pending;
  return rd;
}

void RawNode::Advance() {
  if (!pending_) return;
  RaftLog& log = raft_->mutable_log();
  if (pending_->snapshot_index) log.StableSnapTo(*pending_->snapshot_index);
  if (pending_->last_entry) log.StableTo(pending_->last_entry->first, pending_->last_entry->second);
  if (pending_->applied) log.AppliedTo(*pending_->applied);
  pending_.reset();
}

NodeStatus RawNode::Status() const {
  NodeStatus st;
  st.id = raft_->id();
  st.hard_state = raft_->hard_state();
  st.soft_state = raft_->soft_state();
  st.applied = raft_->log().applied();
  st.lead_transferee = raft_->lead_transferee();
  if (raft_->role() == StateRole::kLeader) st.progress = raft_->tracker().progress();
  return st;
}

}  // namespace qdsim::raft
