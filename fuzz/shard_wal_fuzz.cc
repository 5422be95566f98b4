// Fuzzes shard WAL recovery: the input becomes the shard's `wal` file, and ShardStore::Open must
// either refuse with an error or recover a state that (1) a second Open reproduces exactly with
// nothing more to truncate, and (2) accepts and durably keeps a new operation.
#include <cstddef>
#include <cstdint>
#include <string>

#include "node/shard/shard_store.h"
#include "node/shard/snapshot_codec.h"
#include "tests/node/raft/mem_disk.h"

namespace {

qdsim::shard::ShardConfig Config() {
  qdsim::shard::ShardConfig c;
  c.dense[""] = {2, qdsim::shard::Distance::kDot};
  c.dense["img"] = {3, qdsim::shard::Distance::kCosine};
  c.sparse.insert("text");
  return c;
}

// The whole state as bytes (the snapshot encoding is deterministic).
std::string StateBytes(const qdsim::shard::ShardStore& store) {
  return qdsim::shard::EncodeSnapshot(store.table(), store.last_seq());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace qdsim;
  raft::testing::MemDisk disk;
  disk.files()["s/wal"] = std::string(reinterpret_cast<const char*>(data), size);
  auto store = shard::ShardStore::Open(disk, "s", Config());
  if (!store.ok()) return 0;
  auto again = shard::ShardStore::Open(disk, "s", Config());
  if (!again.ok() || (*again)->recovery().dropped_tail_bytes != 0 ||
      StateBytes(**again) != StateBytes(**store)) {
    __builtin_trap();
  }
  // The recovered log takes a new operation and keeps it across another recovery.
  shardpb::ShardOperation op;
  op.set_seq((*again)->last_seq() + 1);
  *op.mutable_delete_points()->add_ids() = shard::NumId(1);
  absl::Status result = absl::UnknownError("not done");
  (*again)->Apply(op, [&](absl::Status s) { result = s; });
  disk.RunSyncs();
  if (op.seq() != 0 && !result.ok()) __builtin_trap();
  auto third = shard::ShardStore::Open(disk, "s", Config());
  if (op.seq() != 0 && (!third.ok() || StateBytes(**third) != StateBytes(**again))) __builtin_trap();
  return 0;
}
