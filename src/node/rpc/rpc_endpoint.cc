#include "node/rpc/rpc_endpoint.h"

#include "absl/strings/str_cat.h"
#include "node/world/log.h"

namespace qdsim::rpc {

RpcEndpoint::RpcEndpoint(world::Env& env)
    : env_(env), next_call_id_(env.random().Next() >> 1), alive_(std::make_shared<bool>(true)) {}

RpcEndpoint::~RpcEndpoint() {
  *alive_ = false;
  for (auto& [id, p] : pending_) {
    env_.clock().Cancel(p.timer);
    if (p.resend_timer != 0) env_.clock().Cancel(p.resend_timer);
  }
}

void RpcEndpoint::Handle(std::string method, Handler handler) { handlers_[std::move(method)] = std::move(handler); }

void RpcEndpoint::Call(world::PeerId to, std::string method, std::string body, world::Duration timeout,
                       Callback done, world::Duration resend_every) {
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
  Pending& p = pending_[id] = Pending{to, std::move(done), timer, envelope.SerializeAsString()};
  env_.transport().Send(to, p.request);
  if (resend_every > world::Duration(0)) Resend(id, resend_every);
}

void RpcEndpoint::Resend(uint64_t call_id, world::Duration every) {
  auto it = pending_.find(call_id);
  if (it == pending_.end()) return;
  it->second.resend_timer = env_.clock().After(every, [this, call_id, every] {
    auto it = pending_.find(call_id);
    if (it == pending_.end()) return;
    env_.transport().Send(it->second.to, it->second.request);
    Resend(call_id, every);
  });
}

void RpcEndpoint::Complete(uint64_t call_id, absl::StatusOr<std::string> outcome) {
  auto it = pending_.find(call_id);
  if (it == pending_.end()) return;  // answered already (a duplicate) or timed out
  Pending p = std::move(it->second);
  pending_.erase(it);
  env_.clock().Cancel(p.timer);
  if (p.resend_timer != 0) env_.clock().Cancel(p.resend_timer);
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
  std::string bytes = envelope.SerializeAsString();
  // Remembered for retransmitted copies of the request (see the header).
  auto seen = seen_.find(to);
  if (bytes.size() <= kRememberedReplyBytes && seen != seen_.end()) {
    auto remembered = seen->second.replies.find(call_id);
    if (remembered != seen->second.replies.end()) remembered->second = bytes;
  }
  env_.transport().Send(to, std::move(bytes));
}

bool RpcEndpoint::RememberRequest(world::PeerId from, uint64_t call_id) {
  Seen& seen = seen_[from];
  auto [it, inserted] = seen.replies.try_emplace(call_id);
  if (!inserted) {
    if (!it->second.empty()) env_.transport().Send(from, it->second);
    return false;
  }
  seen.order.push_back(call_id);
  if (seen.order.size() > kRememberedRequests) {
    seen.replies.erase(seen.order.front());
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
  // A request the transport delivered twice (or the caller retransmitted) is handled once: the copy
  // could otherwise land after a later request and undo it (a write re-applied over a newer one).
  // The copy gets the remembered reply if there is one, else nothing.
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
