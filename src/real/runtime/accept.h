// AcceptOnce: one accept4() on a non-blocking, level-triggered listener, with its errors sorted the
// way every listener here handles them (TcpTransport's peers, HttpServer's clients).
//
//   for (int i = 0; i < kMaxAcceptsPerEvent; ++i) {
//     Accepted a = AcceptOnce(listen_fd, &addr);
//     if (a.outcome == Accepted::kSocket) { Handle(a.fd); continue; }
//     if (a.outcome == Accepted::kRetry) continue;
//     if (a.outcome == Accepted::kExhausted) PauseListening();
//     return;
//   }
//
// Thread-safety: a free function; call it on the thread that owns the listener.
#ifndef QDSIM_REAL_RUNTIME_ACCEPT_H_
#define QDSIM_REAL_RUNTIME_ACCEPT_H_

#include <sys/socket.h>

#include <cerrno>

namespace qdsim::real {

struct Accepted {
  enum Outcome {
    kSocket,     // `fd` is the new connection (non-blocking, close-on-exec)
    kRetry,      // interrupted, or the client gave up before we took it: try the next one
    kDrained,    // nothing pending (EAGAIN), or an error the next readiness event will tell again
    kExhausted,  // out of descriptors or memory: the connection stays pending and the listener
                 // would fire again at once, so stop listening for a moment instead of spinning
  };
  Outcome outcome = kDrained;
  int fd = -1;
};

// `addr` may be null when the caller does not need the peer's address.
inline Accepted AcceptOnce(int listen_fd, sockaddr_storage* addr) {
  socklen_t len = sizeof(sockaddr_storage);
  const int fd = accept4(listen_fd, reinterpret_cast<sockaddr*>(addr), addr != nullptr ? &len : nullptr,
                         SOCK_NONBLOCK | SOCK_CLOEXEC);
  if (fd >= 0) return {Accepted::kSocket, fd};
  if (errno == EINTR || errno == ECONNABORTED) return {Accepted::kRetry};
  if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) return {Accepted::kExhausted};
  return {Accepted::kDrained};
}

}  // namespace qdsim::real

#endif  // QDSIM_REAL_RUNTIME_ACCEPT_H_
