// Inflights: the leader's flow-control window for one follower in Replicate state. Each MsgApp
// sent adds (last index in the message, payload bytes); an acknowledgement up to index i frees all
// messages ending at or before i. When the window is full the leader stops sending to that
// follower until something is acknowledged.
//
//   Inflights window(/*capacity=*/4, /*max_bytes=*/0);
//   window.Add(10, 100);
//   window.Add(12, 50);
//   window.FreeLE(11);   // the message ending at 10 is acknowledged; one left
//
// Thread-safety: none.
#ifndef QDSIM_NODE_RAFT_INFLIGHTS_H_
#define QDSIM_NODE_RAFT_INFLIGHTS_H_

#include <cstddef>
#include <cstdint>
#include <vector>

namespace qdsim::raft {

class Inflights {
 public:
  // A window of at most `capacity` messages and, if max_bytes > 0, at most `max_bytes` payload
  // bytes (the message that crosses the byte limit is still admitted). REQUIRES: capacity > 0.
  Inflights(size_t capacity, uint64_t max_bytes);

  // Records a sent message whose last entry has `index` and whose entries total `bytes`.
  // REQUIRES: !Full(); index greater than every index already in the window.
  void Add(uint64_t index, uint64_t bytes);

  // Frees every message whose last index is <= `to`.
  void FreeLE(uint64_t to);

  // Frees the oldest message (used when a heartbeat response shows the follower is alive although
  // the window is full: some MsgApp was probably lost). No-op if empty.
  void FreeFirstOne();

  // True if no more messages may be sent.
  bool Full() const;

  // Messages in flight.
  size_t Count() const { return count_; }

  // Payload bytes in flight.
  uint64_t Bytes() const { return bytes_; }

  // Empties the window.
  void Reset();

  size_t capacity() const { return capacity_; }

 private:
  // One in-flight message.
  struct Slot {
    uint64_t index = 0;  // last entry index carried by the message
    uint64_t bytes = 0;  // payload size of its entries
  };

  size_t capacity_;        // maximum number of messages in flight
  uint64_t max_bytes_;     // maximum payload bytes in flight; 0 = unlimited
  std::vector<Slot> ring_; // circular buffer of capacity_ slots
  size_t start_ = 0;       // position of the oldest message in ring_
  size_t count_ = 0;       // messages in flight
  uint64_t bytes_ = 0;     // sum of Slot::bytes in flight
};

}  // namespace qdsim::raft

#endif  // QDSIM_NODE_RAFT_INFLIGHTS_H_
