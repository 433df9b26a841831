#include "actors/lock_actor.hpp"

#include "actors/responses.hpp"
#include "core/change.hpp"
#include "core/log.hpp"
#include "core/round.hpp"
#include "messages/codec.hpp"

#include <algorithm>
#include <map>
#include <random>

namespace godistlock::actors {

namespace {

using self_ptr = lock_actor::stateful_pointer<lock_state>;
using messages::wire_response;
using promise_t = MeteredPromise;
using std::chrono::milliseconds;

// Rounds lost to competing proposers before the request is answered "no
// quorum" (the client then tries another server).
constexpr int max_round_attempts = 12;
constexpr uint32_t self_voter = 0; // our own acceptor's number in a round

core::LeaseOrigin origin_of(const wire::Request& req) {
  return core::LeaseOrigin{req.client_id(), req.request_id(), req.attempt()};
}

// `mutation`: only a client's request passes the node's; a parked head
// waiter claiming its reservation has its place already.
core::AcquireArgs acquire_args(const wire::Request& req,
                               core::Mutation mutation = core::Mutation::none) {
  auto& a = req.acquire();
  return core::AcquireArgs{a.owner(),
                           origin_of(req),
                           a.ttl_ms(),
                           a.wait_ms() > 0,
                           mutation == core::Mutation::lifo_queue,
                           mutation == core::Mutation::stale_lease_restart,
                           a.wait_ms()};
}

const core::LockState& value(self_ptr self) {
  return self->state.acceptor.record().value;
}

bool alone(self_ptr self) {
  return self->state.ctx->membership.peers.empty();
}

core::Voter self_voter_id(self_ptr self) {
  return core::Voter{self->state.ctx->node_id, self->state.ctx->incarnation->load()};
}

void maybe_rest_later(self_ptr self);
void settle_after(self_ptr self);
void start_next_round(self_ptr self);

// ---------------------------------------------------------------- durability

// Writes our acceptor record; `then` runs once it is on disk. Writes are
// answered in order, so `then` also follows every earlier write.
void persist(self_ptr self, bool write, std::function<void()> then) {
  auto& st = self->state;
  if (!write && st.writes_in_flight == 0) {
    then();
    return;
  }
  std::vector<std::string> keys;
  std::vector<std::string> values;
  if (write) {
    keys.push_back(st.name);
    values.push_back(messages::encode_record(st.acceptor.record()));
  }
  ++st.writes_in_flight;
  self->request(st.ctx->storage, caf::infinite, atoms::persist::value, std::move(keys),
                std::move(values))
      .then(
          [=](atoms::done) {
            --self->state.writes_in_flight;
            then();
            maybe_rest_later(self);
          },
          [=](caf::error&) {
            // The storage actor is gone, so the node is stopping: nothing that
            // depends on this write may be said.
            --self->state.writes_in_flight;
          });
}

// Replies leave only after everything they may depend on is on disk.
void reply_when_durable(self_ptr self, std::function<void()> reply) {
  persist(self, false, std::move(reply));
}

// ---------------------------------------------------------------- proposer

wire::PeerRequest peer_request(self_ptr self) {
  wire::PeerRequest req;
  req.set_from_id(self->state.ctx->node_id);
  req.set_membership_digest(self->state.ctx->membership.digest);
  req.set_lock(self->state.name);
  return req;
}

void broadcast(self_ptr self, uint64_t round_id, wire::PeerRequest req) {
  if (alone(self))
    return;
  self->send(self->state.ctx->cluster, atoms::broadcast::value, lock_actor{self}, round_id,
             messages::wire_peer_request{std::move(req)});
}

// Names peer n (1-based; 0 is this node) for a log line.
std::string peer_name(self_ptr self, uint32_t n) {
  auto& peers = self->state.ctx->membership.peers;
  if (n == 0 || n > peers.size())
    return self->state.ctx->node_id;
  auto& m = peers[n - 1];
  return m.id.empty() ? m.endpoint.to_string() : m.id;
}

std::string peer_names(self_ptr self, const std::set<uint32_t>& peers) {
  std::string out;
  for (auto n : peers)
    out += (out.empty() ? "" : ", ") + peer_name(self, n);
  return out.empty() ? "none" : out;
}

// A change that found no quorum is answered "no quorum" and the client
// moves on. Both the answer and the log say who answered, since with a
// majority up it should not happen: a dead or slow peer, or a duelling
// proposer, can then be told apart.
void note_no_quorum(self_ptr self, const RoundInFlight& flight) {
  auto& st = self->state;
  std::string who = "answers from " + peer_names(self, flight.heard_from);
  if (!flight.refused_by.empty())
    who += ", refused by " + peer_names(self, flight.refused_by);
  st.no_quorum_why = who;
  GDL_WARN("lock " << st.name << ": no quorum after "
                   << core::to_ms(core::Clock::now() - flight.started) << " ms and "
                   << flight.attempts + 1 << " round(s)"
                   << (flight.timed_out ? ", the last timed out" : "") << "; " << who);
}

void finish_round(self_ptr self, bool decided) {
  auto& st = self->state;
  auto flight = std::move(*st.in_flight);
  st.in_flight.reset();
  if (!decided)
    note_no_quorum(self, flight);
  // A round that timed out may have seen a higher ballot: start above it.
  st.ballots.observe(flight.round.conflict());
  st.cached.reset();
  if (decided && flight.round.phase() == core::Round::Phase::decided &&
      !flight.round.decided_without_accept()) {
    st.ballots.observe(flight.round.next_promise()); // our acceptors promised it
    if (!flight.pending.catch_up && !alone(self))
      st.cached = OneRoundTrip{flight.round.next_promise(), flight.round.proposal(),
                               flight.round.accept_set()};
  }
  if (decided && flight.pending.catch_up) {
    // The value a majority of the peers now holds at a ballot above all
    // they had seen: from here on this node votes on the lock with it.
    auto& r = flight.round;
    st.acceptor = core::Acceptor(core::AcceptorRecord{r.ballot(), r.ballot(), r.proposal()},
                                 core::Clock::now());
  }
  Applied applied{flight.round.result(), decided};
  flight.pending.done(applied);
  settle_after(self);
  start_next_round(self);
}

void retry_after_conflict(self_ptr self, const core::Ballot& conflict) {
  auto& st = self->state;
  auto& flight = *st.in_flight;
  st.ctx->metrics->round_conflict();
  st.ballots.observe(conflict);
  st.cached.reset();
  if (flight.pending.retried)
    *flight.pending.retried = true;
  if (++flight.attempts >= max_round_attempts) {
    finish_round(self, false);
    return;
  }
  // Randomised exponential back-off keeps two proposers from duelling.
  thread_local std::mt19937 rng{std::random_device{}()};
  auto cap = 5 << std::min(flight.attempts, 5);
  auto wait = std::uniform_int_distribution<int>(1, cap)(rng);
  auto id = ++st.next_round_id;
  flight.id = id; // late answers to the lost round are ignored from here on
  self->delayed_send(self, milliseconds(wait), atoms::retry::value, id);
}

void on_accepted(self_ptr self, uint64_t round_id, uint32_t voter, const core::Accepted& a) {
  auto& st = self->state;
  if (!st.in_flight || st.in_flight->id != round_id)
    return;
  auto phase = st.in_flight->round.on_accepted(voter, a);
  if (phase == core::Round::Phase::failed)
    retry_after_conflict(self, st.in_flight->round.conflict());
  else if (phase == core::Round::Phase::decided)
    finish_round(self, true);
}

void start_accept(self_ptr self, uint64_t round_id);

void on_promise(self_ptr self, uint64_t round_id, uint32_t voter, const core::Promise& p) {
  auto& st = self->state;
  if (!st.in_flight || st.in_flight->id != round_id)
    return;
  auto& round = st.in_flight->round;
  auto before = round.phase();
  auto phase = round.on_promise(voter, p);
  // A promise after the quorum (or a repeated one) changes nothing: the
  // accept phase starts once.
  if (phase == before)
    return;
  if (phase == core::Round::Phase::failed) {
    retry_after_conflict(self, round.conflict());
    return;
  }
  if (phase == core::Round::Phase::decided) {
    finish_round(self, true);
    return;
  }
  if (phase == core::Round::Phase::accepting) {
    if (st.ctx->test_hold_accepts.count() > 0) {
      // Fault injection: a proposer stalled between its phases.
      self->delayed_send(self, st.ctx->test_hold_accepts, atoms::hold_over::value, round_id);
      return;
    }
    start_accept(self, round_id);
  }
}

// The accept phase: our own accept first (counted once it is on disk),
// then the peers'. A catching-up node does not vote.
void start_accept(self_ptr self, uint64_t round_id) {
  auto& st = self->state;
  auto& round = st.in_flight->round;
  bool catch_up = st.in_flight->pending.catch_up;
  core::Accepted accepted;
  if (!catch_up) {
    if (!st.ctx->incarnations->admit(round.promise_set(), round.ballot().counter)) {
      // A promise we counted came from a node that has since lost its data.
      retry_after_conflict(self, core::Ballot{});
      return;
    }
    accepted = st.acceptor.accept(round.ballot(), round.proposal(), round.next_promise(),
                                  core::Clock::now());
    if (!accepted.ok) {
      st.in_flight->refused_by.insert(self_voter);
      retry_after_conflict(self, accepted.conflict);
      return;
    }
    accepted.voter = self_voter_id(self);
  }
  auto req = peer_request(self);
  auto& acc = *req.mutable_accept();
  messages::to_proto(round.ballot(), *acc.mutable_ballot());
  messages::to_proto(round.proposal(), *acc.mutable_value());
  messages::to_proto(round.next_promise(), *acc.mutable_next_promise());
  messages::to_proto(round.promise_set(), *acc.mutable_promise_set());
  broadcast(self, round_id, std::move(req));
  if (catch_up)
    return;
  persist(self, true, [=] { on_accepted(self, round_id, self_voter, accepted); });
  // Our acceptor changed: serve parked waiters that the new value favours.
  settle_after(self);
}

// The one-round-trip path, valid while our own acceptor still holds the
// promise our last accept gave with it: no other proposer prepared since.
// A cached ballot is used once, whatever happens to its round.
bool try_one_round_trip(self_ptr self) {
  auto& st = self->state;
  auto cached = std::move(*st.cached);
  st.cached.reset();
  auto& record = st.acceptor.record();
  if (record.promised != cached.next || !(record.value == cached.value))
    return false;
  auto& flight = *st.in_flight;
  core::Round round(cached.next, st.ctx->quorum, flight.pending.change);
  if (!round.skip_prepare(cached.value, cached.promisers))
    return false;
  flight.round = std::move(round);
  self->delayed_send(self, st.ctx->round_timeout, atoms::round_timeout::value, flight.id);
  start_accept(self, flight.id);
  return true;
}

void run_round(self_ptr self) {
  auto& st = self->state;
  st.ctx->metrics->round_started();
  auto& flight = *st.in_flight;
  auto ballot = st.ballots.next();
  // A refusal fails the round at once: waiting for the remaining votes could
  // mean waiting for a node that is down. The retry goes above the refusing
  // ballot, and every change finds its own earlier effect if a failed round
  // was chosen after all (core/change.hpp).
  auto id = flight.id;
  if (flight.pending.catch_up) {
    // We forgot what we promised: only the peers' promises count.
    flight.round = core::Round(ballot, st.ctx->quorum, flight.pending.change, 0, true);
    auto req = peer_request(self);
    messages::to_proto(ballot, *req.mutable_prepare()->mutable_ballot());
    broadcast(self, id, std::move(req));
    self->delayed_send(self, st.ctx->round_timeout + st.ctx->test_hold_accepts,
                       atoms::round_timeout::value, id);
    return;
  }
  if (st.cached && try_one_round_trip(self))
    return;
  flight.round = core::Round(ballot, st.ctx->quorum, flight.pending.change);
  if (st.ctx->mutation == core::Mutation::proposer_clock_expiry)
    flight.round.judge_expiry_by(st.acceptor.age_ms(core::Clock::now()));
  auto promise = st.acceptor.prepare(ballot, core::Clock::now());
  if (!promise.ok) {
    // Our own acceptor promised higher (to a peer): go above it at once.
    flight.refused_by.insert(self_voter);
    st.ballots.observe(promise.conflict);
    if (++flight.attempts >= max_round_attempts) {
      finish_round(self, false);
      return;
    }
    run_round(self);
    return;
  }
  promise.voter = self_voter_id(self);
  st.ctx->incarnations->note(ballot.counter);
  auto req = peer_request(self);
  messages::to_proto(ballot, *req.mutable_prepare()->mutable_ballot());
  broadcast(self, id, std::move(req));
  self->delayed_send(self, st.ctx->round_timeout + st.ctx->test_hold_accepts,
                     atoms::round_timeout::value, id);
  if (alone(self)) {
    // A cluster of one: nobody else can see or rely on this promise, and
    // the accept that follows persists a higher one (docs/protocol.md).
    on_promise(self, id, self_voter, promise);
  } else {
    // Peers may act on a round our promise took part in: it must be on
    // disk before it counts (a forgotten promise can lose a chosen value).
    bool write = st.ctx->mutation != core::Mutation::skip_promise_fsync;
    persist(self, write, [=] { on_promise(self, id, self_voter, promise); });
  }
}

void start_next_round(self_ptr self) {
  auto& st = self->state;
  if (st.in_flight || st.changes.empty())
    return;
  auto pending = std::move(st.changes.front());
  st.changes.pop_front();
  st.in_flight.emplace(
      RoundInFlight{++st.next_round_id, core::Round({}, 1, pending.change), std::move(pending)});
  run_round(self);
}

// Runs `change` in a Paxos round; `done` gets the result once a quorum
// decided it (and it is on disk here), or "not decided" after the timeout.
void propose(self_ptr self, core::Change change, std::function<void(const Applied&)> done,
             std::shared_ptr<bool> retried = nullptr) {
  self->state.changes.push_back(
      PendingChange{std::move(change), std::move(done), false, std::move(retried)});
  start_next_round(self);
}

// ---------------------------------------------------------------- acceptor duty

core::Promise promise_from(const wire::PeerResponse& r) {
  core::Promise p;
  p.ok = r.ok();
  p.conflict = messages::from_proto(r.conflict());
  p.accepted = messages::from_proto(r.accepted());
  p.value = messages::from_proto(r.value());
  p.age_ms = r.age_ms();
  p.voter = core::Voter{r.from_id(), r.incarnation()};
  return p;
}

// What this node knows of every node's incarnation, sent with each vote:
// read after the vote was made, so a vote given after a rejoin was recorded
// here carries the new incarnation.
void attach_known(self_ptr self, wire::PeerResponse& out) {
  for (auto& [node, incarnation] : self->state.ctx->incarnations->known()) {
    auto& v = *out.add_known();
    v.set_node_id(node);
    v.set_incarnation(incarnation);
  }
}

caf::result<messages::wire_peer_response> serve_peer(self_ptr self, const wire::PeerRequest& req) {
  auto& st = self->state;
  messages::wire_peer_response out;
  out.pb.set_from_id(st.ctx->node_id);
  auto now = core::Clock::now();
  bool changed = false;
  if (req.has_prepare()) {
    out.pb.set_phase(wire::PHASE_PREPARE);
    auto p = st.acceptor.prepare(messages::from_proto(req.prepare().ballot()), now);
    out.pb.set_ok(p.ok);
    messages::to_proto(p.conflict, *out.pb.mutable_conflict());
    messages::to_proto(p.accepted, *out.pb.mutable_accepted());
    messages::to_proto(p.value, *out.pb.mutable_value());
    out.pb.set_age_ms(p.age_ms);
    out.pb.set_incarnation(st.ctx->incarnation->load());
    if (p.ok)
      st.ctx->incarnations->note(req.prepare().ballot().counter());
    changed = p.ok && st.ctx->mutation != core::Mutation::skip_promise_fsync;
  } else if (req.has_accept()) {
    out.pb.set_phase(wire::PHASE_ACCEPT);
    auto& acc = req.accept();
    core::Accepted a;
    // Refused like a lost vote when the round counted a promise of a node
    // that has since come back without its data (notes 4.3).
    if (st.ctx->incarnations->admit(messages::from_proto(acc.promise_set()),
                                    acc.ballot().counter()))
      a = st.acceptor.accept(messages::from_proto(acc.ballot()), messages::from_proto(acc.value()),
                             messages::from_proto(acc.next_promise()), now);
    out.pb.set_ok(a.ok);
    out.pb.set_incarnation(st.ctx->incarnation->load());
    messages::to_proto(a.conflict, *out.pb.mutable_conflict());
    changed = a.ok;
  } else {
    out.pb.set_refused(wire::NOT_READY);
    return out;
  }
  attach_known(self, out.pb);
  // Persist before answering: a promise or vote that a crash could forget
  // must never have been seen.
  auto rp = self->make_response_promise<messages::wire_peer_response>();
  persist(self, changed, [rp, out]() mutable { rp.deliver(out); });
  if (changed && req.has_accept())
    settle_after(self);
  return rp;
}

// ---------------------------------------------------------------- waiting

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
  return st.parked.empty() && v.queue.empty() && !v.reserved && st.writes_in_flight == 0 &&
         !st.in_flight && st.changes.empty();
}

// Counted from the decided result itself: the local copy of the lock may
// be behind the cluster's.
void count(self_ptr self, const Applied& applied) {
  auto& c = *self->state.ctx->counters;
  if (applied.result.new_grant)
    ++c.grants;
  if (applied.result.expired_holder)
    ++c.expiries;
  if (applied.result.stale_attempt)
    ++c.stale_attempts;
}

void reply_no_quorum(self_ptr self, promise_t rp, uint64_t request_id) {
  rp.deliver(error_response(wire::NO_QUORUM,
                            "no quorum: too few nodes answered in time (" +
                                self->state.no_quorum_why + "); the outcome is unknown",
                            request_id));
}

// The common first step of every client request's result: a round that was
// not decided answers "no quorum"; a decided one counts a lease it ended.
// Returns false when the request was answered here.
bool decided_or_answered(self_ptr self, const Applied& applied, promise_t& rp, uint64_t req_id) {
  if (!applied.decided) {
    reply_no_quorum(self, rp, req_id);
    return false;
  }
  if (applied.result.expired_holder)
    ++self->state.ctx->counters->expiries;
  if (applied.result.stale_attempt) {
    ++self->state.ctx->counters->stale_attempts;
    if (core::log_enabled(core::LogLevel::info))
      core::log_line(core::LogLevel::info, "lock " + self->state.name +
                                               ": a delayed attempt changed nothing (its "
                                               "client's newer attempt came first)");
  }
  return true;
}

void deliver_grant(self_ptr self, const Applied& applied, promise_t rp, uint64_t request_id) {
  auto res = applied.result;
  reply_when_durable(
      self, [rp, res, request_id]() mutable { rp.deliver(grant_response(res, request_id)); });
}

void end_park_window(self_ptr self, std::deque<ParkedAcquire>::iterator it);

// Grants the lock to the head waiter if it is offered to it and its acquire
// is parked here (otherwise its next attempt claims it).
void serve_reservation(self_ptr self) {
  auto& st = self->state;
  auto& v = value(self);
  if (!v.reserved)
    return;
  auto it = std::find_if(st.parked.begin(), st.parked.end(), [&](const ParkedAcquire& p) {
    return p.request.acquire().owner() == v.reserved->owner;
  });
  if (it == st.parked.end() || it->claiming)
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
        auto p = std::find_if(st.parked.begin(), st.parked.end(),
                              [id](const ParkedAcquire& x) { return x.id == id; });
        if (p == st.parked.end())
          return; // answered meanwhile (window ended, requester gone, drain)
        if (!applied.decided || applied.result.outcome != core::Outcome::granted) {
          p->claiming = false; // stays parked; the next change may serve it
          if (p->window_over)
            end_park_window(self, p);
          return;
        }
        auto parked = std::move(*p);
        st.parked.erase(p);
        deliver_grant(self, applied, parked.promise, parked.request.request_id());
      });
}

