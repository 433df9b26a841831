#include "cluster_fixture.hpp"

#include <netinet/in.h>
#include <stdexcept>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

namespace godistlock::testing {

namespace {

// A port the OS just handed out on 127.0.0.1; closed again at once.
uint16_t free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0)
    throw std::runtime_error("cannot find a free port");
  ::close(fd);
  return ntohs(addr.sin_port);
}

} // namespace

ClusterFixture::ClusterFixture(size_t n) {
  for (size_t i = 0; i < n; ++i)
    ports.push_back(free_port());
  members.resize(n);
  for (size_t i = 0; i < n; ++i)
    start(i, true);
  // A new cluster votes once every member has heard from every other.
  auto probe = client_for({}, std::chrono::milliseconds(500));
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
  for (size_t i = 0; i < n; ++i) {
    while (true) {
      auto s = probe->stats(i);
      if (s.ok() && !s.stats.recovering())
        break;
      if (std::chrono::steady_clock::now() > deadline)
        throw std::runtime_error("member " + std::to_string(i + 1) + " did not start voting");
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
}

ClusterFixture::~ClusterFixture() {
  for (size_t i = 0; i < members.size(); ++i)
    stop(i);
}

void ClusterFixture::start(size_t i, bool bootstrap) {
  auto m = std::make_unique<ClusterMember>();
  actors::NodeOptions options;
  options.id = "n" + std::to_string(i + 1);
  options.listen = net::Endpoint{"127.0.0.1", ports[i]};
  for (size_t j = 0; j < ports.size(); ++j)
    if (j != i)
      options.peers.push_back(net::Member{"", net::Endpoint{"127.0.0.1", ports[j]}});
  options.data_dir = dir.path() + "/" + options.id;
  options.bootstrap = bootstrap;
  m->node = std::make_unique<actors::Node>(m->sys, options);
  members[i] = std::move(m);
}

void ClusterFixture::stop(size_t i) {
  if (!members[i])
    return;
  members[i]->node->drain(std::chrono::seconds(5));
  members[i]->node->stop();
  members[i].reset();
}

std::unique_ptr<client::Client> ClusterFixture::client_for(std::vector<size_t> which,
                                                           std::chrono::milliseconds timeout) {
  if (which.empty())
    for (size_t i = 0; i < ports.size(); ++i)
      which.push_back(i);
  client::ClientOptions options;
  for (auto i : which)
    options.servers.push_back(net::Endpoint{"127.0.0.1", ports[i]});
  options.attempt_timeout = timeout;
  return std::make_unique<client::Client>(options);
}

} // namespace godistlock::testing
