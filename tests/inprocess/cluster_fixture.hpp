// Several nodes in the test process, each with its own actor system, data
// dir and loopback port, started as one cluster.
#pragma once

#include "fixture.hpp"

#include <memory>
#include <vector>

namespace godistlock::testing {

struct ClusterMember {
  net::SystemConfig cfg;
  caf::actor_system sys{cfg};
  std::unique_ptr<actors::Node> node;
};

struct ClusterFixture {
  TempDir dir;
  std::vector<uint16_t> ports;
  std::vector<std::unique_ptr<ClusterMember>> members;

  explicit ClusterFixture(size_t n);
  ~ClusterFixture();

  void start(size_t i, bool bootstrap);
  void stop(size_t i);
  // A client that talks to the listed members only (all when empty).
  std::unique_ptr<client::Client>
  client_for(std::vector<size_t> which = {},
             std::chrono::milliseconds timeout = std::chrono::milliseconds(3000));
};

} // namespace godistlock::testing
