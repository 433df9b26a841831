#include "net/metrics_server.hpp"

#include <CivetServer.h>
#include <prometheus/exposer.h>

#include <cstring>
#include <mutex>
#include <stdexcept>

namespace godistlock::net {

namespace {

// The health check of the one server in this process (see the header).
std::mutex health_mutex;
std::unique_ptr<std::function<Health()>> health_check;

// What civetweb said while starting (why a bind failed), for the error.
thread_local std::string startup_log;

int log_message(const mg_connection*, const char* message) {
  if (startup_log.empty())
    startup_log = message;
  return 1; // logged here: civetweb prints nothing itself
}

int begin_request(mg_connection* conn) {
  auto* info = mg_get_request_info(conn);
  if (!info || !info->local_uri || std::strcmp(info->local_uri, "/healthz") != 0)
    return 0; // civetweb and the exposer handle it (/metrics, or 404)
  Health health;
  {
    std::lock_guard<std::mutex> guard(health_mutex);
    if (health_check)
      health = (*health_check)();
  }
  auto body = std::string(health.ok ? "ok" : "unhealthy") +
              (health.detail.empty() ? "" : ": " + health.detail) + "\n";
  int status = health.ok ? 200 : 503;
  mg_printf(conn,
            "HTTP/1.1 %d %s\r\nContent-Type: text/plain; charset=utf-8\r\n"
            "Content-Length: %zu\r\nConnection: close\r\n\r\n",
            status, health.ok ? "OK" : "Service Unavailable", body.size());
  if (std::strcmp(info->request_method, "HEAD") != 0)
    mg_write(conn, body.data(), body.size());
  return status;
}

} // namespace

std::optional<std::string> metrics_listen_address(const Endpoint& endpoint, std::string& error) {
  if (!is_ip_or_localhost(endpoint.host)) {
    error = "expected an IP address (or localhost) and a port, such as 127.0.0.1:9100";
    return std::nullopt;
  }
  if (endpoint.host == "localhost")
    return "127.0.0.1:" + std::to_string(endpoint.port);
  return endpoint.to_string(); // [IPV6]:PORT for IPv6
}

MetricsServer::MetricsServer(const Endpoint& endpoint,
                             std::vector<std::shared_ptr<prometheus::Collectable>> collectables,
                             std::function<Health()> health)
    : collectables_(std::move(collectables)) {
  std::string error;
  auto address = metrics_listen_address(endpoint, error);
  if (!address)
    throw std::runtime_error(error);
  {
    std::lock_guard<std::mutex> guard(health_mutex);
    if (health_check)
      throw std::runtime_error("a metrics listener already runs in this process");
    health_check = std::make_unique<std::function<Health()>>(std::move(health));
  }
  CivetCallbacks callbacks;
  callbacks.begin_request = begin_request;
  callbacks.log_message = log_message;
  startup_log.clear();
  try {
    // Two threads: a scrape and a health check at once.
    exposer_ = std::make_unique<prometheus::Exposer>(
        std::vector<std::string>{"listening_ports", *address, "num_threads", "2"}, &callbacks);
  } catch (const std::exception& e) {
    std::lock_guard<std::mutex> guard(health_mutex);
    health_check.reset();
    auto why = startup_log.empty() ? std::string(e.what()) : startup_log;
    while (!why.empty() && (why.back() == '\n' || why.back() == ' '))
      why.pop_back();
    throw std::runtime_error("--metrics: cannot listen on " + endpoint.to_string() + ": " + why);
  }
  for (auto& c : collectables_)
    exposer_->RegisterCollectable(c);
  auto ports = exposer_->GetListeningPorts();
  port_ = ports.empty() ? endpoint.port : static_cast<uint16_t>(ports.front());
}

MetricsServer::~MetricsServer() {
  exposer_.reset(); // stops civetweb's threads: no request runs the check after this
  std::lock_guard<std::mutex> guard(health_mutex);
  health_check.reset();
}

} // namespace godistlock::net
