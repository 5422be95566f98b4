// qdnode: one peer of a qdsim cluster, Qdrant-compatible (SPEC.md §1). See peer_process.h.
#include <unistd.h>

#include <cstdio>
#include <iostream>

#include "real/config/load_config.h"
#include "real/qdnode/peer_process.h"

int main(int argc, char** argv) {
  using namespace qdsim;
  const config::Environment env = config::Environment::FromProcess();
  absl::StatusOr<config::LoadedConfig> loaded = config::LoadConfig(argc, argv, env, "");
  if (!loaded.ok()) {
    std::cerr << "qdnode: " << loaded.status().message() << "\n";
    return 2;
  }
  if (loaded->flags.help) {
    std::cout << config::Usage();
    return 0;
  }
  absl::StatusOr<std::unique_ptr<real::PeerProcess>> peer = real::PeerProcess::Start(*loaded);
  if (!peer.ok()) {
    std::cerr << "qdnode: " << peer.status().message() << "\n";
    return 1;
  }
  return (*peer)->Run();
}
