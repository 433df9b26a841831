#include "client/reply_decoder.hpp"

namespace godistlock::client::detail {

LockStatus ReplyDecoder::lock_status(const wire::LockStatus& in) {
  LockStatus out;
  out.held_ = in.held();
  out.owner_ = in.owner();
  out.token_ = in.token();
  out.remaining_ms_ = in.remaining_ms();
  out.waiters_ = in.waiters();
  out.fence_ = in.fence();
  return out;
}

NodeStats ReplyDecoder::node_stats(const wire::NodeStats& in) {
  NodeStats out;
  out.node_id_ = in.node_id();
  out.uptime_ms_ = in.uptime_ms();
  out.draining_ = in.draining();
  out.recovering_ = in.recovering();
  out.cluster_size_ = in.cluster_size();
  out.members_.assign(in.members().begin(), in.members().end());
  out.live_lock_actors_ = in.live_lock_actors();
  out.resting_locks_ = in.resting_locks();
  out.held_locks_ = in.held_locks();
  out.waiters_ = in.waiters();
  out.grants_ = in.grants();
  out.releases_ = in.releases();
  out.expiries_ = in.expiries();
  out.stale_attempts_ = in.stale_attempts();
  out.wal_commits_ = in.wal_commits();
  out.wal_records_ = in.wal_records();
  out.wal_tail_bytes_dropped_ = in.wal_tail_bytes_dropped();
  out.connected_peers_.assign(in.connected_peers().begin(), in.connected_peers().end());
  out.sees_majority_ = in.sees_majority();
  out.majority_ = in.majority();
  out.incarnation_ = in.incarnation();
  out.awaiting_peers_.assign(in.awaiting_peers().begin(), in.awaiting_peers().end());
  out.data_peers_answered_ = in.data_peers_answered();
  out.data_peers_needed_ = in.data_peers_needed();
  return out;
}

} // namespace godistlock::client::detail
