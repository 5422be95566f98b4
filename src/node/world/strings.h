// Debian 12's Abseil (20220623) is built with its own absl::string_view, distinct from
// std::string_view, so absl::StrCat and friends do not accept a std::string_view. Sv() adapts one
// without copying:
//
//   absl::StrCat("no such file: ", world::Sv(file));
#ifndef QDSIM_NODE_WORLD_STRINGS_H_
#define QDSIM_NODE_WORLD_STRINGS_H_

#include <string_view>

#include "absl/strings/string_view.h"

namespace qdsim::world {

inline absl::string_view Sv(std::string_view s) { return absl::string_view(s.data(), s.size()); }

}  // namespace qdsim::world

#endif  // QDSIM_NODE_WORLD_STRINGS_H_
