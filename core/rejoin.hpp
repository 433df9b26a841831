// How a node that lost its data decides whether and how it may vote again
// (notes section 4.3). Pure bookkeeping over the peers' rejoin answers; the
// node actor moves the messages and runs the catch-up rounds.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace godistlock::core {

// One peer's answer to our rejoin: it has recorded our new incarnation.
struct RejoinAnswer {
  bool voting = false;                          // false: the peer is itself catching up
  bool accepted_any = false;                    // the peer has ever accepted a value
  std::vector<std::string> locks;               // every lock the peer has a record of
  uint64_t highest_counter = 0;                 // highest ballot counter it promised or accepted
  std::map<std::string, uint64_t> incarnations; // what it knows of other nodes
  // Nonzero: the peer knows a newer incarnation of the rejoining node than
  // the one it announced (a late message of an earlier life); the node must
  // pick one above this and ask everyone again.
  uint64_t newer_incarnation = 0;
  uint64_t fence_floor = 0; // where fresh locks start on the peer (after a data loss)
};

class RejoinPlan {
public:
  enum class Verdict {
    waiting,         // too few peers have answered yet
    vote_now,        // nothing this node could have known is missing
    catch_up,        // rewrite every lock from a majority, then vote
    needs_bootstrap, // no member holds data: a new cluster, or all data lost
    majority_lost,   // too few members still hold their data
  };

  // `peers` is N-1, `quorum` a majority of N. `bootstrap`: the operator
  // says this is a brand-new cluster (--bootstrap).
  RejoinPlan(size_t peers, size_t quorum, bool bootstrap)
      : peers_(peers), quorum_(quorum), bootstrap_(bootstrap) {}

  // Keeps the latest answer of each peer (numbered 1..peers).
  void on_answer(uint32_t peer, RejoinAnswer answer);
  Verdict verdict() const;

  // Valid once the verdict is not `waiting` (from the peers that answered):
  std::set<std::string> locks() const;
  // Catch-up rounds must use ballot counters above this.
  uint64_t ballot_floor() const;
  std::map<std::string, uint64_t> incarnations() const;
  // The highest fence floor of any peer: a node joining after a majority
  // lost its data must start fresh locks above it too, or a quorum without
  // the nodes that set it could issue a token again.
  uint64_t fence_floor() const;
  size_t voting_peers() const;
  // Voting peers that must have answered before a verdict while others are
  // silent: N - quorum + 1 and a quorum (all for N = 3, 3 of 4 for N = 5).
  size_t voting_needed() const;
  size_t answered() const { return answers_.size(); }
  std::vector<uint32_t> missing() const;

private:
  size_t peers_;
  size_t quorum_;
  bool bootstrap_;
  std::map<uint32_t, RejoinAnswer> answers_;
};

} // namespace godistlock::core
