// How a client reaches its servers: the actor system every Client of a
// process shares, the table of server handles (forgotten as soon as a
// connection drops), and one request to one server that ends as soon as
// that server's connection drops.
#pragma once

#include "messages/interfaces.hpp"

#include <caf/fwd.hpp>

#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

namespace godistlock::client::detail {

// One actor system per process, shared by every Client in it.
caf::actor_system& shared_system();

// Watches every server handle we hold: when a server's connection drops,
// its handle is forgotten at once instead of timing out requests.
struct ConnectionTable {
  std::mutex mutex;
  std::vector<std::optional<node_actor>> handles;
  void forget(const caf::actor_addr& addr);
};

caf::behavior connection_watcher(caf::event_based_actor* self,
                                 std::shared_ptr<ConnectionTable> table);

// What became of one request to one server.
struct AttemptOutcome {
  std::optional<wire::Response> response;
  caf::error error; // when there is no response
};

// Sends `req` to `server` and blocks until its reply, an error, `timeout`,
// or the loss of the server's connection, whichever comes first.
AttemptOutcome ask(caf::actor_system& sys, const node_actor& server, const wire::Request& req,
                   std::chrono::milliseconds timeout);

} // namespace godistlock::client::detail
