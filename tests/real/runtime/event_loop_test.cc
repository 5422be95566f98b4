// EventLoop, BlockingPool and RealClock: timer order and cancellation, cross-thread wake-ups, fd
// watches that unwatch each other mid-batch, signal-driven stop, and results of helper threads
// re-entering on the loop thread.
#include "real/runtime/event_loop.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "real/runtime/real_clock.h"
#include "tests/real/runtime/test_util.h"

namespace qdsim::real {
namespace {

using ::qdsim::real::testing::RunFor;
using ::qdsim::real::testing::RunUntil;
using ::testing::ElementsAre;

std::unique_ptr<EventLoop> NewLoop() {
  auto loop = EventLoop::Create();
  EXPECT_TRUE(loop.ok()) << loop.status();
  return std::move(*loop);
}

TEST(EventLoopTest, TimersFireByDeadlineThenInTheOrderTheyWereSet) {
  auto loop = NewLoop();
  std::vector<std::string> fired;
  const world::Instant base = loop->Now();
  loop->RunAt(base + world::Millis(20), [&] { fired.push_back("late"); });
  loop->RunAt(base + world::Millis(5), [&] { fired.push_back("same-1"); });
  loop->RunAt(base + world::Millis(5), [&] { fired.push_back("same-2"); });
  loop->RunAt(base + world::Millis(5), [&] { fired.push_back("same-3"); });
  loop->RunAt(base, [&] { fired.push_back("now"); });
  ASSERT_TRUE(RunUntil(*loop, [&] { return fired.size() == 5; }));
  EXPECT_THAT(fired, ElementsAre("now", "same-1", "same-2", "same-3", "late"));
  EXPECT_GE(loop->Now() - base, world::Millis(20));
}

TEST(EventLoopTest, CancelledTimerNeverRunsAndIdsAreNotReused) {
  auto loop = NewLoop();
  int runs = 0;
  const EventLoop::TimerId a = loop->RunAfter(world::Millis(1), [&] { ++runs; });
  const EventLoop::TimerId b = loop->RunAfter(world::Millis(1), [&] { runs += 10; });
  EXPECT_NE(a, 0u);
  EXPECT_GT(b, a);
  EXPECT_TRUE(loop->CancelTimer(a));
  EXPECT_FALSE(loop->CancelTimer(a));       // already cancelled
  EXPECT_FALSE(loop->CancelTimer(b + 99));  // unknown
  ASSERT_TRUE(RunUntil(*loop, [&] { return runs != 0; }));
  EXPECT_EQ(runs, 10);
  EXPECT_FALSE(loop->CancelTimer(b));  // already fired
  EXPECT_GT(loop->RunAfter(world::Millis(1), [] {}), b);
  EXPECT_EQ(loop->pending_timers(), 1u);
}

TEST(EventLoopTest, ZeroDelayTimerRunsLaterNotInsideRunAfter) {
  auto loop = NewLoop();
  bool ran = false;
  loop->RunAfter(world::Duration(0), [&] { ran = true; });
  EXPECT_FALSE(ran);
  loop->RunOnce(world::Duration(0));
  EXPECT_TRUE(ran);
}

TEST(EventLoopTest, SelfRearmingZeroDelayTimerDoesNotStarvePostedWork) {
  auto loop = NewLoop();
  int ticks = 0;
  std::function<void()> tick = [&] {
    ++ticks;
    loop->RunAfter(world::Duration(0), tick);
  };
  loop->RunAfter(world::Duration(0), tick);
  bool posted_ran = false;
  std::thread poster([&] { loop->Post([&] { posted_ran = true; }); });
  ASSERT_TRUE(RunUntil(*loop, [&] { return posted_ran; }));
  poster.join();
  EXPECT_GT(ticks, 0);
}

TEST(EventLoopTest, ManyCancelledTimersAreCompactedAway) {
  auto loop = NewLoop();
  int fired = 0;
  for (int i = 0; i < 5000; ++i) {
    loop->CancelTimer(loop->RunAfter(world::Seconds(60), [&] { fired += 100; }));
  }
  loop->RunAfter(world::Millis(1), [&] { ++fired; });
  ASSERT_TRUE(RunUntil(*loop, [&] { return fired > 0; }));
  EXPECT_EQ(fired, 1);
  EXPECT_EQ(loop->pending_timers(), 0u);
}

TEST(EventLoopTest, PostFromAnotherThreadWakesABlockedRun) {
  auto loop = NewLoop();
  const std::thread::id loop_thread = std::this_thread::get_id();
  std::thread::id ran_on;
  std::thread poster([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
    loop->Post([&] {
      ran_on = std::this_thread::get_id();
      loop->Stop();
    });
  });
  const auto start = std::chrono::steady_clock::now();
  loop->Run();  // no timers, no fds: only the Post can end this
  poster.join();
  EXPECT_EQ(ran_on, loop_thread);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

TEST(EventLoopTest, PostsFromOneThreadRunInOrder) {
  auto loop = NewLoop();
  std::vector<int> seen;
  std::thread poster([&] {
    for (int i = 0; i < 1000; ++i) loop->Post([&seen, i] { seen.push_back(i); });
  });
  ASSERT_TRUE(RunUntil(*loop, [&] { return seen.size() == 1000; }));
  poster.join();
  for (int i = 0; i < 1000; ++i) ASSERT_EQ(seen[i], i);
}

TEST(EventLoopTest, StopFromAnotherThreadAndStopBeforeRun) {
  auto loop = NewLoop();
  std::thread stopper([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    loop->Stop();
  });
  loop->Run();
  stopper.join();
  loop->Stop();
  loop->Run();  // returns at once: the stop request was made while not running
  bool ran = false;
  loop->Post([&] {
    ran = true;
    loop->Stop();
  });
  loop->Run();  // the earlier request was consumed: this one runs until the posted Stop
  EXPECT_TRUE(ran);
}

TEST(EventLoopTest, WatchedPipeDeliversReadinessUntilUnwatched) {
  auto loop = NewLoop();
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  std::string got;
  ASSERT_TRUE(loop->Watch(fds[0], EPOLLIN,
                          [&](uint32_t events) {
                            EXPECT_TRUE(events & EPOLLIN);
                            char c;
                            ASSERT_EQ(read(fds[0], &c, 1), 1);  // one byte per call: level-triggered
                            got.push_back(c);
                            if (c == '!') loop->Unwatch(fds[0]);
                          })
                  .ok());
  EXPECT_FALSE(loop->Watch(fds[0], EPOLLIN, [](uint32_t) {}).ok());  // already watched
  ASSERT_EQ(write(fds[1], "ab!cd", 5), 5);
  ASSERT_TRUE(RunUntil(*loop, [&] { return got.size() == 3; }));
  RunFor(*loop, world::Millis(20));
  EXPECT_EQ(got, "ab!");  // "cd" is still in the pipe, but nobody watches any more
  EXPECT_EQ(loop->watched_fds(), 0u);
  close(fds[0]);
  close(fds[1]);
}

TEST(EventLoopTest, HandlerMayUnwatchAnotherFdReadyInTheSameBatch) {
  auto loop = NewLoop();
  int a[2], b[2];
  ASSERT_EQ(pipe(a), 0);
  ASSERT_EQ(pipe(b), 0);
  int calls = 0;
  ASSERT_TRUE(loop->Watch(a[0], EPOLLIN,
                          [&](uint32_t) {
                            ++calls;
                            loop->Unwatch(a[0]);
                            loop->Unwatch(b[0]);
                          })
                  .ok());
  ASSERT_TRUE(loop->Watch(b[0], EPOLLIN,
                          [&](uint32_t) {
                            ++calls;
                            loop->Unwatch(a[0]);
                            loop->Unwatch(b[0]);
                          })
                  .ok());
  ASSERT_EQ(write(a[1], "x", 1), 1);
  ASSERT_EQ(write(b[1], "x", 1), 1);
  RunFor(*loop, world::Millis(20));  // both are ready in one epoll_wait
  EXPECT_EQ(calls, 1);
  for (int fd : {a[0], a[1], b[0], b[1]}) close(fd);
}

TEST(EventLoopTest, ModifySwitchesTheWatchedEvents) {
  auto loop = NewLoop();
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  int writable = 0;
  ASSERT_TRUE(loop->Watch(fds[1], 0, [&](uint32_t events) { writable += (events & EPOLLOUT) ? 1 : 0; }).ok());
  RunFor(*loop, world::Millis(10));
  EXPECT_EQ(writable, 0);
  ASSERT_TRUE(loop->Modify(fds[1], EPOLLOUT).ok());
  loop->RunOnce(world::Millis(10));
  EXPECT_EQ(writable, 1);
  EXPECT_TRUE(absl::IsNotFound(loop->Modify(fds[0], EPOLLIN)));
  loop->Unwatch(fds[1]);
  close(fds[0]);
  close(fds[1]);
}

TEST(EventLoopTest, StopOnSignalsTurnsASignalIntoStop) {
  auto loop = NewLoop();
  ASSERT_TRUE(loop->StopOnSignals({SIGUSR1}).ok());
  EXPECT_FALSE(loop->StopOnSignals({SIGUSR2}).ok());
  loop->RunAfter(world::Millis(10), [] { raise(SIGUSR1); });  // blocked: queued for the signalfd
  loop->Run();
  EXPECT_EQ(loop->stop_signal(), SIGUSR1);
}

TEST(BlockingPoolTest, WorkRunsOnAHelperAndItsResultOnTheLoopThread) {
  auto loop = NewLoop();
  BlockingPool pool(*loop, 2);
  const std::thread::id loop_thread = std::this_thread::get_id();
  std::thread::id work_thread, done_thread;
  int result = 0;
  pool.Run<int>(
      [&] {
        work_thread = std::this_thread::get_id();
        return 42;
      },
      [&](int r) {
        done_thread = std::this_thread::get_id();
        result = r;
      });
  EXPECT_EQ(result, 0);  // never inside Run()
  ASSERT_TRUE(RunUntil(*loop, [&] { return result != 0; }));
  EXPECT_EQ(result, 42);
  EXPECT_NE(work_thread, loop_thread);
  EXPECT_EQ(done_thread, loop_thread);
}

TEST(BlockingPoolTest, OneThreadCompletesJobsInSubmissionOrder) {
  auto loop = NewLoop();
  BlockingPool pool(*loop, 1);
  std::vector<int> done;
  for (int i = 0; i < 20; ++i) {
    pool.Run<int>([i] { return i; }, [&](int r) { done.push_back(r); });
  }
  ASSERT_TRUE(RunUntil(*loop, [&] { return done.size() == 20; }));
  for (int i = 0; i < 20; ++i) EXPECT_EQ(done[i], i);
}

TEST(BlockingPoolTest, SlowJobDoesNotBlockTheLoop) {
  auto loop = NewLoop();
  BlockingPool pool(*loop, 1);
  std::atomic<bool> release{false};
  bool slow_done = false, timer_ran = false;
  pool.Run<bool>(
      [&] {
        while (!release.load()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
        return true;
      },
      [&](bool) { slow_done = true; });
  loop->RunAfter(world::Millis(5), [&] {
    timer_ran = true;
    release = true;
  });
  ASSERT_TRUE(RunUntil(*loop, [&] { return slow_done; }));
  EXPECT_TRUE(timer_ran);
}

TEST(RealClockTest, TimersCancelAndDestructionForgetsPendingOnes) {
  auto loop = NewLoop();
  std::vector<int> fired;
  {
    RealClock clock(*loop);
    const world::Instant before = clock.Now();
    clock.After(world::Millis(30), [&] { fired.push_back(30); });
    clock.After(world::Duration(0), [&] { fired.push_back(0); });
    const world::TimerId cancelled = clock.After(world::Millis(1), [&] { fired.push_back(-1); });
    clock.After(world::Seconds(60), [&] { fired.push_back(60); });
    EXPECT_TRUE(fired.empty());  // never inside After()
    EXPECT_TRUE(clock.Cancel(cancelled));
    EXPECT_FALSE(clock.Cancel(cancelled));
    ASSERT_TRUE(RunUntil(*loop, [&] { return fired.size() == 2; }));
    EXPECT_THAT(fired, ElementsAre(0, 30));
    EXPECT_GE(clock.Now() - before, world::Millis(30));
    EXPECT_EQ(clock.pending(), 1u);
  }
  EXPECT_EQ(loop->pending_timers(), 0u);  // the 60 s timer went with the clock
}

TEST(RealClockTest, WallMicrosIsUnixTime) {
  auto loop = NewLoop();
  RealClock clock(*loop);
  const int64_t seconds = clock.WallMicros() / 1000000;
  EXPECT_NEAR(static_cast<double>(seconds), static_cast<double>(time(nullptr)), 2.0);
}

}  // namespace
}  // namespace qdsim::real
