// PosixDisk: every world::Disk operation against a real directory, name validation, the descriptor
// cache, and Sync completing later on the loop thread. Failed writes are undone: exercised with
// RLIMIT_FSIZE (EFBIG), which fails a write part-way the way ENOSPC does; a full disk itself cannot
// be produced without privileges here.
#include "real/runtime/posix_disk.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>

#include <fstream>
#include <optional>
#include <sstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "tests/real/runtime/test_util.h"

namespace qdsim::real {
namespace {

using ::qdsim::real::testing::RunFor;
using ::qdsim::real::testing::RunUntil;
using ::qdsim::real::testing::TempDir;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

class PosixDiskTest : public ::testing::Test {
 protected:
  void SetUp() override { disk_ = OpenDisk(PosixDisk::Options()); }

  std::unique_ptr<PosixDisk> OpenDisk(PosixDisk::Options options) {
    auto disk = PosixDisk::Open(dir_.path() + "/storage", pool_, options);
    EXPECT_TRUE(disk.ok()) << disk.status();
    return disk.ok() ? std::move(*disk) : nullptr;
  }

  std::string OnDisk(const std::string& file) const {
    std::ifstream in(dir_.path() + "/storage/" + file, std::ios::binary);
    std::stringstream buffer;
    buffer << in.rdbuf();
    return buffer.str();
  }

  // Syncs `file` and runs the loop until the callback comes back.
  absl::Status SyncAndWait(const std::string& file) {
    std::optional<absl::Status> result;
    disk_->Sync(file, [&](absl::Status s) { result = s; });
    EXPECT_FALSE(result.has_value());  // never inside Sync()
    EXPECT_TRUE(RunUntil(*loop_, [&] { return result.has_value(); }));
    return result.value_or(absl::DeadlineExceededError("no sync callback"));
  }

