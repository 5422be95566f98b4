// Replays every fuzz corpus file and every scenario file through the fuzz entry points in the normal
// (non-fuzz) build, so a crash the fuzzer once found stays fixed.
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

TEST(FuzzRegressionTest, ScenarioParserCorpusAndScenariosRunClean) {
  int files = 0;
  for (const char* dir : {"/fuzz/corpus/scenario_parser", "/tests/sim/scenarios", "/scenarios"}) {
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
  EXPECT_GT(files, 0);
}

}  // namespace
