// Driving the lock's proposer: its effects become messages to the peers,
// writes, timers and replies (docs/architecture.md, "The proposer").
#include "actors/lock_parts.hpp"
#include "core/log.hpp"
#include "messages/codec.hpp"

#include <set>
#include <string>
#include <variant>

namespace godistlock::actors::lock {

namespace {

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
void note_no_quorum(self_ptr self, const core::NoQuorum& why) {
  auto& st = self->state;
  std::string who = "answers from " + peer_names(self, why.heard_from);
  if (!why.refused_by.empty())
    who += ", refused by " + peer_names(self, why.refused_by);
  st.rounds.no_quorum_why = who;
  GDL_WARN("lock " << st.name << ": no quorum after " << why.elapsed_ms << " ms and " << why.rounds
                   << " round(s)" << (why.timed_out ? ", the last timed out" : "") << "; " << who);
}

void arm(self_ptr self, const core::ArmTimer& t) {
  switch (t.kind) {
  case core::ProposerTimer::round_timeout:
    self->delayed_send(self, t.delay, atoms::round_timeout::value, t.round);
    break;
  case core::ProposerTimer::retry:
    self->delayed_send(self, t.delay, atoms::retry::value, t.round);
    break;
  case core::ProposerTimer::hold_over:
    self->delayed_send(self, t.delay, atoms::hold_over::value, t.round);
    break;
  }
}

void finished(self_ptr self, core::Finished& f) {
  auto& st = self->state;
  if (f.why)
    note_no_quorum(self, *f.why);
  auto it = st.rounds.on_outcome.find(f.tag);
  if (it != st.rounds.on_outcome.end()) {
    auto done = std::move(it->second);
    st.rounds.on_outcome.erase(it);
    done(Applied{f.result, f.decided});
  }
  settle_after(self);
}

} // namespace

void persist(self_ptr self, bool write, std::function<void()> then) {
  auto& st = self->state;
  if (!write && st.upkeep.writes_in_flight == 0) {
    then();
    return;
  }
  std::vector<std::string> keys;
  std::vector<std::string> values;
  if (write) {
    keys.push_back(st.name);
    values.push_back(messages::encode_record(st.acceptor.record()));
  }
  ++st.upkeep.writes_in_flight;
  self->request(st.ctx->storage, caf::infinite, atoms::persist::value, std::move(keys),
                std::move(values))
      .then(
          [=](atoms::done) {
            --self->state.upkeep.writes_in_flight;
            then();
            maybe_rest_later(self);
          },
          [=](caf::error&) {
            // The storage actor is gone, so the node is stopping: nothing that
            // depends on this write may be said.
            --self->state.upkeep.writes_in_flight;
          });
}

void reply_when_durable(self_ptr self, std::function<void()> reply) {
  persist(self, false, std::move(reply));
}

// Adds the rounds and conflicts since the last call to the node's metrics.
void meter_rounds(self_ptr self) {
  auto& r = self->state.rounds;
  auto& metrics = *self->state.ctx->metrics;
  for (; r.metered_rounds < r.proposer->rounds_started(); ++r.metered_rounds)
    metrics.round_started();
  for (; r.metered_conflicts < r.proposer->conflicts(); ++r.metered_conflicts)
    metrics.round_conflict();
}

void carry_out(self_ptr self, core::ProposerEffects effects) {
  meter_rounds(self);
  for (auto& effect : effects) {
    if (auto* p = std::get_if<core::SendPrepare>(&effect)) {
      auto req = peer_request(self);
      messages::to_proto(p->ballot, *req.mutable_prepare()->mutable_ballot());
      broadcast(self, p->round, std::move(req));
    } else if (auto* a = std::get_if<core::SendAccept>(&effect)) {
      auto req = peer_request(self);
      auto& acc = *req.mutable_accept();
      messages::to_proto(a->ballot, *acc.mutable_ballot());
      messages::to_proto(a->value, *acc.mutable_value());
      messages::to_proto(a->next_promise, *acc.mutable_next_promise());
      messages::to_proto(a->promise_set, *acc.mutable_promise_set());
      broadcast(self, a->round, std::move(req));
    } else if (auto* w = std::get_if<core::Persist>(&effect)) {
      auto ticket = w->ticket;
      persist(self, w->write, [=] {
        carry_out(self, self->state.rounds.proposer->on_durable(ticket, core::Clock::now()));
      });
    } else if (auto* t = std::get_if<core::ArmTimer>(&effect)) {
      arm(self, *t);
    } else if (std::holds_alternative<core::AcceptorChanged>(effect)) {
      // Our acceptor changed: serve parked waiters that the new value favours.
      settle_after(self);
    } else if (auto* f = std::get_if<core::Finished>(&effect)) {
      finished(self, *f);
    }
  }
}

void propose(self_ptr self, core::Change change, std::function<void(const Applied&)> done,
             std::shared_ptr<bool> retried, bool catch_up) {
  auto& st = self->state;
  auto tag = ++st.rounds.next_tag;
  st.rounds.on_outcome.emplace(tag, std::move(done));
  carry_out(self, st.rounds.proposer->propose(
                      core::Proposal{std::move(change), tag, catch_up, std::move(retried)},
                      core::Clock::now()));
}

} // namespace godistlock::actors::lock
