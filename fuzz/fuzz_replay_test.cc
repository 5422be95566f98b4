// Replays a fuzz target's corpus (fuzz/corpus/<target>/) through its entry point in the normal
// build, so every input the fuzzer once found interesting — crashes included — stays fixed. The
// scenario parser also replays every scenario file.
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

TEST(FuzzReplayTest, CorpusRunsClean) {
  std::vector<std::string> dirs = {"/fuzz/corpus/" QDSIM_FUZZ_TARGET};
  if (std::string(QDSIM_FUZZ_TARGET) == "scenario_parser") {
    dirs.push_back("/tests/sim/scenarios");
    dirs.push_back("/scenarios");
  }
  int files = 0;
  for (const std::string& dir : dirs) {
    const std::filesystem::path path = std::string(QDSIM_SOURCE_DIR) + dir;
    if (!std::filesystem::is_directory(path)) continue;
    for (const auto& entry : std::filesystem::directory_iterator(path)) {
      std::ifstream in(entry.path(), std::ios::binary);
      std::stringstream buffer;
      buffer << in.rdbuf();
      const std::string bytes = buffer.str();
      EXPECT_EQ(LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()), 0)
          << entry.path();
      ++files;
    }
  }
  // An empty input is always a valid case.
  EXPECT_EQ(LLVMFuzzerTestOneInput(nullptr, 0), 0);
  EXPECT_GT(files, 0) << "no corpus for " << QDSIM_FUZZ_TARGET;
}

}  // namespace
