// RETURN_IF_ERROR and ASSIGN_OR_RETURN, which Debian 12's Abseil (20220623) does not ship.
//
//   absl::Status Load() {
//     RETURN_IF_ERROR(disk.Append("f", data));
//     ASSIGN_OR_RETURN(std::string bytes, disk.ReadAll("f"));
//     ...
//   }
#ifndef QDSIM_NODE_WORLD_STATUS_MACROS_H_
#define QDSIM_NODE_WORLD_STATUS_MACROS_H_

#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define QDSIM_CONCAT_INNER_(a, b) a##b
#define QDSIM_CONCAT_(a, b) QDSIM_CONCAT_INNER_(a, b)

#define RETURN_IF_ERROR(expr)                              \
  do {                                                     \
    ::absl::Status qdsim_status_ = (expr);                 \
    if (!qdsim_status_.ok()) return qdsim_status_;         \
  } while (0)

#define QDSIM_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                 \
  if (!tmp.ok()) return std::move(tmp).status();     \
  lhs = std::move(*tmp)

#define ASSIGN_OR_RETURN(lhs, expr) \
  QDSIM_ASSIGN_OR_RETURN_IMPL_(QDSIM_CONCAT_(qdsim_statusor_, __LINE__), lhs, expr)

#endif  // QDSIM_NODE_WORLD_STATUS_MACROS_H_
