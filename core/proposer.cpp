#include "core/proposer.hpp"

#include <algorithm>

namespace godistlock::core {

Proposer::Proposer(ProposerSetup setup, BallotSource ballots, Acceptor& acceptor,
                   IncarnationBook& book, std::function<Voter()> self)
    : setup_(setup), ballots_(ballots), acceptor_(acceptor), book_(book), self_(std::move(self)),
      jitter_(setup.seed) {}

ProposerEffects Proposer::propose(Proposal proposal, Instant now) {
  ProposerEffects out;
  queue_.push_back(std::move(proposal));
  if (!flight_)
    start_next(now, out);
  return out;
}

void Proposer::start_next(Instant now, ProposerEffects& out) {
  if (flight_ || queue_.empty())
    return;
  auto proposal = std::move(queue_.front());
  queue_.pop_front();
  auto change = proposal.change;
  flight_.emplace(InFlight{++next_round_id_,
                           Round({}, 1, std::move(change)),
                           std::move(proposal),
                           0,
                           now,
                           false,
                           {},
                           {}});
  run_round(now, out);
}

void Proposer::run_round(Instant now, ProposerEffects& out) {
  ++rounds_started_;
  auto& flight = *flight_;
  auto ballot = ballots_.next();
  auto id = flight.id;
  auto patience = setup_.round_timeout + setup_.hold_accepts;
  if (flight.proposal.catch_up) {
    // We forgot what we promised: only the peers' promises count.
    flight.round = Round(ballot, setup_.quorum, flight.proposal.change, 0, true);
    out.push_back(SendPrepare{id, ballot});
    out.push_back(ArmTimer{ProposerTimer::round_timeout, id, patience});
    return;
  }
  if (cached_ && try_one_round_trip(now, out))
    return;
  // A refusal fails the round at once: waiting for the remaining votes could
  // mean waiting for a node that is down. The retry goes above the refusing
  // ballot, and every change finds its own earlier effect if a failed round
  // was chosen after all (core/change.hpp).
  flight.round = Round(ballot, setup_.quorum, flight.proposal.change);
  if (setup_.mutation == Mutation::proposer_clock_expiry)
    flight.round.judge_expiry_by(acceptor_.age_ms(now));
  auto promise = acceptor_.prepare(ballot, now);
  if (!promise.ok) {
    // Our own acceptor promised higher (to a peer): go above it at once.
    flight.refused_by.insert(local_voter);
    ballots_.observe(promise.conflict);
    if (++flight.attempts >= setup_.max_attempts) {
      finish(false, now, out);
      return;
    }
    run_round(now, out);
    return;
  }
  promise.voter = self_();
  book_.note(ballot.counter);
  if (!setup_.alone)
    out.push_back(SendPrepare{id, ballot});
  out.push_back(ArmTimer{ProposerTimer::round_timeout, id, patience});
  if (setup_.alone) {
    // A cluster of one: nobody else can see or rely on this promise, and
    // the accept that follows persists a higher one (docs/protocol.md).
    promised(local_voter, promise, now, out);
    return;
  }
  // Peers may act on a round our promise took part in: it must be on disk
  // before it counts (a forgotten promise can lose a chosen value).
  auto ticket = ++next_ticket_;
  local_votes_.emplace(ticket, LocalVote{id, promise});
  out.push_back(Persist{setup_.mutation != Mutation::skip_promise_fsync, ticket});
}

// Valid while our own acceptor still holds the promise our last accept gave
// with it: no other proposer prepared since.
bool Proposer::try_one_round_trip(Instant now, ProposerEffects& out) {
  auto cached = std::move(*cached_);
  cached_.reset();
  auto& record = acceptor_.record();
  if (record.promised != cached.next || !(record.value == cached.value))
    return false;
  auto& flight = *flight_;
  Round round(cached.next, setup_.quorum, flight.proposal.change);
  if (!round.skip_prepare(cached.value, cached.promisers))
    return false;
  flight.round = std::move(round);
  out.push_back(ArmTimer{ProposerTimer::round_timeout, flight.id, setup_.round_timeout});
  start_accept(now, out);
  return true;
}

void Proposer::note_peer(uint32_t from, bool refused) {
  if (from == local_voter)
    return;
  flight_->heard_from.insert(from);
  if (refused)
    flight_->refused_by.insert(from);
}

ProposerEffects Proposer::on_promise(uint64_t round, uint32_t from, const Promise& p, Instant now) {
  ProposerEffects out;
  if (!in_round(round))
    return out;
  note_peer(from, !p.ok);
  promised(from, p, now, out);
  return out;
}

ProposerEffects Proposer::on_accepted(uint64_t round, uint32_t from, const Accepted& a,
                                      Instant now) {
  ProposerEffects out;
  if (!in_round(round))
    return out;
  note_peer(from, !a.ok);
  accepted(from, a, now, out);
  return out;
}

void Proposer::on_unready(uint64_t round, uint32_t from) {
  if (in_round(round))
    note_peer(from, true);
}

void Proposer::promised(uint32_t from, const Promise& p, Instant now, ProposerEffects& out) {
  auto& r = flight_->round;
  auto before = r.phase();
  auto phase = r.on_promise(from, p);
  // A promise after the quorum (or a repeated one) changes nothing: the
  // accept phase starts once.
  if (phase == before)
    return;
  if (phase == Round::Phase::failed) {
    retry_after_conflict(r.conflict(), now, out);
  } else if (phase == Round::Phase::decided) {
    finish(true, now, out);
  } else if (phase == Round::Phase::accepting) {
    if (setup_.hold_accepts.count() > 0) {
      // Fault injection: a proposer stalled between its phases.
      out.push_back(ArmTimer{ProposerTimer::hold_over, flight_->id, setup_.hold_accepts});
      return;
    }
    start_accept(now, out);
  }
}

void Proposer::accepted(uint32_t from, const Accepted& a, Instant now, ProposerEffects& out) {
  auto& r = flight_->round;
  auto phase = r.on_accepted(from, a);
  if (phase == Round::Phase::failed)
    retry_after_conflict(r.conflict(), now, out);
  else if (phase == Round::Phase::decided)
    finish(true, now, out);
}

// The accept phase: our own accept first (counted once it is on disk),
// then the peers'. A catching-up node does not vote.
void Proposer::start_accept(Instant now, ProposerEffects& out) {
  auto& flight = *flight_;
  auto& r = flight.round;
  bool catch_up = flight.proposal.catch_up;
  Accepted accepted;
  if (!catch_up) {
    if (!book_.admit(r.promise_set(), r.ballot().counter)) {
      // A promise we counted came from a node that has since lost its data.
      retry_after_conflict(Ballot{}, now, out);
      return;
    }
    accepted = acceptor_.accept(r.ballot(), r.proposal(), r.next_promise(), now);
    if (!accepted.ok) {
      flight.refused_by.insert(local_voter);
      retry_after_conflict(accepted.conflict, now, out);
      return;
    }
    accepted.voter = self_();
  }
  if (!setup_.alone)
    out.push_back(
        SendAccept{flight.id, r.ballot(), r.proposal(), r.next_promise(), r.promise_set()});
  if (catch_up)
    return;
  auto ticket = ++next_ticket_;
  local_votes_.emplace(ticket, LocalVote{flight.id, accepted});
  out.push_back(Persist{true, ticket});
  out.push_back(AcceptorChanged{});
}

void Proposer::retry_after_conflict(const Ballot& conflict, Instant now, ProposerEffects& out) {
  ++conflicts_;
  auto& flight = *flight_;
  ballots_.observe(conflict);
  cached_.reset(); // never reuse a ballot that may carry another value
  if (flight.proposal.retried)
    *flight.proposal.retried = true;
  if (++flight.attempts >= setup_.max_attempts) {
    finish(false, now, out);
    return;
  }
  // Randomised exponential back-off keeps two proposers from duelling.
  uint64_t cap = 5u << std::min(flight.attempts, 5);
  auto wait = std::uniform_int_distribution<uint64_t>(1, cap)(jitter_);
  flight.id = ++next_round_id_; // late answers to the lost round are ignored from here on
  out.push_back(ArmTimer{ProposerTimer::retry, flight.id, Millis(wait)});
}

void Proposer::finish(bool decided, Instant now, ProposerEffects& out) {
  auto flight = std::move(*flight_);
  flight_.reset();
  Finished done;
  done.tag = flight.proposal.tag;
  done.result = flight.round.result();
  done.decided = decided;
  if (!decided) {
    // Every round but one that timed out was lost to a conflict.
    done.why =
        NoQuorum{to_ms(now - flight.started), flight.attempts + (flight.timed_out ? 1 : 0),
                 flight.timed_out, std::move(flight.heard_from), std::move(flight.refused_by)};
  } else {
    done.ballot = flight.round.ballot();
    done.read_only = flight.round.decided_without_accept();
  }
  // A round that timed out may have seen a higher ballot: start above it.
  ballots_.observe(flight.round.conflict());
  cached_.reset();
  if (decided && flight.round.phase() == Round::Phase::decided &&
      !flight.round.decided_without_accept()) {
    ballots_.observe(flight.round.next_promise()); // our acceptors promised it
    if (!flight.proposal.catch_up && !setup_.alone)
      cached_ = OneRoundTrip{flight.round.next_promise(), flight.round.proposal(),
                             flight.round.accept_set()};
  }
  if (decided && flight.proposal.catch_up) {
    // The value a majority of the peers now holds at a ballot above all
    // they had seen: from here on this node votes on the lock with it.
    auto& r = flight.round;
    acceptor_ = Acceptor(AcceptorRecord{r.ballot(), r.ballot(), r.proposal()}, now);
  }
  out.push_back(std::move(done));
  start_next(now, out);
}

ProposerEffects Proposer::on_timer(ProposerTimer kind, uint64_t round, Instant now) {
  ProposerEffects out;
  if (!in_round(round))
    return out;
  switch (kind) {
  case ProposerTimer::round_timeout:
    flight_->timed_out = true;
    finish(false, now, out);
    break;
  case ProposerTimer::hold_over:
    if (flight_->round.phase() == Round::Phase::accepting)
      start_accept(now, out);
    break;
  case ProposerTimer::retry:
    run_round(now, out);
    break;
  }
  return out;
}

ProposerEffects Proposer::on_durable(uint64_t ticket, Instant now) {
  ProposerEffects out;
  auto it = local_votes_.find(ticket);
  if (it == local_votes_.end())
    return out;
  auto vote = std::move(it->second);
  local_votes_.erase(it);
  if (!in_round(vote.round))
    return out;
  if (auto* p = std::get_if<Promise>(&vote.vote))
    promised(local_voter, *p, now, out);
  else
    accepted(local_voter, std::get<Accepted>(vote.vote), now, out);
  return out;
}

} // namespace godistlock::core
