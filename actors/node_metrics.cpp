#include "actors/node_metrics.hpp"

#include <prometheus/gauge.h>

#include <algorithm>
#include <cctype>
#include <chrono>

namespace godistlock::actors {

namespace {

using prometheus::BuildCounter;
using prometheus::BuildHistogram;

double seconds_since(core::Instant since) {
  return std::chrono::duration<double>(core::Clock::now() - since).count();
}

// 1 ms to about 17 min, doubling: from a free lock's grant to long holds.
prometheus::Histogram::BucketBoundaries duration_buckets() {
  prometheus::Histogram::BucketBoundaries bounds;
  for (double b = 0.001; b < 1100; b *= 2)
    bounds.push_back(b);
  return bounds;
}

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

} // namespace

NodeMetrics::NodeMetrics()
    : requests_(BuildCounter()
                    .Name("godistlock_requests_total")
                    .Help("Client requests answered by this node, by kind and result")
                    .Register(*registry_)),
      grant_wait_(BuildHistogram()
                      .Name("godistlock_grant_wait_seconds")
                      .Help("From an acquire attempt's arrival at this node to its grant")
                      .Register(*registry_)
                      .Add({}, duration_buckets())),
      hold_(BuildHistogram()
                .Name("godistlock_hold_seconds")
                .Help("From a grant to its release or expiry, as this node saw them")
                .Register(*registry_)
                .Add({}, duration_buckets())),
      rounds_(BuildCounter()
                  .Name("godistlock_rounds_total")
                  .Help("Paxos rounds this node started as proposer")
                  .Register(*registry_)
                  .Add({})),
      conflicts_(BuildCounter()
                     .Name("godistlock_round_conflicts_total")
                     .Help("Rounds this node lost to a competing proposer and retried")
                     .Register(*registry_)
                     .Add({})),
      wal_syncs_(BuildCounter()
                     .Name("godistlock_wal_syncs_total")
                     .Help("Group commits of the write-ahead log (one write and one fsync)")
                     .Register(*registry_)
                     .Add({})),
      wal_sync_seconds_(
          BuildHistogram()
              .Name("godistlock_wal_sync_seconds")
              .Help("Time of one group commit: write and fsync")
              .Register(*registry_)
              .Add({},
                   prometheus::Histogram::BucketBoundaries{0.0001, 0.0005, 0.001, 0.002, 0.005,
                                                           0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2})),
      wal_records_per_sync_(BuildHistogram()
                                .Name("godistlock_wal_records_per_sync")
                                .Help("Records one group commit wrote")
                                .Register(*registry_)
                                .Add({}, prometheus::Histogram::BucketBoundaries{
                                             1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024})) {}

void NodeMetrics::answered(const char* kind, const wire::Response& response,
                           core::Instant arrived) {
  requests_.Add({{"kind", kind}, {"result", lower(wire::Code_Name(response.code()))}}).Increment();
  if (response.code() == wire::OK && response.has_grant())
    grant_wait_.Observe(seconds_since(arrived));
}

void NodeMetrics::holder_seen(const std::string& name, uint64_t token) {
  std::lock_guard<std::mutex> guard(holds_mutex_);
  auto it = holds_.find(name);
  if (it != holds_.end() && it->second.token == token)
    return;
  if (it != holds_.end()) {
    hold_.Observe(seconds_since(it->second.since));
    holds_.erase(it);
  }
  if (token != 0)
    holds_.emplace(name, Hold{token, core::Clock::now()});
}

void NodeMetrics::wal_synced(double seconds, uint64_t records) {
  wal_syncs_.Increment();
  wal_sync_seconds_.Observe(seconds);
  wal_records_per_sync_.Observe(static_cast<double>(records));
}

const char* request_kind(const wire::Request& request) {
  if (request.has_acquire())
    return request.acquire().wait_ms() > 0 ? "acquire" : "try";
  if (request.has_release())
    return "release";
  if (request.has_refresh())
    return "refresh";
  if (request.has_status())
    return "status";
  if (request.has_check())
    return "check";
  if (request.has_cancel())
    return "cancel";
  if (request.has_stats())
    return "stats";
  return "unknown";
}

namespace {

class StatsCollectable : public prometheus::Collectable {
public:
  explicit StatsCollectable(std::function<std::optional<wire::NodeStats>()> fetch)
      : fetch_(std::move(fetch)) {}

