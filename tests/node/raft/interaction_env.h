// InteractionEnv: an in-memory cluster of RawNodes driven by datadriven commands, after etcd's
// rafttest.InteractionEnv. Messages sit in one in-flight list until a command delivers (or drops)
// them; every node persists each Ready into its MemoryStorage synchronously.
//
// Commands (ids are node ids, 1-based):
//   add-nodes N [voters=(1,2,3)] [learners=(4)] [index=I] [prevote=B] [checkquorum=B]  (B: both
//             default false here, unlike Config, so each file states what it relies on)
//             [max-inflight=N] [max-entries=N] [max-size=N] [learner-max-lag=N]
//       adds N nodes; with index=I each starts from a snapshot at (I, term 1) with that membership.
//   campaign ID | propose ID DATA | propose-conf-change ID v4|l4|r4
//   tick ID N | tick-heartbeat ID | tick-election ID   (tick-election: until the election timer
//       fires on a follower / one check-quorum round on a leader)
//   process-ready [ID...] | deliver-msgs [ID...] [drop=true] | stabilize [ID...]
//   isolate ID | heal             (messages to or from an isolated node are dropped on delivery)
//   transfer-leadership from=ID to=ID | compact ID INDEX | report-unreachable ID PEER
//   planted-bug NAME [ids=(...)] [off]
//   raft-state | raft-log ID | status ID | applied ID | learner-caught-up ID PEER
//
// Thread-safety: none.
#ifndef QDSIM_TESTS_NODE_RAFT_INTERACTION_ENV_H_
#define QDSIM_TESTS_NODE_RAFT_INTERACTION_ENV_H_

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "datadriven.h"
#include "node/raft/raw_node.h"
#include "node/raft/storage.h"
#include "node/world/env.h"
#include "node/world/random.h"
#include "proto/raft.pb.h"

namespace qdsim::raft::testing {

// Collects the core's log lines (Info and above) into the command output.
class CapturingLogger : public world::Logger {
 public:
  explicit CapturingLogger(std::string* out, const std::string* indent)
      : out_(out), indent_(indent) {}
  void Log(world::LogLevel level, std::string_view message) override;

 private:
  std::string* out_;           // the current command's output
  const std::string* indent_;  // prefix for each line
};

class InteractionEnv {
 public:
  InteractionEnv();

  // Runs one command and returns its output.
  std::string Handle(const datadriven::TestData& d);

  // Runs one command given as a line (for GoogleTest tests) and returns its output.
  std::string Run(const std::string& command_line);

  // The node `id`, or nullptr.
  const RawNode* node(uint64_t id) const;

  // The data of the entries `id` applied, in order (conf changes as "v4"); empty if unknown.
  std::vector<std::string> applied(uint64_t id) const;

 private:
  // One simulated node.
  struct Node {
    std::unique_ptr<MemoryStorage> storage;  // what the node persisted
    std::unique_ptr<world::Random> random;   // its election-timeout randomness
    std::unique_ptr<RawNode> raw;            // the core
    raftpb::ConfState conf_state;            // membership as of the last applied entry
    std::vector<std::string> applied;        // data of applied entries (conf changes as "v4")
  };

  // Command handlers (interaction_commands.cc); each returns an error for bad arguments.
  absl::Status AddNodes(const datadriven::TestData& d);
  absl::Status Campaign(const datadriven::TestData& d);
  absl::Status Propose(const datadriven::TestData& d);
  absl::Status ProposeConfChange(const datadriven::TestData& d);
  absl::Status Tick(const datadriven::TestData& d);
  absl::Status TickHeartbeat(const datadriven::TestData& d);
  absl::Status TickElection(const datadriven::TestData& d);
  absl::Status ProcessReady(const datadriven::TestData& d);
  absl::Status DeliverMsgs(const datadriven::TestData& d);
  absl::Status Stabilize(const datadriven::TestData& d);
  absl::Status Isolate(const datadriven::TestData& d);
  absl::Status TransferLeadership(const datadriven::TestData& d);
  absl::Status Compact(const datadriven::TestData& d);
  absl::Status ReportUnreachable(const datadriven::TestData& d);
  absl::Status PlantBug(const datadriven::TestData& d);
  absl::Status RaftState(const datadriven::TestData& d);
  absl::Status RaftLog(const datadriven::TestData& d);
  absl::Status Status(const datadriven::TestData& d);
  absl::Status Applied(const datadriven::TestData& d);
  absl::Status LearnerCaughtUp(const datadriven::TestData& d);

  // Mechanics (interaction_env.cc).
  absl::StatusOr<Node*> GetNode(uint64_t id);
  // Handles one Ready of `id`: persists, queues messages, applies. Returns false if none.
  bool ProcessReadyOf(uint64_t id);
  // Delivers (or drops) every in-flight message to `id`. Returns the number handled.
  size_t DeliverTo(uint64_t id, bool drop);
  void ApplyEntry(Node& node, const raftpb::Entry& e);
  void TickNode(Node& node, int ticks);
  // The ids of the argument list's bare numeric keys, or all nodes if there are none.
  absl::StatusOr<std::vector<uint64_t>> IdsOrAll(const datadriven::TestData& d);
  void Print(const std::string& text);
  // LogCabin-style safety checks run after every command (interaction_invariants.cc): at most one leader per term, commit never decreases,
  // applied <= committed, and committed prefixes agree. Returns one line per violation.
  std::vector<std::string> CheckInvariants();

  std::map<uint64_t, Node> nodes_;            // by id
  std::vector<raftpb::Message> in_flight_;    // sent, not yet delivered, in send order
  std::set<uint64_t> isolated_;               // nodes cut off from everyone
  PlantedBugs bugs_for_new_nodes_;            // planted-bug without ids applies to later nodes too
  // (group, term) -> the leader seen in it (invariants; see GroupOf in interaction_invariants.cc).
  std::map<std::pair<uint64_t, uint64_t>, uint64_t> leader_of_term_;
  std::map<uint64_t, uint64_t> last_commit_;    // node -> commit index seen last (invariants)
  std::string out_;                           // output of the current command
  std::string indent_;                        // current indentation of output lines
  CapturingLogger logger_;                    // shared by all nodes; writes into out_
};

}  // namespace qdsim::raft::testing

#endif  // QDSIM_TESTS_NODE_RAFT_INTERACTION_ENV_H_
