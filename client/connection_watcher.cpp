#include "client/connection_watcher.hpp"

namespace godistlock::client::detail {

caf::behavior connection_watcher(caf::stateful_actor<WatcherState>* self,
                                 std::shared_ptr<ConnectionTable> table) {
  self->set_down_handler([self, table](caf::down_msg& dm) {
    table->forget(dm.source);
    auto& pending = self->state.pending;
    for (auto it = pending.begin(); it != pending.end();) {
      if (it->second.server != dm.source) {
        ++it;
        continue;
      }
      it->second.promise.deliver(caf::make_error(caf::sec::request_receiver_down));
      it = pending.erase(it);
    }
  });
  return {
      [=](caf::actor& server) { self->monitor(server); },
      [=](caf::actor& server, messages::wire_request& req,
          int64_t timeout_ms) -> caf::result<messages::wire_response> {
        auto id = ++self->state.next_id;
        auto rp = self->make_response_promise<messages::wire_response>();
        self->state.pending.emplace(id, WatcherState::Pending{server.address(), rp});
        self->request(server, std::chrono::milliseconds(timeout_ms), std::move(req))
            .then(
                [=](messages::wire_response& r) {
                  self->state.finish(id, [&](caf::response_promise& p) { p.deliver(r); });
                },
                [=](caf::error& e) {
                  self->state.finish(id, [&](caf::response_promise& p) { p.deliver(e); });
                });
        return rp;
      },
  };
}

} // namespace godistlock::client::detail
