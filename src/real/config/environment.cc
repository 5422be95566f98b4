#include "real/config/environment.h"

#include <cstring>
#include <utility>

extern char** environ;  // POSIX; not declared by any standard header without _GNU_SOURCE tricks

namespace qdsim::config {

Environment Environment::FromProcess() {
  Environment env;
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    const char* eq = std::strchr(*entry, '=');
    if (eq == nullptr) continue;
    std::string name(*entry, static_cast<size_t>(eq - *entry));
    if (!env.Get(name)) env.Set(std::move(name), std::string(eq + 1));  // getenv() sees the first too
  }
  return env;
}

std::optional<std::string> Environment::Get(const std::string& name) const {
  auto it = vars_.find(name);
  if (it == vars_.end()) return std::nullopt;
  return it->second;
}

}  // namespace qdsim::config
