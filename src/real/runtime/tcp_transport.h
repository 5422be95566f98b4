// TcpTransport: world::Transport between node processes over TCP (DESIGN.md "The real runtime").
//
// Each process listens on one address and keeps one outgoing connection per destination peer; a
// connection carries messages in one direction only (the format is in frame_codec.h: a handshake
// naming the sender, then length-prefixed frames). Replies travel over the replier's own outgoing
// connection, found through the address book that the owner fills with SetPeerAddress().
//
// The transport contract is unreliable datagrams, and this transport uses that freedom to never
// block and never grow without bound:
//  - Send() queues the message on the destination's bounded queue (bytes and count) and drops it when
//    the queue is full, when the peer has no address, or when it is larger than the frame limit.
//  - The queue is written directly when it was empty; the rest waits for EPOLLOUT, which is armed
//    only while output is pending. A connection broken mid-frame loses that frame.
//  - Connecting is non-blocking, with a time-out; a failed or broken connection with messages still
//    queued is retried after an exponential backoff (min_backoff doubling up to max_backoff). An idle
//    peer is connected to again only when there is something to send.
//  - An inbound connection that breaks the format (bad magic, oversize length) or does not finish
//    its handshake in time is closed; nothing else is affected. Reads are capped per connection per
//    loop iteration, so one busy peer cannot starve the others.
//  - Messages to Self() are delivered through EventLoop::Post, without a socket.
// Inbound messages go to the receiver (SetReceiver) on the loop thread, never inside Send(), tagged
// with the sender id from the handshake, whether or not that peer is in the address book. The
// address learner hook tells the owner which IP a peer connected from and the URI it advertised, so
// that a peer the receiver had no address for (a joiner; a peer that joined while the receiver was
// down) can be answered.
//
// Peer-id discovery: a joining node knows only the bootstrap peer's address, yet messages go to a
// PeerId. Probe(host, port) opens a connection of its own, sends a probe frame instead of the
// handshake, and reads back the acceptor's handshake, which carries its id; the acceptor then closes
// the connection. A probe delivers nothing to the receiver, does not reach the address learner and
// does not touch the address book or any queue, on either side.
//
//   auto t = TcpTransport::Create(loop, /*self=*/1, {.listen_host = "127.0.0.1"}, &pool);
//   (*t)->SetReceiver([](world::PeerId from, std::string bytes) { ... });
//   (*t)->SetPeerAddress(2, "10.0.0.2", 6335);
//   (*t)->Send(2, envelope.SerializeAsString());
//   (*t)->Probe("10.0.0.1", 6335, world::Seconds(3), [](absl::StatusOr<world::PeerId> id) { ... });
//
// Thread-safety: none; every call happens on the loop thread.
#ifndef QDSIM_REAL_RUNTIME_TCP_TRANSPORT_H_
#define QDSIM_REAL_RUNTIME_TCP_TRANSPORT_H_

#include <sys/socket.h>

#include <array>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "node/world/time.h"
#include "node/world/transport.h"
#include "real/runtime/event_loop.h"
#include "real/runtime/frame_codec.h"

namespace qdsim::real {

class TcpTransport final : public world::Transport {
 public:
  struct Options {
    std::string listen_host = "0.0.0.0";  // numeric IPv4/IPv6 or a name resolved at Create()
    uint16_t listen_port = 0;             // 0: an ephemeral port (see listen_port())
    uint32_t max_frame_bytes = kDefaultMaxFrameBytes;
    size_t max_queue_bytes = 32u << 20;  // per destination, payload + frame headers
    size_t max_queue_messages = 65536;   // per destination
    world::Duration min_backoff = world::Millis(50);
    world::Duration max_backoff = world::Seconds(2);
    world::Duration connect_timeout = world::Seconds(3);
    world::Duration handshake_timeout = world::Seconds(10);  // inbound: time to send the handshake
    size_t max_read_bytes_per_event = 1u << 20;              // per inbound connection per loop iteration
    size_t max_inbound_connections = 1024;                   // more are accepted and closed at once
    // This peer's p2p URI, sent in the handshake of every connection it opens, so that a peer it
    // reaches can answer even without an address for it (frame_codec.h). "": none. At most 255 bytes.
    std::string advertised_uri;
  };

  // Per destination; GET /cluster reports these as `message_send_failures` keyed by peer URI.
  struct PeerStats {
    uint64_t sent_messages = 0;     // messages completely written to a socket
    uint64_t dropped_messages = 0;  // queue full, no address, over the frame limit, cut mid-write
    // Failed connects, connections broken with messages pending, and messages dropped by Send().
    uint64_t send_failures = 0;
    std::string latest_error;              // text of the latest failure ("" if none)
    int64_t latest_error_wall_micros = 0;  // its wall time (Unix epoch µs), 0 if none
    size_t queued_messages = 0;
    size_t queued_bytes = 0;
    bool connected = false;
  };

