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
      rebase_waiters();
    }
    age = 0;
  }
  bool lapsed(uint64_t limit_ms) const { return age && *age >= limit_ms; }
  bool lapsed(const Waiter& w) const { return w.expires_ms != 0 && lapsed(w.expires_ms); }
  // What is left of a wait, counted from the epoch's birth, keeps counting
  // from the new epoch's; a wait that is over ends here. Unwitnessed time
  // is not subtracted: an entry may outlive its client's wait by it
  // (liveness, never safety).
  void rebase_waiters() {
    if (!age)
      return;
    auto& q = s.queue;
    q.erase(std::remove_if(q.begin(), q.end(), [&](const Waiter& w) { return lapsed(w); }),
            q.end());
    for (auto& w : q)
      if (w.expires_ms != 0)
        w.expires_ms -= *age;
  }
  // A queue entry ending this long from now, as its epoch-relative value.
  uint64_t expiry_in(uint64_t ms) const { return age.value_or(0) + ms; }
};

constexpr uint32_t every_attempt = UINT32_MAX;

// Remembers that `owner`'s acquire attempts sent by `last.client` up to
// `last` are over, keeping one entry per (owner, client): the later one.
void remember_finished(LockState& s, const std::string& owner, const LeaseOrigin& last) {
  if (last.client.empty())
    return;
  auto& f = s.finished;
  auto it = std::find_if(f.begin(), f.end(), [&](const FinishedRequest& e) {
    return e.owner == owner && e.last.client == last.client;
  });
  FinishedRequest entry{owner, last};
  if (it != f.end()) {
    if (last.sent_before(it->last))
      entry.last = it->last;
    f.erase(it);
  }
  f.push_back(std::move(entry));
  if (f.size() > max_finished_requests)
    f.erase(f.begin());
}

// A grant ends. Released, it was received: no attempt of its requests may
// take effect again. Lapsed, its client may not have heard of it and may
// still be retrying: only the attempts up to the one it was timed from.
void finish_grant(LockState& s, const Holder& h, bool released) {
  auto mark = [&](LeaseOrigin o) {
    if (released)
      o.attempt = every_attempt;
    remember_finished(s, h.owner, o);
  };
  for (auto& e : h.earlier)
    mark(e);
  mark(h.origin);
}

bool is_finished(const LockState& s, const std::string& owner, const LeaseOrigin& attempt) {
  return std::any_of(s.finished.begin(), s.finished.end(),
                     [&](const FinishedRequest& f) { return f.covers(owner, attempt); });
}

// Applies what time and order dictate before any request is considered:
// a lapsed lease ends, a lapsed reservation passes on, and a free lock with
// waiters is offered to the head of the queue (no barging past waiters).
void settle(Transition& t, Result& r) {
  auto& s = t.s;
  if (s.holder && t.lapsed(s.holder->lease_ms)) {
    finish_grant(s, *s.holder, false);
    s.holder.reset();
    r.expired_holder = true;
    t.bump();
  }
  if (s.reserved && t.lapsed(reserve_ms)) {
    s.reserved.reset();
    t.bump();
  }
  // Waiters whose wait is over (their client did not say so) leave before
  // the lock is offered, so that it is never offered to a gone waiter.
  s.queue.erase(
      std::remove_if(s.queue.begin(), s.queue.end(), [&](const Waiter& w) { return t.lapsed(w); }),
      s.queue.end());
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
  // A delayed or duplicated attempt of a request that is over (released,
  // lapsed, cancelled) must not queue or be granted once more.
  if (is_finished(s, a.owner, a.origin)) {
    pre.outcome = Outcome::busy;
    pre.stale_attempt = true;
    return pre;
  }
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
  auto entry_life = a.wait_ms == 0 ? 0 : a.wait_ms + waiter_margin_ms;
  if (auto i = queue_index(s, a.owner)) {
    // A long wait (a waiter without a deadline sends the longest) keeps its
    // entry alive: renewed once half of it is gone, so rarely a write.
    auto& w = s.queue[*i];
    if (entry_life != 0 && w.expires_ms != 0 && a.wait) {
      auto left = w.expires_ms - std::min(w.expires_ms, age.value_or(0));
      if (left < entry_life / 2)
        w.expires_ms = t.expiry_in(entry_life);
    }
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
  auto expires = entry_life == 0 ? 0 : t.expiry_in(entry_life);
  if (a.test_lifo) {
    s.queue.push_front(Waiter{a.owner, a.ttl_ms, expires});
    r.outcome = Outcome::queued;
    r.position = 1 + (s.reserved ? 1 : 0);
    return r;
  }
  s.queue.push_back(Waiter{a.owner, a.ttl_ms, expires});
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
    finish_grant(s, *s.holder, true);
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

Result cancel(LockState& s, WitnessAge age, const std::string& owner,
              const std::optional<LeaseOrigin>& request) {
  Transition t{s, age};
  Result r;
  if (request)
    remember_finished(s, owner, *request);
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
