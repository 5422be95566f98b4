// PosixDisk: world::Disk over a real directory (the node's storage directory).
//
// File names are relative paths under the root ("raft/log-000001"); parent directories are created
// as needed and are invisible in the view (List() names files only). A name that is empty, absolute,
// or has an empty, "." or ".." component is rejected with InvalidArgument, so no name can reach
// outside the root or alias another name.
//
// Every operation but Sync() is a plain syscall on the loop thread (writes land in the page cache).
// Sync(file, done) runs on the BlockingPool: fdatasync of the file, then fsync of every directory
// whose entries changed (creations, renames, removals) and that no completed sync has covered yet,
// as the contract in node/world/disk.h requires for Rename to be durable. `done` is posted back to
// the loop thread, never run inside Sync().
//
// Errors follow the contract: ENOENT/ENOTDIR -> NotFound; ENOSPC/EDQUOT -> ResourceExhausted with the
// failed write undone (the file is cut back to its old size, old bytes it overwrote are restored, a
// file it created is removed); EIO -> DataLoss; anything else -> Internal. Messages carry the path
// and strerror.
//
// Open descriptors are cached (least recently used first out, `max_open_files`), so a log that is
// appended to many times is opened once.
//
//   BlockingPool pool(loop, 1);
//   auto disk = PosixDisk::Open("/var/lib/qdnode/storage", pool);   // StatusOr<unique_ptr<PosixDisk>>
//   (*disk)->Append("raft/log-000001", record);
//   (*disk)->Sync("raft/log-000001", [](absl::Status s) { /* durable if s.ok(), on the loop */ });
//
// Thread-safety: none; every call happens on the loop thread of the pool's EventLoop.
#ifndef QDSIM_REAL_RUNTIME_POSIX_DISK_H_
#define QDSIM_REAL_RUNTIME_POSIX_DISK_H_

#include <cstdint>
#include <list>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "node/world/disk.h"
#include "real/runtime/event_loop.h"

namespace qdsim::real {

class PosixDisk final : public world::Disk {
 public:
  struct Options {
    size_t max_open_files = 64;  // descriptors kept open between calls (at least 1)
  };

  // A disk rooted at `root`, which is created (with its parents) if missing. Syncs run on `pool`
  // and complete on its loop. REQUIRES: `pool` outlives the disk.
  static absl::StatusOr<std::unique_ptr<PosixDisk>> Open(std::string root, BlockingPool& pool,
                                                         Options options);
  static absl::StatusOr<std::unique_ptr<PosixDisk>> Open(std::string root, BlockingPool& pool) {
    return Open(std::move(root), pool, Options());
  }

  // Closes cached descriptors. Syncs still running finish, but their callbacks are dropped (as
  // after a crash: nothing is promised).
  ~PosixDisk() override;

  PosixDisk(const PosixDisk&) = delete;
  PosixDisk& operator=(const PosixDisk&) = delete;

  absl::Status Append(std::string_view file, std::string_view data) override;
  absl::Status WriteAt(std::string_view file, uint64_t offset, std::string_view data) override;
  absl::StatusOr<std::string> Read(std::string_view file, uint64_t offset, uint64_t length) override;
  absl::StatusOr<std::string> ReadAll(std::string_view file) override;
  absl::StatusOr<uint64_t> Size(std::string_view file) override;
  absl::Status Truncate(std::string_view file, uint64_t size) override;
  absl::Status Rename(std::string_view from, std::string_view to) override;
  absl::Status Remove(std::string_view file) override;
  // Files (recursively, as relative names) whose name starts with `prefix`, sorted bytewise. A
  // prefix that could not name a valid file yields nothing.
  std::vector<std::string> List(std::string_view prefix) override;
  void Sync(std::string_view file, SyncCallback done) override;

  // OK for a name this disk accepts; InvalidArgument (saying why) otherwise.
  static absl::Status CheckName(std::string_view file);

  const std::string& root() const { return root_; }
  size_t open_files() const { return fds_.size(); }
  // Directories (relative, "" = root) with entry changes no completed sync has covered.
  size_t unsynced_directories() const { return unsynced_dirs_.size(); }

 private:
  struct CachedFd {
    int fd;
    std::list<std::string>::iterator lru;  // position in lru_ (front = most recent)
  };

  PosixDisk(std::string root, BlockingPool& pool, Options options);

  std::string PathOf(std::string_view file) const;
  // The cached descriptor of `file`, opening it (and with `create`, creating it and its parent
  // directories) if needed. *created tells whether this call created the file.
  absl::StatusOr<int> FdFor(std::string_view file, bool create, bool* created = nullptr);
  absl::Status CreateParents(std::string_view file);
  void CloseCached(std::string_view file);
  void MarkDirChanged(std::string_view dir);
  // Writes all of `data` at `offset`; on failure undoes the write (see the header comment).
  absl::Status WriteUndoable(std::string_view file, int fd, uint64_t offset, std::string_view data,
                             bool created);
  absl::StatusOr<std::string> ReadFd(std::string_view file, int fd, uint64_t offset, uint64_t length);
  // Called on the loop when a sync that began at directory change `seq` succeeded.
  void ForgetSyncedDirs(uint64_t seq);

  const std::string root_;
  BlockingPool& pool_;
  const Options options_;
  std::map<std::string, CachedFd, std::less<>> fds_;  // open descriptors by file name
  std::list<std::string> lru_;                        // cached names, most recently used first
  // Directories whose entries changed, with the number of the latest change; a sync that began
  // after change N covers every directory whose latest change is <= N.
  std::map<std::string, uint64_t, std::less<>> unsynced_dirs_;
  uint64_t dir_changes_ = 0;
  // Sync callbacks hold a weak reference, so a sync finishing after the disk is gone is dropped.
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace qdsim::real

#endif  // QDSIM_REAL_RUNTIME_POSIX_DISK_H_
