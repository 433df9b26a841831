#include "messages/config.hpp"

#include "messages/interfaces.hpp"

namespace godistlock::messages {

void register_types(caf::actor_system_config& cfg) {
  // Names are the wire identity: never change them.
  cfg.add_message_type<wire_request>("gdl_request");
  cfg.add_message_type<wire_response>("gdl_response");
  cfg.add_message_type<wire_peer_request>("gdl_peer_request");
  cfg.add_message_type<wire_peer_response>("gdl_peer_response");
}

} // namespace godistlock::messages
