// Fuzzes Raft log recovery: the input becomes the `raft/log` file (and, after a 0xFF 0xFE marker,
// `raft/snapshot`), and DurableLog::Recover must either refuse with a clear error or return a
// consistent state: entries contiguous and all after the snapshot. A recovered state must also open
// a RaftNode cleanly.
#include <cstddef>
#include <cstdint>
#include <string>

#include "node/raft/durable_log.h"
#include "tests/node/raft/mem_disk.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace qdsim;
  const std::string input(reinterpret_cast<const char*>(data), size);
  raft::testing::MemDisk disk;
  const size_t marker = input.find("\xFF\xFE");
  disk.files()["raft/log"] = input.substr(0, marker);
  if (marker != std::string::npos) disk.files()["raft/snapshot"] = input.substr(marker + 2);
  raft::DurableLog log(disk, "raft");
  auto recovered = log.Recover();
  if (!recovered.ok()) return 0;
  uint64_t expect = recovered->snapshot ? recovered->snapshot->metadata().index() + 1 : 0;
  for (const auto& e : recovered->entries) {
    if (expect != 0 && e.index() != expect) __builtin_trap();
    expect = e.index() + 1;
  }
  // Recovery is idempotent: a second pass over the truncated file finds the same state.
  auto again = raft::DurableLog(disk, "raft").Recover();
  if (!again.ok() || again->entries.size() != recovered->entries.size() || again->dropped_tail_bytes != 0) {
    __builtin_trap();
  }
  return 0;
}
