// EventLoop: the real runtime's single logical thread (DESIGN.md "The real runtime").
//
// One EventLoop per process runs every node callback: timers, socket readiness, and work posted from
// helper threads. It is a small epoll loop in the style of redis' ae.c and muduo:
//  - epoll in level-triggered mode, so a handler that leaves data unread is simply called again on
//    the next iteration (this is what lets a connection be capped per iteration);
//  - a timer heap ordered by (deadline, id); ids grow by one per timer, so timers due at the same
//    instant fire in the order they were set, and an id is never reused;
//  - an eventfd that Post() and Stop() write to wake the loop from other threads;
//  - optionally a signalfd that turns SIGTERM/SIGINT into Stop().
// Nothing on the loop thread may block: fsync and CPU-heavy work go to a BlockingPool, whose
// results come back through Post().
//
//   auto loop = EventLoop::Create();                 // StatusOr<std::unique_ptr<EventLoop>>
//   (*loop)->StopOnSignals({SIGTERM, SIGINT});
//   BlockingPool pool(**loop, 2);
//   (*loop)->RunAfter(world::Millis(10), [] { ... });
//   pool.Run<int>([] { return ExpensiveSearch(); }, [](int r) { /* back on the loop thread */ });
//   (*loop)->Run();                                  // until Stop() or a signal
//
// Thread-safety: Post() and Stop() may be called from any thread (Stop() also from a signal
// handler). Everything else must be called on the loop thread: the thread running Run()/RunOnce(),
// or, while the loop is not running, the thread that owns it.
#ifndef QDSIM_REAL_RUNTIME_EVENT_LOOP_H_
#define QDSIM_REAL_RUNTIME_EVENT_LOOP_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <queue>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "node/world/time.h"

namespace qdsim::real {

class EventLoop {
 public:
  using Callback = std::function<void()>;
  // Called with the epoll event bits (EPOLLIN, EPOLLOUT, EPOLLERR, EPOLLHUP, ...) that are ready.
  using FdHandler = std::function<void(uint32_t events)>;
  // Identifies a timer; 0 is never a valid id.
  using TimerId = uint64_t;

  // Opens the epoll instance and the wake-up eventfd.
  static absl::StatusOr<std::unique_ptr<EventLoop>> Create();

  // Closes the loop's own descriptors (not watched ones). Posted callbacks and timers that have not
  // run are dropped without running. REQUIRES: no other thread still calls Post().
  ~EventLoop();

  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  // CLOCK_MONOTONIC as a world::Instant.
  world::Instant Now() const;

  // Runs `callback` once on the loop thread at or after `deadline` (never inside this call).
  TimerId RunAt(world::Instant deadline, Callback callback);
  // Same as RunAt(Now() + delay). Negative delays count as zero.
  TimerId RunAfter(world::Duration delay, Callback callback);
  // Cancels a pending timer; true if it was pending. A fired, cancelled or unknown id is a no-op.
  bool CancelTimer(TimerId id);

  // Starts watching `fd` for `events` (EPOLLIN, EPOLLOUT, EPOLLRDHUP; level-triggered). The handler
  // runs on the loop thread; it may Unwatch its own or any other fd, and it is kept alive until it
  // returns. REQUIRES: fd is not watched already; the caller keeps it open until Unwatch().
  absl::Status Watch(int fd, uint32_t events, FdHandler handler);
  // Changes the events of a watched fd.
  absl::Status Modify(int fd, uint32_t events);
  // Stops watching `fd` (no-op if not watched). Events already collected for it are not delivered.
  // Call it before closing the fd.
  void Unwatch(int fd);

  // Queues `callback` to run on the loop thread and wakes the loop. Callbacks posted from one thread
  // run in the order they were posted. Never runs the callback inside this call. Any thread.
  void Post(Callback callback);

  // Runs until Stop(). A Stop() made while no Run() is in progress makes the next Run() return at
  // once; each Run() consumes the stop request, so Run() may be called again.
  void Run();
  // One iteration: waits up to `max_wait` for I/O or the next timer (or a Post/Stop), then runs what
  // is ready: I/O handlers, due timers, posted callbacks. Useful for tests and for embedding.
  void RunOnce(world::Duration max_wait);
  // Makes Run() return once its current iteration is done. Any thread; async-signal-safe.
  void Stop();

  // Blocks `signals` in the calling thread and turns their delivery into Stop(), through a
  // signalfd. Call it on the main thread before starting other threads: threads inherit the
  // blocked mask (BlockingPool threads block every signal anyway).
  absl::Status StopOnSignals(const std::vector<int>& signals);
  // The signal that stopped the loop through StopOnSignals(), or 0.
  int stop_signal() const { return stop_signal_; }

