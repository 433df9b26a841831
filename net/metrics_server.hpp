// The plain HTTP listener of godistlock-node --metrics: GET /metrics in the
// Prometheus text format (prometheus-cpp's Exposer, over civetweb) and
// GET /healthz, 200 while the node sees a majority of its cluster, 503
// otherwise. One per process: civetweb's request hook has no user pointer.
#pragma once

#include "net/endpoint.hpp"

#include <prometheus/collectable.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace prometheus {
class Exposer;
}

namespace godistlock::net {

// The civetweb form of a --metrics address ("127.0.0.1:9100",
// "[::1]:9100"), or nullopt with `error` set: civetweb binds IP addresses
// only, so a DNS name other than localhost is refused.
std::optional<std::string> metrics_listen_address(const Endpoint& endpoint, std::string& error);

// Whether the node is healthy, and a short reason ("sees 2 of 3 members").
struct Health {
  bool ok = false;
  std::string detail;
};

class MetricsServer {
public:
  // Listens on `endpoint` (throws std::runtime_error with the reason when it
  // cannot: bad address, port in use, a second server in this process).
  MetricsServer(const Endpoint& endpoint,
                std::vector<std::shared_ptr<prometheus::Collectable>> collectables,
                std::function<Health()> health);
  ~MetricsServer();
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;

  uint16_t port() const { return port_; }

private:
  std::vector<std::shared_ptr<prometheus::Collectable>> collectables_;
  std::unique_ptr<prometheus::Exposer> exposer_;
  uint16_t port_ = 0;
};

} // namespace godistlock::net
