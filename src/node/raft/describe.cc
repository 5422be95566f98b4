#include "node/raft/describe.h"

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace qdsim::raft {

std::string MessageTypeName(raftpb::MessageType type) {
  switch (type) {
    case raftpb::MSG_HUP: return "MsgHup";
    case raftpb::MSG_BEAT: return "MsgBeat";
    case raftpb::MSG_PROP: return "MsgProp";
    case raftpb::MSG_APP: return "MsgApp";
    case raftpb::MSG_APP_RESP: return "MsgAppResp";
    case raftpb::MSG_VOTE: return "MsgVote";
    case raftpb::MSG_VOTE_RESP: return "MsgVoteResp";
    case raftpb::MSG_PRE_VOTE: return "MsgPreVote";
    case raftpb::MSG_PRE_VOTE_RESP: return "MsgPreVoteResp";
    case raftpb::MSG_HEARTBEAT: return "MsgHeartbeat";
    case raftpb::MSG_HEARTBEAT_RESP: return "MsgHeartbeatResp";
    case raftpb::MSG_SNAP: return "MsgSnap";
    case raftpb::MSG_SNAP_STATUS: return "MsgSnapStatus";
    case raftpb::MSG_UNREACHABLE: return "MsgUnreachable";
    case raftpb::MSG_TRANSFER_LEADER: return "MsgTransferLeader";
    case raftpb::MSG_TIMEOUT_NOW: return "MsgTimeoutNow";
    case raftpb::MSG_CHECK_QUORUM: return "MsgCheckQuorum";
    default: break;
  }
  return absl::StrCat("MsgUnknown(", static_cast<int>(type), ")");
}

bool IsLocalMessage(raftpb::MessageType type) {
  return type == raftpb::MSG_HUP || type == raftpb::MSG_BEAT || type == raftpb::MSG_UNREACHABLE ||
         type == raftpb::MSG_SNAP_STATUS || type == raftpb::MSG_CHECK_QUORUM;
}

bool IsResponseMessage(raftpb::MessageType type) {
  return type == raftpb::MSG_APP_RESP || type == raftpb::MSG_VOTE_RESP ||
         type == raftpb::MSG_PRE_VOTE_RESP || type == raftpb::MSG_HEARTBEAT_RESP ||
         type == raftpb::MSG_UNREACHABLE || type == raftpb::MSG_SNAP_STATUS;
}

std::string DescribeConfChange(const raftpb::ConfChange& cc) {
  switch (cc.type()) {
    case raftpb::CONF_CHANGE_ADD_NODE: return absl::StrCat("v", cc.node_id());
    case raftpb::CONF_CHANGE_ADD_LEARNER_NODE: return absl::StrCat("l", cc.node_id());
    case raftpb::CONF_CHANGE_REMOVE_NODE: return absl::StrCat("r", cc.node_id());
    default: break;
  }
  return absl::StrCat("?", cc.node_id());
}

std::string DescribeEntry(const raftpb::Entry& e) {
  std::string out = absl::StrCat(e.term(), "/", e.index());
  if (e.type() == raftpb::ENTRY_CONF_CHANGE) {
    raftpb::ConfChange cc;
    if (cc.ParseFromString(e.data())) return absl::StrCat(out, " EntryConfChange ", DescribeConfChange(cc));
    return absl::StrCat(out, " EntryConfChange <unparsable>");
  }
  return absl::StrCat(out, " EntryNormal \"", absl::CEscape(e.data()), "\"");
}

std::string DescribeEntries(const std::vector<raftpb::Entry>& entries) {
  return absl::StrJoin(entries, ", ", [](std::string* out, const raftpb::Entry& e) {
    out->append(DescribeEntry(e));
  });
}

std::string DescribeHardState(const raftpb::HardState& hs) {
  return absl::StrCat("Term:", hs.term(), " Vote:", hs.vote(), " Commit:", hs.commit());
}

std::string DescribeConfState(const raftpb::ConfState& cs) {
  return absl::StrCat("Voters:[", absl::StrJoin(cs.voters(), " "), "] Learners:[",
                      absl::StrJoin(cs.learners(), " "), "]");
}

std::string DescribeSnapshot(const raftpb::Snapshot& snap) {
  return absl::StrCat("Index:", snap.metadata().index(), " Term:", snap.metadata().term(),
                      " ConfState:", DescribeConfState(snap.metadata().conf_state()));
}

std::string DescribeMessage(const raftpb::Message& m) {
  std::string out = absl::StrCat(m.from(), "->", m.to(), " ", MessageTypeName(m.type()),
                                 " Term:", m.term(), " Log:", m.log_term(), "/", m.index());
  if (m.reject()) absl::StrAppend(&out, " Rejected (Hint: ", m.reject_hint(), ")");
  if (m.commit() != 0) absl::StrAppend(&out, " Commit:", m.commit());
  if (m.entries_size() > 0) {
    absl::StrAppend(&out, " Entries:[",
                    DescribeEntries({m.entries().begin(), m.entries().end()}), "]");
  }
  if (m.has_snapshot()) absl::StrAppend(&out, " Snapshot: ", DescribeSnapshot(m.snapshot()));
  if (!m.context().empty()) absl::StrAppend(&out, " Context:", absl::CEscape(m.context()));
  return out;
}

}  // namespace qdsim::raft
