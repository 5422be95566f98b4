// Fuzzes what a peer can send: the input is a sequence of messages [from: u8][length: u16][bytes],
// delivered to node 1 of a fresh 3-voter cluster in the simulator, which then runs for a second.
// Garbage, spoofed senders, forged Raft messages and malformed snapshot chunks must never crash a
// node or trip a sanitizer (a forged message may confuse Raft — peers are trusted not to lie about
// Raft state — but it must not corrupt memory).
#include <cstddef>
#include <cstdint>
#include <string>

#include "tests/sim/raft_cluster.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace qdsim;
  sim::testing::RaftCluster cluster({.voters = 3, .seed = size});
  cluster.RunFor(world::Seconds(5));  // elect a leader first
  size_t at = 0;
  while (at + 3 <= size) {
    const world::PeerId from = data[at] % 4;  // includes 0 and ids beyond the cluster
    const size_t length = static_cast<size_t>(data[at + 1]) | (static_cast<size_t>(data[at + 2]) << 8);
    at += 3;
    const std::string bytes(reinterpret_cast<const char*>(data + at), std::min(length, size - at));
    at += bytes.size();
    if (raft::RaftNode* node = cluster.node(1)) node->Receive(from, bytes);
  }
  cluster.RunFor(world::Seconds(1));
  return 0;
}
