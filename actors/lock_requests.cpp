// Client requests at the lock actor: each becomes a change for the
// proposer, and its outcome a reply (sent once its writes are on disk).
#include "actors/lock_parts.hpp"
#include "actors/responses.hpp"
#include "core/log.hpp"

namespace godistlock::actors::lock {

namespace {

void reply_no_quorum(self_ptr self, promise_t rp, uint64_t request_id) {
  rp.deliver(error_response(wire::NO_QUORUM,
                            "no quorum: too few nodes answered in time (" +
                                self->state.rounds.no_quorum_why + "); the outcome is unknown",
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

} // namespace

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

void deliver_grant(self_ptr self, const Applied& applied, promise_t rp, uint64_t request_id) {
  auto res = applied.result;
  reply_when_durable(
      self, [rp, res, request_id]() mutable { rp.deliver(grant_response(res, request_id)); });
}

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

} // namespace godistlock::actors::lock
