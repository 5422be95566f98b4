#include "node/api/types.h"

namespace qdsim::api {

std::string ReplicaStateName(consensuspb::ReplicaState state) {
  switch (state) {
    case consensuspb::ACTIVE: return "Active";
    case consensuspb::DEAD: return "Dead";
    case consensuspb::PARTIAL: return "Partial";
    case consensuspb::INITIALIZING: return "Initializing";
    case consensuspb::LISTENER: return "Listener";
    case consensuspb::RECOVERY: return "Recovery";
    default: return "Unknown";
  }
}

int HttpStatusOf(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kOk: return 200;
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kOutOfRange: return 400;
    case absl::StatusCode::kUnauthenticated: return 401;
    case absl::StatusCode::kPermissionDenied: return 403;
    case absl::StatusCode::kNotFound: return 404;
    case absl::StatusCode::kDeadlineExceeded: return 408;
    case absl::StatusCode::kAlreadyExists: return 409;
    case absl::StatusCode::kResourceExhausted: return 413;
    case absl::StatusCode::kUnimplemented: return 405;
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kAborted: return 503;
    default: return 500;
  }
}

}  // namespace qdsim::api
