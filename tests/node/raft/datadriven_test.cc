// Runs every file in testdata/ through InteractionEnv. Each file is one specification, named after
// the behaviour it pins (e.g. commit_previous_term.txt is the Figure 8 case of the Raft paper).
// Rewrite the expected outputs with QDSIM_REWRITE=1 and review the diff.
#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "datadriven.h"
#include "gtest/gtest.h"
#include "interaction_env.h"

namespace qdsim::raft::testing {
namespace {

std::vector<std::string> TestFiles() {
  std::vector<std::string> files;
  for (const auto& entry : std::filesystem::directory_iterator(QDSIM_RAFT_TESTDATA_DIR)) {
    if (entry.path().extension() == ".txt") files.push_back(entry.path().filename().string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

class DatadrivenTest : public ::testing::TestWithParam<std::string> {};

TEST_P(DatadrivenTest, Interaction) {
  InteractionEnv env;
  datadriven::RunTest(std::string(QDSIM_RAFT_TESTDATA_DIR) + "/" + GetParam(),
                      [&env](const datadriven::TestData& d) { return env.Handle(d); });
}

INSTANTIATE_TEST_SUITE_P(Raft, DatadrivenTest, ::testing::ValuesIn(TestFiles()),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           std::string name = info.param.substr(0, info.param.size() - 4);
                           std::replace(name.begin(), name.end(), '-', '_');
                           return name;
                         });

}  // namespace
}  // namespace qdsim::raft::testing