  TempDir dir_;
  std::unique_ptr<EventLoop> loop_ = std::move(*EventLoop::Create());
  BlockingPool pool_{*loop_, 1};
  std::unique_ptr<PosixDisk> disk_;
};

TEST_F(PosixDiskTest, AppendCreatesParentsAndReadsBack) {
  ASSERT_TRUE(disk_->Append("raft/log-000001", "hello ").ok());
  ASSERT_TRUE(disk_->Append("raft/log-000001", "world").ok());
  EXPECT_EQ(*disk_->ReadAll("raft/log-000001"), "hello world");
  EXPECT_EQ(*disk_->Read("raft/log-000001", 6, 3), "wor");
  EXPECT_EQ(*disk_->Read("raft/log-000001", 6, 1000), "world");  // short at the end
  EXPECT_EQ(*disk_->Read("raft/log-000001", 11, 5), "");
  EXPECT_EQ(*disk_->Read("raft/log-000001", 500, 5), "");
  EXPECT_EQ(*disk_->Size("raft/log-000001"), 11u);
  EXPECT_EQ(OnDisk("raft/log-000001"), "hello world");  // really under the root
  ASSERT_TRUE(disk_->Append("empty", "").ok());
  EXPECT_EQ(*disk_->Size("empty"), 0u);
}

TEST_F(PosixDiskTest, WriteAtOverwritesAndZeroFillsGaps) {
  ASSERT_TRUE(disk_->WriteAt("slots", 4, "abcd").ok());
  EXPECT_EQ(*disk_->ReadAll("slots"), std::string("\0\0\0\0abcd", 8));
  ASSERT_TRUE(disk_->WriteAt("slots", 2, "XY").ok());
  ASSERT_TRUE(disk_->WriteAt("slots", 7, "ZZ").ok());
  EXPECT_EQ(*disk_->ReadAll("slots"), std::string("\0\0XYabcZZ", 9));
}

TEST_F(PosixDiskTest, MissingFilesAreNotFound) {
  EXPECT_TRUE(absl::IsNotFound(disk_->ReadAll("nope").status()));
  EXPECT_TRUE(absl::IsNotFound(disk_->Read("nope", 0, 1).status()));
  EXPECT_TRUE(absl::IsNotFound(disk_->Size("dir/nope").status()));
  EXPECT_TRUE(absl::IsNotFound(disk_->Truncate("nope", 0)));
  EXPECT_TRUE(absl::IsNotFound(disk_->Rename("nope", "other")));
  EXPECT_TRUE(disk_->Remove("nope").ok());
  EXPECT_TRUE(disk_->Remove("dir/nope").ok());
  ASSERT_TRUE(disk_->Append("file", "x").ok());
  EXPECT_TRUE(absl::IsNotFound(disk_->Size("file/below").status()));  // ENOTDIR
  EXPECT_THAT(disk_->List(""), ElementsAre("file"));                  // reads created nothing
}

TEST_F(PosixDiskTest, TruncateCutsButNeverExtends) {
  ASSERT_TRUE(disk_->Append("f", "0123456789").ok());
  ASSERT_TRUE(disk_->Truncate("f", 4).ok());
  EXPECT_EQ(*disk_->ReadAll("f"), "0123");
  ASSERT_TRUE(disk_->Truncate("f", 100).ok());
  EXPECT_EQ(*disk_->ReadAll("f"), "0123");
  ASSERT_TRUE(disk_->Append("f", "ab").ok());  // appends after the cut
  EXPECT_EQ(*disk_->ReadAll("f"), "0123ab");
}

TEST_F(PosixDiskTest, RenameAtomicallyReplacesEvenWithCachedDescriptors) {
  ASSERT_TRUE(disk_->Append("snapshot", "old").ok());
  ASSERT_TRUE(disk_->Append("tmp/snapshot", "new").ok());
  EXPECT_EQ(*disk_->ReadAll("snapshot"), "old");  // both descriptors are cached now
  ASSERT_TRUE(disk_->Rename("tmp/snapshot", "snapshot").ok());
  EXPECT_EQ(*disk_->ReadAll("snapshot"), "new");
  EXPECT_TRUE(absl::IsNotFound(disk_->Size("tmp/snapshot").status()));
  ASSERT_TRUE(disk_->Append("snapshot", "+").ok());
  EXPECT_EQ(OnDisk("snapshot"), "new+");
  ASSERT_TRUE(disk_->Rename("snapshot", "moved/deeper/snap").ok());  // creates parents
  EXPECT_THAT(disk_->List(""), ElementsAre("moved/deeper/snap"));
}

TEST_F(PosixDiskTest, DirectoriesAreNotFilesInThisView) {
  ASSERT_TRUE(disk_->Append("dir/a", "1").ok());
  EXPECT_TRUE(absl::IsNotFound(disk_->Rename("dir", "elsewhere")));
  EXPECT_FALSE(disk_->ReadAll("dir").ok());
}

TEST_F(PosixDiskTest, RemoveDeletesAndListForgets) {
  ASSERT_TRUE(disk_->Append("a/x", "1").ok());
  ASSERT_TRUE(disk_->Append("a/y", "2").ok());
  ASSERT_TRUE(disk_->Remove("a/x").ok());
  EXPECT_TRUE(absl::IsNotFound(disk_->ReadAll("a/x").status()));
  EXPECT_THAT(disk_->List("a/"), ElementsAre("a/y"));
  ASSERT_TRUE(disk_->Append("a/x", "again").ok());  // a fresh file, not the cached old one
  EXPECT_EQ(*disk_->ReadAll("a/x"), "again");
}

TEST_F(PosixDiskTest, ListIsRecursiveSortedAndFilteredByPrefix) {
  for (const char* name : {"b", "a/2", "a/10", "a/1", "ab", "c/d/e", "..x", ".hidden"}) {
    ASSERT_TRUE(disk_->Append(name, "x").ok()) << name;
  }
  EXPECT_THAT(disk_->List(""), ElementsAre("..x", ".hidden", "a/1", "a/10", "a/2", "ab", "b", "c/d/e"));
  EXPECT_THAT(disk_->List("a/"), ElementsAre("a/1", "a/10", "a/2"));
  EXPECT_THAT(disk_->List("a"), ElementsAre("a/1", "a/10", "a/2", "ab"));
  EXPECT_THAT(disk_->List("a/1"), ElementsAre("a/1", "a/10"));
  EXPECT_THAT(disk_->List("c/d"), ElementsAre("c/d/e"));
  EXPECT_THAT(disk_->List("c/d/e"), ElementsAre("c/d/e"));
  EXPECT_THAT(disk_->List("zz/"), IsEmpty());
  EXPECT_THAT(disk_->List("../"), IsEmpty());
  EXPECT_THAT(disk_->List("/"), IsEmpty());
}

TEST_F(PosixDiskTest, RejectsNamesThatCouldLeaveOrAliasTheRoot) {
  for (const char* bad : {"", "/etc/passwd", "../escape", "a/../b", "a//b", "./a", "a/.", "a/", ".", ".."}) {
    EXPECT_TRUE(absl::IsInvalidArgument(disk_->Append(bad, "x"))) << bad;
    EXPECT_TRUE(absl::IsInvalidArgument(disk_->ReadAll(bad).status())) << bad;
    EXPECT_TRUE(absl::IsInvalidArgument(disk_->Remove(bad))) << bad;
    EXPECT_TRUE(absl::IsInvalidArgument(disk_->Rename("ok", bad))) << bad;
    EXPECT_TRUE(absl::IsInvalidArgument(SyncAndWait(bad))) << bad;
  }
  EXPECT_TRUE(absl::IsInvalidArgument(disk_->Append(std::string("a\0b", 3), "x")));
  EXPECT_TRUE(PosixDisk::CheckName("..x/.y/z..").ok());
  EXPECT_THAT(disk_->List(""), IsEmpty());
}

TEST_F(PosixDiskTest, SyncCompletesLaterOnTheLoopThreadAndCoversDirectories) {
  ASSERT_TRUE(disk_->Append("shards/3/wal", "op").ok());
  EXPECT_EQ(disk_->unsynced_directories(), 3u);  // root, shards, shards/3 gained entries
  const std::thread::id loop_thread = std::this_thread::get_id();
  std::thread::id ran_on;
  bool done = false;
  disk_->Sync("shards/3/wal", [&](absl::Status s) {
    EXPECT_TRUE(s.ok()) << s;
    ran_on = std::this_thread::get_id();
    done = true;
  });
  EXPECT_FALSE(done);
  ASSERT_TRUE(RunUntil(*loop_, [&] { return done; }));
  EXPECT_EQ(ran_on, loop_thread);
  EXPECT_EQ(disk_->unsynced_directories(), 0u);
  ASSERT_TRUE(disk_->Rename("shards/3/wal", "shards/wal").ok());
  EXPECT_EQ(disk_->unsynced_directories(), 2u);
  EXPECT_TRUE(SyncAndWait("gone").ok());  // a missing file: only the directories are synced
  EXPECT_EQ(disk_->unsynced_directories(), 0u);
}

TEST_F(PosixDiskTest, SyncCallbacksOfADestroyedDiskAreDropped) {
  ASSERT_TRUE(disk_->Append("f", "x").ok());
  bool called = false;
  disk_->Sync("f", [&](absl::Status) { called = true; });
  disk_.reset();  // the loop has not run: the result cannot have been delivered yet
  RunFor(*loop_, world::Millis(50));
  EXPECT_FALSE(called);
}

TEST_F(PosixDiskTest, DescriptorCacheIsBounded) {
  disk_ = OpenDisk(PosixDisk::Options{.max_open_files = 2});
  for (int round = 0; round < 3; ++round) {
    for (int i = 0; i < 5; ++i) ASSERT_TRUE(disk_->Append(absl::StrCat("f", i), "x").ok());
  }
  EXPECT_LE(disk_->open_files(), 2u);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(*disk_->ReadAll(absl::StrCat("f", i)), "xxx");
  EXPECT_TRUE(SyncAndWait("f0").ok());
}

TEST_F(PosixDiskTest, OpenCreatesTheRootAndRejectsAFile) {
  auto nested = PosixDisk::Open(dir_.path() + "/x/y/z/", pool_);
  ASSERT_TRUE(nested.ok()) << nested.status();
  EXPECT_EQ((*nested)->root(), dir_.path() + "/x/y/z");
  ASSERT_TRUE(disk_->Append("plain", "x").ok());
  EXPECT_FALSE(PosixDisk::Open(dir_.path() + "/storage/plain", pool_).ok());
}

// A write that fails part-way leaves nothing of itself behind. RLIMIT_FSIZE makes the kernel stop a
// write at the limit (a short write, then EFBIG), the same shape as running out of space.
TEST_F(PosixDiskTest, FailedWriteIsUndone) {
  ASSERT_TRUE(disk_->Append("log", std::string(1000, 'a')).ok());
  ASSERT_TRUE(disk_->WriteAt("slots", 0, std::string(3000, 'b')).ok());
  rlimit old_limit;
  ASSERT_EQ(getrlimit(RLIMIT_FSIZE, &old_limit), 0);
  sighandler_t old_handler = signal(SIGXFSZ, SIG_IGN);
  rlimit limit = old_limit;
  limit.rlim_cur = 4096;
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &limit), 0);
  const absl::Status append = disk_->Append("log", std::string(8000, 'c'));
  const absl::Status overwrite = disk_->WriteAt("slots", 2000, std::string(5000, 'd'));
  const absl::Status create = disk_->Append("new", std::string(8000, 'e'));
  setrlimit(RLIMIT_FSIZE, &old_limit);
  signal(SIGXFSZ, old_handler);
  EXPECT_FALSE(append.ok());
  EXPECT_FALSE(overwrite.ok());
  EXPECT_FALSE(create.ok());
  EXPECT_THAT(std::string(append.message()), ::testing::HasSubstr("storage/log"));
  EXPECT_EQ(*disk_->ReadAll("log"), std::string(1000, 'a'));
  EXPECT_EQ(*disk_->ReadAll("slots"), std::string(3000, 'b'));
  EXPECT_TRUE(absl::IsNotFound(disk_->Size("new").status()));
}

}  // namespace
}  // namespace qdsim::real
