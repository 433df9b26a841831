#include "client/transport.hpp"

#include "net/system_config.hpp"

#include <caf/all.hpp>

#include <future>

namespace godistlock::client::detail {

using std::chrono::milliseconds;

// One actor system per process, shared by every Client in it (as a gRPC
// channel is): one scheduler, one middleman, one connection per server.
// Made by the first Client and kept for the life of the process: shutting
// it down when the last Client goes could hang in ~actor_system (seen in
// chaos runs whose threads made and dropped many Clients; CAF 0.17 waits
// there for threads it still counts). Idle, it costs sleeping threads and
// the heartbeats of connections already made.
caf::actor_system& shared_system() {
  struct Runtime {
    net::SystemConfig cfg;
    caf::actor_system sys{cfg};
  };
  static Runtime* runtime = new Runtime; // never destroyed, on purpose
  return runtime->sys;
}

void ConnectionTable::forget(const caf::actor_addr& addr) {
  std::lock_guard<std::mutex> guard(mutex);
  for (auto& h : handles)
    if (h && h->address() == addr)
      h.reset();
}

caf::behavior connection_watcher(caf::event_based_actor* self,
                                 std::shared_ptr<ConnectionTable> table) {
  self->set_down_handler([table](caf::down_msg& dm) { table->forget(dm.source); });
  return {
      [=](caf::actor& server) { self->monitor(server); },
  };
}

namespace {

// One request to one server, ended by its reply, an error, its timeout, or
// the loss of the server's connection, whichever comes first. CAF 0.17
// does not fail a request in flight when the connection drops, so without
// the monitor a client would sit out the whole timeout (and park window)
// of an attempt at a node that was killed before trying the next one.
caf::behavior attempt_actor(caf::event_based_actor* self, node_actor server,
                            messages::wire_request req, milliseconds timeout,
                            std::shared_ptr<std::promise<AttemptOutcome>> done) {
  auto finish = [=](AttemptOutcome outcome) {
    // A monitor outlives the actor that set it: without this every attempt
    // would leave one on the server's proxy for the life of the connection.
    self->demonitor(server.address());
    done->set_value(std::move(outcome));
    self->quit();
  };
  self->monitor(server);
  self->set_down_handler([=](caf::down_msg& dm) {
    if (dm.source == server.address())
      finish(AttemptOutcome{std::nullopt, caf::make_error(caf::sec::request_receiver_down)});
  });
  self->request(server, timeout, std::move(req))
      .then(
          [=](messages::wire_response& r) {
            finish(AttemptOutcome{std::move(r.pb), {}});
          },
          [=](caf::error& e) {
            finish(AttemptOutcome{std::nullopt, std::move(e)});
          });
  // Nothing else arrives; the behavior only keeps the actor alive until then.
  return {[](int32_t) {}};
}

} // namespace

AttemptOutcome ask(caf::actor_system& sys, const node_actor& server, const wire::Request& req,
                   milliseconds timeout) {
  auto done = std::make_shared<std::promise<AttemptOutcome>>();
  auto outcome = done->get_future();
  sys.spawn(attempt_actor, server, messages::wire_request{req}, timeout, done);
  // The actor answers within the timeout; the margin only guards against
  // an actor system that stopped meanwhile.
  if (outcome.wait_for(timeout + std::chrono::seconds(1)) != std::future_status::ready)
    return AttemptOutcome{std::nullopt, caf::make_error(caf::sec::request_timeout)};
  return outcome.get();
}

} // namespace godistlock::client::detail
