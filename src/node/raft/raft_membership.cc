// Membership: applying single-node configuration changes and what the leader does after one.
#include <algorithm>

#include "absl/strings/str_format.h"
#include "node/raft/describe.h"
#include "node/raft/raft.h"

namespace qdsim::raft {

raftpb::ConfState Raft::ApplyConfChange(const raftpb::ConfChange& cc) {
  // New members are probed at our last entry; a rejection walks back from there.
  const uint64_t next = std::max<uint64_t>(log_.LastIndex(), 1);
  switch (cc.type()) {
    case raftpb::CONF_CHANGE_ADD_NODE:
      tracker_.AddVoter(cc.node_id(), next);
      break;
    case raftpb::CONF_CHANGE_ADD_LEARNER_NODE:
      tracker_.AddLearner(cc.node_id(), next);
      break;
    case raftpb::CONF_CHANGE_REMOVE_NODE:
      tracker_.Remove(cc.node_id());
      break;
    default:
      Log(world::LogLevel::kWarning,
          absl::StrFormat("%d ignored unknown conf change type %d", id_,
                          static_cast<int>(cc.type())));
      return tracker_.ConfState();
  }
  raftpb::ConfState cs = tracker_.ConfState();
  Log(world::LogLevel::kInfo, absl::StrFormat("%d applied conf change %s: %s", id_,
                                              DescribeConfChange(cc), DescribeConfState(cs)));
  OnMembershipChanged();
  return cs;
}

void Raft::OnMembershipChanged() {
  is_learner_ = tracker_.IsLearner(id_);
  if (role_ != StateRole::kLeader) return;
  if (!tracker_.IsVoter(id_)) {
    // A leader that is removed or demoted stops leading; the remaining voters elect a successor
    // (the entry that removed us is committed, so a majority of them hold it).
    Log(world::LogLevel::kInfo,
        absl::StrFormat("%d is no longer a voter; stepping down at term %d", id_, term_));
    BecomeFollower(term_, kNone);
    return;
  }
  if (lead_transferee_ != kNone && !tracker_.IsVoter(lead_transferee_)) AbortLeaderTransfer();
  // The quorum may have shrunk, committing more.
  if (MaybeCommit()) {
    BroadcastAppend();
    return;
  }
  // Probe newly added members right away instead of waiting for the next heartbeat or proposal.
  for (const auto& [id, pr] : tracker_.progress()) {
    if (id != id_) MaybeSendAppend(id, /*send_if_empty=*/false);
  }
}

bool Raft::LearnerCaughtUp(uint64_t id) const {
  if (role_ != StateRole::kLeader) return false;
  const Progress* pr = tracker_.Get(id);
  if (pr == nullptr || !pr->is_learner()) return false;
  // A learner that has acknowledged nothing yet (match 0) is not caught up however short the log
  // is: it may be unreachable, and promoting it would make it count towards every majority.
  return pr->match() > 0 && pr->match() + learner_max_lag_ >= log_.LastIndex();
}

}  // namespace qdsim::raft