  std::vector<prometheus::MetricFamily> Collect() const override {
    std::vector<prometheus::MetricFamily> families;
    auto stats = fetch_();
    if (!stats)
      return families;
    auto& s = *stats;
    auto add = [&](const char* name, const char* help, prometheus::MetricType type, double value) {
      prometheus::MetricFamily f{name, help, type, {}};
      prometheus::ClientMetric m;
      if (type == prometheus::MetricType::Counter)
        m.counter.value = value;
      else
        m.gauge.value = value;
      f.metric.push_back(std::move(m));
      families.push_back(std::move(f));
    };
    using T = prometheus::MetricType;
    auto peers = s.cluster_size() > 0 ? s.cluster_size() - 1 : 0;
    add("godistlock_peers", "Other members of the cluster", T::Gauge, peers);
    add("godistlock_peers_reachable", "Peers this node is connected to now", T::Gauge,
        s.connected_peers_size());
    add("godistlock_sees_majority", "1 when this node and the peers it reaches are a majority",
        T::Gauge, s.sees_majority() ? 1 : 0);
    add("godistlock_recovering", "1 while catching up after losing its data (not voting)", T::Gauge,
        s.recovering() ? 1 : 0);
    add("godistlock_draining", "1 while shutting down", T::Gauge, s.draining() ? 1 : 0);
    add("godistlock_live_lock_actors", "Locks with an actor in memory", T::Gauge,
        s.live_lock_actors());
    add("godistlock_resting_locks", "Locks resting in the table without an actor", T::Gauge,
        s.resting_locks());
    add("godistlock_held_locks", "Locks held, as this node's actors last saw them", T::Gauge,
        s.held_locks());
    add("godistlock_waiters", "Waiters queued, as this node's actors last saw them", T::Gauge,
        s.waiters());
    add("godistlock_incarnation", "Incarnation of this node's data dir", T::Gauge,
        static_cast<double>(s.incarnation()));
    add("godistlock_uptime_seconds", "Seconds since this node started", T::Gauge,
        s.uptime_ms() / 1000.0);
    add("godistlock_grants_total", "Tokens issued by rounds this node decided", T::Counter,
        s.grants());
    add("godistlock_expiries_total", "Lapsed leases dropped by rounds this node decided",
        T::Counter, s.expiries());
    add("godistlock_stale_attempts_total", "Delayed lease restarts answered without a change",
        T::Counter, s.stale_attempts());
    add("godistlock_wal_records_total", "Records committed to the write-ahead log", T::Counter,
        s.wal_records());
    return families;
  }

private:
  std::function<std::optional<wire::NodeStats>()> fetch_;
};

} // namespace

std::shared_ptr<prometheus::Collectable>
stats_collectable(std::function<std::optional<wire::NodeStats>()> fetch) {
  return std::make_shared<StatsCollectable>(std::move(fetch));
}

net::Health health_of(const std::optional<wire::NodeStats>& stats) {
  if (!stats)
    return {false, "the node did not answer"};
  auto& s = *stats;
  auto sees = "sees " + std::to_string(s.connected_peers_size() + 1) + " of " +
              std::to_string(s.cluster_size()) + " members, majority " +
              std::to_string(s.majority());
  if (s.draining())
    return {false, "shutting down"};
  if (s.recovering())
    return {false, "not voting yet, catching up from its peers; " + sees};
  return {s.sees_majority(), sees};
}

} // namespace godistlock::actors
