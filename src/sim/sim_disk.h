// SimDisk: the physical disk of one simulated node, which outlives the node's crashes.
//
// It keeps two views of every file: what the node sees (volatile: every write applies at once) and
// what would survive a power cut (durable). A file is an inode; names map to inodes in a volatile and
// a durable directory. Writes are remembered in order since the inode's last durable point; a sync
// makes a prefix of them, and the whole directory as it was when the sync began, durable.
//
// Crash() (power cut) keeps only the durable view, except that with torn writes enabled the first
// unsynced write of a file may survive as a prefix cut at a sector boundary of the file. Nothing else
// survives, and no byte that was never written can appear.
//
// Faults within the model: a read may fail (DataLoss) or return one flipped bit (the stored bytes stay
// intact, so a re-read can succeed); the disk may be full (ResourceExhausted, nothing applied).
//
//   SimDisk disk(params);
//   disk.Append("log", "abc");
//   SimDisk::SyncTicket t = disk.BeginSync("log");
//   disk.CompleteSync(t);           // "abc" is durable
//   disk.Append("log", "def");
//   disk.Crash(rng);                // "log" holds "abc" (or "abc" + a torn prefix of "def")
//
// Thread-safety: none.
#ifndef QDSIM_SIM_SIM_DISK_H_
#define QDSIM_SIM_SIM_DISK_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "node/world/random.h"

namespace qdsim::sim {

class SimDisk {
 public:
  struct Params {
    bool torn_writes = false;     // a crash may keep a torn prefix of one unsynced write per file
    uint32_t sector_bytes = 512;  // tear granularity
    double read_error = 0;        // probability that a read fails
    double bit_flip = 0;          // probability that a read returns one flipped bit
    uint64_t capacity_bytes = 0;  // total bytes of all live files; 0 = unlimited
  };

  // What a sync covers, captured when it begins.
  struct SyncTicket {
    std::optional<uint64_t> inode;             // the file's inode, if it existed
    uint64_t writes = 0;                       // writes to that inode issued before the sync
    std::map<std::string, uint64_t> directory; // the volatile directory when the sync began
  };

  // Statistics for the run summary.
  struct Stats {
    uint64_t writes = 0, bytes_written = 0, syncs = 0, reads = 0;
    uint64_t read_errors = 0, bit_flips = 0, enospc = 0, torn_writes = 0, crashes = 0;
  };

  explicit SimDisk(Params params) : params_(params) {}

  // The node's operations (world::Disk semantics, see node/world/disk.h). Reads draw faults from `rng`
  // only while faults are enabled.
  absl::Status Append(std::string_view file, std::string_view data);
  absl::Status WriteAt(std::string_view file, uint64_t offset, std::string_view data);
  absl::StatusOr<std::string> Read(std::string_view file, uint64_t offset, uint64_t length,
                                   world::Random& rng);
  absl::StatusOr<uint64_t> Size(std::string_view file) const;
  absl::Status Truncate(std::string_view file, uint64_t size);
  absl::Status Rename(std::string_view from, std::string_view to);
  absl::Status Remove(std::string_view file);
  std::vector<std::string> List(std::string_view prefix) const;

  // A sync in two halves, so the simulator can put latency (and crashes) between them.
  SyncTicket BeginSync(std::string_view file);
  void CompleteSync(const SyncTicket& ticket);

  // Power cut: every volatile change is lost (up to torn writes, drawn from `rng`).
  void Crash(world::Random& rng);

  // Read faults on or off (the nemesis toggles them; off during the liveness phase).
  void set_faults_enabled(bool on) { faults_enabled_ = on; }

  // Test and checker access: the content that would survive a crash right now, without tears.
  std::optional<std::string> DurableContent(std::string_view file) const;
  // The content the node sees now.
  std::optional<std::string> VolatileContent(std::string_view file) const;

  const Stats& stats() const { return stats_; }
  const Params& params() const { return params_; }

 private:
  // One change to a file's bytes, in issue order.
  struct Op {
    bool truncate = false;  // true: cut to `offset`; false: write `data` at `offset`
    uint64_t offset = 0;
    std::string data;
  };
  struct Inode {
    std::string durable;       // bytes that survive a crash
    std::string current;       // bytes the node sees
    std::vector<Op> pending;   // ops since `durable`, oldest first
    uint64_t applied_ops = 0;  // ops ever made durable (so tickets can count)
  };

  static void ApplyOp(const Op& op, std::string& bytes);
  Inode* Find(std::string_view file);
  const Inode* Find(std::string_view file) const;
  Inode& FindOrCreate(std::string_view file);
  absl::Status CheckSpace(uint64_t old_size, uint64_t new_size) const;
  uint64_t UsedBytes() const;
  void DropUnreferenced();
  void TearFirstPending(Inode& inode, world::Random& rng);

  Params params_;
  bool faults_enabled_ = true;
  uint64_t next_inode_ = 1;
  std::map<uint64_t, Inode> inodes_;
  std::map<std::string, uint64_t, std::less<>> volatile_dir_;  // names the node sees
  std::map<std::string, uint64_t, std::less<>> durable_dir_;   // names that survive a crash
  Stats stats_;
};

}  // namespace qdsim::sim

#endif  // QDSIM_SIM_SIM_DISK_H_