void arm_handoff(self_ptr self) {
  auto& st = self->state;
  auto& v = value(self);
  auto due = core::handoff_due_ms(v);
  // Only a node with a waiter parked here drives the handoff: it is the one
  // that can hand the lock over at once.
  if (!due || st.parked.empty() || st.handoff_armed_for == v.epoch.number + 1)
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
  st.ctx->metrics->holder_seen(st.name, v.holder ? v.holder->token : 0);
}

void maybe_rest_later(self_ptr self) {
  if (quiescent(self))
    self->delayed_send(self, self->state.ctx->idle_retire, atoms::idle::value,
                       self->state.activity);
}

// Runs after every change of our acceptor: hand over to a parked head
// waiter, keep the handoff timer armed, publish gauges, consider resting.
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
  st.parked.push_back(ParkedAcquire{id, std::move(req), rp, requester, final_window, false});
  self->delayed_send(self, milliseconds(wait_here), atoms::park_end::value, id);
}

// ---------------------------------------------------------------- client requests

void handle_acquire(self_ptr self, wire::Request req, promise_t rp,
                    const caf::strong_actor_ptr& sender) {
  auto args = acquire_args(req, self->state.ctx->mutation);
  propose(
      self,
      [args](core::LockState& s, core::WitnessAge age) { return core::acquire(s, age, args); },
      [=](const Applied& applied) mutable {
        auto req_id = req.request_id();
        if (!applied.decided) {
          reply_no_quorum(self, rp, req_id);
          return;
        }
        count(self, applied);
        switch (applied.result.outcome) {
        case core::Outcome::granted:
          deliver_grant(self, applied, rp, req_id);
          return;
        case core::Outcome::queued:
          if (req.acquire().wait_ms() > 0) {
            park(self, std::move(req), rp, sender);
            return;
          }
          [[fallthrough]];
        default: {
          auto msg = applied.result.outcome == core::Outcome::queue_full
                         ? "not acquired: the wait queue is full"
                         : "not acquired: the lock is held";
          reply_when_durable(self, [rp, msg, req_id]() mutable {
            rp.deliver(error_response(wire::NOT_ACQUIRED, msg, req_id));
          });
        }
        }
      });
}

