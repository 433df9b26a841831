#include "net/system_config.hpp"

#include "messages/config.hpp"

#include <caf/io/middleman.hpp>

#include <algorithm>
#include <thread>

namespace godistlock::net {

size_t SchedulerOptions::default_threads() {
  return std::clamp<size_t>(std::thread::hardware_concurrency(), 2, 4);
}

std::optional<SchedulerOptions> parse_scheduler(const std::string& policy, size_t threads,
                                                std::string& error) {
  if (policy != "sharing" && policy != "stealing") {
    error = "bad scheduler policy '" + policy + "': expected sharing or stealing";
    return std::nullopt;
  }
  if (threads < 1 || threads > 64) {
    error = "bad scheduler threads " + std::to_string(threads) + ": expected 1 to 64";
    return std::nullopt;
  }
  return SchedulerOptions{policy, threads};
}

SystemConfig::SystemConfig(const SchedulerOptions& scheduler) {
  messages::register_types(*this);
  load<caf::io::middleman>();
  set("middleman.app-identifiers", std::vector<std::string>{"godistlock"});
  set("middleman.heartbeat-interval", caf::timespan{heartbeat_interval});
  set("middleman.connection-timeout", caf::timespan{connection_timeout});
  if (scheduler.policy == "stealing")
    set("scheduler.policy", caf::atom("stealing"));
  else
    set("scheduler.policy", caf::atom("sharing"));
  set("scheduler.max-threads", scheduler.threads);
}

} // namespace godistlock::net
