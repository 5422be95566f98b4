// Environment: the process environment as a value, so that configuration loading never reads the
// real environment behind a test's back.
//
//   Environment env = Environment::FromProcess();          // in main()
//   Environment fake({{"QDRANT__SERVICE__HTTP_PORT", "7000"}});  // in a test
//   std::optional<std::string> uri = fake.Get("QDRANT_URI");  // nullopt
//
// Names are case-sensitive, as in POSIX; LoadConfig() does its own case folding for QDRANT__ keys.
//
// Thread-safety: a plain value; const methods may be called concurrently.
#ifndef QDSIM_REAL_CONFIG_ENVIRONMENT_H_
#define QDSIM_REAL_CONFIG_ENVIRONMENT_H_

#include <initializer_list>
#include <map>
#include <optional>
#include <string>
#include <utility>

namespace qdsim::config {

class Environment {
 public:
  Environment() = default;
  Environment(std::initializer_list<std::pair<const std::string, std::string>> vars) : vars_(vars) {}

  // A snapshot of the calling process's environment (`environ`). Entries without '=' are skipped.
  static Environment FromProcess();

  // The value of `name`, or nullopt if it is not set. A variable set to "" is returned as "".
  std::optional<std::string> Get(const std::string& name) const;
  void Set(std::string name, std::string value) { vars_[std::move(name)] = std::move(value); }

  // Every variable, ordered by name (so that layering over them is deterministic).
  const std::map<std::string, std::string>& vars() const { return vars_; }

 private:
  std::map<std::string, std::string> vars_;  // name -> value
};

}  // namespace qdsim::config

#endif  // QDSIM_REAL_CONFIG_ENVIRONMENT_H_
