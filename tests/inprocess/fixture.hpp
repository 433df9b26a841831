// A node running in the test process on a free loopback port, with its own
// temporary data dir, plus helpers to make clients for it.
#pragma once

#include "actors/node.hpp"
#include "client/client.hpp"
#include "net/system_config.hpp"

#include <caf/all.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <string>

namespace godistlock::testing {

class TempDir {
public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }

private:
  std::string path_;
};

struct NodeFixture {
  TempDir dir;
  net::SystemConfig cfg;
  caf::actor_system sys{cfg};
  std::unique_ptr<actors::Node> node;
  uint16_t port = 0;
  std::chrono::milliseconds hold_accepts{0};

  // hold_accepts: --test-hold-accepts, a stall between every round's phases.
  explicit NodeFixture(std::chrono::milliseconds idle_retire = std::chrono::milliseconds(3000),
                       std::chrono::milliseconds hold_accepts = std::chrono::milliseconds(0));
  ~NodeFixture();

  // (Re)starts the node on the same data dir (and port, once known).
  void start(std::chrono::milliseconds idle_retire);
  void stop();
  std::unique_ptr<client::Client>
  make_client(std::chrono::milliseconds timeout = std::chrono::milliseconds(3000));
};

} // namespace godistlock::testing
