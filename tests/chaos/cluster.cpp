#include "cluster.hpp"

#include <arpa/inet.h>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <netinet/in.h>
#include <random>
#include <set>
#include <stdexcept>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

namespace gdl_chaos {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

uint16_t free_loopback_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return 0;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  uint16_t port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0)
    port = ntohs(a.sin_port);
  ::close(fd);
  return port;
}

namespace {

// The low end of the kernel's ephemeral port range (32768 if unreadable).
int ephemeral_low() {
  std::ifstream in("/proc/sys/net/ipv4/ip_local_port_range");
  int low = 0, high = 0;
  if (in >> low >> high && low > 2048 && low <= high)
    return low;
  return 32768;
}

bool bindable(uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return false;
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(port);
  bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(fd);
  return ok;
}

// A port for a member, below the ephemeral range: the kernel never hands
// it to a port-0 bind (the proxies) or to an outgoing connection, so it
// stays free for the member while the member is down. Seen otherwise: a
// proxy created after the ports were picked took one, and a 5-node cluster
// could not start.
uint16_t member_port(const std::set<uint16_t>& taken) {
  int high = ephemeral_low() - 1;
  int low = std::max(1024, high - 20000);
  std::mt19937 rng(static_cast<uint32_t>(::getpid()) ^ std::random_device{}());
  std::uniform_int_distribution<int> pick(low, high);
  for (int attempt = 0; attempt < 500; ++attempt) {
    auto port = static_cast<uint16_t>(pick(rng));
    if (!taken.count(port) && bindable(port))
      return port;
  }
  return 0;
}

} // namespace

Cluster::Cluster(ClusterOptions options) : options_(std::move(options)) {
  std::set<uint16_t> taken;
  for (size_t i = 0; i < options_.nodes; ++i) {
    uint16_t port = member_port(taken);
    if (port == 0)
      throw std::runtime_error("no free loopback port below the ephemeral range");
    taken.insert(port);
    Member m;
    m.id = "n" + std::to_string(i + 1);
    m.port = port;
    m.data_dir = options_.base_dir + "/data-" + m.id;
    m.log_path = options_.base_dir + "/" + m.id + ".log";
    members_.push_back(std::move(m));
  }
  auto n = members_.size();
  links_.resize(n * n);
  for (size_t from = 0; from < n; ++from)
    for (size_t to = 0; to < n; ++to)
      if (from != to)
        links_[from * n + to] = std::make_unique<LinkProxy>(
            members_[from].id + "->" + members_[to].id, members_[to].port);
  for (auto& m : members_)
    client_links_.push_back(std::make_unique<LinkProxy>("clients->" + m.id, m.port));
}

Cluster::~Cluster() {
  for (auto& m : members_)
    if (m.process)
      m.process->kill_and_reap();
  links_.clear();
  client_links_.clear();
}

std::string Cluster::endpoint(size_t i) const {
  return "127.0.0.1:" + std::to_string(members_.at(i).port);
}

std::string Cluster::client_endpoint(size_t i) const {
  return "127.0.0.1:" + std::to_string(client_links_.at(i)->port());
}

LinkProxy& Cluster::link(size_t from, size_t to) {
  return *links_.at(from * members_.size() + to);
}

std::vector<std::string> Cluster::peer_flags(size_t i) const {
  std::string peers;
  for (size_t j = 0; j < members_.size(); ++j) {
    if (j == i)
      continue;
    if (!peers.empty())
      peers += ',';
    peers +=
        members_[j].id + "@127.0.0.1:" + std::to_string(links_[i * members_.size() + j]->port());
  }
  return {"--peers", peers};
}

