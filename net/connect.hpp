// Connecting to a node with a deadline (CAF 0.17's blocking remote_actor()
// has none and hangs on a peer that accepts TCP but never answers).
#pragma once

#include "messages/interfaces.hpp"
#include "net/endpoint.hpp"

#include <caf/all.hpp>

#include <chrono>
#include <string>

namespace godistlock::net {

// Blocks the calling thread (not an actor) for at most `timeout`.
caf::expected<node_actor> connect_node(caf::actor_system& sys, const Endpoint& ep,
                                       std::chrono::milliseconds timeout);

// Publishes `node` on host:port (port 0: the OS picks), reusing the address
// so a restarted node gets its old port back at once. Returns the port.
caf::expected<uint16_t> publish_node(caf::actor_system& sys, const node_actor& node,
                                     const Endpoint& listen);

} // namespace godistlock::net
