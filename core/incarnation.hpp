// Which incarnation of each node may still be counted in a vote (notes
// section 4.3). A node that lost its data comes back as a new incarnation;
// once it has told us so, a round that counted a promise of the old one
// (which the node forgot) must not be accepted here any more.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace godistlock::core {

// One promise a proposer counted: from which node, in which incarnation.
struct Voter {
  std::string node;
  uint64_t incarnation = 0;
  friend bool operator==(const Voter& a, const Voter& b) {
    return a.node == b.node && a.incarnation == b.incarnation;
  }
};
using PromiseSet = std::vector<Voter>;

// A node's incarnations are ordered: the generation (high 32 bits) grows
// with every life, the low bits are random so that two starts never share
// one. Ordered, a late rejoin from an earlier life cannot set a peer back.
uint64_t next_incarnation(uint64_t newest_known, uint32_t random);

// Shared by every lock actor of a node (they check accepts) and the node
// actor (it records rejoins), hence the mutex: a rejoin snapshot must cover
// every accept admitted before it, and no accept after it may pass.
class IncarnationBook {
public:
  struct Supersession {
    bool recorded = false;        // false: we know a newer incarnation
    uint64_t current = 0;         // the node's incarnation as we know it now
    uint64_t highest_counter = 0; // highest ballot counter promised or accepted here
  };
  // A node announced a new incarnation. Recorded unless we know a newer
  // one; `highest_counter` is every ballot the node's snapshot must stay above.
  Supersession supersede(const std::string& node, uint64_t incarnation);
  // Learns incarnations another node knew of (a rejoining node's catch-up);
  // keeps the newer of two.
  void learn(const std::map<std::string, uint64_t>& known);
  // Notes a ballot counter this node promised.
  void note(uint64_t counter);
  // Notes a value this node holds as accepted (replayed from disk).
  void note_accepted(uint64_t counter);
  // An accept at `counter` whose round counted `promisers`: false when one
  // of them is an incarnation known to be superseded. Notes the ballot, and
  // learns incarnations newer than those known.
  bool admit(const PromiseSet& promisers, uint64_t counter);

  std::map<std::string, uint64_t> known() const;
  uint64_t highest_counter() const;
  // Has this node ever accepted a value? A member that never did cannot
  // hold anything a rejoining node must learn.
  bool accepted_any() const;

  // One "node incarnation" line per node; parse returns nullopt on damage.
  static std::string encode(const std::map<std::string, uint64_t>& known);
  static std::optional<std::map<std::string, uint64_t>> parse(const std::string& text);

private:
  mutable std::mutex mutex_;
  std::map<std::string, uint64_t> current_; // node -> its newest announced incarnation
  uint64_t highest_counter_ = 0;
  bool accepted_any_ = false;
};

} // namespace godistlock::core
