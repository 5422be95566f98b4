#include "node/raft/storage.h"

#include "gtest/gtest.h"
#include "test_util.h"

namespace qdsim::raft {
namespace {

using Pairs = std::vector<std::pair<uint64_t, uint64_t>>;

// A storage holding entries 3..5 with terms 3, 4, 5 after a snapshot at (3, 3).
MemoryStorage StorageFrom3() {
  MemoryStorage s;
  raftpb::Snapshot snap;
  snap.mutable_metadata()->set_index(3);
  snap.mutable_metadata()->set_term(3);
  EXPECT_TRUE(s.ApplySnapshot(snap).ok());
  EXPECT_TRUE(s.Append(MakeEntries(4, {4, 5})).ok());
  return s;
}

TEST(MemoryStorageTest, EmptyStorage) {
  MemoryStorage s;
  EXPECT_EQ(s.FirstIndex(), 1u);
  EXPECT_EQ(s.LastIndex(), 0u);
  EXPECT_EQ(*s.Term(0), 0u);
  EXPECT_TRUE(IsEntryUnavailable(s.Term(1).status()));
}

TEST(MemoryStorageTest, TermAndBounds) {
  MemoryStorage s = StorageFrom3();
  EXPECT_TRUE(IsCompacted(s.Term(2).status()));
  EXPECT_EQ(*s.Term(3), 3u) << "the snapshot's term is kept";
  EXPECT_EQ(*s.Term(5), 5u);
  EXPECT_TRUE(IsEntryUnavailable(s.Term(6).status()));
  EXPECT_EQ(s.FirstIndex(), 4u);
  EXPECT_EQ(s.LastIndex(), 5u);
}

TEST(MemoryStorageTest, EntriesRespectBoundsAndSize) {
  MemoryStorage s = StorageFrom3();
  EXPECT_TRUE(IsCompacted(s.Entries(3, 5, UINT64_MAX).status()));
  EXPECT_TRUE(IsEntryUnavailable(s.Entries(4, 7, UINT64_MAX).status()));
  EXPECT_EQ(IndexTerms(*s.Entries(4, 6, UINT64_MAX)), (Pairs{{4, 4}, {5, 5}}));
  EXPECT_EQ(IndexTerms(*s.Entries(4, 6, 0)), (Pairs{{4, 4}})) << "at least one entry";
}

TEST(MemoryStorageTest, AppendTruncatesConflictingSuffix) {
  MemoryStorage s = StorageFrom3();
  ASSERT_TRUE(s.Append(MakeEntries(5, {6, 6})).ok());
  EXPECT_EQ(IndexTerms(*s.Entries(4, 7, UINT64_MAX)), (Pairs{{4, 4}, {5, 6}, {6, 6}}));
  // Entries below the snapshot are skipped.
  ASSERT_TRUE(s.Append(MakeEntries(2, {2, 3, 4, 7})).ok());
  EXPECT_EQ(IndexTerms(*s.Entries(4, 6, UINT64_MAX)), (Pairs{{4, 4}, {5, 7}}));
  // A gap is refused.
  EXPECT_FALSE(s.Append(MakeEntries(8, {7})).ok());
}

TEST(MemoryStorageTest, CompactKeepsTheTermOfTheCompactedIndex) {
  MemoryStorage s = StorageFrom3();
  EXPECT_TRUE(IsCompacted(s.Compact(3)));
  EXPECT_TRUE(IsEntryUnavailable(s.Compact(6)));
  ASSERT_TRUE(s.Compact(4).ok());
  EXPECT_EQ(s.FirstIndex(), 5u);
  EXPECT_EQ(*s.Term(4), 4u);
  EXPECT_TRUE(IsCompacted(s.Entries(4, 5, UINT64_MAX).status()));
  EXPECT_EQ(IndexTerms(*s.Entries(5, 6, UINT64_MAX)), (Pairs{{5, 5}}));
}

TEST(MemoryStorageTest, CreateSnapshotAndApplySnapshot) {
  MemoryStorage s = StorageFrom3();
  raftpb::ConfState cs;
  cs.add_voters(1);
  absl::StatusOr<raftpb::Snapshot> snap = s.CreateSnapshot(5, cs, "state");
  ASSERT_TRUE(snap.ok());
  EXPECT_EQ(snap->metadata().index(), 5u);
  EXPECT_EQ(snap->metadata().term(), 5u);
  EXPECT_FALSE(s.CreateSnapshot(4, cs, "old").ok()) << "not newer than the snapshot held";
  EXPECT_FALSE(s.CreateSnapshot(9, cs, "future").ok());

  MemoryStorage other;
  ASSERT_TRUE(other.ApplySnapshot(*snap).ok());
  EXPECT_EQ(other.FirstIndex(), 6u);
  EXPECT_EQ(other.LastIndex(), 5u);
  EXPECT_EQ(other.InitialState()->conf_state.voters_size(), 1);
  EXPECT_FALSE(other.ApplySnapshot(*snap).ok()) << "out of date";
}

TEST(MemoryStorageTest, InitialStateReturnsHardAndConfState) {
  MemoryStorage s;
  raftpb::ConfState cs;
  cs.add_voters(1);
  cs.add_learners(2);
  s.SetConfState(cs);
  raftpb::HardState hs;
  hs.set_term(3);
  hs.set_vote(1);
  s.SetHardState(hs);
  absl::StatusOr<PersistentState> st = s.InitialState();
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->hard_state.term(), 3u);
  EXPECT_EQ(st->conf_state.learners(0), 2u);
}

}  // namespace
}  // namespace qdsim::raft
