#include "core/rejoin.hpp"

#include <algorithm>

namespace godistlock::core {

void RejoinPlan::on_answer(uint32_t peer, RejoinAnswer answer) {
  if (peer == 0 || peer > peers_)
    return;
  answers_[peer] = std::move(answer);
}

RejoinPlan::Verdict RejoinPlan::verdict() const {
  // Every peer must have recorded our new incarnation: one that has not
  // could still accept a round that counted our forgotten promises.
  if (answers_.size() < peers_)
    return Verdict::waiting;
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
  return floor;
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