  struct Stats {
    uint64_t received_messages = 0;     // delivered to the receiver (self-messages included)
    uint64_t accepted_connections = 0;  // inbound connections accepted
    uint64_t rejected_connections = 0;  // inbound connections closed for breaking the format,
                                        // a missed handshake deadline, or the connection cap
    std::string latest_rejection;       // why the latest one was closed
    uint64_t probes_answered = 0;       // inbound probes whose answer was completely written
  };

  // Told that `peer` connected from `ip` (numeric, no port), once per inbound connection, with the
  // p2p URI its handshake advertised ("" if none: Options::advertised_uri).
  using AddressLearner =
      std::function<void(world::PeerId peer, const std::string& ip, const std::string& advertised_uri)>;
  // Told that a message to `peer` was dropped because the address book has no address for it.
  using AddressMissing = std::function<void(world::PeerId peer)>;
  // Told the outcome of a Probe().
  using ProbeDone = std::function<void(absl::StatusOr<world::PeerId>)>;

  // Binds and listens on options.listen_host:listen_port. Host names (in the address book too) are
  // resolved on `resolver` when given; without one only numeric addresses work. REQUIRES: self != 0;
  // `loop` (and `resolver`) outlive the transport.
  static absl::StatusOr<std::unique_ptr<TcpTransport>> Create(EventLoop& loop, world::PeerId self,
                                                              Options options,
                                                              BlockingPool* resolver = nullptr);
  // Closes every connection and the listener; queued messages are dropped, and probes still in
  // flight end without calling their `done`.
  ~TcpTransport() override;

  TcpTransport(const TcpTransport&) = delete;
  TcpTransport& operator=(const TcpTransport&) = delete;

  world::PeerId Self() const override { return self_; }
  void Send(world::PeerId to, std::string bytes) override;
  // The receiver may call any method here but must not destroy the transport.
  void SetReceiver(Receiver receiver) override;

  // The port the listener is bound to (the ephemeral one when options.listen_port was 0).
  uint16_t listen_port() const { return listen_port_; }

  // Sets where `peer` listens. A changed address abandons the current connection (its partly
  // written message is lost) and connects to the new one if messages are queued.
  void SetPeerAddress(world::PeerId peer, std::string host, uint16_t port);
  // Forgets a peer: closes its connection, drops its queue, its address and its stats.
  void ForgetPeer(world::PeerId peer);
  void SetAddressLearner(AddressLearner learner) { learner_ = std::move(learner); }
  // `missing` runs on the loop thread, never inside Send(), once per burst of messages Send()
  // dropped for want of an address for their peer (the owner may look the address up: WhoIs).
  void SetAddressMissing(AddressMissing missing) { missing_ = std::move(missing); }
  // Whether the address book has an address for `peer`.
  bool HasPeerAddress(world::PeerId peer) const;

  // Asks whoever listens at host:port for its peer id, over a connection of its own (host names are
  // resolved like the address book's). `done` runs exactly once, on the loop thread and never inside
  // Probe() (nor at all once the transport is destroyed), with the peer's id; Unavailable when the
  // connection is refused or fails, the name does not resolve, or the listener closes without a
  // valid answer (not a qdsim peer, or it rejected us); DeadlineExceeded when no answer came within
  // `timeout` (counted from this call, resolution included). Error messages name host:port.
  void Probe(const std::string& host, uint16_t port, world::Duration timeout, ProbeDone done);

  // Stats of one destination (zeroes for an unknown one), and of all known destinations.
  PeerStats peer_stats(world::PeerId peer) const;
  std::map<world::PeerId, PeerStats> all_peer_stats() const;
  const Stats& stats() const { return stats_; }
  size_t inbound_connections() const { return inbound_.size(); }
  size_t probes_in_flight() const { return probes_.size(); }

