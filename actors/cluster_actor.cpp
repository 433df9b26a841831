#include "actors/cluster_actor.hpp"

#include "core/log.hpp"

#include <caf/io/middleman.hpp>

namespace godistlock::actors {

namespace {

using self_ptr = cluster_actor::stateful_pointer<cluster_state>;
using std::chrono::milliseconds;

constexpr milliseconds max_backoff{2000};
constexpr milliseconds connect_timeout{2000};

void schedule_reconnect(self_ptr self, uint32_t n) {
  auto& link = self->state.peers[n - 1];
  link.connecting = false;
  self->delayed_send(self, link.backoff, atoms::reconnect::value, n);
  link.backoff = std::min(link.backoff * 2, max_backoff);
}

wire::PeerRequest hello(const NodeContext& ctx) {
  wire::PeerRequest req;
  req.set_from_id(ctx.node_id);
  req.set_membership_digest(ctx.membership.digest);
  req.mutable_hello();
  return req;
}

// After the connection: exchange digests before this peer counts for votes.
void handshake(self_ptr self, uint32_t n, node_actor peer) {
  messages::wire_peer_request req{hello(*self->state.ctx)};
  self->request(peer, connect_timeout, req)
      .then(
          [=](const messages::wire_peer_response& r) {
            auto& link = self->state.peers[n - 1];
            if (r.pb.refused() == wire::MEMBERSHIP_MISMATCH) {
              link.last_problem = "different member list";
              GDL_ERROR("peer " << link.member.endpoint.to_string() << " (" << r.pb.from_id()
                                << ") runs with a different member list: not voting with it");
              link.backoff = max_backoff;
              schedule_reconnect(self, n);
              return;
            }
            if (r.pb.from_id() == self->state.ctx->node_id) {
              link.last_problem = "same node id as this node";
              GDL_ERROR("peer " << link.member.endpoint.to_string() << " has our own id '"
                                << r.pb.from_id() << "': not voting with it");
              link.backoff = max_backoff;
              schedule_reconnect(self, n);
              return;
            }
            link.handle = peer;
            link.connecting = false;
            link.backoff = milliseconds(100);
            link.last_problem.clear();
            self->monitor(peer);
            GDL_INFO("connected to peer " << r.pb.from_id() << " at "
                                          << link.member.endpoint.to_string());
          },
          [=](caf::error& e) {
            self->state.peers[n - 1].last_problem = to_string(e);
            schedule_reconnect(self, n);
          });
}

void connect(self_ptr self, uint32_t n) {
  auto& link = self->state.peers[n - 1];
  if (link.handle || link.connecting)
    return;
  link.connecting = true;
  auto mm = self->system().middleman().actor_handle();
  auto ep = link.member.endpoint;
  self->request(mm, connect_timeout, caf::connect_atom::value, ep.host, ep.port)
      .then(
          [=](const caf::node_id&, caf::strong_actor_ptr& ptr, const std::set<std::string>& ifs) {
            if (!ptr || !self->system().assignable<node_actor>(ifs)) {
              self->state.peers[n - 1].last_problem = "not a godistlock node of this version";
              schedule_reconnect(self, n);
              return;
            }
            handshake(self, n, caf::actor_cast<node_actor>(std::move(ptr)));
          },
          [=](caf::error& e) {
            self->state.peers[n - 1].last_problem = to_string(e);
            schedule_reconnect(self, n);
          });
}

} // namespace

cluster_actor::behavior_type cluster_actor_impl(cluster_actor::stateful_pointer<cluster_state> self,
                                                std::shared_ptr<const NodeContext> ctx) {
  self->state.ctx = std::move(ctx);
  for (auto& m : self->state.ctx->membership.peers)
    self->state.peers.push_back(PeerLink{m, std::nullopt, false, milliseconds(100), {}});
  // Losing a peer's connection only means fewer votes until it is back.
  self->set_down_handler([=](caf::down_msg& dm) {
    auto& peers = self->state.peers;
    for (uint32_t n = 1; n <= peers.size(); ++n) {
      auto& link = peers[n - 1];
      if (link.handle && link.handle->address() == dm.source) {
        GDL_WARN("lost peer " << link.member.endpoint.to_string() << ": " << to_string(dm.reason));
        link.handle.reset();
        link.backoff = milliseconds(100);
        connect(self, n);
      }
    }
  });
  for (uint32_t n = 1; n <= self->state.peers.size(); ++n)
    connect(self, n);
  return {
      [=](atoms::broadcast, lock_actor& lock, uint64_t round, messages::wire_peer_request& req) {
        auto& peers = self->state.peers;
        for (uint32_t n = 1; n <= peers.size(); ++n) {
          if (!peers[n - 1].handle)
            continue;
          self->request(*peers[n - 1].handle, self->state.ctx->round_timeout, req)
              .then(
                  [=](messages::wire_peer_response& r) {
                    self->send(lock, atoms::peer_reply::value, round, n, std::move(r));
                  },
                  [](caf::error&) {
                    // A lost answer is a missing vote; the round's own timeout decides.
                  });
        }
      },
      [=](atoms::rejoin, node_actor& node, messages::wire_peer_request& req) {
        auto& peers = self->state.peers;
        for (uint32_t n = 1; n <= peers.size(); ++n) {
          if (!peers[n - 1].handle)
            continue;
          self->request(*peers[n - 1].handle, self->state.ctx->round_timeout * 5, req)
              .then(
                  [=](messages::wire_peer_response& r) {
                    self->send(node, atoms::rejoin::value, n, std::move(r));
                  },
                  [](caf::error&) {
                    // Asked again on the node's next rejoin tick.
                  });
        }
      },
      [=](atoms::reconnect, uint32_t n) {
        if (n >= 1 && n <= self->state.peers.size())
          connect(self, n);
        // 0: a peer just said hello, so one that was down may be back:
        // dial every missing peer now instead of after its back-off.
        if (n == 0)
          for (uint32_t k = 1; k <= self->state.peers.size(); ++k)
            if (!self->state.peers[k - 1].handle) {
              self->state.peers[k - 1].backoff = milliseconds(100);
              connect(self, k);
            }
      },
      [=](atoms::reachable) {
        std::vector<std::string> out;
        for (auto& link : self->state.peers)
          if (link.handle)
            out.push_back(link.member.endpoint.to_string());
        return out;
      },
  };
}

} // namespace godistlock::actors
