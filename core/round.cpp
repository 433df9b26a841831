#include "core/round.hpp"

#include <algorithm>
#include <limits>

namespace godistlock::core {

bool Round::refused(uint32_t from, const std::set<uint32_t>& granted_by) {
  if (voters_ == 0)
    return true;
  if (granted_by.count(from) == 0)
    refused_by_.insert(from);
  return voters_ - std::min(voters_, refused_by_.size()) < quorum_;
}

Round::Phase Round::on_promise(uint32_t from, const Promise& p) {
  if (phase_ != Phase::preparing)
    return phase_;
  if (!p.ok) {
    if (p.conflict > conflict_)
      conflict_ = p.conflict;
    if (refused(from, promised_by_))
      phase_ = Phase::failed;
    return phase_;
  }
  if (!promised_by_.insert(from).second)
    return phase_; // duplicate delivery
  promises_.push_back(p);
  if (promised_by_.size() < quorum_)
    return phase_;
  // Highest accepted ballot wins: it descends from every chosen value.
  // Among never-written registers (ballot zero) the highest fence wins: a
  // node restarted after a majority lost its data starts fresh locks above
  // a fence floor (docs/operations.md).
  const Promise* best = &promises_.front();
  for (auto& q : promises_) {
    if (q.accepted > best->accepted ||
        (q.accepted.is_zero() && best->accepted.is_zero() && q.value.fence > best->value.fence))
      best = &q;
    if (q.accepted != promises_.front().accepted || q.value != promises_.front().value)
      all_same_ = false;
  }
  LockState current = best->value;
  // Only acceptors that hold the current epoch may witness its age.
  WitnessAge age;
  for (auto& q : promises_)
    if (q.value.epoch == current.epoch && (!age || q.age_ms > *age))
      age = q.age_ms;
  if (forced_age_)
    age = forced_age_;
  proposal_ = current;
  result_ = change_(proposal_, age);
  if (proposal_.epoch.number != current.epoch.number)
    proposal_.epoch.origin = ballot_;
  if (proposal_ == current && all_same_ && !must_accept_) {
    read_only_ = true;
    phase_ = Phase::decided;
    return phase_;
  }
  for (auto& q : promises_)
    promise_set_.push_back(q.voter);
  promises_.clear();
  refused_by_.clear(); // the accept phase counts its own refusals
  phase_ = Phase::accepting;
  return phase_;
}

bool Round::skip_prepare(const LockState& decided, const PromiseSet& promisers) {
  if (phase_ != Phase::preparing)
    return false;
  // Age-independent: the change does the same with no witness (nothing
  // lapses) and with an unbounded one (everything lapses).
  LockState unknown = decided;
  LockState lapsed = decided;
  auto r = change_(unknown, std::nullopt);
  auto r_lapsed = change_(lapsed, std::numeric_limits<uint64_t>::max());
  if (!(unknown == lapsed) || r.outcome != r_lapsed.outcome || r.token != r_lapsed.token)
    return false;
  proposal_ = std::move(unknown);
  result_ = r;
  if (proposal_.epoch.number != decided.epoch.number)
    proposal_.epoch.origin = ballot_;
  promise_set_ = promisers;
  phase_ = Phase::accepting;
  return true;
}

Round::Phase Round::on_accepted(uint32_t from, const Accepted& a) {
  if (phase_ != Phase::accepting)
    return phase_;
  if (!a.ok) {
    if (a.conflict > conflict_)
      conflict_ = a.conflict;
    if (refused(from, accepted_by_))
      phase_ = Phase::failed;
    return phase_;
  }
  if (accepted_by_.insert(from).second)
    accept_set_.push_back(a.voter);
  if (accepted_by_.size() >= quorum_)
    phase_ = Phase::decided;
  return phase_;
}

} // namespace godistlock::core
