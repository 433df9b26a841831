// The parts of the lock actor (actors/lock_actor.cpp holds its behaviour),
// one concern per file: lock_rounds.cpp drives the lock's core::Proposer and
// holds replies back until their writes are on disk; lock_acceptor.cpp
// answers the peers' votes; lock_waiting.cpp parks waiting acquires and
// hands the lock over; lock_requests.cpp turns client requests into changes
// and their outcomes into replies. Internal to the lock actor.
#pragma once

#include "actors/lock_actor.hpp"
#include "core/change.hpp"
#include "core/proposer.hpp"

#include <deque>
#include <functional>
#include <memory>

namespace godistlock::actors::lock {

using self_ptr = lock_actor::stateful_pointer<lock_state>;
using messages::wire_response;
using promise_t = MeteredPromise;
using std::chrono::milliseconds;

inline core::LeaseOrigin origin_of(const wire::Request& req) {
  return core::LeaseOrigin{req.client_id(), req.request_id(), req.attempt()};
}

// `mutation`: only a client's request passes the node's; a parked head
// waiter claiming its reservation has its place already.
inline core::AcquireArgs acquire_args(const wire::Request& req,
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

inline const core::LockState& value(self_ptr self) {
  return self->state.acceptor.record().value;
}

inline bool alone(self_ptr self) {
  return self->state.ctx->membership.peers.empty();
}

// ---------------------------------------------------------------- lock_rounds.cpp

// Writes our acceptor record; `then` runs once it is on disk. Writes are
// answered in order, so `then` also follows every earlier write.
void persist(self_ptr self, bool write, std::function<void()> then);
// Replies leave only after everything they may depend on is on disk.
void reply_when_durable(self_ptr self, std::function<void()> reply);
// Runs `change` in a Paxos round; `done` gets the result once a quorum
// decided it (and it is on disk here), or "not decided" after the timeout.
void propose(self_ptr self, core::Change change, std::function<void(const Applied&)> done,
             std::shared_ptr<bool> retried = nullptr, bool catch_up = false);
// Carries out what the proposer asked for, in order.
void carry_out(self_ptr self, core::ProposerEffects effects);

// ---------------------------------------------------------------- lock_acceptor.cpp

core::Promise promise_from(const wire::PeerResponse& r);
caf::result<messages::wire_peer_response> serve_peer(self_ptr self, const wire::PeerRequest& req);

// ---------------------------------------------------------------- lock_waiting.cpp

uint64_t queue_position(const core::LockState& s, const std::string& owner);
bool quiescent(self_ptr self);
void maybe_rest_later(self_ptr self);
// Runs after every change of our acceptor: hand over to a parked head
// waiter, keep the handoff timer armed, publish gauges, consider resting.
void settle_after(self_ptr self);
void park(self_ptr self, wire::Request req, promise_t rp, const caf::strong_actor_ptr& sender);
void handle_park_end(self_ptr self, uint64_t id);
void end_park_window(self_ptr self, std::deque<ParkedAcquire>::iterator it);
void cancel_for_lost_client(self_ptr self, const wire::Request& req);

// ---------------------------------------------------------------- lock_requests.cpp

void count(self_ptr self, const Applied& applied);
void deliver_grant(self_ptr self, const Applied& applied, promise_t rp, uint64_t request_id);
void handle_acquire(self_ptr self, wire::Request req, promise_t rp,
                    const caf::strong_actor_ptr& sender);
void handle_release(self_ptr self, const wire::Request& req, promise_t rp);
void handle_refresh(self_ptr self, const wire::Request& req, promise_t rp);
void handle_observe(self_ptr self, const wire::Request& req, promise_t rp);
void handle_cancel(self_ptr self, const wire::Request& req, promise_t rp);

} // namespace godistlock::actors::lock
