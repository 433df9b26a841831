#include "net/connect.hpp"

#include "net/basp_guard.hpp"

#include <caf/io/middleman.hpp>

namespace godistlock::net {

caf::expected<node_actor> connect_node(caf::actor_system& sys, const Endpoint& ep,
                                       std::chrono::milliseconds timeout) {
  caf::scoped_actor self{sys};
  caf::expected<node_actor> result{caf::sec::cannot_connect_to_node};
  auto mm = sys.middleman().actor_handle();
  self->request(mm, timeout, caf::connect_atom::value, ep.host, ep.port)
      .receive(
          [&](const caf::node_id&, caf::strong_actor_ptr& ptr, const std::set<std::string>& ifs) {
            if (!ptr) {
              result = caf::make_error(caf::sec::no_actor_published_at_port);
              return;
            }
            // The interface set must match ours exactly: a node of another
            // version or another application is refused here.
            if (!sys.assignable<node_actor>(ifs)) {
              result = caf::make_error(caf::sec::unexpected_actor_messaging_interface);
              return;
            }
            result = caf::actor_cast<node_actor>(std::move(ptr));
          },
          [&](caf::error& err) { result = std::move(err); });
  return result;
}

caf::expected<uint16_t> publish_node(caf::actor_system& sys, const node_actor& node,
                                     const Endpoint& listen) {
  // Guarded: CAF's BASP would trust the payload length of any header that
  // arrives on the port (see net/basp_guard.hpp).
  return publish_guarded(sys, caf::actor_cast<caf::strong_actor_ptr>(node),
                         sys.message_types<node_actor>(), listen.port, listen.host, true);
}

} // namespace godistlock::net
