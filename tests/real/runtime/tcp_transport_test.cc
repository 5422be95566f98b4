// TcpTransport between transports in one process on 127.0.0.1 (ephemeral ports only): messages both
// ways among two and three peers, self-delivery, large messages, a garbage client closed while the
// good peer keeps working, an unknown sender answered through the address learner, reconnection
// after the listener restarts, and bounded queues that drop while a peer is down. Probes: the id
// comes back, refusal and silence are reported in time, and a probe neither delivers nor disturbs.
#include "real/runtime/tcp_transport.h"

#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "tests/real/runtime/test_util.h"

namespace qdsim::real {
namespace {

using ::qdsim::real::testing::RunFor;
using ::qdsim::real::testing::RunUntil;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;

using Inbox = std::vector<std::pair<world::PeerId, std::string>>;

class TcpTransportTest : public ::testing::Test {
 protected:
  // A transport on 127.0.0.1 whose receiver appends to inboxes_[id].
  std::unique_ptr<TcpTransport> Make(world::PeerId id, TcpTransport::Options options = {},
                                     BlockingPool* resolver = nullptr) {
    options.listen_host = "127.0.0.1";
    auto t = TcpTransport::Create(*loop_, id, options, resolver);
    EXPECT_TRUE(t.ok()) << t.status();
    if (!t.ok()) return nullptr;
    (*t)->SetReceiver([this, id](world::PeerId from, std::string bytes) {
      inboxes_[id].emplace_back(from, std::move(bytes));
    });
    return std::move(*t);
  }

  static void Introduce(TcpTransport& a, TcpTransport& b) {
    a.SetPeerAddress(b.Self(), "127.0.0.1", b.listen_port());
    b.SetPeerAddress(a.Self(), "127.0.0.1", a.listen_port());
  }

  // A raw client socket connected to `port`.
  static int RawConnect(uint16_t port) {
    const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    return fd;
  }

  // True once the server has closed `fd` (recv sees end of stream or a reset).
  bool ClosedByServer(int fd) {
    return RunUntil(*loop_, [fd] {
      char buf[64];
      const ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
      return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
    });
  }

  // Probes host:port from `from` and runs the loop until the answer; checks that `done` ran once
  // and not inside Probe().
  absl::StatusOr<world::PeerId> ProbeAndWait(TcpTransport& from, const std::string& host, uint16_t port,
                                             world::Duration timeout = world::Seconds(3)) {
    int calls = 0;
    absl::StatusOr<world::PeerId> result = absl::UnknownError("no answer");
    from.Probe(host, port, timeout, [&](absl::StatusOr<world::PeerId> r) {
      ++calls;
      result = std::move(r);
    });
    EXPECT_EQ(calls, 0) << "done ran inside Probe()";
    EXPECT_TRUE(RunUntil(*loop_, [&] { return calls > 0; }, timeout + world::Seconds(2)));
    RunFor(*loop_, world::Millis(20));
    EXPECT_EQ(calls, 1);
    EXPECT_EQ(from.probes_in_flight(), 0u);
    return result;
  }

