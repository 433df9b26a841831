// Command-line options of godistlock-node.
#pragma once

#include "actors/node.hpp"
#include "core/log.hpp"
#include "net/system_config.hpp"

#include <optional>
#include <string>
#include <vector>

namespace godistlock::actors {

struct NodeCommandLine {
  NodeOptions node;
  core::LogLevel log_level = core::LogLevel::info;
  core::LogFormat log_format = core::LogFormat::text;
  net::SchedulerOptions scheduler;
  bool help = false;
  bool version = false;
  // --metrics: serve GET /metrics and /healthz here (net/metrics_server.hpp).
  std::optional<net::Endpoint> metrics;
  // Fault-injection harness only: this node's clock runs at this rate.
  double test_clock_rate = 1.0;
};

extern const char* const node_usage;

// Parses argv (without argv[0]). Returns an empty string on success,
// otherwise a one-line error for the user.
std::string parse_node_command_line(const std::vector<std::string>& args, NodeCommandLine& out);

} // namespace godistlock::actors
