// The lock actor's behaviour: which message goes to which part
// (actors/lock_parts.hpp).
#include "actors/lock_actor.hpp"

#include "actors/lock_parts.hpp"
#include "actors/responses.hpp"
#include "messages/codec.hpp"

#include <algorithm>
#include <map>
#include <random>

namespace godistlock::actors {

using namespace lock;

uint64_t park_window_ms(uint64_t ttl_ms) {
  return std::clamp<uint64_t>(ttl_ms / 4, 20, 1000);
}

lock_actor::behavior_type lock_actor_impl(lock_actor::stateful_pointer<lock_state> self,
                                          std::shared_ptr<const NodeContext> ctx, node_actor node,
                                          std::string name, core::AcceptorRecord record,
                                          core::Instant epoch_seen) {
  auto& st = self->state;
  st.ctx = std::move(ctx);
  st.node = std::move(node);
  st.name = std::move(name);
  core::BallotSource ballots(st.ctx->node_index, st.ctx->boot_nonce);
  ballots.observe(record.promised);
  ballots.observe(record.accepted);
  st.upkeep.counted_held = record.value.holder.has_value();
  st.upkeep.counted_waiters =
      static_cast<int64_t>(record.value.queue.size() + (record.value.reserved ? 1 : 0));
  st.acceptor = core::Acceptor(std::move(record), epoch_seen);
  core::ProposerSetup setup;
  setup.quorum = st.ctx->quorum;
  setup.alone = st.ctx->membership.peers.empty();
  setup.round_timeout = st.ctx->round_timeout;
  setup.hold_accepts = st.ctx->test_hold_accepts;
  setup.mutation = st.ctx->mutation;
  // One random_device read per thread, not per lock actor spawned.
  thread_local std::mt19937_64 seeds{std::random_device{}()};
  setup.seed = seeds();
  auto ctx_for_voter = st.ctx;
  st.rounds.proposer = std::make_unique<core::Proposer>(
      setup, ballots, st.acceptor, *st.ctx->incarnations, [ctx_for_voter] {
        return core::Voter{ctx_for_voter->node_id, ctx_for_voter->incarnation->load()};
      });
  // A waiter whose client is gone (process died, connection lost, or it
  // gave up on this attempt) must not be handed the lock: drop its parked
  // attempt. When its connection is gone the client cannot cancel, so this
  // node does it for that attempt (a live client's later attempt through
  // another node queues again). When only the attempt ended, the client is
  // retrying: its entry stays, so the retry keeps its place.
  self->set_down_handler([self](caf::down_msg& dm) {
    auto& parked = self->state.waiting.parked;
    auto gone = std::stable_partition(parked.begin(), parked.end(), [&](const ParkedAcquire& p) {
      return p.requester != dm.source;
    });
    std::vector<wire::Request> left;
    for (auto it = gone; it != parked.end(); ++it)
      left.push_back(std::move(it->request));
    parked.erase(gone, parked.end());
    if (dm.reason == caf::exit_reason::remote_link_unreachable)
      for (auto& req : left)
        cancel_for_lost_client(self, req);
    maybe_rest_later(self);
  });
  maybe_rest_later(self);
  return {
      [=](messages::wire_request& msg) -> caf::result<wire_response> {
        auto& st = self->state;
        ++st.upkeep.handled;
        ++st.upkeep.activity;
        auto& req = msg.pb;
        if (st.upkeep.draining)
          return error_response(wire::SHUTTING_DOWN, "node is shutting down", req.request_id());
        if (req.op_case() == wire::Request::OP_NOT_SET || req.has_stats())
          return error_response(wire::INVALID_ARGUMENT, "unknown operation", req.request_id());
        auto sender = self->current_sender(); // the promise takes it over
        promise_t rp{self->make_response_promise<wire_response>(), st.ctx->metrics, req};
        if (req.has_acquire())
          handle_acquire(self, std::move(req), rp, sender);
        else if (req.has_release())
          handle_release(self, req, rp);
        else if (req.has_refresh())
          handle_refresh(self, req, rp);
        else if (req.has_status() || req.has_check())
          handle_observe(self, req, rp);
        else
          handle_cancel(self, req, rp);
        return rp.caf_promise();
      },
      [=](atoms::handoff, uint64_t epoch) {
        auto& st = self->state;
        ++st.upkeep.activity;
        if (epoch + 1 != st.waiting.handoff_armed_for)
          return; // a newer timer is armed
        st.waiting.handoff_armed_for = 0;
        propose(
            self, [](core::LockState& s, core::WitnessAge age) { return core::handoff(s, age); },
            [=](const Applied& applied) {
              if (applied.decided && applied.result.expired_holder)
                ++self->state.ctx->counters->expiries;
            });
      },
      [=](atoms::park_end, uint64_t id) {
        ++self->state.upkeep.activity;
        handle_park_end(self, id);
        settle_after(self);
      },
      [=](messages::wire_peer_request& msg) -> caf::result<messages::wire_peer_response> {
        auto& st = self->state;
        ++st.upkeep.handled;
        ++st.upkeep.activity;
        return serve_peer(self, msg.pb);
      },
      [=](atoms::peer_reply, uint64_t round_id, uint32_t peer, messages::wire_peer_response& r) {
        auto& st = self->state;
        if (!st.rounds.proposer->in_round(round_id))
          return;
        if (r.pb.refused() != wire::NOT_REFUSED) {
          st.rounds.proposer->on_unready(round_id, peer);
          return;
        }
        // Before the vote counts: a promise given after a node's rejoin was
        // recorded there tells us the node's new incarnation, and our own
        // acceptor then refuses a round that counted the old one.
        if (r.pb.known_size() > 0) {
          std::map<std::string, uint64_t> known;
          for (auto& v : r.pb.known())
            known[v.node_id()] = v.incarnation();
          st.ctx->incarnations->learn(known);
        }
        // Dispatch on what the answer says it answers, never on our phase: a
        // promise arriving late, during the accept phase, is not an accept.
        auto now = core::Clock::now();
        if (r.pb.phase() == wire::PHASE_PREPARE) {
          carry_out(self, st.rounds.proposer->on_promise(round_id, peer, promise_from(r.pb), now));
        } else if (r.pb.phase() == wire::PHASE_ACCEPT) {
          core::Accepted a;
          a.ok = r.pb.ok();
          a.conflict = messages::from_proto(r.pb.conflict());
          a.voter = core::Voter{r.pb.from_id(), r.pb.incarnation()};
          carry_out(self, st.rounds.proposer->on_accepted(round_id, peer, a, now));
        }
      },
      [=](atoms::round_timeout, uint64_t round_id) {
        carry_out(self, self->state.rounds.proposer->on_timer(core::ProposerTimer::round_timeout,
                                                              round_id, core::Clock::now()));
      },
      [=](atoms::hold_over, uint64_t round_id) {
        carry_out(self, self->state.rounds.proposer->on_timer(core::ProposerTimer::hold_over,
                                                              round_id, core::Clock::now()));
      },
      [=](atoms::retry, uint64_t round_id) {
        carry_out(self, self->state.rounds.proposer->on_timer(core::ProposerTimer::retry, round_id,
                                                              core::Clock::now()));
      },
      [=](atoms::idle, uint64_t generation) {
        auto& st = self->state;
        if (generation != st.upkeep.activity || !quiescent(self) || st.upkeep.draining)
          return;
        auto record = messages::encode_resting(st.acceptor.record());
        auto seen = st.acceptor.epoch_seen().time_since_epoch().count();
        self->request(st.node, caf::infinite, atoms::retire::value, st.name, std::move(record),
                      static_cast<int64_t>(seen), st.upkeep.handled)
            .await([=](bool accepted) {
              // await: no timer or request may change the state we handed over
              // while the node decides.
              if (accepted)
                self->quit();
            });
      },
      [=](atoms::drain) -> caf::result<atoms::done> {
        auto& st = self->state;
        st.upkeep.draining = true;
        for (auto& p : st.waiting.parked)
          p.promise.deliver(
              error_response(wire::SHUTTING_DOWN, "node is shutting down", p.request.request_id()));
        st.waiting.parked.clear();
        auto rp = self->make_response_promise<atoms::done>();
        reply_when_durable(self, [rp]() mutable { rp.deliver(atoms::done::value); });
        return rp;
      },
      [=](atoms::rejoin, uint64_t floor) -> caf::result<bool> {
        auto& st = self->state;
        ++st.upkeep.handled;
        ++st.upkeep.activity;
        st.rounds.proposer->observe(core::Ballot{floor, 0, 0});
        auto rp = self->make_response_promise<bool>();
        propose(
            self, [](core::LockState& s, core::WitnessAge age) { return core::unchanged(s, age); },
            [=](const Applied& applied) mutable {
              if (!applied.decided) {
                rp.deliver(false);
                return;
              }
              persist(self, true, [rp]() mutable { rp.deliver(true); });
            },
            nullptr, true);
        return rp;
      },
  };
}

} // namespace godistlock::actors
