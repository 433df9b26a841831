// The proposer side of one Paxos round on one lock: collect promises from a
// quorum, adopt the value with the highest accepted ballot, apply the change,
// collect accepts from a quorum. Pure bookkeeping: the caller moves the
// messages (to the local acceptor and, in a cluster, to the peers).
#pragma once

#include "core/acceptor.hpp"
#include "core/change.hpp"

#include <cstdint>
#include <set>

namespace godistlock::core {

class Round {
public:
  enum class Phase { preparing, accepting, decided, failed };

  // `voters` is the number of acceptors. With it, a round fails only once
  // so many refused that no quorum is left; without it (0), at the first
  // refusal. Failing early costs a retry, and a retried change may find its
  // own earlier effect (changes are written to be idempotent for that).
  // `must_accept`: never decide a read from the promises alone (a rejoining
  // node's catch-up must rewrite the value at its ballot).
  Round(Ballot ballot, size_t quorum, Change change, size_t voters = 0, bool must_accept = false)
      : ballot_(ballot), quorum_(quorum), voters_(voters), must_accept_(must_accept),
        change_(std::move(change)) {}

  // Feed one acceptor's reply to the prepare. Returns the phase afterwards;
  // on `accepting`, send accept(ballot(), proposal(), next_promise()).
  Phase on_promise(uint32_t from, const Promise& p);
  // The one-round-trip path (CASPaxos 2.2.1): the acceptors that accepted
  // this proposer's last value `decided` at the previous ballot promised
  // `ballot()` with it, so this round starts in the accept phase on that
  // value. Only for changes that do not depend on the witness age: false
  // (and nothing changes) otherwise; then run the prepare as usual.
  bool skip_prepare(const LockState& decided, const PromiseSet& promisers);
  Phase on_accepted(uint32_t from, const Accepted& a);

  Phase phase() const { return phase_; }
  const Ballot& ballot() const { return ballot_; }
  // The ballot acceptors promise on accept, so this proposer's next round
  // on the lock may skip the prepare.
  Ballot next_promise() const { return Ballot{ballot_.counter + 1, ballot_.node, ballot_.nonce}; }
  const LockState& proposal() const { return proposal_; }
  const Result& result() const { return result_; }
  const Ballot& conflict() const { return conflict_; }
  // True when the change left the value as it was and every promise carried
  // the same (ballot, value): the read is then decided without an accept.
  bool decided_without_accept() const { return read_only_; }
  // The promises the accept phase rests on; acceptors refuse the accept if
  // one of them came from an incarnation that has since lost its data.
  const PromiseSet& promise_set() const { return promise_set_; }
  // The acceptors that accepted, once decided: they promised next_promise().
  const PromiseSet& accept_set() const { return accept_set_; }
  // Test mutation (core/mutation.hpp): hand the change this age instead of
  // the witnesses'. Breaks the lease rule on purpose.
  void judge_expiry_by(uint64_t age_ms) { forced_age_ = age_ms; }

private:
  // Records a refusal in the current phase; true when a quorum can no
  // longer be reached. A duplicate of a request an acceptor already granted
  // is refused by it, and does not count.
  bool refused(uint32_t from, const std::set<uint32_t>& granted_by);

  Ballot ballot_;
  size_t quorum_;
  size_t voters_;
  bool must_accept_;
  Change change_;
  std::set<uint32_t> refused_by_;
  Phase phase_ = Phase::preparing;
  std::set<uint32_t> promised_by_;
  std::set<uint32_t> accepted_by_;
  Ballot best_ballot_;
  LockState best_value_;
  bool all_same_ = true;
  std::optional<uint64_t> forced_age_;
  std::vector<Promise> promises_;
  PromiseSet promise_set_;
  PromiseSet accept_set_;
  LockState proposal_;
  Result result_;
  Ballot conflict_;
  bool read_only_ = false;
};

} // namespace godistlock::core
