#include "core/change.hpp"

#include "core/limits.hpp"

#include <algorithm>

namespace godistlock::core {

namespace {

// Tracks the single epoch bump a change may make: once the epoch moved, the
// witnessed age belongs to the old epoch and the new one is zero ms old.
struct Transition {
  LockState& s;
  WitnessAge age;
  uint64_t start_epoch;
  explicit Transition(LockState& state, WitnessAge a)
      : s(state), age(a), start_epoch(state.epoch.number) {}
  void bump() {
    if (s.epoch.number == start_epoch) {
      ++s.epoch.number;
      s.epoch.origin = Ballot{}; // stamped by the round that proposes it
    }
    age = 0;
  }
  bool lapsed(uint64_t limit_ms) const { return age && *age >= limit_ms; }
};

// Applies what time and order dictate before any request is considered:
// a lapsed lease ends, a lapsed reservation passes on, and a free lock with
// waiters is offered to the head of the queue (no barging past waiters).
void settle(Transition& t, Result& r) {
  auto& s = t.s;
  if (s.holder && t.lapsed(s.holder->lease_ms)) {
    s.holder.reset();
    r.expired_holder = true;
    t.bump();
  }
  if (s.reserved && t.lapsed(reserve_ms)) {
    s.reserved.reset();
    t.bump();
  }
  if (!s.holder && !s.reserved && !s.queue.empty()) {
    s.reserved = s.queue.front();
    s.queue.pop_front();
    t.bump();
  }
}

void fill_view(const LockState& s, const Transition& t, Result& r) {
  r.fence = s.fence;
  r.waiters = s.queue.size() + (s.reserved ? 1 : 0);
  if (s.holder) {
    r.observed_holder = s.holder;
    uint64_t used = t.age.value_or(0);
    r.remaining_ms = used >= s.holder->lease_ms ? 0 : s.holder->lease_ms - used;
  }
}

Result granted(const Holder& h) {
  Result r;
  r.outcome = Outcome::granted;
  r.token = h.token;
  r.lease_ms = h.lease_ms;
  r.origin = h.origin;
  return r;
}

// True when `o` is an attempt this grant already applied, or an older
// attempt of a client whose newer one restarted the lease: a delayed or
// replayed send that must change nothing.
bool seen_or_older(const Holder& h, const LeaseOrigin& o) {
  if (o == h.origin || o.sent_before(h.origin))
    return true;
  for (auto& e : h.earlier)
    if (o == e || o.sent_before(e))
      return true;
  return false;
}

// Only the current origin itself is a plain retry; the rest are stale.
bool is_stale(const Holder& h, const LeaseOrigin& o) {
  return !(o == h.origin) && seen_or_older(h, o);
}

// Restarts the holder's lease from attempt `o`: at least `ttl`, and never
// ending earlier than the current lease may end, because whoever restarted
// it last may trust it that long (docs/protocol.md §4, "Lease restarts").
// Without a witness the whole current lease may still be ahead.
void restart_lease(Transition& t, Holder& h, const LeaseOrigin& o, uint64_t ttl, bool test_stale) {
  if (test_stale) { // mutation stale-lease-restart: the attempt's ttl, whatever was trusted
    h.lease_ms = ttl;
    h.origin = o;
    t.bump();
    return;
  }
  uint64_t left = h.lease_ms;
  if (t.age)
    left = *t.age >= h.lease_ms ? 0 : h.lease_ms - *t.age;
  auto same_client = [](const std::string& c) {
    return [&c](const LeaseOrigin& e) { return e.client == c; };
  };
  auto& earlier = h.earlier;
  earlier.erase(std::remove_if(earlier.begin(), earlier.end(), same_client(o.client)),
                earlier.end());
  if (h.origin.client != o.client) {
    earlier.erase(std::remove_if(earlier.begin(), earlier.end(), same_client(h.origin.client)),
                  earlier.end());
    earlier.push_back(h.origin);
    if (earlier.size() > max_earlier_origins)
      earlier.erase(earlier.begin());
  }
  h.lease_ms = std::max(ttl, left);
  h.origin = o;
  t.bump();
}

std::optional<size_t> queue_index(const LockState& s, const std::string& owner) {
  for (size_t i = 0; i < s.queue.size(); ++i)
    if (s.queue[i].owner == owner)
      return i;
  return std::nullopt;
}

} // namespace

Result acquire(LockState& s, WitnessAge age, const AcquireArgs& a) {
  Transition t{s, age};
  Result pre;
  // The holder asking again is a retry or a deliberate re-acquire: same
  // token, lease restarted from this attempt. Checked before expiry so that
  // a retry, or a stale attempt, of the holder's own sends stays a pure read.
  if (s.holder && s.holder->owner == a.owner) {
    if (a.test_stale_restart ? s.holder->origin == a.origin : seen_or_older(*s.holder, a.origin)) {
      auto g = granted(*s.holder);
      g.stale_attempt = is_stale(*s.holder, a.origin);
      return g;
    }
    if (!t.lapsed(s.holder->lease_ms)) {
      restart_lease(t, *s.holder, a.origin, a.ttl_ms, a.test_stale_restart);
      return granted(*s.holder);
    }
  }
  settle(t, pre);
  Result r;
  r.expired_holder = pre.expired_holder;
  bool offered_to_me = s.reserved && s.reserved->owner == a.owner;
  if (!s.holder && (!s.reserved || offered_to_me)) {
    s.reserved.reset();
    if (auto i = queue_index(s, a.owner))
      s.queue.erase(s.queue.begin() + static_cast<std::ptrdiff_t>(*i));
    s.holder = Holder{a.owner, ++s.fence, a.ttl_ms, a.origin};
    t.bump();
    auto g = granted(*s.holder);
    g.expired_holder = r.expired_holder;
    g.new_grant = true;
    return g;
  }
  if (auto i = queue_index(s, a.owner)) {
    r.outcome = Outcome::queued;
    r.position = *i + 1 + (s.reserved ? 1 : 0);
    return r;
  }
  if (!a.wait) {
    r.outcome = Outcome::busy;
    return r;
  }
  if (s.queue.size() >= max_queue_length) {
    r.outcome = Outcome::queue_full;
    return r;
  }
  if (a.test_lifo) {
    s.queue.push_front(Waiter{a.owner, a.ttl_ms});
    r.outcome = Outcome::queued;
    r.position = 1 + (s.reserved ? 1 : 0);
    return r;
  }
  s.queue.push_back(Waiter{a.owner, a.ttl_ms});
  r.outcome = Outcome::queued;
  r.position = s.queue.size() + (s.reserved ? 1 : 0);
  return r;
}

Result release(LockState& s, WitnessAge age, uint64_t token, bool retried) {
  Transition t{s, age};
  Result r;
  // An explicit release of the current token counts even if the lease
  // lapsed meanwhile: nobody else can hold it yet.
  if (s.holder && s.holder->token == token) {
    s.holder.reset();
    s.last_released = token;
    t.bump();
    settle(t, r);
    r.outcome = Outcome::released;
    return r;
  }
  settle(t, r);
  // A retried release of the last grant still reads "released"; once a newer
  // grant exists, the old token is simply not the holder.
  bool retry_of_last_release =
      token != 0 && s.last_released == token && (s.fence == token || retried);
  r.outcome = retry_of_last_release ? Outcome::released : Outcome::not_holder;
  return r;
}

Result refresh(LockState& s, WitnessAge age, uint64_t token, const LeaseOrigin& origin,
               uint64_t ttl_ms, bool test_stale_restart) {
  Transition t{s, age};
  Result r;
  if (s.holder && s.holder->token == token) {
    // A retry of the refresh that set this lease, or a stale attempt: the
    // current lease as it is (its origin tells the client whose it is).
    bool seen = test_stale_restart ? s.holder->origin == origin : seen_or_older(*s.holder, origin);
    // A refresh after the lease lapsed but before anyone took over is safe:
    // the new epoch's timers start after this request was sent.
    if (!seen)
      restart_lease(t, *s.holder, origin, ttl_ms, test_stale_restart);
    auto g = granted(*s.holder);
    g.outcome = Outcome::refreshed;
    g.stale_attempt = seen && is_stale(*s.holder, origin);
    return g;
  }
  settle(t, r);
  r.outcome = Outcome::not_holder;
  return r;
}

Result cancel(LockState& s, WitnessAge age, const std::string& owner) {
  Transition t{s, age};
  Result r;
  if (s.reserved && s.reserved->owner == owner) {
    s.reserved.reset();
    t.bump();
  } else if (auto i = queue_index(s, owner)) {
    s.queue.erase(s.queue.begin() + static_cast<std::ptrdiff_t>(*i));
  }
  settle(t, r);
  r.outcome = Outcome::cancelled;
  return r;
}

Result handoff(LockState& s, WitnessAge age) {
  Transition t{s, age};
  Result r;
  settle(t, r);
  r.outcome = Outcome::observed;
  fill_view(s, t, r);
  return r;
}

Result observe(LockState& s, WitnessAge age) {
  return handoff(s, age);
}

Result unchanged(LockState& s, WitnessAge) {
  Result r;
  r.outcome = Outcome::observed;
  r.fence = s.fence;
  return r;
}

std::optional<uint64_t> handoff_due_ms(const LockState& s) {
  if (s.reserved)
    return reserve_ms;
  if (s.holder && !s.queue.empty())
    return s.holder->lease_ms;
  if (!s.holder && !s.queue.empty())
    return 0;
  return std::nullopt;
}

} // namespace godistlock::core
