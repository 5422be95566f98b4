#include "node/rpc/rpc_endpoint.h"

#include "absl/strings/str_cat.h"
#include "node/world/log.h"

namespace qdsim::rpc {

RpcEndpoint::RpcEndpoint(world::Env& env)
    : env_(env), next_call_id_(env.random().Next() >> 1), alive_(std::make_shared<bool>(true)) {}

RpcEndpoint::~RpcEndpoint() {
  *alive_ = false;
  for (auto& [id, p] : pending_) env_.clock().Cancel(p.timer);
}

void RpcEndpoint::Handle(std::string method, Handler handler) { handlers_[std::move(method)] = std::move(handler); }

void RpcEndpoint::Call(world::PeerId to, std::string method, std::string body, world::Duration timeout,
                       Callback done) {
  const uint64_t id = next_call_id_++;
  peerpb::Envelope envelope;
  peerpb::Rpc* rpc = envelope.mutable_rpc();
  rpc->set_call_id(id);
  rpc->set_method(method);
  rpc->set_body(std::move(body));
  const world::TimerId timer = env_.clock().After(timeout, [this, id, method, to, timeout] {
    Complete(id, absl::DeadlineExceededError(absl::StrCat("no answer from peer ", to, " to ", method, " within ",
                                                          timeout.count() / 1000, " ms")));
  });
  pending_[id] = Pending{to, std::move(done), timer};
  env_.transport().Send(to, envelope.SerializeAsString());
}

void RpcEndpoint::Complete(uint64_t call_id, absl::StatusOr<std::string> outcome) {
  auto it = pending_.find(call_id);
  if (it == pending_.end()) return;  // answered already (a duplicate) or timed out
  Pending p = std::move(it->second);
  pending_.erase(it);
  env_.clock().Cancel(p.timer);
  p.done(std::move(outcome));
}

void RpcEndpoint::Respond(world::PeerId to, uint64_t call_id, const absl::Status& status, std::string body) {
  peerpb::Envelope envelope;
  peerpb::Rpc* rpc = envelope.mutable_rpc();
  rpc->set_call_id(call_id);
  rpc->set_response(true);
  rpc->set_code(static_cast<int32_t>(status.code()));
  rpc->set_error(std::string(status.message()));
  if (status.ok()) rpc->set_body(std::move(body));
  env_.transport().Send(to, envelope.SerializeAsString());
}

bool RpcEndpoint::RememberRequest(world::PeerId from, uint64_t call_id) {
  Seen& seen = seen_[from];
  if (!seen.ids.insert(call_id).second) return false;
  seen.order.push_back(call_id);
  if (seen.order.size() > kRememberedRequests) {
    seen.ids.erase(seen.order.front());
    seen.order.pop_front();
  }
  return true;
}

void RpcEndpoint::Receive(world::PeerId from, const peerpb::Rpc& rpc) {
  if (rpc.response()) {
    auto it = pending_.find(rpc.call_id());
    if (it == pending_.end() || it->second.to != from) return;  // late, duplicated or spoofed
    if (rpc.code() == 0) {
      Complete(rpc.call_id(), rpc.body());
    } else {
      const int code = rpc.code() > 0 && rpc.code() <= 16 ? rpc.code() : static_cast<int>(absl::StatusCode::kUnknown);
      Complete(rpc.call_id(), absl::Status(static_cast<absl::StatusCode>(code), rpc.error()));
    }
    return;
  }
  auto handler = handlers_.find(rpc.method());
  if (handler == handlers_.end()) {
    Respond(from, rpc.call_id(), absl::UnimplementedError(absl::StrCat("unknown method ", rpc.method())), "");
    return;
  }
  // A request the transport delivered twice is handled once: the copy could otherwise land after a
  // later request and undo it (a write re-applied over a newer one). The copy gets no answer; the
  // caller has the first one's, or times out.
  if (!RememberRequest(from, rpc.call_id())) return;
  // The reply may come later; it must not outlive the endpoint, and only the first one counts.
  auto replied = std::make_shared<bool>(false);
  Reply reply = [this, alive = alive_, replied, from, id = rpc.call_id()](absl::Status status, std::string body) {
    if (!*alive || *replied) return;
    *replied = true;
    Respond(from, id, status, std::move(body));
  };
  handler->second(from, rpc.body(), std::move(reply));
}

}  // namespace qdsim::rpc
