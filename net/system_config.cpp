#include "net/system_config.hpp"

#include "messages/config.hpp"

#include <caf/io/middleman.hpp>

namespace godistlock::net {

SystemConfig::SystemConfig() {
  messages::register_types(*this);
  load<caf::io::middleman>();
  set("middleman.app-identifiers", std::vector<std::string>{"godistlock"});
  set("middleman.heartbeat-interval", caf::timespan{heartbeat_interval});
  set("middleman.connection-timeout", caf::timespan{connection_timeout});
  // Small machines: a few workers are plenty and keep latency predictable.
  set("scheduler.max-threads", size_t{4});
}

} // namespace godistlock::net
