// Helpers for the real runtime's tests: drive an EventLoop until a condition holds, and a temporary
// directory per test.
#ifndef QDSIM_TESTS_REAL_RUNTIME_TEST_UTIL_H_
#define QDSIM_TESTS_REAL_RUNTIME_TEST_UTIL_H_

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <functional>
#include <string>

#include "real/runtime/event_loop.h"

namespace qdsim::real::testing {

// Runs loop iterations until `done()` holds or `timeout` passes; returns whether it held.
inline bool RunUntil(EventLoop& loop, const std::function<bool()>& done,
                     world::Duration timeout = world::Seconds(5)) {
  const world::Instant deadline = loop.Now() + timeout;
  while (!done()) {
    if (loop.Now() >= deadline) return false;
    loop.RunOnce(world::Millis(10));
  }
  return true;
}

// Runs loop iterations for `duration` (to show that something does NOT happen).
inline void RunFor(EventLoop& loop, world::Duration duration) {
  const world::Instant deadline = loop.Now() + duration;
  while (loop.Now() < deadline) loop.RunOnce(world::Millis(5));
}

// A fresh directory under ::testing::TempDir(), removed with everything in it on destruction.
class TempDir {
 public:
  TempDir() {
    std::string pattern = ::testing::TempDir() + "/qdsim_real_runtime_XXXXXX";
    char* made = mkdtemp(pattern.data());
    EXPECT_NE(made, nullptr) << "mkdtemp " << pattern;
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace qdsim::real::testing

#endif  // QDSIM_TESTS_REAL_RUNTIME_TEST_UTIL_H_
