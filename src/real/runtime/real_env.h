// RealEnv: the world::Env of one node process, composed of the real runtime's parts.
//
// It owns the event loop (the node's single logical thread), the helper threads, and the world
// implementations over them: RealClock (CLOCK_MONOTONIC timers on the loop), TcpTransport (peers
// over TCP), PosixDisk (the storage directory, syncs on the helper threads), a world::Random seeded
// from the OS, and a StderrLogger. The HTTP server and the node share loop() with it.
//
//   RealEnv::Options options;
//   options.self = 1;
//   options.storage_dir = "./storage";
//   options.transport.listen_port = 6335;
//   options.stop_signals = {SIGTERM, SIGINT};
//   auto env = RealEnv::Create(options);        // StatusOr<std::unique_ptr<RealEnv>>
//   Node node(**env, ...);
//   (*env)->loop().Run();                       // until SIGTERM/SIGINT
//
// Thread-safety: none, like every world interface (StderrLogger alone may be used from any thread).
#ifndef QDSIM_REAL_RUNTIME_REAL_ENV_H_
#define QDSIM_REAL_RUNTIME_REAL_ENV_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "node/world/env.h"
#include "node/world/random.h"
#include "real/runtime/event_loop.h"
#include "real/runtime/posix_disk.h"
#include "real/runtime/real_clock.h"
#include "real/runtime/tcp_transport.h"

namespace qdsim::real {

// Writes "time level message" lines to stderr, the time in RFC 3339 UTC with microseconds. Each line
// is a single write(2), so lines from different threads do not interleave. Thread-safe.
class StderrLogger final : public world::Logger {
 public:
  explicit StderrLogger(world::LogLevel min_level) : min_level_(min_level) {}

  // Writes the line if `level` is at least the minimum level.
  void Log(world::LogLevel level, std::string_view message) override;

  // The line Log() writes (newline included), for a given wall time in µs since the Unix epoch.
  static std::string FormatLine(int64_t wall_micros, world::LogLevel level, std::string_view message);

 private:
  const world::LogLevel min_level_;
};

// 64 random bits from the kernel (getrandom(2)); the real runtime's only nondeterministic seed.
absl::StatusOr<uint64_t> OsRandomSeed();

class RealEnv final : public world::Env {
 public:
  struct Options {
    world::PeerId self = 0;           // this node's peer id; REQUIRED != 0
    std::string storage_dir;          // root of the disk; created if missing; REQUIRED
    TcpTransport::Options transport;  // where to listen, queue and frame limits
    PosixDisk::Options disk;
    int helper_threads = 2;  // BlockingPool size (fsync, name resolution, search)
    world::LogLevel min_log_level = world::LogLevel::kInfo;
    std::vector<int> stop_signals;  // turned into loop().Stop(), e.g. {SIGTERM, SIGINT}
  };

  // Builds everything, in an order that lets signals be blocked before any helper thread starts.
  // Call it on the thread that will run loop().
  static absl::StatusOr<std::unique_ptr<RealEnv>> Create(Options options);
  // Tears down in reverse: connections closed, helper threads joined, pending callbacks dropped.
  ~RealEnv() override;

  RealEnv(const RealEnv&) = delete;
  RealEnv& operator=(const RealEnv&) = delete;

  world::Clock& clock() override { return *clock_; }
  world::Transport& transport() override { return *transport_; }
  world::Disk& disk() override { return *disk_; }
  world::Random& random() override { return random_; }
  world::Logger& logger() override { return logger_; }
  // `work` on a helper thread (BlockingPool), then `done` on the loop thread.
  void Offload(std::function<void()> work, std::function<void()> done) override {
    EventLoop* loop = loop_.get();
    pool_->Execute([loop, work = std::move(work), done = std::move(done)]() mutable {
      work();
      loop->Post(std::move(done));
    });
  }

  // The concrete parts, for the process's own wiring (HTTP server, GET /cluster stats, shutdown).
  EventLoop& loop() { return *loop_; }
  BlockingPool& pool() { return *pool_; }
  TcpTransport& tcp() { return *transport_; }
  PosixDisk& posix_disk() { return *disk_; }
  // The seed random() started from (worth logging: it reproduces the node's random choices).
  uint64_t random_seed() const { return random_seed_; }

 private:
  RealEnv(uint64_t seed, world::LogLevel min_log_level);

  // Declared in construction order; destroyed in reverse, so each part outlives its users.
  std::unique_ptr<EventLoop> loop_;
  std::unique_ptr<BlockingPool> pool_;
  std::unique_ptr<RealClock> clock_;
  std::unique_ptr<PosixDisk> disk_;
  std::unique_ptr<TcpTransport> transport_;
  const uint64_t random_seed_;
  world::Random random_;
  StderrLogger logger_;
};

}  // namespace qdsim::real

#endif  // QDSIM_REAL_RUNTIME_REAL_ENV_H_
