#include "core/acceptor.hpp"

#include <algorithm>

namespace godistlock::core {

Promise Acceptor::prepare(const Ballot& b, Instant now) {
  Promise p;
  if (b <= record_.promised || b <= record_.accepted) {
    p.conflict = std::max(record_.promised, record_.accepted);
    return p;
  }
  record_.promised = b;
  p.ok = true;
  p.accepted = record_.accepted;
  p.value = record_.value;
  p.age_ms = age_ms(now);
  return p;
}

Accepted Acceptor::accept(const Ballot& b, const LockState& v, const Ballot& next_promise,
                          Instant now) {
  Accepted a;
  if (b < record_.promised || b <= record_.accepted) {
    a.conflict = std::max(record_.promised, record_.accepted);
    return a;
  }
  if (v.epoch != record_.value.epoch)
    epoch_seen_ = now;
  record_.accepted = b;
  record_.value = v;
  record_.promised = std::max(b, next_promise);
  a.ok = true;
  return a;
}

} // namespace godistlock::core
