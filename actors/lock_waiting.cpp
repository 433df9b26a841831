// Waiting at the lock actor: parked acquires, their windows, the handoff to
// the head waiter the lock is reserved for, and resting when idle.
#include "actors/lock_parts.hpp"
#include "actors/responses.hpp"

#include <algorithm>

namespace godistlock::actors::lock {

namespace {

// Grants the lock to the head waiter if it is offered to it and its acquire
// is parked here (otherwise its next attempt claims it).
void serve_reservation(self_ptr self) {
  auto& st = self->state;
  auto& v = value(self);
  if (!v.reserved)
    return;
  auto it =
      std::find_if(st.waiting.parked.begin(), st.waiting.parked.end(), [&](const ParkedAcquire& p) {
        return p.request.acquire().owner() == v.reserved->owner;
      });
  if (it == st.waiting.parked.end() || it->claiming)
    return;
  it->claiming = true;
  auto id = it->id;
  auto args = acquire_args(it->request);
  propose(
      self,
      [args](core::LockState& s, core::WitnessAge age) { return core::acquire(s, age, args); },
      [=](const Applied& applied) {
        auto& st = self->state;
        count(self, applied);
        auto p = std::find_if(st.waiting.parked.begin(), st.waiting.parked.end(),
                              [id](const ParkedAcquire& x) { return x.id == id; });
        if (p == st.waiting.parked.end())
          return; // answered meanwhile (window ended, requester gone, drain)
        if (!applied.decided || applied.result.outcome != core::Outcome::granted) {
          p->claiming = false; // stays parked; the next change may serve it
          if (p->window_over)
            end_park_window(self, p);
          return;
        }
        auto parked = std::move(*p);
        st.waiting.parked.erase(p);
        deliver_grant(self, applied, parked.promise, parked.request.request_id());
      });
}

void arm_handoff(self_ptr self) {
  auto& st = self->state;
  auto& v = value(self);
  auto due = core::handoff_due_ms(v);
  // Only a node with a waiter parked here drives the handoff: it is the one
  // that can hand the lock over at once.
  if (!due || st.waiting.parked.empty() || st.waiting.handoff_armed_for == v.epoch.number + 1)
    return;
  auto age = st.acceptor.age_ms(core::Clock::now());
  auto delay = *due > age ? *due - age : 0;
  st.waiting.handoff_armed_for = v.epoch.number + 1; // +1 so that epoch 0 can be armed too
  // +1 ms: the timer must not fire before the witness age reaches `due`.
  self->delayed_send(self, milliseconds(delay + 1), atoms::handoff::value, v.epoch.number);
}

void update_gauges(self_ptr self) {
  auto& st = self->state;
  auto& v = value(self);
  auto& c = *st.ctx->counters;
  bool held = v.holder.has_value();
  if (held != st.upkeep.counted_held) {
    c.held_locks += held ? 1 : -1;
    st.upkeep.counted_held = held;
  }
  auto waiters = static_cast<int64_t>(v.queue.size() + (v.reserved ? 1 : 0));
  if (waiters != st.upkeep.counted_waiters) {
    c.waiters += waiters - st.upkeep.counted_waiters;
    st.upkeep.counted_waiters = waiters;
  }
  st.ctx->metrics->holder_seen(st.name, v.holder ? v.holder->token : 0);
}

} // namespace

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
  return st.waiting.parked.empty() && v.queue.empty() && !v.reserved &&
         st.upkeep.writes_in_flight == 0 && st.rounds.proposer->idle();
}

void maybe_rest_later(self_ptr self) {
  if (quiescent(self))
    self->delayed_send(self, self->state.ctx->idle_retire, atoms::idle::value,
                       self->state.upkeep.activity);
}

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
  auto it =
      std::find_if(st.waiting.parked.begin(), st.waiting.parked.end(), [&](const ParkedAcquire& p) {
        return p.request.acquire().owner() == a.owner();
      });
  if (it != st.waiting.parked.end()) {
    auto old = std::move(*it);
    st.waiting.parked.erase(it);
    old.promise.deliver(
        error_response(wire::QUEUED, "superseded by a newer attempt", old.request.request_id()));
  }
  auto id = ++st.waiting.next_park_id;
  caf::actor_addr requester;
  if (sender) {
    requester = caf::actor_cast<caf::actor_addr>(sender);
    self->monitor(sender);
  }
  st.waiting.parked.push_back(
      ParkedAcquire{id, std::move(req), rp, requester, final_window, false});
  self->delayed_send(self, milliseconds(wait_here), atoms::park_end::value, id);
}

void handle_park_end(self_ptr self, uint64_t id) {
  auto& st = self->state;
  auto it = std::find_if(st.waiting.parked.begin(), st.waiting.parked.end(),
                         [id](const ParkedAcquire& p) { return p.id == id; });
  if (it == st.waiting.parked.end())
    return; // already served
  if (it->claiming) {
    // Its claim may be granting it the lock right now: answering "queued"
    // or "not acquired" would leave it holding a lock it does not know of.
    it->window_over = true;
    return;
  }
  end_park_window(self, it);
}

// Answers a parked waiter whose window is over: "still queued", or at the
// end of its wait, "not acquired" once it has left the queue.
void end_park_window(self_ptr self, std::deque<ParkedAcquire>::iterator it) {
  auto& st = self->state;
  auto parked = std::move(*it);
  st.waiting.parked.erase(it);
  auto rp = parked.promise;
  auto req_id = parked.request.request_id();
  auto owner = parked.request.acquire().owner();
  if (!parked.final_window) {
    auto pos = queue_position(value(self), owner);
    reply_when_durable(self, [rp, req_id, pos]() mutable {
      auto r = error_response(wire::QUEUED, "still queued", req_id);
      r.pb.set_position(pos);
      rp.deliver(r);
    });
    return;
  }
  // The wait is over: leave the queue before saying so, so that no attempt
  // of it up to this one queues again. If that cannot be decided now, the
  // entry ends with the wait (core::waiter_margin_ms after it).
  auto attempt = origin_of(parked.request);
  propose(
      self,
      [owner, attempt](core::LockState& s, core::WitnessAge age) {
        return core::cancel(s, age, owner, attempt);
      },
      [=](const Applied&) mutable {
        reply_when_durable(self, [rp, req_id]() mutable {
          rp.deliver(
              error_response(wire::NOT_ACQUIRED, "not acquired within the wait time", req_id));
        });
      });
}

// The connection of a parked waiter's client is gone: leave the queue for
// it, and make that attempt (and earlier ones) unable to queue again.
void cancel_for_lost_client(self_ptr self, const wire::Request& req) {
  auto owner = req.acquire().owner();
  auto attempt = origin_of(req);
  propose(
      self,
      [owner, attempt](core::LockState& s, core::WitnessAge age) {
        return core::cancel(s, age, owner, attempt);
      },
      [](const Applied&) {});
}

} // namespace godistlock::actors::lock
