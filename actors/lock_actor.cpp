#include "actors/lock_actor.hpp"

#include "actors/responses.hpp"
#include "core/change.hpp"
#include "core/round.hpp"
#include "messages/codec.hpp"

#include <algorithm>

namespace godistlock::actors {

namespace {

using self_ptr = lock_actor::stateful_pointer<lock_state>;
using messages::wire_response;
using promise_t = caf::typed_response_promise<wire_response>;
using std::chrono::milliseconds;

struct Applied {
  core::Result result;
  bool wrote = false;
};

core::LeaseOrigin origin_of(const wire::Request& req) {
  return core::LeaseOrigin{req.client_id(), req.request_id(), req.attempt()};
}

core::AcquireArgs acquire_args(const wire::Request& req) {
  auto& a = req.acquire();
  return core::AcquireArgs{a.owner(), origin_of(req), a.ttl_ms(), a.wait_ms() > 0};
}

// One Paxos round on this lock. With a single node the only acceptor is our
// own, so the round completes in memory; the caller persists the record
// before any reply leaves (see reply_when_durable). A prepare that changes
// nothing else is not persisted: no other proposer exists that it could
// fence off, and the next accept persists a higher promise anyway.
Applied apply(self_ptr self, const core::Change& change) {
  auto& st = self->state;
  auto me = st.ctx->node_index;
  for (;;) {
    auto ballot = st.ballots.next();
    core::Round round(ballot, 1, change);
    auto now = core::Clock::now();
    if (round.on_promise(me, st.acceptor.prepare(ballot, now)) == core::Round::Phase::failed) {
      st.ballots.observe(round.conflict());
      continue;
    }
    if (round.phase() == core::Round::Phase::decided)
      return {round.result(), false};
    auto accepted = st.acceptor.accept(ballot, round.proposal(), round.next_promise(), now);
    if (round.on_accepted(me, accepted) == core::Round::Phase::failed) {
      st.ballots.observe(round.conflict());
      continue;
    }
    // The accept promised next_promise(); the next round starts above it.
    st.ballots.observe(round.next_promise());
    return {round.result(), true};
  }
}

void maybe_rest_later(self_ptr self);

// Replies leave only after everything they may depend on is on disk: our
// own write if there was one, and any earlier write still in flight (a read
// must not report a state that a crash could still lose).
void reply_when_durable(self_ptr self, bool wrote, std::function<void()> reply) {
  auto& st = self->state;
  if (!wrote && st.writes_in_flight == 0) {
    reply();
    return;
  }
  std::vector<std::string> keys;
  std::vector<std::string> values;
  if (wrote) {
    keys.push_back(st.name);
    values.push_back(messages::encode_record(st.acceptor.record()));
  }
  ++st.writes_in_flight;
  self->request(st.ctx->storage, caf::infinite, atoms::persist::value, std::move(keys),
                std::move(values))
      .then(
          [=](atoms::done) {
            --self->state.writes_in_flight;
            reply();
            maybe_rest_later(self);
          },
          [=](caf::error&) {
            // The storage actor is gone, so the node is stopping: the reply is
            // withheld, because nothing says the write is durable.
            --self->state.writes_in_flight;
          });
}

const core::LockState& value(self_ptr self) {
  return self->state.acceptor.record().value;
}

void count(self_ptr self, const Applied& applied, uint64_t fence_before) {
  auto& c = *self->state.ctx->counters;
  if (value(self).fence > fence_before)
    ++c.grants;
  if (applied.result.expired_holder)
    ++c.expiries;
}

uint64_t queue_position(const core::LockState& s, const std::string& owner) {
  if (s.reserved && s.reserved->owner == owner)
    return 1;
  for (size_t i = 0; i < s.queue.size(); ++i)
    if (s.queue[i].owner == owner)
      return i + 1 + (s.reserved ? 1 : 0);
  return 0;
}

bool quiescent(self_ptr self) {
  auto& st = self->state;
  auto& v = value(self);
  return st.parked.empty() && v.queue.empty() && !v.reserved && st.writes_in_flight == 0;
}

void deliver_grant(self_ptr self, const Applied& applied, promise_t rp, uint64_t request_id) {
  auto res = applied.result;
  reply_when_durable(self, applied.wrote, [rp, res, request_id]() mutable {
    rp.deliver(grant_response(res, request_id));
  });
}

void settle_after(self_ptr self);

// Grants the lock to the head waiter if it is offered to it and its acquire
// is parked here (otherwise its next attempt claims it).
void serve_reservation(self_ptr self) {
  auto& st = self->state;
  for (;;) {
    auto& v = value(self);
    if (!v.reserved)
      return;
    auto it = std::find_if(st.parked.begin(), st.parked.end(), [&](const ParkedAcquire& p) {
      return p.request.acquire().owner() == v.reserved->owner;
    });
    if (it == st.parked.end())
      return;
    auto parked = std::move(*it);
    st.parked.erase(it);
    auto args = acquire_args(parked.request);
    auto fence_before = v.fence;
    auto applied = apply(self, [args](core::LockState& s, core::WitnessAge age) {
      return core::acquire(s, age, args);
    });
    count(self, applied, fence_before);
    auto req_id = parked.request.request_id();
    if (applied.result.outcome == core::Outcome::granted) {
      deliver_grant(self, applied, parked.promise, req_id);
    } else {
      auto rp = parked.promise;
      reply_when_durable(self, applied.wrote, [rp, req_id]() mutable {
        rp.deliver(error_response(wire::QUEUED, "still queued", req_id));
      });
    }
  }
}

void arm_handoff(self_ptr self) {
  auto& st = self->state;
  auto& v = value(self);
  auto due = core::handoff_due_ms(v);
  if (!due || st.handoff_armed_for == v.epoch.number + 1)
    return;
  auto age = st.acceptor.age_ms(core::Clock::now());
  auto delay = *due > age ? *due - age : 0;
  st.handoff_armed_for = v.epoch.number + 1; // +1 so that epoch 0 can be armed too
  // +1 ms: the timer must not fire before the witness age reaches `due`.
  self->delayed_send(self, milliseconds(delay + 1), atoms::handoff::value, v.epoch.number);
}

void update_gauges(self_ptr self) {
  auto& st = self->state;
  auto& v = value(self);
  auto& c = *st.ctx->counters;
  bool held = v.holder.has_value();
  if (held != st.counted_held) {
    c.held_locks += held ? 1 : -1;
    st.counted_held = held;
  }
  auto waiters = static_cast<int64_t>(v.queue.size() + (v.reserved ? 1 : 0));
  if (waiters != st.counted_waiters) {
    c.waiters += waiters - st.counted_waiters;
    st.counted_waiters = waiters;
  }
}

void maybe_rest_later(self_ptr self) {
  if (quiescent(self))
    self->delayed_send(self, self->state.ctx->idle_retire, atoms::idle::value,
                       self->state.activity);
}

// Runs after every change: hand over to a parked head waiter, keep the
// handoff timer armed, publish gauges, and consider resting.
void settle_after(self_ptr self) {
  serve_reservation(self);
  arm_handoff(self);
  update_gauges(self);
  maybe_rest_later(self);
}

void park(self_ptr self, wire::Request req, promise_t rp, const caf::strong_actor_ptr& sender) {
  auto& st = self->state;
  auto& a = req.acquire();
  auto window = park_window_ms(a.ttl_ms());
  bool final_window = a.wait_ms() <= window;
  auto wait_here = std::min<uint64_t>(a.wait_ms(), window);
  // A newer attempt of the same waiter supersedes the parked one.
  auto it = std::find_if(st.parked.begin(), st.parked.end(), [&](const ParkedAcquire& p) {
    return p.request.acquire().owner() == a.owner();
  });
  if (it != st.parked.end()) {
    auto old = std::move(*it);
    st.parked.erase(it);
    old.promise.deliver(
        error_response(wire::QUEUED, "superseded by a newer attempt", old.request.request_id()));
  }
  auto id = ++st.next_park_id;
  caf::actor_addr requester;
  if (sender) {
    requester = caf::actor_cast<caf::actor_addr>(sender);
    self->monitor(sender);
  }
  st.parked.push_back(ParkedAcquire{id, std::move(req), rp, requester, final_window});
  self->delayed_send(self, milliseconds(wait_here), atoms::park_end::value, id);
}

void handle_acquire(self_ptr self, wire::Request req, promise_t rp,
                    const caf::strong_actor_ptr& sender) {
  auto args = acquire_args(req);
  auto fence_before = value(self).fence;
  auto applied = apply(self, [args](core::LockState& s, core::WitnessAge age) {
    return core::acquire(s, age, args);
  });
  count(self, applied, fence_before);
  auto req_id = req.request_id();
  switch (applied.result.outcome) {
  case core::Outcome::granted:
    deliver_grant(self, applied, rp, req_id);
    break;
  case core::Outcome::queued:
    if (req.acquire().wait_ms() > 0) {
      // The queue entry must be durable before the waiter can be served;
      // the grant itself is persisted (after this write) when it happens.
      if (applied.wrote)
        reply_when_durable(self, true, [] {});
      park(self, std::move(req), rp, sender);
      break;
    }
    [[fallthrough]];
  default: {
    auto msg = applied.result.outcome == core::Outcome::queue_full
                   ? "not acquired: the wait queue is full"
                   : "not acquired: the lock is held";
    reply_when_durable(self, applied.wrote, [rp, msg, req_id]() mutable {
      rp.deliver(error_response(wire::NOT_ACQUIRED, msg, req_id));
    });
  }
  }
}

void handle_release(self_ptr self, const wire::Request& req, promise_t rp) {
  auto token = req.release().token();
  auto applied = apply(self, [token](core::LockState& s, core::WitnessAge age) {
    return core::release(s, age, token);
  });
  if (applied.result.expired_holder)
    ++self->state.ctx->counters->expiries;
  bool ok = applied.result.outcome == core::Outcome::released;
  if (ok && applied.wrote)
    ++self->state.ctx->counters->releases;
  auto req_id = req.request_id();
  reply_when_durable(self, applied.wrote, [rp, ok, req_id]() mutable {
    if (ok) {
      messages::wire_response r;
      r.pb.set_code(wire::OK);
      r.pb.set_request_id(req_id);
      rp.deliver(r);
    } else {
      rp.deliver(error_response(wire::NOT_HOLDER, "token is not the current grant", req_id));
    }
  });
}

void handle_refresh(self_ptr self, const wire::Request& req, promise_t rp) {
  auto token = req.refresh().token();
  auto ttl = req.refresh().ttl_ms();
  auto origin = origin_of(req);
  auto applied = apply(self, [=](core::LockState& s, core::WitnessAge age) {
    return core::refresh(s, age, token, origin, ttl);
  });
  if (applied.result.expired_holder)
    ++self->state.ctx->counters->expiries;
  auto req_id = req.request_id();
  if (applied.result.outcome == core::Outcome::refreshed) {
    deliver_grant(self, applied, rp, req_id);
    return;
  }
  reply_when_durable(self, applied.wrote, [rp, req_id]() mutable {
    rp.deliver(error_response(wire::NOT_HOLDER, "token is not the current grant", req_id));
  });
}

void handle_observe(self_ptr self, const wire::Request& req, promise_t rp) {
  auto applied =
      apply(self, [](core::LockState& s, core::WitnessAge age) { return core::observe(s, age); });
  if (applied.result.expired_holder)
    ++self->state.ctx->counters->expiries;
  messages::wire_response r;
  r.pb.set_code(wire::OK);
  r.pb.set_request_id(req.request_id());
  auto& res = applied.result;
  if (req.has_check()) {
    r.pb.set_current(res.observed_holder && res.observed_holder->token == req.check().token());
  } else {
    auto& st = *r.pb.mutable_status();
    st.set_fence(res.fence);
    st.set_waiters(res.waiters);
    if (res.observed_holder) {
      st.set_held(true);
      st.set_owner(res.observed_holder->owner);
      st.set_token(res.observed_holder->token);
      st.set_remaining_ms(res.remaining_ms);
    }
  }
  reply_when_durable(self, applied.wrote, [rp, r]() mutable { rp.deliver(r); });
}

void handle_cancel(self_ptr self, const wire::Request& req, promise_t rp) {
  auto owner = req.cancel().owner();
  auto applied = apply(self, [owner](core::LockState& s, core::WitnessAge age) {
    return core::cancel(s, age, owner);
  });
  if (applied.result.expired_holder)
    ++self->state.ctx->counters->expiries;
  auto req_id = req.request_id();
  reply_when_durable(self, applied.wrote, [rp, req_id]() mutable {
    messages::wire_response r;
    r.pb.set_code(wire::OK);
    r.pb.set_request_id(req_id);
    rp.deliver(r);
  });
}

void handle_park_end(self_ptr self, uint64_t id) {
  auto& st = self->state;
  auto it = std::find_if(st.parked.begin(), st.parked.end(),
                         [id](const ParkedAcquire& p) { return p.id == id; });
  if (it == st.parked.end())
    return; // already served
  auto parked = std::move(*it);
  st.parked.erase(it);
  auto rp = parked.promise;
  auto req_id = parked.request.request_id();
  auto owner = parked.request.acquire().owner();
  if (!parked.final_window) {
    auto pos = queue_position(value(self), owner);
    reply_when_durable(self, false, [rp, req_id, pos]() mutable {
      auto r = error_response(wire::QUEUED, "still queued", req_id);
      r.pb.set_position(pos);
      rp.deliver(r);
    });
    return;
  }
  // The wait is over: leave the queue before saying so.
  auto applied = apply(self, [owner](core::LockState& s, core::WitnessAge age) {
    return core::cancel(s, age, owner);
  });
  if (applied.result.expired_holder)
    ++st.ctx->counters->expiries;
  reply_when_durable(self, applied.wrote, [rp, req_id]() mutable {
    rp.deliver(error_response(wire::NOT_ACQUIRED, "not acquired within the wait time", req_id));
  });
}

} // namespace

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
  st.ballots = core::BallotSource(st.ctx->node_index, st.ctx->boot_nonce);
  st.ballots.observe(record.promised);
  st.ballots.observe(record.accepted);
  st.counted_held = record.value.holder.has_value();
  st.counted_waiters =
      static_cast<int64_t>(record.value.queue.size() + (record.value.reserved ? 1 : 0));
  st.acceptor = core::Acceptor(std::move(record), epoch_seen);
  // A waiter whose client is gone (process died, connection lost, or it
  // gave up on this attempt) must not be handed the lock: drop its parked
  // attempt. Its queue entry stays, so a retry keeps its place; if nobody
  // claims it, the reservation lapses after core::reserve_ms.
  self->set_down_handler([self](caf::down_msg& dm) {
    auto& parked = self->state.parked;
    parked.erase(std::remove_if(parked.begin(), parked.end(),
                                [&](const ParkedAcquire& p) { return p.requester == dm.source; }),
                 parked.end());
    maybe_rest_later(self);
  });
  arm_handoff(self);
  maybe_rest_later(self);
  return {
      [=](messages::wire_request& msg) -> caf::result<wire_response> {
        auto& st = self->state;
        ++st.handled;
        ++st.activity;
        auto& req = msg.pb;
        if (st.draining)
          return error_response(wire::SHUTTING_DOWN, "node is shutting down", req.request_id());
        if (req.op_case() == wire::Request::OP_NOT_SET || req.has_stats())
          return error_response(wire::INVALID_ARGUMENT, "unknown operation", req.request_id());
        auto sender = self->current_sender(); // the promise takes it over
        auto rp = self->make_response_promise<wire_response>();
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
        settle_after(self);
        return rp;
      },
      [=](atoms::handoff, uint64_t epoch) {
        auto& st = self->state;
        ++st.activity;
        if (epoch + 1 != st.handoff_armed_for)
          return; // a newer timer is armed
        st.handoff_armed_for = 0;
        auto applied = apply(
            self, [](core::LockState& s, core::WitnessAge age) { return core::handoff(s, age); });
        if (applied.result.expired_holder)
          ++st.ctx->counters->expiries;
        if (applied.wrote)
          reply_when_durable(self, true, [] {});
        settle_after(self);
      },
      [=](atoms::park_end, uint64_t id) {
        ++self->state.activity;
        handle_park_end(self, id);
        settle_after(self);
      },
      [=](atoms::idle, uint64_t generation) {
        auto& st = self->state;
        if (generation != st.activity || !quiescent(self) || st.draining)
          return;
        auto record = messages::encode_resting(st.acceptor.record());
        auto seen = st.acceptor.epoch_seen().time_since_epoch().count();
        self->request(st.node, caf::infinite, atoms::retire::value, st.name, std::move(record),
                      static_cast<int64_t>(seen), st.handled)
            .await([=](bool accepted) {
              // await: no timer or request may change the state we handed over
              // while the node decides.
              if (accepted)
                self->quit();
            });
      },
      [=](atoms::drain) -> caf::result<atoms::done> {
        auto& st = self->state;
        st.draining = true;
        for (auto& p : st.parked)
          p.promise.deliver(
              error_response(wire::SHUTTING_DOWN, "node is shutting down", p.request.request_id()));
        st.parked.clear();
        auto rp = self->make_response_promise<atoms::done>();
        reply_when_durable(self, false, [rp]() mutable { rp.deliver(atoms::done::value); });
        return rp;
      },
  };
}

} // namespace godistlock::actors