  // Timers and watched descriptors currently registered (for tests and leak checks).
  size_t pending_timers() const { return timer_callbacks_.size(); }
  size_t watched_fds() const { return fd_to_watch_.size(); }

 private:
  struct Timer {
    world::Instant deadline;
    TimerId id;
    // std::priority_queue is a max-heap; "greater" puts the earliest (deadline, id) on top.
    bool operator>(const Timer& o) const {
      return deadline != o.deadline ? deadline > o.deadline : id > o.id;
    }
  };
  struct PendingTimer {
    world::Instant deadline;
    Callback callback;
  };
  struct WatchEntry {
    int fd;
    FdHandler handler;
  };

  // epoll_event.data values of the loop's own descriptors; watch ids start above them.
  static constexpr uint64_t kWakeWatchId = 0;
  static constexpr uint64_t kSignalWatchId = 1;
  static constexpr uint64_t kFirstWatchId = 2;

  EventLoop(int epoll_fd, int wake_fd);
  int WaitMillis(world::Duration max_wait) const;
  void DispatchIo(int ready);
  void RunDueTimers();
  void CompactTimerHeap();
  void RunPosted();
  void DrainWakeFd();
  void HandleSignalFd();

  const int epoll_fd_;
  const int wake_fd_;   // eventfd written by Post() and Stop()
  int signal_fd_ = -1;  // signalfd from StopOnSignals(), or -1
  int stop_signal_ = 0;
  std::atomic<bool> stop_requested_{false};

  // Timers: the heap holds (deadline, id) and may contain cancelled ids; the map holds the live
  // ones, so CancelTimer() is a map erase and the heap skips ids no longer in the map (and is
  // rebuilt when cancelled entries dominate it).
  std::priority_queue<Timer, std::vector<Timer>, std::greater<Timer>> timer_heap_;
  std::unordered_map<TimerId, PendingTimer> timer_callbacks_;
  TimerId next_timer_id_ = 1;

  // Watches are referred to by a watch id carried in epoll_event.data, never by fd alone: a handler
  // may close an fd and a new Watch() may reuse the number within one batch of events.
  std::unordered_map<uint64_t, std::shared_ptr<WatchEntry>> watches_;
  std::unordered_map<int, uint64_t> fd_to_watch_;
  uint64_t next_watch_id_ = kFirstWatchId;

  absl::Mutex posted_mu_;
  std::vector<Callback> posted_ ABSL_GUARDED_BY(posted_mu_);
};

// BlockingPool: a fixed set of helper threads for blocking work (fsync, heavy search). Each job runs
// on a helper thread; its result re-enters the node as a callback posted to the loop thread.
//
//   BlockingPool pool(loop, 2);
//   pool.Run<absl::Status>([fd] { return FsyncStatus(fd); },
//                          [](absl::Status s) { /* on the loop thread */ });
//
// Jobs start in submission order (with one thread, they also finish in that order). The destructor
// lets running jobs finish, drops jobs that have not started, and joins the threads; results a
// finished job posted run (or are dropped) with the loop.
//
// Thread-safety: Execute() and Run() may be called from any thread.
class BlockingPool {
 public:
  // Starts `threads` helper threads that post results to `loop`. REQUIRES: threads >= 1; `loop`
  // outlives the pool.
  BlockingPool(EventLoop& loop, int threads);
  ~BlockingPool();

  BlockingPool(const BlockingPool&) = delete;
  BlockingPool& operator=(const BlockingPool&) = delete;

  // Runs `work` on a helper thread; nothing comes back to the loop.
  void Execute(std::function<void()> work);

  // Runs `work` on a helper thread, then `done(result)` on the loop thread (never inside Run()).
  template <typename T>
  void Run(std::function<T()> work, std::function<void(T)> done) {
    Execute([this, work = std::move(work), done = std::move(done)]() mutable {
      auto result = std::make_shared<T>(work());
      loop_.Post([done = std::move(done), result] { done(std::move(*result)); });
    });
  }

  EventLoop& loop() { return loop_; }

  // Blocks until every job given so far has finished (for teardown: the owner of data jobs read
  // calls it before freeing that data). Never call it on a loop that jobs' results must reach.
  void Drain();

 private:
  void WorkerMain();

  EventLoop& loop_;
  absl::Mutex mu_;
  std::queue<std::function<void()>> jobs_ ABSL_GUARDED_BY(mu_);
  bool shutting_down_ ABSL_GUARDED_BY(mu_) = false;
  int running_ ABSL_GUARDED_BY(mu_) = 0;  // jobs taken by a thread and not finished
  std::vector<std::thread> threads_;
};

}  // namespace qdsim::real

#endif  // QDSIM_REAL_RUNTIME_EVENT_LOOP_H_
