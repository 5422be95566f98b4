// Each in-core planted bug must change behaviour observably: the same specification file is
// replayed with and without the bug, and the test checks the safety property the bug breaks.
#include "node/raft/planted_bugs.h"

#include <string>
#include <vector>

#include "datadriven.h"
#include "gtest/gtest.h"
#include "interaction_env.h"

namespace qdsim::raft::testing {
namespace {

constexpr char kViolation[] = "INVARIANT VIOLATED";

// Replays testdata/`file` in `env` after switching `bug` on (unless bug is empty). Returns the
// concatenated output, in which the invariant checker reports violations.
std::string Replay(InteractionEnv& env, const std::string& file, const std::string& bug) {
  std::string out;
  if (!bug.empty()) out += env.Run("planted-bug " + bug);
  datadriven::ReplayCommands(std::string(QDSIM_RAFT_TESTDATA_DIR) + "/" + file,
                             [&env, &out](const datadriven::TestData& d) {
                               out += env.Handle(d);
                               return std::string();
                             });
  return out;
}

// Runs `script` in `env`; returns the concatenated output.
std::string RunScript(InteractionEnv& env, const std::vector<std::string>& script) {
  std::string out;
  for (const std::string& cmd : script) out += env.Run(cmd);
  return out;
}

bool Violated(const std::string& out) { return out.find(kViolation) != std::string::npos; }

// The term of entry `index` in node `id`'s log (0 if absent).
uint64_t TermAt(const InteractionEnv& env, uint64_t id, uint64_t index) {
  return env.node(id)->raft().log().TermOrZero(index);
}

bool Contains(const std::vector<std::string>& items, const std::string& item) {
  return std::find(items.begin(), items.end(), item) != items.end();
}

TEST(PlantedBugsTest, NamesRoundTrip) {
  for (size_t i = 0; i < static_cast<size_t>(PlantedBug::kCount); ++i) {
    const PlantedBug bug = static_cast<PlantedBug>(i);
    absl::StatusOr<PlantedBug> parsed = ParsePlantedBug(PlantedBugName(bug));
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(*parsed, bug);
  }
  EXPECT_EQ(PlantedBugName(PlantedBug::kAckBeforeSync), "ack_before_sync");
  EXPECT_EQ(PlantedBugName(PlantedBug::kForgetVoteOnRestart), "forget_vote_on_restart");
  EXPECT_FALSE(ParsePlantedBug("no_such_bug").ok());
}

TEST(PlantedBugsTest, SetAndToString) {
  PlantedBugs bugs;
  EXPECT_TRUE(bugs.None());
  bugs.Set(PlantedBug::kApplyUncommitted);
  bugs.Set(PlantedBug::kCommitOldTermByCounting);
  EXPECT_TRUE(bugs.Has(PlantedBug::kApplyUncommitted));
  EXPECT_FALSE(bugs.Has(PlantedBug::kVoteWithoutLogCheck));
  EXPECT_EQ(bugs.ToString(), "commit_old_term_by_counting,apply_uncommitted");
  bugs.Set(PlantedBug::kApplyUncommitted, false);
  EXPECT_EQ(bugs.ToString(), "commit_old_term_by_counting");
}

// Figure 8: the correct leader does not commit its term-1 entry "a" held by a majority; the buggy
// one commits and applies it, and the next leader then overwrites it.
TEST(PlantedBugsTest, CommitOldTermByCountingCommitsAnEntryThatIsLaterOverwritten) {
  InteractionEnv correct;
  EXPECT_FALSE(Violated(Replay(correct, "commit_previous_term.txt", "")));
  EXPECT_FALSE(Contains(correct.applied(1), "a"));
  EXPECT_EQ(correct.node(1)->raft().log().committed(), 1u);

  InteractionEnv buggy;
  const std::string out = Replay(buggy, "commit_previous_term.txt", "commit_old_term_by_counting");
  EXPECT_NE(out.find("committed entry 2 differs between 1 and 3"), std::string::npos) << out;
  EXPECT_TRUE(Contains(buggy.applied(1), "a")) << "1 applied the old-term entry";
  EXPECT_EQ(TermAt(buggy, 3, 2), 2u) << "index 2 was overwritten by the term-4 leader";
  EXPECT_EQ(TermAt(buggy, 1, 2), 1u);
}

// A candidate with a stale log is elected when voters skip the up-to-date check: the new leader
// lacks the committed entry "x" (leader completeness is violated).
TEST(PlantedBugsTest, VoteWithoutLogCheckElectsALeaderMissingACommittedEntry) {
  const std::vector<std::string> script = {
      "add-nodes 3 voters=(1,2,3)", "campaign 1", "stabilize", "propose 1 x", "process-ready 1",
      "deliver-msgs 3 drop=true", "stabilize 1 2", "isolate 1", "tick-election 3",
      "stabilize 2 3"};
  InteractionEnv correct;
  EXPECT_FALSE(Violated(RunScript(correct, script)));
  EXPECT_TRUE(Contains(correct.applied(1), "x")) << "x is committed";
  EXPECT_NE(correct.node(3)->raft().role(), StateRole::kLeader);

  InteractionEnv buggy;
  ASSERT_EQ(buggy.Run("planted-bug vote_without_log_check"), "ok\n");
  EXPECT_TRUE(Violated(RunScript(buggy, script)));
  EXPECT_TRUE(Contains(buggy.applied(1), "x")) << "x is committed";
  const Raft& leader = buggy.node(3)->raft();
  EXPECT_EQ(leader.role(), StateRole::kLeader);
  EXPECT_EQ(leader.term(), 2u);
  EXPECT_NE(TermAt(buggy, 3, 2), 1u) << "the new leader's index 2 is not x";
}

// Without truncation the returning follower keeps its stale "x" and "y" while acknowledging the
// leader's entries at the same indexes: the logs no longer match.
TEST(PlantedBugsTest, NoConflictTruncationLeavesDivergentLogs) {
  InteractionEnv correct;
  EXPECT_FALSE(Violated(Replay(correct, "conflict_truncation.txt", "")));
  EXPECT_EQ(correct.node(1)->raft().log().AllEntries().size(),
            correct.node(2)->raft().log().AllEntries().size());
  EXPECT_EQ(TermAt(correct, 1, 3), 2u);
  EXPECT_EQ(TermAt(correct, 3, 3), 2u);

  InteractionEnv buggy;
  EXPECT_TRUE(Violated(Replay(buggy, "conflict_truncation.txt", "no_conflict_truncation")));
  EXPECT_EQ(TermAt(buggy, 1, 3), 1u) << "stale entry kept";
  EXPECT_EQ(TermAt(buggy, 3, 3), 2u);
  EXPECT_TRUE(Contains(buggy.applied(1), "x")) << "1 applies its stale entry as committed";
}

// The partitioned leader applies "x" and "y" although they were never committed.
TEST(PlantedBugsTest, ApplyUncommittedAppliesEntriesNoQuorumAccepted) {
  InteractionEnv correct;
  EXPECT_FALSE(Violated(Replay(correct, "conflict_truncation.txt", "")));
  EXPECT_FALSE(Contains(correct.applied(1), "x"));
  EXPECT_TRUE(Contains(correct.applied(1), "z"));

  InteractionEnv buggy;
  const std::string out = Replay(buggy, "conflict_truncation.txt", "apply_uncommitted");
  EXPECT_NE(out.find("1: applied 5 > commit 2"), std::string::npos) << out;
  EXPECT_TRUE(Contains(buggy.applied(1), "x"));
  EXPECT_GT(buggy.node(1)->raft().log().applied(), 0u);
}

// With double votes both candidates of term 1 are elected.
TEST(PlantedBugsTest, DoubleVoteSameTermElectsTwoLeaders) {
  auto leaders_in_term_1 = [](const InteractionEnv& env) {
    int leaders = 0;
    for (uint64_t id = 1; id <= 3; ++id) {
      const Raft& r = env.node(id)->raft();
      if (r.role() == StateRole::kLeader && r.term() == 1) ++leaders;
    }
    return leaders;
  };
  // Both candidates ask 3 first; then each hears the other's request and 3's answer.
  const std::vector<std::string> script = {"add-nodes 3 voters=(1,2,3)", "campaign 1",
                                           "campaign 2",  "process-ready 1 2",
                                           "deliver-msgs 3", "process-ready 3",
                                           "deliver-msgs 1 2"};
  InteractionEnv correct;
  EXPECT_FALSE(Violated(RunScript(correct, script)));
  EXPECT_EQ(correct.node(3)->raft().vote(), 1u);
  EXPECT_EQ(leaders_in_term_1(correct), 1);

  InteractionEnv buggy;
  ASSERT_EQ(buggy.Run("planted-bug double_vote_same_term"), "ok\n");
  const std::string out = RunScript(buggy, script);
  EXPECT_NE(out.find("two leaders in term 1: 1 and 2"), std::string::npos) << out;
  EXPECT_EQ(leaders_in_term_1(buggy), 2);
}

}  // namespace
}  // namespace qdsim::raft::testing
