// A small datadriven test runner in the format of cockroachdb/datadriven (used by etcd's raft):
//
//   # comment
//   command arg1 key=value key=(v1,v2)
//   optional input lines
//   ----
//   expected output
//   <blank line ends the case>
//
// Output that itself contains blank lines is written between doubled separators:
//
//   command
//   ----
//   ----
//   output with
//
//   blank lines
//   ----
//   ----
//
// With QDSIM_REWRITE=1 in the environment the runner writes the actual outputs back into the file
// instead of comparing; review the diff before committing it.
//
// Thread-safety: none.
#ifndef QDSIM_TESTS_NODE_RAFT_DATADRIVEN_H_
#define QDSIM_TESTS_NODE_RAFT_DATADRIVEN_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace qdsim::datadriven {

// One argument of a command: `key`, `key=value` or `key=(v1,v2,...)`.
struct CmdArg {
  std::string key;
  std::vector<std::string> values;  // empty for a bare `key`
};

// One test case.
struct TestData {
  std::string pos;          // "file:line" of the command, for messages
  std::string cmd;          // the first word of the command line
  std::vector<CmdArg> args; // the rest of the command line
  std::string input;        // lines between the command and "----", each ending in '\n'
  std::string expected;     // the expected output, each line ending in '\n'

  // The argument named `key`, or nullptr.
  const CmdArg* Find(const std::string& key) const;
  // True if `key` is present.
  bool Has(const std::string& key) const { return Find(key) != nullptr; }
};

// Reads `path`, runs every case through `handler` and reports mismatches as GoogleTest failures
// (or rewrites the file when QDSIM_REWRITE=1). The handler returns the actual output.
void RunTest(const std::string& path, const std::function<std::string(const TestData&)>& handler);

// Parses one command line ("cmd a=1 b=(2,3)") into a TestData with no input or expectation, so
// that unit tests can drive the same handlers programmatically.
TestData ParseCommandLine(const std::string& line);

// Runs every case of `path` through `handler`, ignoring expected outputs (for tests that replay a
// specification file under different settings and check the resulting state).
void ReplayCommands(const std::string& path,
                    const std::function<std::string(const TestData&)>& handler);

// True if QDSIM_REWRITE=1 is set.
bool RewriteRequested();

}  // namespace qdsim::datadriven

#endif  // QDSIM_TESTS_NODE_RAFT_DATADRIVEN_H_