 private:
  struct QueuedMessage {
    std::array<char, kFrameHeaderBytes> header;  // written with the payload in one scatter write
    std::string payload;
    size_t wire_bytes() const { return header.size() + payload.size(); }
  };
  // One destination: address, outgoing connection, queue and stats.
  struct Peer {
    enum class State { kIdle, kResolving, kConnecting, kConnected, kBackoff };
    world::PeerId id = 0;
    std::string host;  // empty: no address yet
    bool missing_reported = false;  // a drop for want of an address is posted to missing_, not yet run
    uint16_t port = 0;
    State state = State::kIdle;
    int fd = -1;
    uint64_t generation = 0;          // bumped per connection attempt; stale resolutions compare it
    std::string handshake;            // unsent bytes of the current connection's handshake
    std::deque<QueuedMessage> queue;  // messages not completely written, oldest first
    size_t front_written = 0;         // bytes of queue.front() already written
    bool epollout_armed = false;
    world::Duration backoff{0};    // delay before the next retry; 0 after a success
    EventLoop::TimerId timer = 0;  // connect time-out or backoff retry, 0 if none
    PeerStats stats;               // counters only; the queue fields are filled on demand
  };
  // One inbound connection, known by id (never by fd) so that a stale event finds nothing.
  struct Inbound {
    int fd = -1;
    std::string remote_ip;
    FrameDecoder decoder;
    // Deadline for the handshake, and for a probe's answer to be written.
    EventLoop::TimerId handshake_timer = 0;
    bool answering = false;  // a probe arrived: writing `answer`, then closing (reads are over)
    std::string answer;      // unsent bytes of our handshake, the answer to a probe
    explicit Inbound(uint32_t max_frame_bytes) : decoder(max_frame_bytes) {}
  };
  // One Probe() in flight, known by id: its own outgoing connection.
  struct ProbeCall {
    std::string where;  // "host:port", for messages
    int fd = -1;
    bool connected = false;
    bool epollout_armed = false;
    std::string request;   // unsent bytes of the probe frame
    FrameDecoder decoder;  // decodes the answer, which is exactly a handshake
    EventLoop::TimerId timer = 0;  // the caller's deadline
    ProbeDone done;
  };

  TcpTransport(EventLoop& loop, world::PeerId self, Options options, BlockingPool* resolver);
  absl::Status Listen();

  // Outgoing side.
  Peer& PeerFor(world::PeerId id);
  Peer* FindPeer(world::PeerId id);
  void Drop(Peer& peer, const std::string& why);
  void RecordFailure(Peer& peer, const std::string& why);
  void StartConnect(Peer& peer);
  void ConnectTo(Peer& peer, const sockaddr_storage& addr, socklen_t addr_len);
  void OnPeerEvent(world::PeerId id, uint32_t events);
  void OnConnected(Peer& peer);
  void Flush(Peer& peer);
  void ConsumeWritten(Peer& peer, size_t n);
  void ArmEpollOut(Peer& peer, bool on);
  void ConnectFailed(Peer& peer, const std::string& why);
  void ConnectionBroken(Peer& peer, const std::string& why);
  void CloseOutgoing(Peer& peer);
  void ScheduleRetry(Peer& peer);

  // Inbound side.
  void OnAcceptable();
  void AcceptOne(int fd, const sockaddr_storage& addr);
  void OnInboundReadable(uint64_t id);
  void CloseInbound(uint64_t id, const std::string& rejection);
  void AnswerProbe(uint64_t id);
  void Deliver(world::PeerId from, std::vector<std::string>& messages);

  // Probes (the asking side).
  absl::Status ProbeConnect(uint64_t id, const sockaddr_storage& addr, socklen_t addr_len);
  void OnProbeEvent(uint64_t id, uint32_t events);
  void ReadProbeAnswer(uint64_t id);
  // Ends a probe: closes its connection, then runs `done` (which may destroy the transport).
  void FinishProbe(uint64_t id, absl::StatusOr<world::PeerId> result);

  EventLoop& loop_;
  const world::PeerId self_;
  const Options options_;
  BlockingPool* const resolver_;  // may be null: numeric addresses only
  int listen_fd_ = -1;
  uint16_t listen_port_ = 0;
  EventLoop::TimerId accept_pause_timer_ = 0;  // set while accepting is paused after EMFILE
  std::shared_ptr<Receiver> receiver_;         // shared, so a receiver replaced mid-batch stays alive
  AddressLearner learner_;
  AddressMissing missing_;
  std::map<world::PeerId, std::unique_ptr<Peer>> peers_;
  std::map<uint64_t, std::unique_ptr<Inbound>> inbound_;
  uint64_t next_inbound_id_ = 1;
  std::map<uint64_t, std::unique_ptr<ProbeCall>> probes_;
  uint64_t next_probe_id_ = 1;
  std::vector<char> read_buffer_;  // shared by all inbound reads (one at a time on the loop)
  Stats stats_;
  // Posted callbacks and resolutions hold a weak reference, so they do nothing once we are gone.
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace qdsim::real

#endif  // QDSIM_REAL_RUNTIME_TCP_TRANSPORT_H_
