// Fuzzes shard snapshot loading, an untrusted file. If the first input byte is even, the rest is
// wrapped in a valid snapshot record (so the FlatBuffers verifier and decoder see it); otherwise the
// rest is the raw file. ShardStore::Open must refuse with an error or load a state that reads work
// on, that re-encodes to a snapshot loading back to the same state.
#include <cstddef>
#include <cstdint>
#include <string>

#include "node/shard/shard_store.h"
#include "node/shard/snapshot_codec.h"
#include "node/shard/wal.h"
#include "node/world/records.h"
#include "tests/node/raft/mem_disk.h"

namespace {

qdsim::shard::ShardConfig Config() {
  qdsim::shard::ShardConfig c;
  c.dense[""] = {2, qdsim::shard::Distance::kEuclid};
  c.dense["img"] = {3, qdsim::shard::Distance::kCosine};
  c.sparse.insert("text");
  return c;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace qdsim;
  if (size == 0) return 0;
  const std::string rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  raft::testing::MemDisk disk;
  disk.files()["s/snapshot"] =
      data[0] % 2 == 0 ? world::EncodeRecord(shard::kSnapshotRecord, rest) : rest;
  auto store = shard::ShardStore::Open(disk, "s", Config());
  if (!store.ok()) return 0;
  // Reads run over whatever was loaded.
  shard::SearchRequest dense{.vector_name = "", .query = {}, .limit = 3};
  dense.query.mutable_dense()->add_values(1);
  dense.query.mutable_dense()->add_values(-1);
  if (!(*store)->Search(dense).ok()) __builtin_trap();
  shard::SearchRequest sparse{.vector_name = "text", .query = {}, .limit = 3};
  sparse.query.mutable_sparse()->add_indices(1);
  sparse.query.mutable_sparse()->add_values(1);
  if (!(*store)->Search(sparse).ok()) __builtin_trap();
  auto page = (*store)->Scroll({.limit = 5, .with_vector = {.all = true}});
  if (!page.ok()) __builtin_trap();
  // Re-encoding is a fixed point.
  const std::string fb = shard::EncodeSnapshot((*store)->table(), (*store)->last_seq());
  raft::testing::MemDisk copy;
  copy.files()["s/snapshot"] = world::EncodeRecord(shard::kSnapshotRecord, fb);
  auto again = shard::ShardStore::Open(copy, "s", Config());
  if (!again.ok() || shard::EncodeSnapshot((*again)->table(), (*again)->last_seq()) != fb) {
    __builtin_trap();
  }
  return 0;
}
