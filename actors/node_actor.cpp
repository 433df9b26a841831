#include "actors/node_actor.hpp"

#include "actors/rejoin.hpp"
#include "actors/responses.hpp"
#include "core/limits.hpp"
#include "core/log.hpp"
#include "messages/codec.hpp"
#include "messages/validate.hpp"

namespace godistlock::actors {

namespace {

using self_ptr = node_actor::stateful_pointer<node_state>;
using messages::wire_response;

bool sender_is_local(self_ptr self) {
  auto& sender = self->current_sender();
  return sender && sender->node() == self->node();
}

wire_response stats_response(self_ptr self, uint64_t request_id) {
  auto& st = self->state;
  auto& c = *st.ctx->counters;
  wire_response r;
  r.pb.set_code(wire::OK);
  r.pb.set_request_id(request_id);
  auto& s = *r.pb.mutable_stats();
  s.set_node_id(st.ctx->node_id);
  s.set_uptime_ms(core::to_ms(core::Clock::now() - st.started));
  s.set_live_lock_actors(st.live.size());
  s.set_resting_locks(st.table.size());
  s.set_held_locks(static_cast<uint64_t>(std::max<int64_t>(0, c.held_locks.load())));
  s.set_waiters(static_cast<uint64_t>(std::max<int64_t>(0, c.waiters.load())));
  s.set_grants(c.grants);
  s.set_releases(c.releases);
  s.set_expiries(c.expiries);
  s.set_stale_attempts(c.stale_attempts);
  s.set_cluster_size(st.ctx->members.size());
  for (auto& m : st.ctx->members)
    s.add_members(m);
  s.set_draining(st.draining);
  s.set_wal_commits(c.wal_commits);
  s.set_wal_records(c.wal_records);
  s.set_wal_tail_bytes_dropped(c.wal_tail_bytes_dropped);
  s.set_recovering(st.rejoin.has_value());
  describe_waiting(st, s);
  size_t connected = 0;
  {
    auto& view = *st.ctx->peer_view;
    std::lock_guard<std::mutex> guard(view.mutex);
    for (auto& peer : view.connected)
      if (!peer.empty()) {
        s.add_connected_peers(peer);
        ++connected;
      }
  }
  s.set_majority(st.ctx->quorum);
  s.set_sees_majority(connected + 1 >= st.ctx->quorum);
  s.set_incarnation(st.ctx->incarnation->load());
  return r;
}

} // namespace

node_state::Live& live_actor(self_ptr self, const std::string& name) {
  auto& st = self->state;
  if (auto it = st.live.find(name); it != st.live.end())
    return it->second;
  core::AcceptorRecord record;
  record.value.fence = st.ctx->fence_floor->load();
  core::Instant epoch_seen = core::Clock::now();
  if (auto resting = st.table.take(name)) {
    record = std::move(resting->record);
    epoch_seen = core::Instant(core::Clock::duration(resting->epoch_seen_ns));
  }
  auto handle = self->spawn<caf::linked>(lock_actor_impl, st.ctx, node_actor{self}, name,
                                         std::move(record), epoch_seen);
  return st.live.emplace(name, node_state::Live{std::move(handle), 0}).first->second;
}

node_actor::behavior_type node_actor_impl(node_actor::stateful_pointer<node_state> self,
                                          std::shared_ptr<const NodeContext> ctx,
                                          std::shared_ptr<LockTable> table) {
  self->state.ctx = std::move(ctx);
  self->state.table = std::move(*table);
  self->state.started = core::Clock::now();
  if (self->state.ctx->joining)
    start_rejoin(self);
  return {
      [=](messages::wire_request& msg) -> caf::result<wire_response> {
        auto& st = self->state;
        auto& req = msg.pb;
        if (auto error = messages::validate(req); !error.empty())
          return error_response(wire::INVALID_ARGUMENT, error, req.request_id());
        if (req.has_stats())
          return stats_response(self, req.request_id());
        if (st.rejoin)
          return error_response(wire::RECOVERING,
                                "node is catching up after losing its data; use another node",
                                req.request_id());
        if (st.draining)
          return error_response(wire::SHUTTING_DOWN, "node is shutting down; use another node",
                                req.request_id());
        auto& live = live_actor(self, messages::lock_name(req));
        ++live.forwarded;
        return self->delegate(live.handle, std::move(msg));
      },
      [=](messages::wire_peer_request& msg) -> caf::result<messages::wire_peer_response> {
        auto& st = self->state;
        auto& req = msg.pb;
        messages::wire_peer_response out;
        out.pb.set_from_id(st.ctx->node_id);
        // Votes count only between nodes started with the same member list.
        if (req.membership_digest() != st.ctx->membership.digest) {
          out.pb.set_refused(wire::MEMBERSHIP_MISMATCH);
          return out;
        }
        if (req.has_hello()) {
          // The dialer checks the answer too; refusing here puts the
          // mistake in this node's log as well, naming both sides.
          auto& expected = req.hello().expected_id();
          if (req.from_id() == st.ctx->node_id ||
              (!expected.empty() && expected != st.ctx->node_id)) {
            out.pb.set_refused(wire::WRONG_NODE_ID);
            if (req.from_id() == st.ctx->node_id)
              GDL_ERROR("a peer says it is node " << shown_peer_id(req.from_id())
                                                  << ", this node's own id: two nodes with one id;"
                                                     " not voting with it");
            else
              GDL_ERROR("peer " << shown_peer_id(req.from_id()) << " dialed this node as "
                                << shown_peer_id(expected) << ", but this node is '"
                                << st.ctx->node_id
                                << "': check --peers on both; not voting with it");
          } else if (st.ctx->cluster) {
            // A peer that says hello may have just come back: dial every
            // missing peer now rather than after its back-off.
            self->send(st.ctx->cluster, atoms::reconnect::value, uint32_t{0});
          }
          return out;
        }
        bool foreign = !req.from_id().empty() && req.from_id() != st.ctx->node_id;
        if (foreign && req.has_rejoin())
          return serve_rejoin(self, req);
        if (!foreign || !core::check_name(req.lock()).empty() ||
            (!req.has_prepare() && !req.has_accept())) {
          out.pb.set_refused(wire::NOT_READY);
          return out;
        }
        if (st.rejoin) {
          out.pb.set_refused(wire::CATCHING_UP);
          return out;
        }
        auto& live = live_actor(self, req.lock());
        ++live.forwarded;
        return self->delegate(live.handle, std::move(msg));
      },
      [=](atoms::retire, std::string& name, std::string& record, int64_t epoch_seen_ns,
          uint64_t handled) -> bool {
        auto& st = self->state;
        if (!sender_is_local(self))
          return false;
        auto it = st.live.find(name);
        if (it == st.live.end() || it->second.forwarded != handled || st.draining)
          return false;
        st.live.erase(it);
        st.table.put_encoded(name, record, epoch_seen_ns);
        return true;
      },
      [=](atoms::rejoin, uint32_t peer, messages::wire_peer_response& answer) {
        if (sender_is_local(self))
          on_rejoin_answer(self, peer, answer.pb);
      },
      [=](atoms::rejoin_tick) { on_rejoin_tick(self); },
      [=](atoms::drain) -> caf::result<atoms::done> {
        auto& st = self->state;
        // Checked before making the promise: the promise takes over the sender.
        if (!sender_is_local(self))
          return caf::make_error(caf::sec::unexpected_message);
        auto rp = self->make_response_promise<atoms::done>();
        st.draining = true;
        if (st.live.empty()) {
          rp.deliver(atoms::done::value);
          return rp;
        }
        auto remaining = std::make_shared<size_t>(st.live.size());
        for (auto& [name, live] : st.live) {
          self->request(live.handle, std::chrono::seconds(10), atoms::drain::value)
              .then(
                  [=](atoms::done) mutable {
                    if (--*remaining == 0)
                      rp.deliver(atoms::done::value);
                  },
                  [=](caf::error&) mutable {
                    if (--*remaining == 0)
                      rp.deliver(atoms::done::value);
                  });
        }
        return rp;
      },
  };
}

} // namespace godistlock::actors
