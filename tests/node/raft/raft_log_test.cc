#include "node/raft/raft_log.h"

#include "gtest/gtest.h"
#include "test_util.h"

namespace qdsim::raft {
namespace {

using Pairs = std::vector<std::pair<uint64_t, uint64_t>>;

// A log whose storage holds entries 1..3 with terms 1, 2, 3.
class RaftLogTest : public ::testing::Test {
 protected:
  RaftLogTest() {
    EXPECT_TRUE(storage_.Append(MakeEntries(1, {1, 2, 3})).ok());
    log_ = std::make_unique<RaftLog>(&storage_, UINT64_MAX);
  }

  MemoryStorage storage_;
  std::unique_ptr<RaftLog> log_;
};

TEST_F(RaftLogTest, StartsWithTheStorage) {
  EXPECT_EQ(log_->FirstIndex(), 1u);
  EXPECT_EQ(log_->LastIndex(), 3u);
  EXPECT_EQ(log_->LastTerm(), 3u);
  EXPECT_EQ(log_->committed(), 0u);
  EXPECT_TRUE(log_->UnstableEntries().empty());
}

TEST_F(RaftLogTest, FindConflict) {
  EXPECT_EQ(log_->FindConflict({}), 0u);
  EXPECT_EQ(log_->FindConflict(MakeEntries(1, {1, 2, 3})), 0u) << "all match";
  EXPECT_EQ(log_->FindConflict(MakeEntries(2, {2, 3, 4, 4})), 4u) << "new entries";
  EXPECT_EQ(log_->FindConflict(MakeEntries(2, {2, 4})), 3u) << "term differs at 3";
  EXPECT_EQ(log_->FindConflict(MakeEntries(1, {4, 4})), 1u);
}

TEST_F(RaftLogTest, MaybeAppendRejectsOnTermMismatch) {
  EXPECT_FALSE(log_->MaybeAppend(3, 2, 3, MakeEntries(4, {4}), false).has_value());
  EXPECT_FALSE(log_->MaybeAppend(4, 3, 3, MakeEntries(5, {4}), false).has_value())
      << "beyond the last index";
  EXPECT_EQ(log_->LastIndex(), 3u);
}

TEST_F(RaftLogTest, MaybeAppendTruncatesTheConflictingSuffix) {
  std::optional<uint64_t> last = log_->MaybeAppend(1, 1, 2, MakeEntries(2, {4, 4}), false);
  ASSERT_TRUE(last.has_value());
  EXPECT_EQ(*last, 3u);
  EXPECT_EQ(IndexTerms(log_->AllEntries()), (Pairs{{1, 1}, {2, 4}, {3, 4}}));
  EXPECT_EQ(log_->committed(), 2u) << "min(leader commit, last new index)";
  EXPECT_EQ(IndexTerms(log_->UnstableEntries()), (Pairs{{2, 4}, {3, 4}}));
}

TEST_F(RaftLogTest, MaybeAppendDoesNotTruncateOnAStaleShorterAppend) {
  // An old, reordered MsgApp carrying a prefix must not cut entries after it.
  std::optional<uint64_t> last = log_->MaybeAppend(1, 1, 0, MakeEntries(2, {2}), false);
  ASSERT_TRUE(last.has_value());
  EXPECT_EQ(*last, 2u);
  EXPECT_EQ(log_->LastIndex(), 3u);
}

TEST_F(RaftLogTest, KeepConflictingPlantedBugKeepsStaleEntries) {
  std::optional<uint64_t> last = log_->MaybeAppend(1, 1, 0, MakeEntries(2, {4, 4, 4}), true);
  ASSERT_TRUE(last.has_value());
  EXPECT_EQ(*last, 4u) << "acknowledges as if it had taken everything";
  EXPECT_EQ(IndexTerms(log_->AllEntries()), (Pairs{{1, 1}, {2, 2}, {3, 3}, {4, 4}}));
}

TEST_F(RaftLogTest, FindConflictByTermSkipsWholeTerms) {
  ASSERT_TRUE(log_->MaybeAppend(3, 3, 0, MakeEntries(4, {5, 5, 5}), false).has_value());
  EXPECT_EQ(log_->FindConflictByTerm(6, 4), (std::pair<uint64_t, uint64_t>{3, 3}));
  EXPECT_EQ(log_->FindConflictByTerm(6, 5), (std::pair<uint64_t, uint64_t>{6, 5}));
  EXPECT_EQ(log_->FindConflictByTerm(6, 0), (std::pair<uint64_t, uint64_t>{0, 0}));
}

TEST_F(RaftLogTest, IsUpToDateComparesTermThenIndex) {
  EXPECT_TRUE(log_->IsUpToDate(1, 4)) << "higher last term wins regardless of length";
  EXPECT_TRUE(log_->IsUpToDate(3, 3));
  EXPECT_FALSE(log_->IsUpToDate(2, 3));
  EXPECT_FALSE(log_->IsUpToDate(10, 2));
}

TEST_F(RaftLogTest, CommitRuleRequiresTheCurrentTerm) {
  EXPECT_FALSE(log_->MaybeCommit(2, 3)) << "entry 2 has term 2, not the leader's term 3";
  EXPECT_EQ(log_->committed(), 0u);
  EXPECT_TRUE(log_->MaybeCommit(3, 3));
  EXPECT_EQ(log_->committed(), 3u);
  log_->CommitTo(1);
  EXPECT_EQ(log_->committed(), 3u) << "never decreases";
}

TEST_F(RaftLogTest, EntriesToApplyFollowCommitAndApplied) {
  log_->CommitTo(2);
  EXPECT_EQ(IndexTerms(log_->NextEntriesToApply(log_->committed())), (Pairs{{1, 1}, {2, 2}}));
  log_->AppliedTo(2);
  EXPECT_FALSE(log_->HasNextEntriesToApply(log_->committed()));
  EXPECT_TRUE(log_->HasNextEntriesToApply(log_->LastIndex()));
}

TEST_F(RaftLogTest, StableToMovesEntriesOutOfTheUnstableTail) {
  log_->Append(MakeEntries(4, {3, 3}));
  EXPECT_EQ(log_->UnstableEntries().size(), 2u);
  log_->StableTo(4, 2);  // wrong term: ignored
  EXPECT_EQ(log_->UnstableEntries().size(), 2u);
  log_->StableTo(4, 3);
  EXPECT_EQ(IndexTerms(log_->UnstableEntries()), (Pairs{{5, 3}}));
}

TEST_F(RaftLogTest, SliceSpansStableAndUnstable) {
  log_->Append(MakeEntries(4, {3, 3}));
  EXPECT_EQ(IndexTerms(*log_->Slice(2, 6, UINT64_MAX)), (Pairs{{2, 2}, {3, 3}, {4, 3}, {5, 3}}));
  EXPECT_TRUE(IsEntryUnavailable(log_->Slice(2, 7, UINT64_MAX).status()));
}

TEST_F(RaftLogTest, CompactedIndexesAreReportedAsCompacted) {
  ASSERT_TRUE(storage_.Compact(2).ok());
  EXPECT_EQ(log_->FirstIndex(), 3u);
  EXPECT_TRUE(IsCompacted(log_->Term(1).status()));
  EXPECT_EQ(*log_->Term(2), 2u);
  EXPECT_TRUE(IsCompacted(log_->Entries(2, UINT64_MAX).status()));
}

TEST_F(RaftLogTest, RestoreReplacesTheLog) {
  raftpb::Snapshot snap;
  snap.mutable_metadata()->set_index(10);
  snap.mutable_metadata()->set_term(5);
  log_->Restore(snap);
  EXPECT_EQ(log_->FirstIndex(), 11u);
  EXPECT_EQ(log_->LastIndex(), 10u);
  EXPECT_EQ(log_->LastTerm(), 5u);
  EXPECT_EQ(log_->committed(), 10u);
  EXPECT_TRUE(log_->UnstableSnapshot().has_value());
}

}  // namespace
}  // namespace qdsim::raft
