// One node's counters and its view of the cluster (Client::stats; the
// fields are described in docs/operations.md, "Monitoring"). A plain value:
// the public API exposes no protocol or Protobuf type. The accessors keep
// the names of the protocol message it stands for.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace godistlock::client {

namespace detail {
struct ReplyDecoder; // fills these from the server's answer (client.cpp)
}

class NodeStats {
public:
  const std::string& node_id() const { return node_id_; }
  uint64_t uptime_ms() const { return uptime_ms_; }
  bool draining() const { return draining_; }
  // Not voting yet: catching up after losing its data.
  bool recovering() const { return recovering_; }
  uint64_t cluster_size() const { return cluster_size_; }
  // ID@HOST:PORT for the node itself, the peers as its --peers gives them.
  const std::vector<std::string>& members() const { return members_; }
  uint64_t live_lock_actors() const { return live_lock_actors_; }
  uint64_t resting_locks() const { return resting_locks_; }
  uint64_t held_locks() const { return held_locks_; }
  uint64_t waiters() const { return waiters_; }
  uint64_t grants() const { return grants_; }
  uint64_t releases() const { return releases_; }
  uint64_t expiries() const { return expiries_; }
  uint64_t stale_attempts() const { return stale_attempts_; }
  uint64_t wal_commits() const { return wal_commits_; }
  uint64_t wal_records() const { return wal_records_; }
  uint64_t wal_tail_bytes_dropped() const { return wal_tail_bytes_dropped_; }
  // What the node itself sees of the cluster (not what this client reaches):
  // the peers linked now ("ID@HOST:PORT"), and whether they and the node
  // make a majority (`majority` members).
  const std::vector<std::string>& connected_peers() const { return connected_peers_; }
  bool sees_majority() const { return sees_majority_; }
  uint64_t majority() const { return majority_; }
  uint64_t incarnation() const { return incarnation_; } // of its data dir
  // While recovering and still waiting for answers (before catching up): the
  // peers not heard from ("ID@HOST:PORT"), how many that hold data have
  // answered and how many such answers it needs.
  const std::vector<std::string>& awaiting_peers() const { return awaiting_peers_; }
  uint64_t data_peers_answered() const { return data_peers_answered_; }
  uint64_t data_peers_needed() const { return data_peers_needed_; }

private:
  friend struct detail::ReplyDecoder;
  std::string node_id_;
  uint64_t uptime_ms_ = 0;
  bool draining_ = false;
  bool recovering_ = false;
  uint64_t cluster_size_ = 0;
  std::vector<std::string> members_;
  uint64_t live_lock_actors_ = 0;
  uint64_t resting_locks_ = 0;
  uint64_t held_locks_ = 0;
  uint64_t waiters_ = 0;
  uint64_t grants_ = 0;
  uint64_t releases_ = 0;
  uint64_t expiries_ = 0;
  uint64_t stale_attempts_ = 0;
  uint64_t wal_commits_ = 0;
  uint64_t wal_records_ = 0;
  uint64_t wal_tail_bytes_dropped_ = 0;
  std::vector<std::string> connected_peers_;
  bool sees_majority_ = false;
  uint64_t majority_ = 0;
  uint64_t incarnation_ = 0;
  std::vector<std::string> awaiting_peers_;
  uint64_t data_peers_answered_ = 0;
  uint64_t data_peers_needed_ = 0;
};

} // namespace godistlock::client