void handle_release(self_ptr self, const wire::Request& req, promise_t rp) {
  auto token = req.release().token();
  auto req_id = req.request_id();
  bool was_current = value(self).holder && value(self).holder->token == token;
  // A client's retry, or our own second round for this request, may find
  // the release already done.
  auto retried = std::make_shared<bool>(req.attempt() > 0);
  propose(
      self,
      [token, retried](core::LockState& s, core::WitnessAge age) {
        return core::release(s, age, token, *retried);
      },
      [=](const Applied& applied) mutable {
        if (!decided_or_answered(self, applied, rp, req_id))
          return;
        bool ok = applied.result.outcome == core::Outcome::released;
        if (ok && was_current)
          ++self->state.ctx->counters->releases;
        reply_when_durable(self, [rp, ok, req_id]() mutable {
          if (ok) {
            rp.deliver(ok_response(req_id));
          } else {
            rp.deliver(error_response(wire::NOT_HOLDER, "token is not the current grant", req_id));
          }
        });
      },
      retried);
}

void handle_refresh(self_ptr self, const wire::Request& req, promise_t rp) {
  auto token = req.refresh().token();
  auto ttl = req.refresh().ttl_ms();
  auto origin = origin_of(req);
  auto req_id = req.request_id();
  bool test_stale = self->state.ctx->mutation == core::Mutation::stale_lease_restart;
  propose(
      self,
      [=](core::LockState& s, core::WitnessAge age) {
        return core::refresh(s, age, token, origin, ttl, test_stale);
      },
      [=](const Applied& applied) mutable {
        if (!decided_or_answered(self, applied, rp, req_id))
          return;
        if (applied.result.outcome == core::Outcome::refreshed) {
          deliver_grant(self, applied, rp, req_id);
          return;
        }
        reply_when_durable(self, [rp, req_id]() mutable {
          rp.deliver(error_response(wire::NOT_HOLDER, "token is not the current grant", req_id));
        });
      });
}

