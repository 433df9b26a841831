// Paxos ballot numbers. Ordered lexicographically by (counter, node, nonce);
// `nonce` is random per process start, so a restarted node never reuses a
// ballot it may have used before the crash.
#pragma once

#include <cstdint>
#include <string>
#include <tuple>

namespace godistlock::core {

struct Ballot {
  uint64_t counter = 0;
  uint32_t node = 0;
  uint64_t nonce = 0;

  bool is_zero() const { return counter == 0 && node == 0 && nonce == 0; }
  auto key() const { return std::tie(counter, node, nonce); }
  friend bool operator==(const Ballot& a, const Ballot& b) { return a.key() == b.key(); }
  friend bool operator!=(const Ballot& a, const Ballot& b) { return !(a == b); }
  friend bool operator<(const Ballot& a, const Ballot& b) { return a.key() < b.key(); }
  friend bool operator<=(const Ballot& a, const Ballot& b) { return !(b < a); }
  friend bool operator>(const Ballot& a, const Ballot& b) { return b < a; }
  friend bool operator>=(const Ballot& a, const Ballot& b) { return !(a < b); }
};

std::string to_string(const Ballot& b);

// Issues this node's ballots. After a conflict, `observe` fast-forwards past
// the competing ballot so the next attempt can win (CASPaxos section 2.1).
class BallotSource {
public:
  BallotSource(uint32_t node, uint64_t nonce) : node_(node), nonce_(nonce) {}

  Ballot next() { return Ballot{++counter_, node_, nonce_}; }
  void observe(const Ballot& seen) {
    if (seen.counter > counter_)
      counter_ = seen.counter;
  }
  uint32_t node() const { return node_; }

private:
  uint32_t node_;
  uint64_t nonce_;
  uint64_t counter_ = 0;
};

} // namespace godistlock::core
