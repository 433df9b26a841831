// What every actor of one node shares: identity, tuning and counters.
#pragma once

#include "actors/node_metrics.hpp"
#include "core/incarnation.hpp"
#include "core/limits.hpp"
#include "core/mutation.hpp"
#include "messages/interfaces.hpp"
#include "net/membership.hpp"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace godistlock::actors {

// Counters read by `stats`; written by lock and storage actors.
struct NodeCounters {
  std::atomic<uint64_t> grants{0};
  std::atomic<uint64_t> releases{0};
  std::atomic<uint64_t> expiries{0};
  std::atomic<uint64_t> stale_attempts{0};
  std::atomic<int64_t> held_locks{0};
  std::atomic<int64_t> waiters{0};
  std::atomic<uint64_t> wal_commits{0};
  std::atomic<uint64_t> wal_records{0};
  // Torn tail cut off locks.log at start (a crash during a write).
  std::atomic<uint64_t> wal_tail_bytes_dropped{0};
};

// What a node does when it must stop on its own (a majority of the cluster
// lost its data): main() exits 1; tests read `reason`.
struct FatalStop {
  std::mutex mutex;
  std::string reason;
  std::function<void()> notify;
};

// A node id a peer sent, fit for a log line: ids are printable by the
// rules of --id; anything else (a damaged or hostile message) is not printed.
inline std::string shown_peer_id(const std::string& id) {
  return core::check_owner(id).empty() ? "'" + id + "'" : "(an invalid id)";
}

// The peers the cluster actor is connected to now (handshake done), as
// "id@host:port"; written by the cluster actor, read by `stats`, so that
// `godistlock cluster` can tell whether a node itself sees a majority.
struct PeerView {
  std::mutex mutex;
  std::vector<std::string> connected; // by peer number - 1; empty: not connected
};

struct NodeContext {
  std::string node_id; // --id
  // Random when the data dir is created; a node that lost its data comes
  // back as a new incarnation (docs/protocol.md, "Losing a data dir").
  // Only changes while catching up, before the node votes.
  std::shared_ptr<std::atomic<uint64_t>> incarnation = std::make_shared<std::atomic<uint64_t>>(0);
  std::shared_ptr<core::IncarnationBook> incarnations = std::make_shared<core::IncarnationBook>();
  // The fence a lock without any record starts from: 0, or after a majority
  // lost its data (--accept-data-loss), a floor above every earlier token.
  std::shared_ptr<std::atomic<uint64_t>> fence_floor = std::make_shared<std::atomic<uint64_t>>(0);
  bool joining = false;          // lost its data: catch up before voting
  bool bootstrap = false;        // --bootstrap: a brand-new cluster may start empty
  bool accept_data_loss = false; // --accept-data-loss
  core::Mutation mutation = core::Mutation::none; // --test-mutation: deliberate bugs, tests only
  std::chrono::milliseconds test_hold_accepts{0}; // --test-hold-accepts, tests only
  bool test_exit_before_announce = false;         // --test-exit-before-announce, tests only
  std::shared_ptr<FatalStop> fatal = std::make_shared<FatalStop>();
  uint32_t node_index = 1;          // this node's ballot tag (a hash of its id)
  uint64_t boot_nonce = 0;          // random per process start: fresh ballots
  std::vector<std::string> members; // every member, this one first
  net::Membership membership;
  size_t quorum = 1; // a majority of the members
  storage_actor storage;
  cluster_actor cluster; // invalid when running alone
  // A round that has not reached a quorum by then fails with "no quorum".
  std::chrono::milliseconds round_timeout{1000};
  std::shared_ptr<NodeCounters> counters = std::make_shared<NodeCounters>();
  std::shared_ptr<PeerView> peer_view = std::make_shared<PeerView>();
  std::shared_ptr<NodeMetrics> metrics = std::make_shared<NodeMetrics>(); // for --metrics
  // A lock actor with nothing to do rests its state in the table after this.
  std::chrono::milliseconds idle_retire{3000};
};

} // namespace godistlock::actors
