#include "sim/sim_disk.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

namespace qdsim::sim {
namespace {

TEST(SimDiskTest, OnlySyncedBytesSurviveACrash) {
  SimDisk disk({});
  world::Random rng(1);
  ASSERT_TRUE(disk.Append("f", "abc").ok());
  auto ticket = disk.BeginSync("f");
  ASSERT_TRUE(disk.Append("f", "def").ok());  // after the sync began: not covered
  disk.CompleteSync(ticket);
  disk.Crash(rng);
  EXPECT_EQ(disk.VolatileContent("f"), "abc");
}

TEST(SimDiskTest, AnUnsyncedFileVanishes) {
  SimDisk disk({});
  world::Random rng(1);
  ASSERT_TRUE(disk.Append("f", "abc").ok());
  disk.Crash(rng);
  EXPECT_FALSE(disk.VolatileContent("f").has_value());
  EXPECT_TRUE(absl::IsNotFound(disk.Size("f").status()));
}

TEST(SimDiskTest, RenameIsDurableOnlyAfterASync) {
  SimDisk disk({});
  world::Random rng(1);
  ASSERT_TRUE(disk.Append("tmp", "new").ok());
  ASSERT_TRUE(disk.Append("cur", "old").ok());
  disk.CompleteSync(disk.BeginSync("tmp"));
  disk.CompleteSync(disk.BeginSync("cur"));
  ASSERT_TRUE(disk.Rename("tmp", "cur").ok());
  EXPECT_EQ(disk.VolatileContent("cur"), "new");
  SimDisk copy = disk;
  copy.Crash(rng);  // rename not yet synced: the old name space comes back
  EXPECT_EQ(copy.VolatileContent("cur"), "old");
  EXPECT_EQ(copy.VolatileContent("tmp"), "new");
  disk.CompleteSync(disk.BeginSync("cur"));
  disk.Crash(rng);
  EXPECT_EQ(disk.VolatileContent("cur"), "new");
  EXPECT_FALSE(disk.VolatileContent("tmp").has_value());
}

TEST(SimDiskTest, FullDiskRefusesTheWholeWrite) {
  SimDisk disk({.capacity_bytes = 10});
  ASSERT_TRUE(disk.Append("f", "12345678").ok());
  absl::Status s = disk.Append("f", "abc");
  EXPECT_TRUE(absl::IsResourceExhausted(s)) << s;
  EXPECT_EQ(disk.VolatileContent("f"), "12345678");
  EXPECT_TRUE(disk.Append("f", "ab").ok());
  EXPECT_EQ(disk.stats().enospc, 1u);
}

TEST(SimDiskTest, ReadFaultsAreTransientAndCanBeTurnedOff) {
  SimDisk disk({.read_error = 1.0});
  world::Random rng(1);
  ASSERT_TRUE(disk.Append("f", "abc").ok());
  EXPECT_FALSE(disk.Read("f", 0, 3, rng).ok());
  disk.set_faults_enabled(false);
  EXPECT_EQ(*disk.Read("f", 0, 3, rng), "abc");

  SimDisk flips({.bit_flip = 1.0});
  ASSERT_TRUE(flips.Append("f", "abc").ok());
  auto read = flips.Read("f", 0, 3, rng);
  ASSERT_TRUE(read.ok());
  EXPECT_NE(*read, "abc");
  EXPECT_EQ(flips.VolatileContent("f"), "abc");  // stored bytes stay intact
}

// A random history of writes, truncates and syncs on one file.
struct DiskOp {
  int kind;         // 0 append, 1 write-at, 2 truncate, 3 begin sync, 4 complete oldest sync
  std::string data;
  int offset;
};

// Property: after a crash a file holds exactly the state its completed syncs made durable, plus at
// most a prefix (cut at a sector boundary of the file) of the first unsynced write — never bytes that
// were never written.
RC_GTEST_PROP(SimDiskTest, CrashKeepsSyncedBytesPlusAtMostOneTornPrefix, (uint64_t seed)) {
  const bool torn = *rc::gen::arbitrary<bool>();
  const uint32_t sector = *rc::gen::element(1u, 4u, 16u);
  const auto ops = *rc::gen::container<std::vector<DiskOp>>(rc::gen::build<DiskOp>(
      rc::gen::set(&DiskOp::kind, rc::gen::inRange(0, 5)),
      rc::gen::set(&DiskOp::data, rc::gen::container<std::string>(rc::gen::inRange('a', 'z'))),
      rc::gen::set(&DiskOp::offset, rc::gen::inRange(0, 64))));
  SimDisk disk({.torn_writes = torn, .sector_bytes = sector});
  // The model: every change in order, and how many of them the completed syncs cover.
  struct Change {
    bool truncate;
    uint64_t offset;
    std::string data;
  };
  std::vector<Change> changes;
  std::vector<std::pair<SimDisk::SyncTicket, size_t>> in_flight;  // ticket, changes covered
  size_t durable_changes = 0;
  bool created_durably = false;
  auto apply = [](const Change& c, std::string& bytes) {
    if (c.truncate) {
      if (bytes.size() > c.offset) bytes.resize(c.offset);
    } else {
      if (bytes.size() < c.offset + c.data.size()) bytes.resize(c.offset + c.data.size(), '\0');
      bytes.replace(c.offset, c.data.size(), c.data);
    }
  };
  for (const DiskOp& op : ops) {
    const uint64_t size = disk.Size("f").ok() ? *disk.Size("f") : 0;
    switch (op.kind) {
      case 0:
        RC_ASSERT(disk.Append("f", op.data).ok());
        changes.push_back({false, size, op.data});
        break;
      case 1:
        RC_ASSERT(disk.WriteAt("f", op.offset, op.data).ok());
        changes.push_back({false, static_cast<uint64_t>(op.offset), op.data});
        break;
      case 2:
        if (!disk.Size("f").ok()) break;
        RC_ASSERT(disk.Truncate("f", op.offset).ok());
        if (size > static_cast<uint64_t>(op.offset)) changes.push_back({true, static_cast<uint64_t>(op.offset), ""});
        break;
      case 3:
        in_flight.emplace_back(disk.BeginSync("f"), changes.size());
        break;
      default:
        if (in_flight.empty()) break;
        disk.CompleteSync(in_flight.front().first);
        if (in_flight.front().first.inode) created_durably = true;
        durable_changes = std::max(durable_changes, in_flight.front().second);
        in_flight.erase(in_flight.begin());
    }
  }
  world::Random rng(seed);
  disk.Crash(rng);
  const auto after = disk.VolatileContent("f");
  if (!created_durably) {
    RC_ASSERT(!after.has_value());
    return;
  }
  RC_ASSERT(after.has_value());
  std::string expected;
  for (size_t i = 0; i < durable_changes; ++i) apply(changes[i], expected);
  if (*after == expected) return;
  // Otherwise it must be a torn prefix of the first unsynced change, a write, cut at a sector
  // boundary of the file (or whole).
  RC_ASSERT(torn);
  RC_ASSERT(durable_changes < changes.size());
  const Change& next = changes[durable_changes];
  RC_ASSERT(!next.truncate);
  bool matched = false;
  for (size_t keep = 1; keep <= next.data.size() && !matched; ++keep) {
    const bool boundary = keep == next.data.size() || (next.offset + keep) % sector == 0;
    if (!boundary) continue;
    std::string candidate = expected;
    apply({false, next.offset, next.data.substr(0, keep)}, candidate);
    matched = candidate == *after;
  }
  RC_ASSERT(matched);
}

}  // namespace
}  // namespace qdsim::sim
