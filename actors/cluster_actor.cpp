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
  ++link.dial; // a reconnect supersedes whatever dial is still out
  self->delayed_send(self, link.backoff, atoms::reconnect::value, n);
  link.backoff = std::min(link.backoff * 2, max_backoff);
}

wire::PeerRequest hello(const NodeContext& ctx, const net::Member& to) {
  wire::PeerRequest req;
  req.set_from_id(ctx.node_id);
  req.set_membership_digest(ctx.membership.digest);
  req.mutable_hello()->set_expected_id(to.id);
  return req;
}

// Why the node that answered at a peer's address is not that peer, or "".
// With ids for every member the digest covers the ids, not the addresses,
// so a node started with another member's id (or two ids swapped) passes
// the digest check: only the id says who answered.
std::string wrong_peer(const NodeContext& ctx, const net::Member& member,
                       const wire::PeerResponse& r) {
  auto at = member.endpoint.to_string();
  auto answered = shown_peer_id(r.from_id());
  if (!core::check_owner(r.from_id()).empty())
    return "peer " + at + " answers with " + answered;
  if (r.from_id() == ctx.node_id)
    return "peer " + at + " answers as node " + answered +
           ", which is this node's own id: two nodes with one id";
  if (!member.id.empty() && r.from_id() != member.id)
    return "peer " + at + " answers as node " + answered + ", but --peers names it '" + member.id +
           "' (this node is '" + ctx.node_id + "')";
  if (r.refused() == wire::WRONG_NODE_ID)
    return "peer " + at + " (" + answered + ") refused this node ('" + ctx.node_id +
           "'): it has this node's id, or is not '" + member.id + "'; see its log";
  return {};
}

void show_connected(self_ptr self, uint32_t n, std::string who) {
  auto& view = *self->state.ctx->peer_view;
  std::lock_guard<std::mutex> guard(view.mutex);
  view.connected.resize(self->state.peers.size());
  view.connected[n - 1] = std::move(who);
}

// Whether a dial's answer still matters: a newer dial replaced it.
bool stale_dial(self_ptr self, uint32_t n, uint64_t dial) {
  return self->state.peers[n - 1].dial != dial;
}

// After the connection: exchange digests before this peer counts for votes.
void handshake(self_ptr self, uint32_t n, node_actor peer, uint64_t dial) {
  messages::wire_peer_request req{hello(*self->state.ctx, self->state.peers[n - 1].member)};
  self->request(peer, connect_timeout, req)
      .then(
          [=](const messages::wire_peer_response& r) {
            if (stale_dial(self, n, dial))
              return;
            auto& link = self->state.peers[n - 1];
            if (r.pb.refused() == wire::MEMBERSHIP_MISMATCH) {
              link.last_problem = "different member list";
              GDL_ERROR("peer " << link.member.endpoint.to_string() << " ("
                                << shown_peer_id(r.pb.from_id())
                                << ") runs with a different member list: not voting with it");
              link.backoff = max_backoff;
              schedule_reconnect(self, n);
              return;
            }
            if (auto wrong = wrong_peer(*self->state.ctx, link.member, r.pb); !wrong.empty()) {
              link.last_problem = wrong;
              GDL_ERROR(wrong << ": not voting with it");
              link.backoff = max_backoff;
              schedule_reconnect(self, n);
              return;
            }
            link.handle = peer;
            link.connecting = false;
            link.backoff = milliseconds(100);
            link.last_problem.clear();
            self->monitor(peer);
            show_connected(self, n, r.pb.from_id() + "@" + link.member.endpoint.to_string());
            GDL_INFO("connected to peer " << r.pb.from_id() << " at "
                                          << link.member.endpoint.to_string());
          },
          [=](caf::error& e) {
            if (stale_dial(self, n, dial))
              return;
            self->state.peers[n - 1].last_problem = to_string(e);
            schedule_reconnect(self, n);
          });
}

// Dials peer n, unless connected or a dial is out (`again`: dial anew even
// then, the peer just said hello: the dial that is out may be stuck).
void connect(self_ptr self, uint32_t n, bool again = false) {
  auto& link = self->state.peers[n - 1];
  if (link.handle || (link.connecting && !again))
    return;
  link.connecting = true;
  auto dial = ++link.dial;
  auto mm = self->system().middleman().actor_handle();
  auto ep = link.member.endpoint;
  self->request(mm, connect_timeout, caf::connect_atom::value, ep.host, ep.port)
      .then(
          [=](const caf::node_id&, caf::strong_actor_ptr& ptr, const std::set<std::string>& ifs) {
            if (stale_dial(self, n, dial))
              return;
            auto& link = self->state.peers[n - 1];
            if (!ptr || !self->system().assignable<node_actor>(ifs)) {
              link.last_problem = "not a godistlock node of this version";
              schedule_reconnect(self, n);
              return;
            }
            // Right after a peer's connection drops, the middleman may still
            // hand out its cached proxy of the dead process, which never
            // answers: the hello would hang for connect_timeout (seen: 2 s
            // of "no quorum" while the restarted peer was up). Dial again
            // after the back-off, or at once when the peer says hello.
            // Compared as objects, not addresses: a peer that was only
            // paused comes back with equal node and actor ids.
            if (ptr.get() == link.lost.get()) {
              link.last_problem = "its old process is still cached";
              schedule_reconnect(self, n);
              return;
            }
            handshake(self, n, caf::actor_cast<node_actor>(std::move(ptr)), dial);
          },
          [=](caf::error& e) {
            if (stale_dial(self, n, dial))
              return;
            self->state.peers[n - 1].last_problem = to_string(e);
            schedule_reconnect(self, n);
          });
}

} // namespace

cluster_actor::behavior_type cluster_actor_impl(cluster_actor::stateful_pointer<cluster_state> self,
                                                std::shared_ptr<const NodeContext> ctx) {
  self->state.ctx = std::move(ctx);
  for (auto& m : self->state.ctx->membership.peers)
    self->state.peers.push_back(PeerLink{m});
  // Losing a peer's connection only means fewer votes until it is back.
  self->set_down_handler([=](caf::down_msg& dm) {
    auto& peers = self->state.peers;
    for (uint32_t n = 1; n <= peers.size(); ++n) {
      auto& link = peers[n - 1];
      if (link.handle && link.handle->address() == dm.source) {
        GDL_WARN("lost peer " << link.member.endpoint.to_string() << ": " << to_string(dm.reason));
        link.lost = link.handle->address();
        link.handle.reset();
        show_connected(self, n, {});
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
              connect(self, k, true);
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
