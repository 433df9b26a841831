// The CAF configuration every GoDistLock process uses: message types, the
// middleman, an application id that keeps foreign CAF apps out, and
// heartbeats so a hung peer is noticed (they must be on at both ends).
#pragma once

#include <caf/actor_system_config.hpp>

#include <chrono>

namespace godistlock::net {

struct SystemConfig : caf::actor_system_config {
  SystemConfig();
};

constexpr std::chrono::milliseconds heartbeat_interval{250};
constexpr std::chrono::milliseconds connection_timeout{2000};

} // namespace godistlock::net
