#include "node/raft/durable_log.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "tests/node/raft/mem_disk.h"

namespace qdsim::raft {
namespace {

using testing::MemDisk;

raftpb::Entry E(uint64_t index, uint64_t term, std::string data = "") {
  raftpb::Entry e;
  e.set_index(index);
  e.set_term(term);
  e.set_data(data.empty() ? "cmd" + std::to_string(index) : data);
  return e;
}

raftpb::HardState HS(uint64_t term, uint64_t vote, uint64_t commit) {
  raftpb::HardState hs;
  hs.set_term(term);
  hs.set_vote(vote);
  hs.set_commit(commit);
  return hs;
}

TEST(DurableLogTest, RecoversWhatWasAppended) {
  MemDisk disk;
  DurableLog log(disk, "raft");
  ASSERT_TRUE(log.Append(HS(2, 1, 1), {E(1, 1), E(2, 2)}).ok());
  ASSERT_TRUE(log.Append(HS(2, 1, 2), {}).ok());
  DurableLog again(disk, "raft");
  auto r = again.Recover();
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->hard_state.commit(), 2u);
  EXPECT_EQ(r->hard_state.vote(), 1u);
  ASSERT_EQ(r->entries.size(), 2u);
  EXPECT_EQ(r->entries[1].term(), 2u);
  EXPECT_FALSE(r->snapshot);
}

TEST(DurableLogTest, AConflictingEntryReplacesTheSuffix) {
  MemDisk disk;
  DurableLog log(disk, "raft");
  ASSERT_TRUE(log.Append(HS(1, 0, 0), {E(1, 1), E(2, 1), E(3, 1)}).ok());
  ASSERT_TRUE(log.Append(HS(2, 0, 0), {E(2, 2, "new")}).ok());
  auto r = DurableLog(disk, "raft").Recover();
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->entries.size(), 2u);
  EXPECT_EQ(r->entries[1].data(), "new");
}

TEST(DurableLogTest, TornTailIsTruncatedAndReported) {
  MemDisk disk;
  DurableLog log(disk, "raft");
  ASSERT_TRUE(log.Append(HS(1, 0, 0), {E(1, 1), E(2, 1)}).ok());
  disk.files()["raft/log"].resize(disk.files()["raft/log"].size() - 3);
  auto r = DurableLog(disk, "raft").Recover();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->entries.size(), 1u);
  EXPECT_GT(r->dropped_tail_bytes, 0u);
  // The file itself was cut back to its valid prefix: appends continue from there.
  auto again = DurableLog(disk, "raft").Recover();
  EXPECT_EQ(again->dropped_tail_bytes, 0u);
}

TEST(DurableLogTest, SnapshotReplacesTheLogPrefix) {
  MemDisk disk;
  DurableLog log(disk, "raft");
  ASSERT_TRUE(log.Append(HS(3, 2, 4), {E(1, 1), E(2, 2), E(3, 3), E(4, 3), E(5, 3)}).ok());
  raftpb::Snapshot snap;
  snap.mutable_metadata()->set_index(4);
  snap.mutable_metadata()->set_term(3);
  snap.mutable_metadata()->mutable_conf_state()->add_voters(1);
  snap.set_data("state@4");
  bool done = false;
  log.SaveSnapshot(snap, HS(3, 2, 4), {E(5, 3)}, [&](absl::Status s) { done = s.ok(); });
  EXPECT_FALSE(done);
  disk.RunSyncs();
  EXPECT_TRUE(done);
  EXPECT_FALSE(disk.files().contains("raft/log.tmp"));
  auto r = DurableLog(disk, "raft").Recover();
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_TRUE(r->snapshot);
  EXPECT_EQ(r->snapshot->data(), "state@4");
  ASSERT_EQ(r->entries.size(), 1u);
  EXPECT_EQ(r->entries[0].index(), 5u);
}

// A crash after the snapshot was renamed into place but before the log was: the old log's entries
// continue the snapshot (same term at its index), so they are kept past it.
TEST(DurableLogTest, NewSnapshotWithOldLogRecoversConsistently) {
  MemDisk disk;
  DurableLog log(disk, "raft");
  ASSERT_TRUE(log.Append(HS(3, 2, 4), {E(1, 1), E(2, 2), E(3, 3), E(4, 3), E(5, 3)}).ok());
  raftpb::Snapshot snap;
  snap.mutable_metadata()->set_index(3);
  snap.mutable_metadata()->set_term(3);
  std::string record;
  log.SaveSnapshot(snap, HS(3, 2, 4), {E(4, 3), E(5, 3)}, [](absl::Status) {});
  // Simulate: snapshot.tmp renamed to snapshot, log.tmp still pending (crash).
  disk.files()["raft/snapshot"] = disk.files()["raft/snapshot.tmp"];
  auto r = DurableLog(disk, "raft").Recover();
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->entries.size(), 2u);
  EXPECT_EQ(r->entries[0].index(), 4u);
  EXPECT_FALSE(disk.files().contains("raft/snapshot.tmp"));
}

