// godistlock-node: parses options, starts a Node, serves until SIGINT or
// SIGTERM, then drains and exits 0. All real work lives in actors/.
#include "actors/node.hpp"
#include "actors/node_options.hpp"
#include "core/log.hpp"
#include "core/time.hpp"
#include "core/wal.hpp"
#include "godistlock/version.hpp"
#include "net/endpoint.hpp"
#include "net/metrics_server.hpp"
#include "net/system_config.hpp"

#include <caf/all.hpp>
#include <caf/io/all.hpp>

#include <csignal>
#include <iostream>
#include <memory>

using namespace godistlock;

int main(int argc, char** argv) {
  actors::NodeCommandLine cli;
  if (auto error = actors::parse_node_command_line({argv + 1, argv + argc}, cli); !error.empty()) {
    std::cerr << "godistlock-node: " << error << "\n" << actors::node_usage;
    return 2;
  }
  if (cli.help) {
    std::cout << actors::node_usage;
    return 0;
  }
  if (cli.version) {
    std::cout << "godistlock-node " << godistlock::version << " (commit " << godistlock::git_commit
              << ")\n";
    return 0;
  }
  core::set_log_level(cli.log_level);
  core::set_log_format(cli.log_format);
  core::Clock::test_rate().store(cli.test_clock_rate);
  // Signals are taken by sigwait below; every thread CAF starts inherits the mask.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  net::SystemConfig cfg{cli.scheduler};
  caf::actor_system sys{cfg};
  try {
    actors::Node node{sys, cli.node};
    for (auto& w : node.warnings())
      GDL_WARN(w);
    if (cli.node.mutation != core::Mutation::none || cli.test_clock_rate != 1.0 ||
        cli.node.test_hold_accepts.count() > 0)
      GDL_WARN("TEST MODE: --test-mutation "
               << core::to_string(cli.node.mutation) << ", --test-clock-rate "
               << cli.test_clock_rate << ", --test-hold-accepts "
               << cli.node.test_hold_accepts.count() << " ms. This node is broken on purpose.");
    if (!cli.node.fsync)
      GDL_WARN("--durability none: acknowledged grants and releases are NOT synced to disk "
               "and can be lost in a crash. For experiments and benchmarks only.");
    std::unique_ptr<net::MetricsServer> metrics;
    if (cli.metrics) {
      metrics = std::make_unique<net::MetricsServer>(
          *cli.metrics,
          std::vector<std::shared_ptr<prometheus::Collectable>>{
              node.metrics()->registry(),
              actors::stats_collectable([&node] { return node.stats(std::chrono::seconds(1)); })},
          [&node] { return actors::health_of(node.stats(std::chrono::seconds(1))); });
      auto shown = *cli.metrics;
      shown.port = metrics->port();
      GDL_INFO("metrics on http://" << shown.to_string() << "/metrics and /healthz");
    }
    auto bound = cli.node.listen;
    bound.port = node.port();
    GDL_INFO("godistlock-node " << cli.node.id << " ready on " << bound.to_string() << " (data dir "
                                << cli.node.data_dir << ", " << node.replayed_locks()
                                << " locks replayed, durability "
                                << (cli.node.fsync ? "fsync" : "none") << ", cluster of "
                                << cli.node.peers.size() + 1
                                << (node.joining_at_start() ? ", catching up before voting" : "")
                                << ")");
    // A node that must stop on its own wakes the wait below like a signal.
    auto main_thread = pthread_self();
    node.on_fatal([main_thread] { pthread_kill(main_thread, SIGTERM); });
    int signal = 0;
    sigwait(&stop_signals, &signal);
    if (auto reason = node.fatal_reason(); !reason.empty()) {
      metrics.reset();
      node.stop();
      GDL_ERROR("stopped: " << reason);
      return 1;
    }
    GDL_INFO("signal " << signal << ": draining");
    node.drain(std::chrono::seconds(5));
    metrics.reset(); // no scrape asks the node from here on
    node.stop();
    GDL_INFO("stopped");
  } catch (const core::StorageError& e) {
    GDL_ERROR("data dir: " << e.what());
    return 1;
  } catch (const std::exception& e) {
    GDL_ERROR(e.what());
    return 1;
  }
  return 0;
}