std::string Cluster::launch(size_t i, bool bootstrap, const std::vector<std::string>& extra) {
  auto& m = members_.at(i);
  if (m.process && m.process->running())
    return "member " + m.id + " still runs";
  std::vector<std::string> argv{options_.node_binary, "--id",       m.id,      "--listen",
                                endpoint(i),          "--data-dir", m.data_dir};
  auto peers = peer_flags(i);
  argv.insert(argv.end(), peers.begin(), peers.end());
  argv.insert(argv.end(), options_.common_flags.begin(), options_.common_flags.end());
  argv.insert(argv.end(), extra.begin(), extra.end());
  if (bootstrap)
    argv.push_back("--bootstrap");
  // Readiness is judged from the log written after this start only.
  std::error_code ec;
  auto offset = fs::exists(m.log_path, ec) ? fs::file_size(m.log_path, ec) : 0;
  m.process = std::make_unique<ChildProcess>(argv, m.log_path);
  m.paused = false;
  const std::string ready = "ready on " + endpoint(i);
  auto until = std::chrono::steady_clock::now() + options_.ready_limit;
  while (std::chrono::steady_clock::now() < until) {
    auto log = read_file(m.log_path);
    if (log.size() > offset && log.find(ready, offset) != std::string::npos)
      return {};
    if (!m.process->running()) {
      auto tail = log.size() > offset ? log.substr(offset) : std::string();
      if (tail.size() > 600)
        tail = tail.substr(tail.size() - 600);
      return m.id + " exited (" + m.process->exit_status()->describe() + "): " + tail;
    }
    std::this_thread::sleep_for(20ms);
  }
  m.process->kill_and_reap();
  return m.id + " not ready within " + std::to_string(options_.ready_limit.count()) + " ms";
}

std::string Cluster::start() {
  for (size_t i = 0; i < members_.size(); ++i)
    if (auto error = launch(i, true, {}); !error.empty())
      return error;
  // Wait until every member votes before any client call: a request served
  // by the first member that votes gives it a lock record, and members
  // still deciding then count a data-holding minority and stop for good
  // ("only 1 of the 3 members still hold their data"), a node bug seen on
  // unmodified nodes under load.
  auto until = std::chrono::steady_clock::now() + options_.ready_limit;
  for (size_t i = 0; i < members_.size(); ++i) {
    for (;;) {
      // A member whose ready line does not say it is catching up (e.g.
      // under wiped-votes-at-once) votes already.
      auto log = read_file(members_[i].log_path);
      if (log.find("catching up before voting") == std::string::npos ||
          log.find("voting now") != std::string::npos)
        break;
      if (!members_[i].process->running())
        return members_[i].id + " stopped before voting: " + members_[i].log_path;
      if (std::chrono::steady_clock::now() >= until)
        return members_[i].id + " not voting within " +
               std::to_string(options_.ready_limit.count()) + " ms";
      std::this_thread::sleep_for(20ms);
    }
  }
  return {};
}

bool Cluster::running(size_t i) {
  auto& m = members_.at(i);
  return m.process && m.process->running();
}

void Cluster::kill(size_t i) {
  auto& m = members_.at(i);
  if (m.process)
    m.process->kill_and_reap();
  m.paused = false;
}

void Cluster::wipe(size_t i) {
  std::error_code ec;
  fs::remove_all(members_.at(i).data_dir, ec);
}

std::string Cluster::restart(size_t i, const std::vector<std::string>& extra) {
  return launch(i, false, extra);
}

void Cluster::pause(size_t i) {
  auto& m = members_.at(i);
  if (m.process && m.process->running()) {
    m.process->signal(SIGSTOP);
    m.paused = true;
  }
}

void Cluster::resume(size_t i) {
  auto& m = members_.at(i);
  if (m.process && m.paused)
    m.process->signal(SIGCONT);
  m.paused = false;
}

void Cluster::set_links(size_t a, size_t b, LinkMode mode) {
  link(a, b).set_mode(mode);
  link(b, a).set_mode(mode);
}

void Cluster::heal_network() {
  for (auto& l : client_links_)
    l->set_delay(std::chrono::milliseconds(0));
  for (auto& l : links_)
    if (l) {
      l->set_mode(LinkMode::pass);
      l->set_delay(std::chrono::milliseconds(0));
    }
}

bool Cluster::node_accepts_flag(const std::string& binary, const std::string& flag,
                                const std::string& value, const std::string& scratch_dir) {
  // The option parser reads flags in order and stops at --help, so an
  // unknown flag placed before --help makes it exit 2.
  ChildProcess probe({binary, flag, value, "--help"}, scratch_dir + "/flag-probe.log");
  auto status = probe.wait_for(10000ms);
  if (!status)
    return false;
  return status->exited && status->code == 0;
}

} // namespace gdl_chaos
