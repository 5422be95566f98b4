#include "real/http/connection.h"

#include <algorithm>
#include <cassert>
#include <utility>

namespace qdsim::http {
namespace {

constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";

// An emptied output buffer larger than this is freed, so that an idle connection which once sent a
// large response does not keep its memory.
constexpr size_t kRetainedOutputCapacity = 64 * 1024;

}  // namespace

HttpConnection::HttpConnection(HttpConnectionOptions options, RequestHandler handler)
    : options_(options), handler_(std::move(handler)), parser_(options.limits) {
  assert(options_.max_in_flight > 0);
}

void HttpConnection::OnBytes(std::string_view data) {
  if (closing_ || end_of_input_) return;
  parser_.Feed(data);
  Pump();
}

void HttpConnection::OnEndOfInput() {
  if (end_of_input_) return;
  end_of_input_ = true;
  Pump();
}

absl::Status HttpConnection::Respond(uint64_t seq, HttpResponse response) {
  Slot* slot = FindSlot(seq);
  if (slot == nullptr || !slot->dispatched || slot->wire) {
    return absl::NotFoundError("no request waits for this response");
  }
  if (response.AsksToClose()) {
    slot->close = true;
    closing_ = true;  // requests pipelined after this one are dropped when it is released
  }
  slot->framing.close = slot->close;
  slot->wire = response.Serialize(slot->framing);
  Release();
  Pump();
  return absl::OkStatus();
}

void HttpConnection::OnIdleTimeout() {
  // While the handler works or output waits, the silence is not the client's fault.
  if (closing_ || AwaitingHandler() || !PendingOutput().empty()) return;
  if (parser_.HasPartialRequest()) {
    FailWith(408, "timed out waiting for the rest of the request");
    return;
  }
  closing_ = true;  // an idle keep-alive connection: close quietly
}

std::string_view HttpConnection::PendingOutput() const { return std::string_view(output_).substr(out_pos_); }

void HttpConnection::Consume(size_t n) {
  assert(n <= PendingOutput().size());
  out_pos_ += std::min(n, PendingOutput().size());
  if (out_pos_ == output_.size()) {
    if (output_.capacity() > kRetainedOutputCapacity) {
      std::string().swap(output_);
    } else {
      output_.clear();
    }
    out_pos_ = 0;
  } else if (out_pos_ * 2 >= output_.size()) {
    output_.erase(0, out_pos_);  // amortized: at least as many bytes were written as are moved
    out_pos_ = 0;
  }
  Pump();
}

std::string HttpConnection::TakeOutput() {
  std::string out = out_pos_ == 0 ? std::move(output_) : output_.substr(out_pos_);
  output_.clear();
  out_pos_ = 0;
  Pump();
  return out;
}

bool HttpConnection::WantsRead() const { return !end_of_input_ && HasRoom(); }

bool HttpConnection::ShouldClose() const { return closing_ && slots_.empty() && PendingOutput().empty(); }

bool HttpConnection::HasPartialRequest() const { return !closing_ && parser_.HasPartialRequest(); }

size_t HttpConnection::InFlight() const { return slots_.size() - (open_slot_ ? 1 : 0); }

void HttpConnection::Pump() {
  if (pumping_) return;
  pumping_ = true;
  while (HasRoom()) {
    HttpParseResult result = parser_.Next();
    if (result.kind == HttpParseResult::kNeedMore) {
      if (end_of_input_) FinishInput();
      break;
    }
    if (result.kind == HttpParseResult::kExpectContinue) {
      CurrentSlot().send_continue = true;
      Release();
    } else if (result.kind == HttpParseResult::kRequest) {
      Dispatch(std::move(result.request));
    } else {
      FailWith(result.error.status, result.error.message);
    }
  }
  pumping_ = false;
}

bool HttpConnection::HasRoom() const {
  return !closing_ && InFlight() < options_.max_in_flight &&
         PendingOutput().size() < options_.max_buffered_output;
}

HttpConnection::Slot& HttpConnection::CurrentSlot() {
  if (!open_slot_) {
    slots_.push_back(Slot{});
    slots_.back().seq = next_seq_++;
    open_slot_ = true;
  }
  return slots_.back();
}

void HttpConnection::Dispatch(HttpRequest request) {
  Slot& slot = CurrentSlot();
  open_slot_ = false;
  slot.dispatched = true;
  slot.close = !request.keep_alive;
  slot.framing.keep_alive_header = request.keep_alive && request.version == HttpVersion::kHttp10;
  slot.framing.head = request.method == "HEAD";
  if (slot.close) closing_ = true;  // requests pipelined after a closing one are never parsed
  const uint64_t seq = slot.seq;    // `slot` may be gone once the handler has responded
  handler_(seq, std::move(request));
}

void HttpConnection::FailWith(int status, std::string_view message) {
  Slot& slot = CurrentSlot();
  open_slot_ = false;
  slot.send_continue = false;  // the final answer makes a pending 100 Continue moot
  slot.close = true;
  ResponseFraming framing;
  framing.close = true;
  slot.wire = HttpResponse::Error(status, message).Serialize(framing);
  closing_ = true;
  Release();
}

void HttpConnection::FinishInput() {
  closing_ = true;
  if (open_slot_) {  // its request will never be complete
    slots_.pop_back();
    open_slot_ = false;
  }
}

void HttpConnection::Release() {
  while (!slots_.empty()) {
    Slot& front = slots_.front();
    if (front.send_continue) {
      output_ += kContinue;
      front.send_continue = false;
    }
    if (!front.wire) return;
    output_ += *front.wire;
    const bool close = front.close;
    slots_.pop_front();
    if (close) {  // whatever was pipelined behind it is never answered
      slots_.clear();
      open_slot_ = false;
      closing_ = true;
      return;
    }
  }
}

HttpConnection::Slot* HttpConnection::FindSlot(uint64_t seq) {
  if (slots_.empty() || seq < slots_.front().seq) return nullptr;
  const uint64_t index = seq - slots_.front().seq;
  return index < slots_.size() ? &slots_[index] : nullptr;
}

bool HttpConnection::AwaitingHandler() const {
  return std::any_of(slots_.begin(), slots_.end(),
                     [](const Slot& slot) { return slot.dispatched && !slot.wire; });
}

}  // namespace qdsim::http
