#include "real/runtime/event_loop.h"

#include <signal.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace qdsim::real {
namespace {

// Events handled per epoll_wait; more stay ready (level-triggered) for the next iteration.
constexpr int kMaxEventsPerWait = 128;

absl::Status ErrnoStatus(const char* what, int err) {
  return absl::InternalError(absl::StrCat(what, ": ", strerror(err)));
}

}  // namespace

absl::StatusOr<std::unique_ptr<EventLoop>> EventLoop::Create() {
  const int epoll_fd = epoll_create1(EPOLL_CLOEXEC);
  if (epoll_fd < 0) return ErrnoStatus("epoll_create1", errno);
  const int wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wake_fd < 0) {
    const int err = errno;
    close(epoll_fd);
    return ErrnoStatus("eventfd", err);
  }
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = kWakeWatchId;
  if (epoll_ctl(epoll_fd, EPOLL_CTL_ADD, wake_fd, &ev) != 0) {
    const int err = errno;
    close(wake_fd);
    close(epoll_fd);
    return ErrnoStatus("epoll_ctl(eventfd)", err);
  }
  return std::unique_ptr<EventLoop>(new EventLoop(epoll_fd, wake_fd));
}

EventLoop::EventLoop(int epoll_fd, int wake_fd) : epoll_fd_(epoll_fd), wake_fd_(wake_fd) {}

EventLoop::~EventLoop() {
  if (signal_fd_ >= 0) close(signal_fd_);
  close(wake_fd_);
  close(epoll_fd_);
}

world::Instant EventLoop::Now() const {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return world::Instant(world::Micros(static_cast<int64_t>(ts.tv_sec) * 1000000 + ts.tv_nsec / 1000));
}

EventLoop::TimerId EventLoop::RunAt(world::Instant deadline, Callback callback) {
  const TimerId id = next_timer_id_++;
  timer_heap_.push(Timer{deadline, id});
  timer_callbacks_.emplace(id, PendingTimer{deadline, std::move(callback)});
  return id;
}

EventLoop::TimerId EventLoop::RunAfter(world::Duration delay, Callback callback) {
  return RunAt(Now() + std::max(delay, world::Duration(0)), std::move(callback));
}

bool EventLoop::CancelTimer(TimerId id) {
  // The heap entry stays behind and is skipped when it reaches the top.
  if (timer_callbacks_.erase(id) == 0) return false;
  if (timer_heap_.size() > 2 * timer_callbacks_.size() + 1024) CompactTimerHeap();
  return true;
}

void EventLoop::CompactTimerHeap() {
  // Long timers that are re-armed often (request time-outs) would otherwise pile up in the heap.
  std::vector<Timer> live;
  live.reserve(timer_callbacks_.size());
  for (const auto& [id, timer] : timer_callbacks_) live.push_back(Timer{timer.deadline, id});
  timer_heap_ = decltype(timer_heap_)(std::greater<Timer>(), std::move(live));
}

absl::Status EventLoop::Watch(int fd, uint32_t events, FdHandler handler) {
  if (fd_to_watch_.count(fd) > 0) return absl::AlreadyExistsError(absl::StrCat("fd ", fd, " is watched"));
  const uint64_t id = next_watch_id_++;
  epoll_event ev{};
  ev.events = events;
  ev.data.u64 = id;
  if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) != 0) return ErrnoStatus("epoll_ctl(ADD)", errno);
  watches_.emplace(id, std::make_shared<WatchEntry>(WatchEntry{fd, std::move(handler)}));
  fd_to_watch_.emplace(fd, id);
  return absl::OkStatus();
}

absl::Status EventLoop::Modify(int fd, uint32_t events) {
  auto it = fd_to_watch_.find(fd);
  if (it == fd_to_watch_.end()) return absl::NotFoundError(absl::StrCat("fd ", fd, " is not watched"));
  epoll_event ev{};
  ev.events = events;
  ev.data.u64 = it->second;
  if (epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, fd, &ev) != 0) return ErrnoStatus("epoll_ctl(MOD)", errno);
  return absl::OkStatus();
}

void EventLoop::Unwatch(int fd) {
  auto it = fd_to_watch_.find(fd);
  if (it == fd_to_watch_.end()) return;
  epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
  watches_.erase(it->second);
  fd_to_watch_.erase(it);
}

void EventLoop::Post(Callback callback) {
  {
    absl::MutexLock lock(&posted_mu_);
    posted_.push_back(std::move(callback));
  }
  const uint64_t one = 1;
  // A full eventfd counter (EAGAIN) still leaves it readable, so the loop wakes either way.
  [[maybe_unused]] ssize_t n = write(wake_fd_, &one, sizeof(one));
}

void EventLoop::Stop() {
  stop_requested_.store(true);
  const uint64_t one = 1;
  [[maybe_unused]] ssize_t n = write(wake_fd_, &one, sizeof(one));
}

void EventLoop::Run() {
  while (!stop_requested_.exchange(false)) RunOnce(world::Duration::max());
}