// Regression (raft_torn_write_crashes seeds 171, 348, 773): a crash between the snapshot rename
// and the log rename of the bootstrap save left a snapshot and no log; recovery deleted log.tmp,
// the node appended to a new log without a base record, and the next recovery dropped every entry
// it had acknowledged.
TEST(DurableLogTest, CrashBetweenTheTwoRenamesKeepsLaterAppends) {
  MemDisk disk;
  {
    DurableLog log(disk, "raft");
    raftpb::Snapshot boot;
    boot.mutable_metadata()->set_index(1);
    boot.mutable_metadata()->set_term(1);
    log.SaveSnapshot(boot, HS(1, 0, 1), {}, [](absl::Status) {});
    // The crash: snapshot.tmp was renamed over snapshot, log.tmp never over log.
    disk.files()["raft/snapshot"] = disk.files()["raft/snapshot.tmp"];
    disk.files().erase("raft/snapshot.tmp");
  }
  for (bool keep_log_tmp : {true, false}) {
    MemDisk copy = disk;
    if (!keep_log_tmp) copy.files().erase("raft/log.tmp");
    DurableLog log(copy, "raft");
    auto first = log.Recover();
    ASSERT_TRUE(first.ok()) << first.status();
    EXPECT_EQ(first->hard_state.term(), keep_log_tmp ? 1u : 0u) << "log.tmp rolled forward";
    ASSERT_TRUE(log.Append(HS(2, 1, 1), {E(2, 2), E(3, 2)}).ok());
    auto second = DurableLog(copy, "raft").Recover();
    ASSERT_TRUE(second.ok());
    ASSERT_EQ(second->entries.size(), 2u) << "entries appended after the crash survive the next one";
    EXPECT_EQ(second->entries[0].index(), 2u);
  }
}

// Review finding: a torn write can keep a hard state whose commit covers entries that did not
// make it; recovery must not hand Raft a commit index beyond the log (it refuses to start on one).
TEST(DurableLogTest, CommitNeverExceedsTheRecoveredLog) {
  MemDisk disk;
  DurableLog log(disk, "raft");
  ASSERT_TRUE(log.Append(HS(2, 1, 1), {E(1, 1)}).ok());
  const size_t before = disk.files()["raft/log"].size();
  ASSERT_TRUE(log.Append(HS(2, 1, 3), {E(2, 2), E(3, 2)}).ok());
  // Keep the hard state record of the second write and cut the entries after it.
  std::string& bytes = disk.files()["raft/log"];
  const size_t hard_state_record = 8 + 1 + HS(2, 1, 3).ByteSizeLong();
  bytes.resize(before + hard_state_record);
  auto r = DurableLog(disk, "raft").Recover();
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->entries.size(), 1u);
  EXPECT_EQ(r->hard_state.commit(), 1u);
}

// Property: whatever single damage (a cut or a bit flip) the log file suffers, recovery returns a
// prefix of the entries written, never an entry that was not written, and never fails.
RC_GTEST_PROP(DurableLogTest, DamagedLogRecoversAPrefix, (uint8_t count, bool flip)) {
  MemDisk disk;
  DurableLog log(disk, "raft");
  std::vector<raftpb::Entry> written;
  for (uint64_t i = 1; i <= static_cast<uint64_t>(count % 40) + 1; ++i) {
    written.push_back(E(i, 1 + i / 10, std::string(i % 7, 'x') + std::to_string(i)));
    RC_ASSERT(log.Append(HS(1 + i / 10, 1, i / 2), {written.back()}).ok());
  }
  std::string& bytes = disk.files()["raft/log"];
  const size_t at = *rc::gen::inRange<size_t>(0, bytes.size());
  if (flip) {
    bytes[at] = static_cast<char>(bytes[at] ^ (1 << *rc::gen::inRange(0, 8)));
  } else {
    bytes.resize(at);
  }
  auto r = DurableLog(disk, "raft").Recover();
  RC_ASSERT(r.ok());
  RC_ASSERT(r->entries.size() <= written.size());
  for (size_t i = 0; i < r->entries.size(); ++i) {
    RC_ASSERT(r->entries[i].SerializeAsString() == written[i].SerializeAsString());
  }
}

}  // namespace
}  // namespace qdsim::raft
