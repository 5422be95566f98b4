// Helpers for the config tests: a temporary directory that cleans up after itself, and an argv
// built from strings.
#ifndef QDSIM_TESTS_REAL_CONFIG_CONFIG_TEST_UTIL_H_
#define QDSIM_TESTS_REAL_CONFIG_CONFIG_TEST_UTIL_H_

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <string>
#include <vector>

namespace qdsim::config::test_util {

// A fresh directory under /tmp (mkdtemp), removed with everything in it on destruction.
class TempDir {
 public:
  TempDir() {
    char pattern[] = "/tmp/qdsim_config_test.XXXXXX";
    const char* made = mkdtemp(pattern);
    path_ = made != nullptr ? made : "";
  }
  ~TempDir() {
    std::error_code ignored;
    if (!path_.empty()) std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }

  // Writes `contents` to `relative` under the directory (creating parents); returns the full path.
  std::string Write(const std::string& relative, const std::string& contents) const {
    const std::filesystem::path full = std::filesystem::path(path_) / relative;
    std::filesystem::create_directories(full.parent_path());
    std::ofstream(full, std::ios::binary | std::ios::trunc) << contents;
    return full.string();
  }

 private:
  std::string path_;  // "" if mkdtemp failed (tests then fail on the missing files)
};

// Owns the strings of a command line and hands out argc/argv as main() receives them.
class Argv {
 public:
  Argv(std::initializer_list<std::string> args) : strings_{"qdnode"} {
    strings_.insert(strings_.end(), args.begin(), args.end());
    for (std::string& s : strings_) pointers_.push_back(s.data());
    pointers_.push_back(nullptr);
  }
  int argc() const { return static_cast<int>(strings_.size()); }
  char** argv() { return pointers_.data(); }

 private:
  std::vector<std::string> strings_;  // program name first
  std::vector<char*> pointers_;       // into strings_, then a null terminator
};

}  // namespace qdsim::config::test_util

#endif  // QDSIM_TESTS_REAL_CONFIG_CONFIG_TEST_UTIL_H_