int EventLoop::WaitMillis(world::Duration max_wait) const {
  world::Duration wait = max_wait;
  if (!timer_callbacks_.empty()) {
    // The heap top may be a cancelled timer; waking for it early is harmless.
    wait = std::min(wait, std::max(world::Duration(0), timer_heap_.top().deadline - Now()));
  }
  if (wait == world::Duration::max()) return -1;
  // Round up: waking a little late is fine, waking early would spin until the deadline.
  const int64_t ms = (wait.count() + 999) / 1000;
  return static_cast<int>(std::min<int64_t>(ms, 60 * 60 * 1000));
}

void EventLoop::RunOnce(world::Duration max_wait) {
  {
    absl::MutexLock lock(&posted_mu_);
    if (!posted_.empty()) max_wait = world::Duration(0);
  }
  epoll_event events[kMaxEventsPerWait];
  const int ready = epoll_wait(epoll_fd_, events, kMaxEventsPerWait, WaitMillis(max_wait));
  if (ready < 0 && errno != EINTR) return;  // EBADF/EINVAL cannot happen with our own epoll fd
  for (int i = 0; i < ready; ++i) {
    const uint64_t id = events[i].data.u64;
    if (id == kWakeWatchId) {
      DrainWakeFd();
    } else if (id == kSignalWatchId) {
      HandleSignalFd();
    } else {
      // Looked up per event: an earlier handler in this batch may have unwatched this one.
      auto it = watches_.find(id);
      if (it == watches_.end()) continue;
      std::shared_ptr<WatchEntry> entry = it->second;  // alive even if the handler unwatches itself
      entry->handler(events[i].events);
    }
  }
  RunDueTimers();
  RunPosted();
}

void EventLoop::RunDueTimers() {
  // Only timers set before this pass fire in it, so a callback that keeps setting zero-delay timers
  // cannot hold the loop here; the next pass does not wait, since such a timer is already due. A
  // timer set now sorts after every older one due by `now`, so stopping at it skips none of them.
  const TimerId limit = next_timer_id_;
  const world::Instant now = Now();
  while (!timer_heap_.empty() && timer_heap_.top().deadline <= now) {
    const TimerId id = timer_heap_.top().id;
    auto it = timer_callbacks_.find(id);
    if (it == timer_callbacks_.end()) {  // cancelled
      timer_heap_.pop();
      continue;
    }
    if (id >= limit) break;
    timer_heap_.pop();
    Callback callback = std::move(it->second.callback);
    timer_callbacks_.erase(it);
    callback();
  }
}

void EventLoop::RunPosted() {
  std::vector<Callback> batch;
  {
    absl::MutexLock lock(&posted_mu_);
    batch.swap(posted_);
  }
  for (Callback& callback : batch) callback();
}

void EventLoop::DrainWakeFd() {
  uint64_t count;
  [[maybe_unused]] ssize_t n = read(wake_fd_, &count, sizeof(count));
}

absl::Status EventLoop::StopOnSignals(const std::vector<int>& signals) {
  if (signal_fd_ >= 0) return absl::FailedPreconditionError("StopOnSignals called twice");
  sigset_t mask;
  sigemptyset(&mask);
  for (int sig : signals) sigaddset(&mask, sig);
  if (int err = pthread_sigmask(SIG_BLOCK, &mask, nullptr); err != 0) {
    return ErrnoStatus("pthread_sigmask", err);
  }
  const int fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
  if (fd < 0) return ErrnoStatus("signalfd", errno);
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = kSignalWatchId;
  if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) != 0) {
    const int err = errno;
    close(fd);
    return ErrnoStatus("epoll_ctl(signalfd)", err);
  }
  signal_fd_ = fd;
  return absl::OkStatus();
}

void EventLoop::HandleSignalFd() {
  signalfd_siginfo info;
  while (read(signal_fd_, &info, sizeof(info)) == static_cast<ssize_t>(sizeof(info))) {
    stop_signal_ = static_cast<int>(info.ssi_signo);
    Stop();
  }
}

BlockingPool::BlockingPool(EventLoop& loop, int threads) : loop_(loop) {
  for (int i = 0; i < std::max(threads, 1); ++i) threads_.emplace_back([this] { WorkerMain(); });
}

BlockingPool::~BlockingPool() {
  {
    absl::MutexLock lock(&mu_);
    shutting_down_ = true;
  }
  for (std::thread& t : threads_) t.join();
}

void BlockingPool::Execute(std::function<void()> work) {
  absl::MutexLock lock(&mu_);
  jobs_.push(std::move(work));
}

void BlockingPool::WorkerMain() {
  // Signals belong to the loop thread (StopOnSignals); a helper thread must never take one.
  sigset_t all;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, nullptr);
  while (true) {
    std::function<void()> job;
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(
          +[](BlockingPool* p)
               ABSL_EXCLUSIVE_LOCKS_REQUIRED(p->mu_) { return p->shutting_down_ || !p->jobs_.empty(); },
          this));
      if (shutting_down_) return;
      job = std::move(jobs_.front());
      jobs_.pop();
      ++running_;
    }
    job();
    absl::MutexLock lock(&mu_);
    --running_;
  }
}

void BlockingPool::Drain() {
  absl::MutexLock lock(&mu_);
  mu_.Await(absl::Condition(
      +[](BlockingPool* p) ABSL_EXCLUSIVE_LOCKS_REQUIRED(p->mu_) { return p->jobs_.empty() && p->running_ == 0; },
      this));
}

}  // namespace qdsim::real
