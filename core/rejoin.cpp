#include "core/rejoin.hpp"

#include <algorithm>

namespace godistlock::core {

void RejoinPlan::on_answer(uint32_t peer, RejoinAnswer answer) {
  if (peer == 0 || peer > peers_)
    return;
  answers_[peer] = std::move(answer);
}

size_t RejoinPlan::voting_needed() const {
  // Enough to meet every quorum that may have counted our forgotten promise
  // or accept without us: N - quorum + 1 of the N - 1 peers. And the
  // catch-up needs a quorum of voting peers. (The second is never less.)
  return std::max(quorum_, peers_ + 2 - quorum_);
}

RejoinPlan::Verdict RejoinPlan::verdict() const {
  if (answers_.size() < peers_) {
    // Some peers have not recorded our new incarnation and may still accept
    // a round that counted our forgotten promises. That is harmless once
    // enough voting peers did (docs/protocol.md, "Losing a data dir"): such
    // a round also counted one of them, and either stays below the ballot
    // floor or its proposer learns our new incarnation from that promise.
    // Every lock they name is caught up then, promise-only records too:
    // our acceptor must end up promised above that floor.
    if (voting_peers() < voting_needed())
      return Verdict::waiting;
    return locks().empty() ? Verdict::vote_now : Verdict::catch_up;
  }
  // Every peer has recorded our new incarnation: none accepts a round that
  // counted our forgotten promises any more.
  // A lock record with nothing accepted anywhere holds only promises, and
  // the incarnation check already makes forgotten promises harmless. (In a
  // new cluster, the first member to vote gets records from requests it
  // cannot decide alone.)
  bool any_lock = std::any_of(answers_.begin(), answers_.end(), [](auto& a) {
    return a.second.accepted_any && !a.second.locks.empty();
  });
  // We do not vote during catch-up, so a majority of all N must be peers
  // that still hold their data: they hold every chosen value.
  if (voting_peers() >= quorum_)
    return any_lock ? Verdict::catch_up : Verdict::vote_now;
  // Fewer members hold data than a majority: either the cluster is brand
  // new, or a majority forgot what it promised and accepted. Only the
  // operator can tell, and only a new cluster may start from nothing.
  if (any_lock)
    return Verdict::majority_lost;
  return bootstrap_ ? Verdict::vote_now : Verdict::needs_bootstrap;
}

std::set<std::string> RejoinPlan::locks() const {
  std::set<std::string> out;
  for (auto& [peer, a] : answers_)
    out.insert(a.locks.begin(), a.locks.end());
  return out;
}

uint64_t RejoinPlan::ballot_floor() const {
  uint64_t floor = 0;
  for (auto& [peer, a] : answers_)
    floor = std::max(floor, a.highest_counter);
  // An accept at counter k also promised k + 1 (the one-round-trip path).
  return floor + 1;
}

std::map<std::string, uint64_t> RejoinPlan::incarnations() const {
  std::map<std::string, uint64_t> out;
  // Incarnations are ordered: what any peer recorded for a node counts.
  for (auto& [peer, a] : answers_)
    for (auto& [node, incarnation] : a.incarnations)
      out[node] = std::max(out[node], incarnation);
  return out;
}

uint64_t RejoinPlan::fence_floor() const {
  uint64_t floor = 0;
  for (auto& [peer, a] : answers_)
    floor = std::max(floor, a.fence_floor);
  return floor;
}

size_t RejoinPlan::voting_peers() const {
  return static_cast<size_t>(
      std::count_if(answers_.begin(), answers_.end(), [](auto& a) { return a.second.voting; }));
}

std::vector<uint32_t> RejoinPlan::missing() const {
  std::vector<uint32_t> out;
  for (uint32_t p = 1; p <= peers_; ++p)
    if (!answers_.count(p))
      out.push_back(p);
  return out;
}

} // namespace godistlock::core