  // A raw socket listening on an ephemeral 127.0.0.1 port that never accepts; closed by the caller.
  static int SilentListener(uint16_t& port) {
    const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    EXPECT_EQ(listen(fd, 8), 0);
    socklen_t len = sizeof(addr);
    EXPECT_EQ(getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
    port = ntohs(addr.sin_port);
    return fd;
  }

  std::unique_ptr<EventLoop> loop_ = std::move(*EventLoop::Create());
  std::map<world::PeerId, Inbox> inboxes_;
};

TEST_F(TcpTransportTest, TwoPeersExchangeMessagesBothWaysInOrder) {
  auto a = Make(1);
  auto b = Make(2);
  ASSERT_NE(a->listen_port(), 0);
  ASSERT_NE(a->listen_port(), b->listen_port());
  Introduce(*a, *b);
  a->Send(2, "ping-1");
  a->Send(2, "ping-2");
  a->Send(2, "");
  b->Send(1, "pong");
  EXPECT_TRUE(inboxes_.empty());  // never inside Send()
  ASSERT_TRUE(RunUntil(*loop_, [&] { return inboxes_[2].size() == 3 && inboxes_[1].size() == 1; }));
  EXPECT_THAT(inboxes_[2], ElementsAre(Pair(1, "ping-1"), Pair(1, "ping-2"), Pair(1, "")));
  EXPECT_THAT(inboxes_[1], ElementsAre(Pair(2, "pong")));
  EXPECT_EQ(a->peer_stats(2).sent_messages, 3u);
  EXPECT_EQ(a->peer_stats(2).send_failures, 0u);
  EXPECT_TRUE(a->peer_stats(2).connected);
  EXPECT_EQ(b->stats().received_messages, 3u);
}

TEST_F(TcpTransportTest, ThreePeersAllPairs) {
  std::vector<std::unique_ptr<TcpTransport>> t;
  for (world::PeerId id = 1; id <= 3; ++id) t.push_back(Make(id));
  for (int i = 0; i < 3; ++i) {
    for (int j = i + 1; j < 3; ++j) Introduce(*t[i], *t[j]);
  }
  for (auto& from : t) {
    for (auto& to : t) {
      if (from != to) from->Send(to->Self(), absl::StrCat(from->Self(), "->", to->Self()));
    }
  }
  ASSERT_TRUE(
      RunUntil(*loop_, [&] { return inboxes_[1].size() + inboxes_[2].size() + inboxes_[3].size() == 6; }));
  EXPECT_THAT(inboxes_[1], ::testing::UnorderedElementsAre(Pair(2, "2->1"), Pair(3, "3->1")));
  EXPECT_THAT(inboxes_[2], ::testing::UnorderedElementsAre(Pair(1, "1->2"), Pair(3, "3->2")));
  EXPECT_THAT(inboxes_[3], ::testing::UnorderedElementsAre(Pair(1, "1->3"), Pair(2, "2->3")));
}

TEST_F(TcpTransportTest, MessagesToSelfArriveThroughTheLoop) {
  auto a = Make(1);
  a->Send(1, "note to self");
  EXPECT_TRUE(inboxes_[1].empty());
  ASSERT_TRUE(RunUntil(*loop_, [&] { return inboxes_[1].size() == 1; }));
  EXPECT_THAT(inboxes_[1], ElementsAre(Pair(1, "note to self")));
}

TEST_F(TcpTransportTest, LargeMessagesSurvivePartialWrites) {
  auto a = Make(1);
  auto b = Make(2);
  Introduce(*a, *b);
  std::string big(6 << 20, 'x');
  for (size_t i = 0; i < big.size(); i += 4096) big[i] = static_cast<char>('a' + (i / 4096) % 26);
  a->Send(2, big);
  a->Send(2, "after");
  ASSERT_TRUE(RunUntil(*loop_, [&] { return inboxes_[2].size() == 2; }));
  EXPECT_TRUE(inboxes_[2][0].second == big);
  EXPECT_EQ(inboxes_[2][1].second, "after");
}

TEST_F(TcpTransportTest, GarbageConnectionIsClosedAndTheGoodPeerKeepsWorking) {
  auto a = Make(1);
  auto b = Make(2);
  Introduce(*a, *b);
  a->Send(2, "before");
  ASSERT_TRUE(RunUntil(*loop_, [&] { return inboxes_[2].size() == 1; }));
  const int garbage = RawConnect(b->listen_port());
  ASSERT_GT(send(garbage, "GET / HTTP/1.1\r\n\r\n", 18, MSG_NOSIGNAL), 0);
  EXPECT_TRUE(ClosedByServer(garbage));
  close(garbage);
  EXPECT_EQ(b->stats().rejected_connections, 1u);
  EXPECT_THAT(b->stats().latest_rejection, HasSubstr("127.0.0.1"));
  a->Send(2, "after");
  ASSERT_TRUE(RunUntil(*loop_, [&] { return inboxes_[2].size() == 2; }));
  EXPECT_EQ(inboxes_[2][1], std::make_pair(world::PeerId{1}, std::string("after")));
  EXPECT_EQ(inboxes_[2].size(), 2u);  // the garbage delivered nothing
}

TEST_F(TcpTransportTest, OversizeFrameClosesOnlyThatConnection) {
  TcpTransport::Options small;
  small.max_frame_bytes = 1024;
  auto b = Make(2, small);
  auto a = Make(1);
  Introduce(*a, *b);
  const int rogue = RawConnect(b->listen_port());
  const std::string wire = EncodeHandshake(9) + EncodeFrame("fine") + EncodeFrame(std::string(1025, 'z'));
  ASSERT_EQ(send(rogue, wire.data(), wire.size(), MSG_NOSIGNAL), static_cast<ssize_t>(wire.size()));
  EXPECT_TRUE(ClosedByServer(rogue));
  close(rogue);
  EXPECT_THAT(inboxes_[2], ElementsAre(Pair(9, "fine")));  // what came before the bad frame
  EXPECT_THAT(b->stats().latest_rejection, HasSubstr("exceeds"));
  a->Send(2, "still fine");
  ASSERT_TRUE(RunUntil(*loop_, [&] { return inboxes_[2].size() == 2; }));
}

TEST_F(TcpTransportTest, SilentClientIsClosedAfterTheHandshakeTimeout) {
  TcpTransport::Options options;
  options.handshake_timeout = world::Millis(30);
  auto b = Make(2, options);
  const int silent = RawConnect(b->listen_port());
  EXPECT_TRUE(ClosedByServer(silent));
  close(silent);
  EXPECT_EQ(b->inbound_connections(), 0u);
  EXPECT_THAT(b->stats().latest_rejection, HasSubstr("handshake"));
}

TEST_F(TcpTransportTest, UnknownSenderIsDeliveredAndItsAddressLearned) {
  auto a = Make(1);
  auto joiner = Make(7);
  joiner->SetPeerAddress(1, "127.0.0.1", a->listen_port());  // a knows nothing about 7
  std::vector<std::pair<world::PeerId, std::string>> learned;
  a->SetAddressLearner([&](world::PeerId peer, const std::string& ip, const std::string& advertised) {
    learned.emplace_back(peer, ip);
    EXPECT_EQ(advertised, "") << "the joiner advertises no URI";
    a->SetPeerAddress(peer, ip, joiner->listen_port());  // the node would use the advertised port
  });
  joiner->Send(1, "join me");
  ASSERT_TRUE(RunUntil(*loop_, [&] { return inboxes_[1].size() == 1; }));
  EXPECT_THAT(inboxes_[1], ElementsAre(Pair(7, "join me")));
  EXPECT_THAT(learned, ElementsAre(Pair(7, "127.0.0.1")));
  a->Send(7, "welcome");
  ASSERT_TRUE(RunUntil(*loop_, [&] { return inboxes_[7].size() == 1; }));
  EXPECT_THAT(inboxes_[7], ElementsAre(Pair(1, "welcome")));
}

// A sender's handshake carries the URI it advertises: the receiver can answer it there.
TEST_F(TcpTransportTest, TheHandshakeCarriesTheAdvertisedUri) {
  auto a = Make(1);
  TcpTransport::Options options;
  options.advertised_uri = "http://b.example:6335/";  // carried, not checked, by the transport
  auto b = Make(2, options);
  b->SetPeerAddress(1, "127.0.0.1", a->listen_port());
  std::vector<std::string> advertised;
  a->SetAddressLearner([&](world::PeerId, const std::string&, const std::string& uri) { advertised.push_back(uri); });
  b->Send(1, "hello");
  ASSERT_TRUE(RunUntil(*loop_, [&] { return inboxes_[1].size() == 1; }));
  EXPECT_THAT(advertised, ElementsAre(options.advertised_uri));
  options.advertised_uri = std::string(kMaxAdvertisedUriBytes + 1, 'u');
  options.listen_host = "127.0.0.1";
  EXPECT_FALSE(TcpTransport::Create(*loop_, 3, options).ok()) << "an advertised uri over 255 bytes";
}

TEST_F(TcpTransportTest, ReconnectsAfterTheListenerRestarts) {
  auto a = Make(1);
  auto b = Make(2);
  Introduce(*a, *b);
  a->Send(2, "first");
  ASSERT_TRUE(RunUntil(*loop_, [&] { return inboxes_[2].size() == 1; }));
  const uint16_t port = b->listen_port();
  b.reset();  // closes the listener and a's connection to it
  RunFor(*loop_, world::Millis(20));
  TcpTransport::Options same_port;
  same_port.listen_port = port;
  b = Make(2, same_port);
  ASSERT_NE(b, nullptr);
  inboxes_[2].clear();
  // Sends until one gets through: a message written into the dying connection may be lost.
  int sent = 0;
  std::function<void()> tick = [&] {
    a->Send(2, absl::StrCat("again-", sent++));
    loop_->RunAfter(world::Millis(20), tick);
  };
  tick();
  ASSERT_TRUE(RunUntil(*loop_, [&] { return !inboxes_[2].empty(); }));
  EXPECT_EQ(inboxes_[2][0].first, 1u);
}

TEST_F(TcpTransportTest, QueuedMessagesReachAPeerThatComesUpLater) {
  TcpTransport::Options fast;
  fast.min_backoff = world::Millis(10);
  fast.max_backoff = world::Millis(40);
  auto a = Make(1, fast);
  uint16_t port;
  {
    auto placeholder = Make(2);  // reserves an ephemeral port, then frees it
    port = placeholder->listen_port();
  }
  a->SetPeerAddress(2, "127.0.0.1", port);
  a->Send(2, "m1");
  a->Send(2, "m2");
  RunFor(*loop_, world::Millis(60));  // refused a few times, backing off
  const TcpTransport::PeerStats down = a->peer_stats(2);
  EXPECT_GT(down.send_failures, 0u);
  EXPECT_THAT(down.latest_error, HasSubstr("127.0.0.1"));
  EXPECT_GT(down.latest_error_wall_micros, 0);
  EXPECT_EQ(down.queued_messages, 2u);
  TcpTransport::Options same_port;
  same_port.listen_port = port;
  auto b = Make(2, same_port);
  ASSERT_NE(b, nullptr);
  ASSERT_TRUE(RunUntil(*loop_, [&] { return inboxes_[2].size() == 2; }));
  EXPECT_THAT(inboxes_[2], ElementsAre(Pair(1, "m1"), Pair(1, "m2")));
  EXPECT_EQ(a->peer_stats(2).queued_messages, 0u);
}

TEST_F(TcpTransportTest, BoundedQueueDropsNewMessagesWhileThePeerIsDown) {
  TcpTransport::Options options;
  options.max_queue_messages = 5;
  options.max_queue_bytes = 1000;
  auto a = Make(1, options);
  uint16_t port;
  {
    auto placeholder = Make(2);
    port = placeholder->listen_port();
  }
  a->SetPeerAddress(2, "127.0.0.1", port);
  for (int i = 0; i < 20; ++i) a->Send(2, "small");
  TcpTransport::PeerStats stats = a->peer_stats(2);
  EXPECT_EQ(stats.queued_messages, 5u);
  EXPECT_EQ(stats.dropped_messages, 15u);
  EXPECT_GE(stats.send_failures, 15u);
  EXPECT_THAT(stats.latest_error, HasSubstr("queue full"));
  a->ForgetPeer(2);
  a->SetPeerAddress(2, "127.0.0.1", port);
  a->Send(2, std::string(600, 'x'));
  a->Send(2, std::string(600, 'y'));  // 1208 wire bytes > 1000
  stats = a->peer_stats(2);
  EXPECT_EQ(stats.queued_messages, 1u);
  EXPECT_EQ(stats.dropped_messages, 1u);
  a->Send(2, std::string(2000, 'z'));  // over the byte bound on its own
  EXPECT_EQ(a->peer_stats(2).dropped_messages, 2u);
}

TEST_F(TcpTransportTest, MessagesWithoutAnAddressAreDropped) {
  auto a = Make(1);
  a->Send(5, "nowhere");
  const TcpTransport::PeerStats stats = a->peer_stats(5);
  EXPECT_EQ(stats.dropped_messages, 1u);
  EXPECT_THAT(stats.latest_error, HasSubstr("no address"));
  EXPECT_EQ(a->all_peer_stats().count(5), 1u);
}

// The owner hears of the missing address once per burst, on the loop and never inside Send(), and
// can supply it (qdnode asks Node::WhoIs): the messages after that go through.
TEST_F(TcpTransportTest, AMissingAddressIsReportedOncePerBurstAndCanBeSupplied) {
  auto a = Make(1);
  auto b = Make(2);
  std::vector<world::PeerId> missing;
  a->SetAddressMissing([&](world::PeerId peer) { missing.push_back(peer); });
  EXPECT_FALSE(a->HasPeerAddress(2));
  a->Send(2, "lost 1");
  a->Send(2, "lost 2");
  EXPECT_TRUE(missing.empty()) << "reported inside Send()";
  RunFor(*loop_, world::Millis(20));
  EXPECT_THAT(missing, ElementsAre(2));
  a->Send(2, "lost 3");  // a new burst: reported again
  RunFor(*loop_, world::Millis(20));
  EXPECT_THAT(missing, ElementsAre(2, 2));
  a->SetPeerAddress(2, "127.0.0.1", b->listen_port());
  EXPECT_TRUE(a->HasPeerAddress(2));
  a->Send(2, "found");
  ASSERT_TRUE(RunUntil(*loop_, [&] { return inboxes_[2].size() == 1; }));
  EXPECT_THAT(inboxes_[2], ElementsAre(Pair(1, "found")));
  EXPECT_EQ(missing.size(), 2u);
  EXPECT_EQ(a->peer_stats(2).dropped_messages, 3u);
}

TEST_F(TcpTransportTest, ChangedAddressMovesTheConnection) {
  auto a = Make(1);
  auto b = Make(2);
  auto b2 = Make(22);
  Introduce(*a, *b);
  a->Send(2, "to b");
  ASSERT_TRUE(RunUntil(*loop_, [&] { return inboxes_[2].size() == 1; }));
  a->SetPeerAddress(2, "127.0.0.1", b2->listen_port());  // peer 2 now lives where b2 listens
  a->Send(2, "to the new address");
  ASSERT_TRUE(RunUntil(*loop_, [&] { return inboxes_[22].size() == 1; }));
  EXPECT_THAT(inboxes_[22], ElementsAre(Pair(1, "to the new address")));
}

TEST_F(TcpTransportTest, CreateRejectsPeerZeroAndABusyPort) {
  EXPECT_FALSE(TcpTransport::Create(*loop_, 0, {}).ok());
  auto a = Make(1);
  TcpTransport::Options busy;
  busy.listen_host = "127.0.0.1";
  busy.listen_port = a->listen_port();
  EXPECT_FALSE(TcpTransport::Create(*loop_, 2, busy).ok());
}

TEST_F(TcpTransportTest, ProbeLearnsTheAcceptorsIdWithoutDeliveringAnything) {
  auto a = Make(1);
  auto b = Make(2);
  int learned = 0;
  a->SetAddressLearner([&](world::PeerId, const std::string&, const std::string&) { ++learned; });
  b->SetAddressLearner([&](world::PeerId, const std::string&, const std::string&) { ++learned; });
  absl::StatusOr<world::PeerId> id = ProbeAndWait(*a, "127.0.0.1", b->listen_port());
  ASSERT_TRUE(id.ok()) << id.status();
  EXPECT_EQ(*id, 2u);
  id = ProbeAndWait(*b, "127.0.0.1", a->listen_port());  // and the other way
  ASSERT_TRUE(id.ok()) << id.status();
  EXPECT_EQ(*id, 1u);
  ASSERT_TRUE(RunUntil(*loop_, [&] { return a->inbound_connections() + b->inbound_connections() == 0; }));
  EXPECT_EQ(b->stats().probes_answered, 1u);
  EXPECT_EQ(a->stats().probes_answered, 1u);
  EXPECT_EQ(b->stats().rejected_connections, 0u);
  EXPECT_EQ(b->stats().received_messages, 0u);
  EXPECT_TRUE(inboxes_[1].empty());
  EXPECT_TRUE(inboxes_[2].empty());
  EXPECT_EQ(learned, 0);
  EXPECT_TRUE(a->all_peer_stats().empty());  // the address book is untouched
  EXPECT_TRUE(b->all_peer_stats().empty());

  // Normal messaging is undisturbed, during and after more probes.
  Introduce(*a, *b);
  a->Send(2, "hello b");
  b->Send(1, "hello a");
  id = ProbeAndWait(*a, "127.0.0.1", b->listen_port());
  EXPECT_TRUE(id.ok() && *id == 2u) << id.status();
  ASSERT_TRUE(RunUntil(*loop_, [&] { return inboxes_[1].size() == 1 && inboxes_[2].size() == 1; }));
  a->Send(2, "again");
  ASSERT_TRUE(RunUntil(*loop_, [&] { return inboxes_[2].size() == 2; }));
  RunFor(*loop_, world::Millis(20));
  EXPECT_THAT(inboxes_[2], ElementsAre(Pair(1, "hello b"), Pair(1, "again")));
  EXPECT_THAT(inboxes_[1], ElementsAre(Pair(2, "hello a")));
  EXPECT_EQ(b->stats().probes_answered, 2u);
  EXPECT_EQ(a->peer_stats(2).send_failures, 0u);
  EXPECT_EQ(b->peer_stats(1).send_failures, 0u);
  EXPECT_EQ(learned, 2);  // once per real connection, never for a probe
}

TEST_F(TcpTransportTest, ProbeToAClosedPortIsUnavailableAtOnce) {
  auto a = Make(1);
  uint16_t port;
  {
    auto placeholder = Make(2);
    port = placeholder->listen_port();
  }
  const world::Instant start = loop_->Now();
  absl::StatusOr<world::PeerId> id = ProbeAndWait(*a, "127.0.0.1", port, world::Seconds(5));
  EXPECT_LT(loop_->Now() - start, world::Seconds(2));
  EXPECT_TRUE(absl::IsUnavailable(id.status())) << id.status();
  EXPECT_THAT(std::string(id.status().message()), HasSubstr(absl::StrCat("127.0.0.1:", port)));
}

TEST_F(TcpTransportTest, ProbeToAListenerThatNeverAnswersTimesOut) {
  auto a = Make(1);
  uint16_t port = 0;
  const int silent = SilentListener(port);
  const world::Instant start = loop_->Now();
  absl::StatusOr<world::PeerId> id = ProbeAndWait(*a, "127.0.0.1", port, world::Millis(150));
  const world::Duration took = loop_->Now() - start;
  close(silent);
  EXPECT_TRUE(absl::IsDeadlineExceeded(id.status())) << id.status();
  EXPECT_THAT(std::string(id.status().message()), HasSubstr(absl::StrCat("127.0.0.1:", port)));
  EXPECT_GE(took, world::Millis(150));
  EXPECT_LT(took, world::Seconds(2));
  EXPECT_EQ(loop_->watched_fds(), 1u);  // a's listener only: the probe's socket is gone
}

TEST_F(TcpTransportTest, ProbeToSomethingElseIsUnavailable) {
  auto a = Make(1);
  uint16_t port = 0;
  const int http = SilentListener(port);
  int calls = 0;
  absl::StatusOr<world::PeerId> result = absl::UnknownError("no answer");
  a->Probe("127.0.0.1", port, world::Seconds(3), [&](absl::StatusOr<world::PeerId> r) {
    ++calls;
    result = std::move(r);
  });
  const int conn = accept(http, nullptr, nullptr);  // blocking: the probe connects at once
  ASSERT_GE(conn, 0);
  const std::string answer = "HTTP/1.1 400 Bad Request\r\n\r\n";
  ASSERT_EQ(send(conn, answer.data(), answer.size(), MSG_NOSIGNAL), static_cast<ssize_t>(answer.size()));
  ASSERT_TRUE(RunUntil(*loop_, [&] { return calls > 0; }));
  close(conn);
  close(http);
  EXPECT_TRUE(absl::IsUnavailable(result.status())) << result.status();
  EXPECT_THAT(std::string(result.status().message()), HasSubstr("bad answer"));

  // A peer that closes without answering (an old version rejecting the probe, say).
  const int closer = SilentListener(port);
  calls = 0;
  a->Probe("127.0.0.1", port, world::Seconds(3), [&](absl::StatusOr<world::PeerId> r) {
    ++calls;
    result = std::move(r);
  });
  const int conn2 = accept(closer, nullptr, nullptr);
  ASSERT_GE(conn2, 0);
  shutdown(conn2, SHUT_WR);
  ASSERT_TRUE(RunUntil(*loop_, [&] { return calls > 0; }));
  close(conn2);
  close(closer);
  EXPECT_TRUE(absl::IsUnavailable(result.status())) << result.status();
  EXPECT_THAT(std::string(result.status().message()), HasSubstr("closed before answering"));
}

TEST_F(TcpTransportTest, ProbeResolvesNamesOnTheResolver) {
  BlockingPool pool(*loop_, 1);
  auto a = Make(1, {}, &pool);
  auto b = Make(2);
  absl::StatusOr<world::PeerId> id = ProbeAndWait(*a, "localhost", b->listen_port());
  ASSERT_TRUE(id.ok()) << id.status();
  EXPECT_EQ(*id, 2u);
  id = ProbeAndWait(*a, "no-such-host.invalid", b->listen_port(), world::Seconds(10));
  EXPECT_TRUE(absl::IsUnavailable(id.status())) << id.status();
  EXPECT_THAT(std::string(id.status().message()), HasSubstr("no-such-host.invalid:"));
  // Without a resolver only numeric addresses work, and the failure still comes from the loop.
  id = ProbeAndWait(*b, "localhost", a->listen_port());
  EXPECT_TRUE(absl::IsUnavailable(id.status())) << id.status();
  EXPECT_THAT(std::string(id.status().message()), HasSubstr("no resolver"));
}

TEST_F(TcpTransportTest, RawProbeGetsTheHandshakeEvenAfterHalfClosing) {
  auto b = Make(2);
  const int prober = RawConnect(b->listen_port());
  const std::string probe = EncodeProbe(9);
  ASSERT_EQ(send(prober, probe.data(), probe.size(), MSG_NOSIGNAL), static_cast<ssize_t>(probe.size()));
  shutdown(prober, SHUT_WR);  // asked, and nothing more to say
  std::string answer;
  ASSERT_TRUE(RunUntil(*loop_, [&] {
    char buf[64];
    const ssize_t n = recv(prober, buf, sizeof(buf), MSG_DONTWAIT);
    if (n > 0) answer.append(buf, static_cast<size_t>(n));
    return n == 0;  // the acceptor closes after answering
  }));
  close(prober);
  EXPECT_EQ(answer, EncodeHandshake(2));
  EXPECT_EQ(b->stats().probes_answered, 1u);
  EXPECT_EQ(b->stats().rejected_connections, 0u);
  EXPECT_EQ(b->inbound_connections(), 0u);
  EXPECT_TRUE(inboxes_[2].empty());
}

TEST_F(TcpTransportTest, ProbeFollowedByAFrameIsRejectedUnanswered) {
  auto b = Make(2);
  int learned = 0;
  b->SetAddressLearner([&](world::PeerId, const std::string&, const std::string&) { ++learned; });
  const int rogue = RawConnect(b->listen_port());
  const std::string wire = EncodeProbe(9) + EncodeFrame("sneaky");
  ASSERT_EQ(send(rogue, wire.data(), wire.size(), MSG_NOSIGNAL), static_cast<ssize_t>(wire.size()));
  EXPECT_TRUE(ClosedByServer(rogue));
  close(rogue);
  EXPECT_EQ(b->stats().rejected_connections, 1u);
  EXPECT_THAT(b->stats().latest_rejection, HasSubstr("probe"));
  EXPECT_EQ(b->stats().probes_answered, 0u);
  EXPECT_TRUE(inboxes_[2].empty());
  EXPECT_EQ(learned, 0);
}

TEST_F(TcpTransportTest, DestroyingTheTransportEndsProbesWithoutCallingBack) {
  auto a = Make(1);
  uint16_t port = 0;
  const int silent = SilentListener(port);
  int calls = 0;
  a->Probe("127.0.0.1", port, world::Millis(500), [&](absl::StatusOr<world::PeerId>) { ++calls; });
  RunFor(*loop_, world::Millis(20));  // connected, probe written, waiting for the answer
  // Fails (no resolver), but the failure is only posted, to run after this call.
  a->Probe("localhost", port, world::Millis(500), [&](absl::StatusOr<world::PeerId>) { ++calls; });
  EXPECT_EQ(a->probes_in_flight(), 2u);
  a.reset();
  RunFor(*loop_, world::Millis(100));
  close(silent);
  EXPECT_EQ(calls, 0);
  EXPECT_EQ(loop_->watched_fds(), 0u);
  EXPECT_EQ(loop_->pending_timers(), 0u);
}

}  // namespace
}  // namespace qdsim::real
