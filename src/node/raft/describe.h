// Human-readable one-line renderings of Raft types, used by the datadriven tests, log lines and
// the simulator's trace. The formats are stable: changing one rewrites test expectations.
//
//   DescribeMessage(m)  -> "1->2 MsgApp Term:2 Log:1/3 Commit:3 Entries:[2/4 EntryNormal \"x\"]"
//   DescribeEntry(e)    -> "2/4 EntryNormal \"x\""   (term/index)
//
// Thread-safety: pure functions.
#ifndef QDSIM_NODE_RAFT_DESCRIBE_H_
#define QDSIM_NODE_RAFT_DESCRIBE_H_

#include <string>
#include <vector>

#include "proto/raft.pb.h"

namespace qdsim::raft {

// "MsgApp", "MsgVoteResp", ... (etcd's names).
std::string MessageTypeName(raftpb::MessageType type);

// True for message types that never cross the network (Hup, Beat, Unreachable, SnapStatus,
// CheckQuorum).
bool IsLocalMessage(raftpb::MessageType type);

// True for answers (AppResp, VoteResp, PreVoteResp, HeartbeatResp, Unreachable, SnapStatus).
bool IsResponseMessage(raftpb::MessageType type);

// "v4" (add voter), "l4" (add learner) or "r4" (remove).
std::string DescribeConfChange(const raftpb::ConfChange& cc);

// "term/index EntryNormal \"data\"" or "term/index EntryConfChange v4".
std::string DescribeEntry(const raftpb::Entry& e);

// Entries joined by ", ".
std::string DescribeEntries(const std::vector<raftpb::Entry>& entries);

// "Term:1 Vote:2 Commit:3".
std::string DescribeHardState(const raftpb::HardState& hs);

// "Voters:[1 2 3] Learners:[4]".
std::string DescribeConfState(const raftpb::ConfState& cs);

// "Index:5 Term:2 ConfState:Voters:[1 2 3] Learners:[]".
std::string DescribeSnapshot(const raftpb::Snapshot& snap);

// See the file comment.
std::string DescribeMessage(const raftpb::Message& m);

}  // namespace qdsim::raft

#endif  // QDSIM_NODE_RAFT_DESCRIBE_H_
