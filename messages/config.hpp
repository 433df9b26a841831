// The one place that registers GoDistLock's message types with CAF. Every
// binary and test fixture builds its actor_system_config through this.
#pragma once

#include <caf/actor_system_config.hpp>

namespace godistlock::messages {

void register_types(caf::actor_system_config& cfg);

} // namespace godistlock::messages
