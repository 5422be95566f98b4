// Disk: a file-system view rooted at the node's storage directory.
//
// Files are named by relative paths ("raft/log-000001", "shards/3/wal"); directories are implicit and
// created as needed. Every operation but Sync() takes effect at once in the node's view and returns a
// Status; none of them is durable by itself.
//
// Durability contract (the only promises a crash keeps):
//  - Sync(file, done) makes durable every write to `file` issued before the call, together with the
//    directory entries (creations, renames, removals) made before the call, and then calls
//    done(OkStatus()). Until `done` runs, nothing is promised.
//  - A crash loses every write not yet made durable. At most one unsynced write per file may survive
//    in part: a prefix of it, cut at a sector boundary (a "torn write"). Never does a file end up with
//    bytes that were never written to it.
//  - Rename(from, to) is atomic in the node's view; after a crash, `to` holds either its old content or
//    the renamed file, depending on whether a Sync covering the rename completed.
//  - A `done` callback runs on the node's logical thread, never inside Sync(); if the node crashes
//    first it never runs. A failed sync (done(!ok)) leaves the data's durability unknown: treat the
//    file as unreliable past its last successful sync.
//
// Errors: NotFound for a missing file; ResourceExhausted when the disk is full (ENOSPC: nothing of the
// failed write is applied); DataLoss or Internal for an I/O error. A read may return corrupted bytes
// (bit flips) without an error: on-disk formats carry checksums and must check them.
//
// Thread-safety: none; every call happens on the node's logical thread.
#ifndef QDSIM_NODE_WORLD_DISK_H_
#define QDSIM_NODE_WORLD_DISK_H_

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace qdsim::world {

class Disk {
 public:
  using SyncCallback = std::function<void(absl::Status)>;

  virtual ~Disk() = default;

  // Appends `data` to `file`, creating it if missing.
  virtual absl::Status Append(std::string_view file, std::string_view data) = 0;

  // Writes `data` at `offset`, creating the file if missing and zero-filling any gap.
  virtual absl::Status WriteAt(std::string_view file, uint64_t offset, std::string_view data) = 0;

  // Reads up to `length` bytes from `offset`; fewer at the end of the file. NotFound if missing.
  virtual absl::StatusOr<std::string> Read(std::string_view file, uint64_t offset,
                                           uint64_t length) = 0;

  // Reads a whole file.
  virtual absl::StatusOr<std::string> ReadAll(std::string_view file) = 0;

  // Size of a file in bytes; NotFound if missing.
  virtual absl::StatusOr<uint64_t> Size(std::string_view file) = 0;

  // Cuts a file to `size` bytes (no-op if shorter).
  virtual absl::Status Truncate(std::string_view file, uint64_t size) = 0;

  // Atomically replaces `to` with `from`.
  virtual absl::Status Rename(std::string_view from, std::string_view to) = 0;

  // Removes a file; OK if it did not exist.
  virtual absl::Status Remove(std::string_view file) = 0;

  // Names of existing files that start with `prefix`, sorted.
  virtual std::vector<std::string> List(std::string_view prefix) = 0;

  // Makes earlier writes to `file` and earlier directory changes durable, then calls `done`.
  virtual void Sync(std::string_view file, SyncCallback done) = 0;
};

}  // namespace qdsim::world

#endif  // QDSIM_NODE_WORLD_DISK_H_
