// RealEnv: the composed world works end to end (clock, disk with sync, transport between two envs
// on one loop each), bad options are refused, and the logger's line format.
#include "real/runtime/real_env.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <thread>

#include <optional>

#include <atomic>

#include "absl/strings/str_cat.h"
#include "node/world/log.h"
#include "tests/real/runtime/test_util.h"

namespace qdsim::real {
namespace {

using ::qdsim::real::testing::RunUntil;
using ::qdsim::real::testing::TempDir;

RealEnv::Options EnvOptions(world::PeerId self, const std::string& dir) {
  RealEnv::Options options;
  options.self = self;
  options.storage_dir = dir;
  options.transport.listen_host = "127.0.0.1";
  options.helper_threads = 1;
  options.min_log_level = world::LogLevel::kWarning;
  return options;
}

TEST(RealEnvTest, ComposedWorldWorksThroughTheEnvInterface) {
  TempDir dir;
  auto made = RealEnv::Create(EnvOptions(1, dir.path() + "/n1"));
  ASSERT_TRUE(made.ok()) << made.status();
  RealEnv& real = **made;
  world::Env& env = real;

  bool timer_ran = false;
  env.clock().After(world::Millis(1), [&] { timer_ran = true; });
  ASSERT_TRUE(env.disk().Append("raft/log", "entry").ok());
  std::optional<absl::Status> synced;
  env.disk().Sync("raft/log", [&](absl::Status s) { synced = s; });
  std::vector<std::string> got;
  env.transport().SetReceiver([&](world::PeerId from, std::string bytes) {
    EXPECT_EQ(from, 1u);
    got.push_back(std::move(bytes));
  });
  env.transport().Send(env.transport().Self(), "self");
  ASSERT_TRUE(RunUntil(real.loop(), [&] { return timer_ran && synced.has_value() && got.size() == 1; }));
  EXPECT_TRUE(synced->ok()) << *synced;
  EXPECT_EQ(*env.disk().ReadAll("raft/log"), "entry");
  EXPECT_NE(real.tcp().listen_port(), 0);
  EXPECT_NE(env.random().Next(), env.random().Next());
  QDSIM_LOG(env.logger(), kDebug) << "below the minimum level: not written";
}

TEST(RealEnvTest, TwoEnvsTalkOverTcp) {
  TempDir dir;
  auto one = RealEnv::Create(EnvOptions(1, dir.path() + "/n1"));
  auto two = RealEnv::Create(EnvOptions(2, dir.path() + "/n2"));
  ASSERT_TRUE(one.ok() && two.ok());
  (*one)->tcp().SetPeerAddress(2, "127.0.0.1", (*two)->tcp().listen_port());
  std::string got;
  (*two)->transport().SetReceiver(
      [&](world::PeerId from, std::string bytes) { got = absl::StrCat(from, ":", bytes); });
  (*one)->transport().Send(2, "hello");
  // Each env has its own loop; drive both from this thread.
  const world::Instant deadline = (*one)->loop().Now() + world::Seconds(5);
  while (got.empty() && (*one)->loop().Now() < deadline) {
    (*one)->loop().RunOnce(world::Millis(1));
    (*two)->loop().RunOnce(world::Millis(1));
  }
  EXPECT_EQ(got, "1:hello");
}

// Env::Offload: the work runs on a helper thread, `done` afterwards on the loop thread, and the
// pool can be drained (what PeerProcess does before freeing the node's replicas).
TEST(RealEnvTest, OffloadRunsWorkOnAHelperThreadAndDoneOnTheLoop) {
  TempDir dir;
  auto made = RealEnv::Create(EnvOptions(1, dir.path() + "/n1"));
  ASSERT_TRUE(made.ok()) << made.status();
  RealEnv& real = **made;
  const std::thread::id loop_thread = std::this_thread::get_id();
  std::atomic<bool> work_on_helper{false};
  std::optional<bool> done_on_loop;
  real.Offload([&] { work_on_helper = std::this_thread::get_id() != loop_thread; },
               [&] { done_on_loop = std::this_thread::get_id() == loop_thread; });
  ASSERT_TRUE(RunUntil(real.loop(), [&] { return done_on_loop.has_value(); }));
  EXPECT_TRUE(work_on_helper);
  EXPECT_TRUE(*done_on_loop);
  std::atomic<int> ran{0};
  for (int i = 0; i < 8; ++i) real.Offload([&] { ++ran; }, [] {});
  real.pool().Drain();
  EXPECT_EQ(ran, 8);
}

TEST(RealEnvTest, RefusesMissingIdentityOrStorage) {
  TempDir dir;
  EXPECT_TRUE(absl::IsInvalidArgument(RealEnv::Create(EnvOptions(0, dir.path())).status()));
  EXPECT_TRUE(absl::IsInvalidArgument(RealEnv::Create(EnvOptions(1, "")).status()));
}

TEST(RealEnvTest, OsSeedsDiffer) {
  auto a = OsRandomSeed();
  auto b = OsRandomSeed();
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(*a, *b);  // equal with probability 2^-64
}

TEST(StderrLoggerTest, LineIsRfc3339TimeLevelMessage) {
  // 2026-01-02T03:04:05.000042Z
  const int64_t micros = 1767323045LL * 1000000 + 42;
  EXPECT_EQ(StderrLogger::FormatLine(micros, world::LogLevel::kWarning, "disk slow"),
            "2026-01-02T03:04:05.000042Z warn disk slow\n");
  EXPECT_EQ(StderrLogger::FormatLine(0, world::LogLevel::kInfo, ""), "1970-01-01T00:00:00.000000Z info \n");
}

}  // namespace
}  // namespace qdsim::real
