// Env: everything a node may touch of the world, handed to it at construction.
//
// A node holds an Env& for its whole incarnation and reaches the clock, the network, the disk, the
// random source and the log only through it (the LevelDB Env idea, made asynchronous). The simulator
// builds one Env per node incarnation; the real runtime builds one per process.
//
//   class PingNode {
//    public:
//     explicit PingNode(world::Env& env) : env_(env) {
//       env_.transport().SetReceiver([this](world::PeerId from, std::string b) { OnMessage(from, b); });
//       env_.clock().After(world::Millis(100), [this] { Tick(); });
//     }
//   };
#ifndef QDSIM_NODE_WORLD_ENV_H_
#define QDSIM_NODE_WORLD_ENV_H_

#include <functional>
#include <string_view>

#include "node/world/clock.h"
#include "node/world/disk.h"
#include "node/world/random.h"
#include "node/world/transport.h"

namespace qdsim::world {

enum class LogLevel { kDebug, kInfo, kWarning, kError };

// Where node logic writes what it wants a person (or the simulator's trace) to see.
class Logger {
 public:
  virtual ~Logger() = default;
  virtual void Log(LogLevel level, std::string_view message) = 0;
};

class Env {
 public:
  virtual ~Env() = default;
  virtual Clock& clock() = 0;
  virtual Transport& transport() = 0;
  virtual Disk& disk() = 0;
  virtual Random& random() = 0;
  virtual Logger& logger() = 0;

  // Runs `work`, which may take long (an exact search over a large shard), where it does not hold
  // up the node's logical thread, then `done` on that thread. The real runtime runs `work` on a
  // helper thread and `done` later; this default (the simulator's) runs both at once, here, so a
  // simulated run is unchanged. `work` may only read data that nothing changes or frees until
  // `done` has run (ShardStore::PinForRead).
  virtual void Offload(std::function<void()> work, std::function<void()> done) {
    work();
    done();
  }
};

}  // namespace qdsim::world

#endif  // QDSIM_NODE_WORLD_ENV_H_
