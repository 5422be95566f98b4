#include "real/runtime/real_env.h"

#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "node/world/status_macros.h"
#include "node/world/strings.h"

namespace qdsim::real {
namespace {

const char* LevelName(world::LogLevel level) {
  switch (level) {
    case world::LogLevel::kDebug: return "debug";
    case world::LogLevel::kInfo: return "info";
    case world::LogLevel::kWarning: return "warn";
    case world::LogLevel::kError: return "error";
  }
  return "?";
}

}  // namespace

std::string StderrLogger::FormatLine(int64_t wall_micros, world::LogLevel level, std::string_view message) {
  const time_t seconds = static_cast<time_t>(wall_micros / 1000000);
  tm utc;
  gmtime_r(&seconds, &utc);
  char stamp[64];  // roomy: the compiler cannot bound tm fields to their calendar ranges
  snprintf(stamp, sizeof(stamp), "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ", utc.tm_year + 1900, utc.tm_mon + 1,
           utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec, static_cast<int>(wall_micros % 1000000));
  return absl::StrCat(stamp, " ", LevelName(level), " ", world::Sv(message), "\n");
}

void StderrLogger::Log(world::LogLevel level, std::string_view message) {
  if (level < min_level_) return;
  const std::string line = FormatLine(WallMicrosNow(), level, message);
  // One write per line; a short write (rare, for huge lines) continues where it stopped.
  for (size_t done = 0; done < line.size();) {
    const ssize_t n = write(STDERR_FILENO, line.data() + done, line.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    done += static_cast<size_t>(n);
  }
}

absl::StatusOr<uint64_t> OsRandomSeed() {
  uint64_t seed = 0;
  ssize_t n;
  do {
    n = getrandom(&seed, sizeof(seed), 0);
  } while (n < 0 && errno == EINTR);
  if (n != static_cast<ssize_t>(sizeof(seed))) {
    return absl::InternalError(absl::StrCat("getrandom: ", n < 0 ? strerror(errno) : "short read"));
  }
  return seed;
}

RealEnv::RealEnv(uint64_t seed, world::LogLevel min_log_level)
    : random_seed_(seed), random_(seed), logger_(min_log_level) {}

RealEnv::~RealEnv() = default;

absl::StatusOr<std::unique_ptr<RealEnv>> RealEnv::Create(Options options) {
  if (options.self == 0) return absl::InvalidArgumentError("RealEnv needs a peer id other than 0");
  if (options.storage_dir.empty()) return absl::InvalidArgumentError("RealEnv needs a storage directory");
  ASSIGN_OR_RETURN(const uint64_t seed, OsRandomSeed());
  std::unique_ptr<RealEnv> env(new RealEnv(seed, options.min_log_level));
  ASSIGN_OR_RETURN(env->loop_, EventLoop::Create());
  // Before the helper threads exist, so that none of them can take the signals.
  if (!options.stop_signals.empty()) RETURN_IF_ERROR(env->loop_->StopOnSignals(options.stop_signals));
  env->pool_ = std::make_unique<BlockingPool>(*env->loop_, options.helper_threads);
  env->clock_ = std::make_unique<RealClock>(*env->loop_);
  ASSIGN_OR_RETURN(env->disk_, PosixDisk::Open(options.storage_dir, *env->pool_, options.disk));
  ASSIGN_OR_RETURN(env->transport_, TcpTransport::Create(*env->loop_, options.self,
                                                         std::move(options.transport), env->pool_.get()));
  return env;
}

}  // namespace qdsim::real
