#include "sim/kind_options.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace qdsim::sim {

bool OptionBool(const scenario::Scenario& s, const std::string& key, bool fallback) {
  auto it = s.options().find(key);
  if (it == s.options().end()) return fallback;
  return it->second == "true" || it->second == "1";
}

absl::StatusOr<double> OptionNumber(const scenario::Scenario& s, const std::string& key, double fallback) {
  auto it = s.options().find(key);
  if (it == s.options().end()) return fallback;
  double v;
  if (!absl::SimpleAtod(it->second, &v) || v < 0) {
    return absl::InvalidArgumentError(absl::StrCat("option ", key, ": not a non-negative number: ", it->second));
  }
  return v;
}

std::string OptionString(const scenario::Scenario& s, const std::string& key, const std::string& fallback) {
  auto it = s.options().find(key);
  return it == s.options().end() ? fallback : it->second;
}

}  // namespace qdsim::sim
