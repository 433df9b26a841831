// What a node measures for Prometheus (godistlock-node --metrics): request
// outcomes, grant wait and hold times, Paxos rounds, WAL syncs. The actors
// feed it with one call each; net/metrics_server.cpp serves it. Counters
// that `stats` already keeps are not duplicated here: they are read from a
// stats snapshot at scrape time (stats_collectable).
#pragma once

#include "core/time.hpp"
#include "messages/wire.hpp"
#include "net/metrics_server.hpp"

#include <prometheus/collectable.h>
#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

namespace godistlock::actors {

class NodeMetrics {
public:
  NodeMetrics();

  // The registry the metrics server exposes.
  std::shared_ptr<prometheus::Registry> registry() const { return registry_; }

  // A client request of `kind` (request_kind) answered with `response`,
  // `arrived` when it reached this node; a grant also records its wait.
  void answered(const char* kind, const wire::Response& response, core::Instant arrived);
  // The holder's token of lock `name` as this node's actor now sees it (0:
  // free). A change of token ends a hold, which is observed.
  void holder_seen(const std::string& name, uint64_t token);
  void round_started() { rounds_.Increment(); }
  void round_conflict() { conflicts_.Increment(); }
  void wal_synced(double seconds, uint64_t records);

private:
  std::shared_ptr<prometheus::Registry> registry_ = std::make_shared<prometheus::Registry>();
  prometheus::Family<prometheus::Counter>& requests_;
  prometheus::Histogram& grant_wait_;
  prometheus::Histogram& hold_;
  prometheus::Counter& rounds_;
  prometheus::Counter& conflicts_;
  prometheus::Counter& wal_syncs_;
  prometheus::Histogram& wal_sync_seconds_;
  prometheus::Histogram& wal_records_per_sync_;
  struct Hold {
    uint64_t token = 0;
    core::Instant since;
  };
  std::mutex holds_mutex_;
  std::unordered_map<std::string, Hold> holds_; // held locks only
};

// "acquire", "try", "release", ... of a client request; "unknown" otherwise.
const char* request_kind(const wire::Request& request);

// The gauges and totals of a stats snapshot (peers reachable, quorum, live
// lock actors, resting locks, incarnation, grants, ...) as metric families.
// `fetch` is called on every scrape; nullopt (the node did not answer)
// leaves them out.
std::shared_ptr<prometheus::Collectable>
stats_collectable(std::function<std::optional<wire::NodeStats>()> fetch);

// /healthz: healthy while the node sees a majority of its cluster and votes
// (not catching up, not draining); nullopt (no answer) is unhealthy.
net::Health health_of(const std::optional<wire::NodeStats>& stats);

} // namespace godistlock::actors
