#include "fixture.hpp"

#include <cstdlib>
#include <filesystem>
#include <stdexcept>

namespace godistlock::testing {

TempDir::TempDir() {
  char tmpl[] = "/tmp/godistlock-test-XXXXXX";
  if (!mkdtemp(tmpl))
    throw std::runtime_error("mkdtemp failed");
  path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

NodeFixture::NodeFixture(std::chrono::milliseconds idle_retire,
                         std::chrono::milliseconds hold_accepts)
    : hold_accepts(hold_accepts) {
  start(idle_retire);
}

NodeFixture::~NodeFixture() {
  stop();
}

void NodeFixture::start(std::chrono::milliseconds idle_retire) {
  actors::NodeOptions options;
  options.id = "test-node";
  options.listen = net::Endpoint{"127.0.0.1", port};
  options.data_dir = dir.path() + "/data";
  options.fsync = true;
  options.idle_retire = idle_retire;
  options.test_hold_accepts = hold_accepts;
  node = std::make_unique<actors::Node>(sys, options);
  port = node->port();
}

void NodeFixture::stop() {
  if (!node)
    return;
  node->drain(std::chrono::seconds(5));
  node->stop();
  node.reset();
}

std::unique_ptr<client::Client> NodeFixture::make_client(std::chrono::milliseconds timeout) {
  client::ClientOptions options;
  options.servers = {net::Endpoint{"127.0.0.1", port}};
  options.attempt_timeout = timeout;
  return std::make_unique<client::Client>(options);
}

} // namespace godistlock::testing
