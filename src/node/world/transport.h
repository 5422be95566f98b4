// Transport: unreliable, unordered datagrams between peers.
//
// Contract:
//  - Send(to, bytes) queues one message to peer `to`. It never blocks and never fails synchronously:
//    a message may be delivered once, several times (duplicated), late, out of order relative to
//    any other message, or never. Protocols on top must tolerate all of it (Raft does).
//  - Bytes are opaque here; by convention they are a serialized Protobuf envelope, and a receiver must
//    treat them as untrusted input (a peer may send garbage).
//  - The receiver registered with SetReceiver() is called on the node's logical thread, never inside
//    Send(). Messages to oneself are allowed and are delivered like any other.
//  - After a crash the transport forgets the receiver; a restarted node registers again.
//
// Thread-safety: none; every call happens on the node's logical thread.
#ifndef QDSIM_NODE_WORLD_TRANSPORT_H_
#define QDSIM_NODE_WORLD_TRANSPORT_H_

#include <cstdint>
#include <functional>
#include <string>

namespace qdsim::world {

// A peer's identity in the cluster (Qdrant peer ids are u64; 0 means "none").
using PeerId = uint64_t;

class Transport {
 public:
  using Receiver = std::function<void(PeerId from, std::string bytes)>;

  virtual ~Transport() = default;

  // This node's own id.
  virtual PeerId Self() const = 0;

  // Queues `bytes` for delivery to `to`; fire-and-forget.
  virtual void Send(PeerId to, std::string bytes) = 0;

  // Installs the handler for inbound messages (replacing any previous one).
  virtual void SetReceiver(Receiver receiver) = 0;
};

}  // namespace qdsim::world

#endif  // QDSIM_NODE_WORLD_TRANSPORT_H_
