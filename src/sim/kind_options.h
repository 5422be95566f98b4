// Reading a scenario's node-kind options (`options { key: "pre_vote" value: "false" }`).
#ifndef QDSIM_SIM_KIND_OPTIONS_H_
#define QDSIM_SIM_KIND_OPTIONS_H_

#include <string>

#include "absl/status/statusor.h"
#include "proto/scenario.pb.h"

namespace qdsim::sim {

// "true"/"1" are true, anything else given is false; `fallback` when absent.
bool OptionBool(const scenario::Scenario& s, const std::string& key, bool fallback);

// A non-negative number, `fallback` when absent; InvalidArgument naming the key otherwise.
absl::StatusOr<double> OptionNumber(const scenario::Scenario& s, const std::string& key, double fallback);

// The raw text, `fallback` when absent.
std::string OptionString(const scenario::Scenario& s, const std::string& key, const std::string& fallback);

}  // namespace qdsim::sim

#endif  // QDSIM_SIM_KIND_OPTIONS_H_
