// The proposer of one lock: runs the changes proposed on this node through
// Paxos rounds, one at a time, and reports each one's outcome. It is a
// state machine (events in, effects out, in the manner of etcd's raft
// `Ready`): the caller feeds it proposals, votes and timer expiries, and
// carries out the effects it returns (messages, writes, timers, answers).
// It never reads a clock or sends anything itself, so the deterministic
// simulation (tests/unit/paxos_sim.hpp) runs exactly the code a node runs.
//
// It owns what was the lock actor's orchestration: the queue of pending
// changes, the one-round-trip path (CASPaxos 2.2.1), retries after a
// conflict with randomised back-off, a rejoining node's catch-up round and
// the no-quorum timeout. The local acceptor votes synchronously, and its
// vote counts only once the caller reports it durable.
#pragma once

#include "core/acceptor.hpp"
#include "core/ballot.hpp"
#include "core/change.hpp"
#include "core/incarnation.hpp"
#include "core/mutation.hpp"
#include "core/round.hpp"
#include "core/time.hpp"

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <variant>
#include <vector>

namespace godistlock::core {

struct ProposerSetup {
  size_t quorum = 1;
  bool alone = false; // a cluster of one: no peers to ask
  Millis round_timeout{1000};
  // Fault injection: a proposer stalled this long between its phases.
  Millis hold_accepts{0};
  Mutation mutation = Mutation::none;
  // Rounds lost to competing proposers before the change is reported
  // undecided (the client then tries another server).
  int max_attempts = 12;
  uint64_t seed = 0; // of the back-off jitter
};

struct Proposal {
  Change change;
  uint64_t tag = 0; // the caller's, handed back with the outcome
  // A rejoining node's catch-up: only the peers vote, the value is always
  // rewritten, and the decided value is installed in the local acceptor
  // (notes 4.3).
  bool catch_up = false;
  // Set once a round for this change was lost: the change may have taken
  // effect anyway (changes read it; they must stay pure functions).
  std::shared_ptr<bool> retried;
};

// Voter 0 of every round is the local acceptor; peers are 1..N.
constexpr uint32_t local_voter = 0;

enum class ProposerTimer { round_timeout, retry, hold_over };

// ---------------------------------------------------------------- effects

// To every peer (never to the local acceptor, which the proposer asks itself).
struct SendPrepare {
  uint64_t round = 0;
  Ballot ballot;
};
struct SendAccept {
  uint64_t round = 0;
  Ballot ballot;
  LockState value;
  Ballot next_promise;
  PromiseSet promise_set;
};
// Write the local acceptor's record (when `write`), then, after every
// earlier write too, report `on_durable(ticket)`.
struct Persist {
  bool write = true;
  uint64_t ticket = 0;
};
// Report `on_timer(kind, round)` after `delay`.
struct ArmTimer {
  ProposerTimer kind = ProposerTimer::round_timeout;
  uint64_t round = 0;
  Millis delay{0};
};
// The local acceptor took a new value (parked waiters may be served).
struct AcceptorChanged {};
// Why a change was not decided: how long it tried and who answered, so
// that a dead peer, a slow one and a duelling proposer can be told apart.
struct NoQuorum {
  uint64_t elapsed_ms = 0;
  int rounds = 0;
  bool timed_out = false;        // its last round ran out of time
  std::set<uint32_t> heard_from; // peers that answered one of its rounds
  std::set<uint32_t> refused_by; // voters (0: local) that refused a round
};
struct Finished {
  uint64_t tag = 0;
  Result result;
  bool decided = false;        // false: the outcome is unknown
  std::optional<NoQuorum> why; // when not decided
  Ballot ballot;               // when decided: the round's ballot
  bool read_only = false;      // decided from the promises alone
};

using ProposerEffect =
    std::variant<SendPrepare, SendAccept, Persist, ArmTimer, AcceptorChanged, Finished>;
using ProposerEffects = std::vector<ProposerEffect>;

class Proposer {
public:
  // `acceptor` and `book` are the node's (the acceptor of this lock); both
  // must outlive the proposer. `self` names the local voter as it is now.
  Proposer(ProposerSetup setup, BallotSource ballots, Acceptor& acceptor, IncarnationBook& book,
           std::function<Voter()> self);

  ProposerEffects propose(Proposal proposal, Instant now);
  // A peer's vote in round `round`; answers to an earlier round are ignored.
  ProposerEffects on_promise(uint64_t round, uint32_t from, const Promise& p, Instant now);
  ProposerEffects on_accepted(uint64_t round, uint32_t from, const Accepted& a, Instant now);
  // Peer `from` answered but would not vote (not ready: still catching up).
  void on_unready(uint64_t round, uint32_t from);
  ProposerEffects on_timer(ProposerTimer kind, uint64_t round, Instant now);
  ProposerEffects on_durable(uint64_t ticket, Instant now);

  // Go above `seen` from the next round on (a rejoin's ballot floor).
  void observe(const Ballot& seen) { ballots_.observe(seen); }
  // Is `round` the one in flight (answers to others are ignored)?
  bool in_round(uint64_t round) const { return flight_ && flight_->id == round; }
  // Rounds begun and rounds lost to a conflict since the start (metrics).
  uint64_t rounds_started() const { return rounds_started_; }
  uint64_t conflicts() const { return conflicts_; }
  // Nothing in flight and nothing queued.
  bool idle() const { return !flight_ && queue_.empty(); }

private:
  struct InFlight {
    uint64_t id = 0;
    Round round;
    Proposal proposal;
    int attempts = 0; // rounds lost to competing proposers so far
    Instant started;
    bool timed_out = false;
    std::set<uint32_t> heard_from;
    std::set<uint32_t> refused_by;
  };
  // What our last decided round left behind: the acceptors that accepted
  // it promised `next` with their accept, so the next round may skip the
  // prepare. Used once; dropped after any lost round.
  struct OneRoundTrip {
    Ballot next;
    LockState value;
    PromiseSet promisers;
  };
  // The local acceptor's vote, waiting for its write.
  struct LocalVote {
    uint64_t round = 0;
    std::variant<Promise, Accepted> vote;
  };

  void start_next(Instant now, ProposerEffects& out);
  void run_round(Instant now, ProposerEffects& out);
  bool try_one_round_trip(Instant now, ProposerEffects& out);
  void promised(uint32_t from, const Promise& p, Instant now, ProposerEffects& out);
  void accepted(uint32_t from, const Accepted& a, Instant now, ProposerEffects& out);
  void start_accept(Instant now, ProposerEffects& out);
  void retry_after_conflict(const Ballot& conflict, Instant now, ProposerEffects& out);
  void finish(bool decided, Instant now, ProposerEffects& out);
  void note_peer(uint32_t from, bool refused);

  ProposerSetup setup_;
  BallotSource ballots_;
  Acceptor& acceptor_;
  IncarnationBook& book_;
  std::function<Voter()> self_;
  std::mt19937_64 jitter_;
  std::deque<Proposal> queue_; // waiting for the round in flight
  std::optional<InFlight> flight_;
  std::optional<OneRoundTrip> cached_;
  std::map<uint64_t, LocalVote> local_votes_; // by ticket
  uint64_t next_round_id_ = 0;
  uint64_t next_ticket_ = 0;
  uint64_t rounds_started_ = 0;
  uint64_t conflicts_ = 0;
};

} // namespace godistlock::core
