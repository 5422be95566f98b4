// RpcEndpoint: requests and responses between peers over the unreliable transport.
//
// Call() sends one request and calls back exactly once: with the response body, with the error the
// remote handler answered, or with DeadlineExceeded after `timeout`. A request the transport
// duplicates is handled once (the last kRememberedRequests call ids of each peer are remembered).
// Late and duplicated responses are ignored. Unknown methods answer Unimplemented.
//
// Retransmission: with `resend_every` > 0 the same request (same call id) is sent again at that
// interval until it is answered or times out. The receiver handles it at most once: a copy that
// arrives while the handler is working is ignored, and one that arrives after the reply gets the
// remembered reply again (replies up to kRememberedReplyBytes; a bigger one is not re-sent). So a
// lost message costs one interval instead of the whole timeout, and a copy delayed in the network
// can never apply an operation after a newer one — unlike a caller's own retry, which is a new
// request and must be tolerated by the handler.
//
//   RpcEndpoint rpc(env);
//   rpc.Handle("shard.apply", [&](world::PeerId from, std::string body, RpcEndpoint::Reply reply) {
//     reply(absl::OkStatus(), Apply(body));
//   });
//   rpc.Call(peer, "shard.apply", request.SerializeAsString(), world::Seconds(1),
//            [](absl::StatusOr<std::string> response) { ... });
//
// The owner routes inbound envelopes: Receive() takes those with an `rpc` body.
// Thread-safety: none; every call happens on the node's logical thread.
#ifndef QDSIM_NODE_RPC_RPC_ENDPOINT_H_
#define QDSIM_NODE_RPC_RPC_ENDPOINT_H_

#include <cstdint>
#include <functional>
#include <deque>
#include <map>
#include <set>
#include <string>

#include "absl/status/statusor.h"
#include "node/world/env.h"
#include "proto/peer.pb.h"

namespace qdsim::rpc {

class RpcEndpoint {
 public:
  using Reply = std::function<void(absl::Status status, std::string body)>;
  using Handler = std::function<void(world::PeerId from, std::string body, Reply reply)>;
  using Callback = std::function<void(absl::StatusOr<std::string> response)>;

  // The retransmission interval the node's callers use: a few round trips on any network this runs
  // on, far below their timeouts.
  static constexpr world::Duration kResendEvery = world::Millis(250);

  explicit RpcEndpoint(world::Env& env);
  ~RpcEndpoint();

  // Registers the handler of `method` (replacing any earlier one). A handler may reply later (from
  // a timer or another callback), at most once; replies after the endpoint is gone are dropped.
  void Handle(std::string method, Handler handler);

  // Sends a request; `done` runs exactly once, never inside Call().
  // `resend_every` > 0 retransmits the request at that interval (see above).
  void Call(world::PeerId to, std::string method, std::string body, world::Duration timeout, Callback done,
            world::Duration resend_every = world::Duration(0));

  // Handles an inbound rpc envelope from `from`.
  void Receive(world::PeerId from, const peerpb::Rpc& rpc);

  // Calls waiting for a response.
  size_t pending_calls() const { return pending_.size(); }

 private:
  struct Pending {
    world::PeerId to;
    Callback done;
    world::TimerId timer;
    std::string request;              // the serialized envelope, kept for retransmission
    world::TimerId resend_timer = 0;  // the next retransmission (0: none)
  };
  // The remembered requests of one peer: call id -> the serialized reply, empty while the handler
  // works (or when the reply was too big to keep).
  struct Seen {
    std::map<uint64_t, std::string> replies;
    std::deque<uint64_t> order;  // oldest first
  };
  // False if this request was seen already; then re-sends its remembered reply, if any.
  bool RememberRequest(world::PeerId from, uint64_t call_id);
  void Resend(uint64_t call_id, world::Duration every);
  void Respond(world::PeerId to, uint64_t call_id, const absl::Status& status, std::string body);
  void Complete(uint64_t call_id, absl::StatusOr<std::string> outcome);

  world::Env& env_;
  uint64_t next_call_id_;                       // starts at a random point per incarnation
  std::map<std::string, Handler> handlers_;     // method -> handler
  std::map<uint64_t, Pending> pending_;         // call id -> waiting caller
  static constexpr size_t kRememberedRequests = 4096;
  static constexpr size_t kRememberedReplyBytes = 1024;
  std::map<world::PeerId, Seen> seen_;          // recent requests per peer
  std::shared_ptr<bool> alive_;                 // false once destroyed (late replies check it)
};

}  // namespace qdsim::rpc

#endif  // QDSIM_NODE_RPC_RPC_ENDPOINT_H_