void handle_observe(self_ptr self, const wire::Request& req, promise_t rp) {
  propose(
      self, [](core::LockState& s, core::WitnessAge age) { return core::observe(s, age); },
      [=](const Applied& applied) mutable {
        if (!decided_or_answered(self, applied, rp, req.request_id()))
          return;
        auto r = ok_response(req.request_id());
        auto& res = applied.result;
        if (req.has_check()) {
          r.pb.set_current(res.observed_holder &&
                           res.observed_holder->token == req.check().token());
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
        reply_when_durable(self, [rp, r]() mutable { rp.deliver(r); });
      });
}

void handle_cancel(self_ptr self, const wire::Request& req, promise_t rp) {
  auto owner = req.cancel().owner();
  auto req_id = req.request_id();
  // Every attempt of the acquire it ends, however late it arrives.
  std::optional<core::LeaseOrigin> acquire;
  if (req.cancel().acquire_request_id() != 0)
    acquire = core::LeaseOrigin{req.client_id(), req.cancel().acquire_request_id(), UINT32_MAX};
  propose(
      self,
      [owner, acquire](core::LockState& s, core::WitnessAge age) {
        return core::cancel(s, age, owner, acquire);
      },
      [=](const Applied& applied) mutable {
        if (!decided_or_answered(self, applied, rp, req_id))
          return;
        reply_when_durable(self, [rp, req_id]() mutable { rp.deliver(ok_response(req_id)); });
      });
}

void handle_park_end(self_ptr self, uint64_t id) {
  auto& st = self->state;
  auto it = std::find_if(st.parked.begin(), st.parked.end(),
                         [id](const ParkedAcquire& p) { return p.id == id; });
  if (it == st.parked.end())
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
  st.parked.erase(it);
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
  // attempt. When its connection is gone the client cannot cancel, so this
  // node does it for that attempt (a live client's later attempt through
  // another node queues again). When only the attempt ended, the client is
  // retrying: its entry stays, so the retry keeps its place.
  self->set_down_handler([self](caf::down_msg& dm) {
    auto& parked = self->state.parked;
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
        ++st.handled;
        ++st.activity;
        auto& req = msg.pb;
        if (st.draining)
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
        ++st.activity;
        if (epoch + 1 != st.handoff_armed_for)
          return; // a newer timer is armed
        st.handoff_armed_for = 0;
        propose(
            self, [](core::LockState& s, core::WitnessAge age) { return core::handoff(s, age); },
            [=](const Applied& applied) {
              if (applied.decided && applied.result.expired_holder)
                ++self->state.ctx->counters->expiries;
            });
      },
      [=](atoms::park_end, uint64_t id) {
        ++self->state.activity;
        handle_park_end(self, id);
        settle_after(self);
      },
      [=](messages::wire_peer_request& msg) -> caf::result<messages::wire_peer_response> {
        auto& st = self->state;
        ++st.handled;
        ++st.activity;
        return serve_peer(self, msg.pb);
      },
      [=](atoms::peer_reply, uint64_t round_id, uint32_t peer, messages::wire_peer_response& r) {
        auto& st = self->state;
        if (!st.in_flight || st.in_flight->id != round_id)
          return;
        st.in_flight->heard_from.insert(peer);
        if (r.pb.refused() != wire::NOT_REFUSED || !r.pb.ok())
          st.in_flight->refused_by.insert(peer);
        if (r.pb.refused() != wire::NOT_REFUSED)
          return;
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
        if (r.pb.phase() == wire::PHASE_PREPARE) {
          on_promise(self, round_id, peer, promise_from(r.pb));
        } else if (r.pb.phase() == wire::PHASE_ACCEPT) {
          core::Accepted a;
          a.ok = r.pb.ok();
          a.conflict = messages::from_proto(r.pb.conflict());
          a.voter = core::Voter{r.pb.from_id(), r.pb.incarnation()};
          on_accepted(self, round_id, peer, a);
        }
      },
      [=](atoms::round_timeout, uint64_t round_id) {
        auto& st = self->state;
        if (st.in_flight && st.in_flight->id == round_id) {
          st.in_flight->timed_out = true;
          finish_round(self, false);
        }
      },
      [=](atoms::hold_over, uint64_t round_id) {
        auto& st = self->state;
        if (st.in_flight && st.in_flight->id == round_id &&
            st.in_flight->round.phase() == core::Round::Phase::accepting)
          start_accept(self, round_id);
      },
      [=](atoms::retry, uint64_t round_id) {
        auto& st = self->state;
        if (st.in_flight && st.in_flight->id == round_id)
          run_round(self);
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
        reply_when_durable(self, [rp]() mutable { rp.deliver(atoms::done::value); });
        return rp;
      },
      [=](atoms::rejoin, uint64_t floor) -> caf::result<bool> {
        auto& st = self->state;
        ++st.handled;
        ++st.activity;
        st.ballots.observe(core::Ballot{floor, 0, 0});
        auto rp = self->make_response_promise<bool>();
        st.changes.push_back(PendingChange{
            [](core::LockState& s, core::WitnessAge age) { return core::unchanged(s, age); },
            [=](const Applied& applied) mutable {
              if (!applied.decided) {
                rp.deliver(false);
                return;
              }
              persist(self, true, [rp]() mutable { rp.deliver(true); });
            },
            true, nullptr});
        start_next_round(self);
        return rp;
      },
  };
}

} // namespace godistlock::actors
