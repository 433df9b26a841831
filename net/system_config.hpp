// The CAF configuration every GoDistLock process uses: message types, the
// middleman, an application id that keeps foreign CAF apps out, heartbeats
// so a hung peer is noticed (they must be on at both ends), and the
// scheduler.
#pragma once

#include <caf/actor_system_config.hpp>

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>

namespace godistlock::net {

// CAF's scheduler. "sharing" (one queue, a condition variable signalled on
// every enqueue) is the default: CAF 0.17's work stealing polls for ~25 ms
// per idle worker before it sleeps, which on a small machine competes with
// the threads doing the work (docs/performance.md).
struct SchedulerOptions {
  std::string policy = "sharing"; // or "stealing"
  size_t threads = default_threads();
  // Worker threads: the cores, from 2 to 4.
  static size_t default_threads();
};

// "sharing"/"stealing" and 1-64 threads; nullopt and `error` otherwise.
std::optional<SchedulerOptions> parse_scheduler(const std::string& policy, size_t threads,
                                                std::string& error);

struct SystemConfig : caf::actor_system_config {
  explicit SystemConfig(const SchedulerOptions& scheduler = {});
};

constexpr std::chrono::milliseconds heartbeat_interval{250};
constexpr std::chrono::milliseconds connection_timeout{2000};

} // namespace godistlock::net
