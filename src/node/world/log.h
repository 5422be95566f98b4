// A thin logging helper over world::Logger (Debian 12's Abseil has no absl/log).
//
//   QDSIM_LOG(env.logger(), kInfo) << "became leader at term " << term;
//
// The message is built only when the statement runs; it is handed to the Logger when the temporary
// LogMessage is destroyed at the end of the full expression.
#ifndef QDSIM_NODE_WORLD_LOG_H_
#define QDSIM_NODE_WORLD_LOG_H_

#include <sstream>

#include "node/world/env.h"

namespace qdsim::world {

class LogMessage {
 public:
  LogMessage(Logger& logger, LogLevel level) : logger_(logger), level_(level) {}
  ~LogMessage() { logger_.Log(level_, stream_.str()); }
  LogMessage(const LogMessage&) = delete;
  LogMessage& operator=(const LogMessage&) = delete;

  template <typename T>
  LogMessage& operator<<(const T& value) {
    stream_ << value;
    return *this;
  }

 private:
  Logger& logger_;
  LogLevel level_;
  std::ostringstream stream_;
};

}  // namespace qdsim::world

#define QDSIM_LOG(logger, level) ::qdsim::world::LogMessage((logger), ::qdsim::world::LogLevel::level)

#endif  // QDSIM_NODE_WORLD_LOG_H_
