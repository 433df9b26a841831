// godistlock-bench cluster-memory: a real cluster of godistlock-node
// processes on loopback is filled with held locks; then each node's
// resident memory is read, and one node is stopped and started again and
// timed until it serves a request.
#include "bench/cluster_memory.hpp"

#include "bench/fill.hpp"
#include "client/client.hpp"
#include "messages/codec.hpp"
#include "net/connect.hpp"
#include "net/system_config.hpp"

#include <arpa/inet.h>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <netinet/in.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

extern char** environ;

namespace godistlock::bench {

namespace {

using namespace std::chrono;

uint16_t free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0)
    throw std::runtime_error("no free port");
  ::close(fd);
  return ntohs(addr.sin_port);
}

struct NodeProcess {
  std::string id;
  uint16_t port = 0;
  std::string data_dir;
  pid_t pid = -1;
  std::string endpoint() const { return "127.0.0.1:" + std::to_string(port); }
};

class Cluster {
public:
  Cluster(const ClusterMemoryOptions& o, std::string dir) : options_(o), dir_(std::move(dir)) {
    for (size_t i = 1; i <= o.nodes; ++i)
      nodes_.push_back({"n" + std::to_string(i), free_port(), dir_ + "/n" + std::to_string(i)});
  }
  ~Cluster() {
    for (auto& n : nodes_)
      stop(n);
  }

  std::vector<NodeProcess>& nodes() { return nodes_; }

  void start(NodeProcess& n, bool bootstrap) {
    std::vector<std::string> args{options_.node_binary,
                                  "--id",
                                  n.id,
                                  "--listen",
                                  n.endpoint(),
                                  "--data-dir",
                                  n.data_dir,
                                  "--durability",
                                  options_.durability,
                                  "--idle-retire",
                                  "200ms",
                                  "--log-level",
                                  "warn"};
    std::string peers;
    for (auto& other : nodes_)
      if (other.id != n.id)
        peers += (peers.empty() ? "" : ",") + other.id + "@" + other.endpoint();
    if (!peers.empty()) {
      args.push_back("--peers");
      args.push_back(peers);
    }
    if (bootstrap)
      args.push_back("--bootstrap");
    std::vector<char*> argv;
    for (auto& a : args)
      argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t files;
    posix_spawn_file_actions_init(&files);
    auto log = dir_ + "/" + n.id + ".log";
    posix_spawn_file_actions_addopen(&files, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_adddup2(&files, 1, 2);
    int rc = posix_spawn(&n.pid, argv[0], &files, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&files);
    if (rc != 0)
      throw std::runtime_error("cannot start " + options_.node_binary + ": " + std::strerror(rc));
  }

  // SIGTERM (the node drains and exits), then SIGKILL after 30 s.
  static void stop(NodeProcess& n) {
    if (n.pid <= 0)
      return;
    ::kill(n.pid, SIGTERM);
    auto deadline = steady_clock::now() + seconds(30);
    while (::waitpid(n.pid, nullptr, WNOHANG) == 0) {
      if (steady_clock::now() > deadline) {
        ::kill(n.pid, SIGKILL);
        ::waitpid(n.pid, nullptr, 0);
        break;
      }
      std::this_thread::sleep_for(milliseconds(20));
    }
    n.pid = -1;
  }

private:
  ClusterMemoryOptions options_;
  std::string dir_;
  std::vector<NodeProcess> nodes_;
};

// One request to `node`, answered within 2 s, or nothing.
std::optional<wire::Response> ask(caf::actor_system& sys, const node_actor& node,
                                  wire::Request req) {
  caf::scoped_actor self{sys};
  std::optional<wire::Response> out;
  req.set_client_id(client::random_client_id());
  req.set_request_id(1);
  self->request(node, seconds(2), messages::wire_request{std::move(req)})
      .receive([&](messages::wire_response& r) { out = std::move(r.pb); }, [](caf::error&) {});
  return out;
}

std::optional<wire::NodeStats> stats_of(caf::actor_system& sys, const node_actor& node) {
  wire::Request req;
  req.mutable_stats();
  auto r = ask(sys, node, req);
  if (!r || r->code() != wire::OK)
    return std::nullopt;
  return r->stats();
}

// Connects to `n` and waits until it votes and sees a majority.
std::optional<node_actor> until_serving(caf::actor_system& sys, const NodeProcess& n,
                                        steady_clock::time_point deadline) {
  auto ep = net::parse_endpoint(n.endpoint());
  while (steady_clock::now() < deadline) {
    auto handle = net::connect_node(sys, *ep, milliseconds(500));
    if (handle) {
      auto s = stats_of(sys, *handle);
      if (s && !s->recovering() && s->sees_majority())
        return *handle;
    }
    std::this_thread::sleep_for(milliseconds(10));
  }
  return std::nullopt;
}

double mib(size_t bytes) {
  return static_cast<double>(bytes) / (1024.0 * 1024.0);
}

} // namespace

size_t resident_bytes(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string key;
  while (in >> key) {
    if (key == "VmRSS:") {
      size_t kb = 0;
      in >> kb;
      return kb * 1024;
    }
    std::getline(in, key);
  }
  return 0;
}

int cluster_memory(const ClusterMemoryOptions& o) {
  char tmpl[] = "/tmp/godistlock-bench-cluster-XXXXXX";
  if (!mkdtemp(tmpl)) {
    std::cerr << "godistlock-bench: cannot make a temp dir: " << std::strerror(errno) << "\n";
    return 1;
  }
  std::string dir = tmpl;
  int rc = 0;
  {
    net::SystemConfig cfg;
    caf::actor_system sys{cfg};
    Cluster cluster(o, dir);
    for (auto& n : cluster.nodes())
      cluster.start(n, true);
    std::vector<node_actor> handles;
    auto deadline = steady_clock::now() + seconds(30);
    for (auto& n : cluster.nodes()) {
      auto h = until_serving(sys, n, deadline);
      if (!h) {
        std::cerr << "godistlock-bench: " << n.id << " did not serve within 30 s (log: " << dir
                  << "/" << n.id << ".log)\n";
        return 3;
      }
      handles.push_back(*h);
    }
    std::vector<size_t> before;
    for (auto& n : cluster.nodes())
      before.push_back(resident_bytes(n.pid));

    auto fill = fill_locks(sys, handles, o.locks, o.threads, o.window);
    std::cout << std::fixed << std::setprecision(1) << "filled " << fill.granted << " of "
              << o.locks << " locks in " << fill.seconds << " s ("
              << static_cast<double>(fill.granted) / fill.seconds << " grants/s, " << o.nodes
              << " nodes, durability " << o.durability << ")";
    if (fill.refused + fill.lost > 0)
      std::cout << "; " << fill.refused << " refused (first: " << fill.first_refusal << "), "
                << fill.lost << " unanswered";
    std::cout << "\n";
    if (fill.granted != o.locks)
      rc = 1;

    // Resting: every lock actor has handed its lock to the table.
    auto rest_deadline = steady_clock::now() + seconds(120);
    for (auto& h : handles)
      while (steady_clock::now() < rest_deadline) {
        auto s = stats_of(sys, h);
        if (s && s->live_lock_actors() == 0)
          break;
        std::this_thread::sleep_for(milliseconds(200));
      }
    for (size_t i = 0; i < cluster.nodes().size(); ++i) {
      auto& n = cluster.nodes()[i];
      auto s = stats_of(sys, handles[i]);
      auto rss = resident_bytes(n.pid);
      std::cout << n.id << ": RSS " << mib(rss) << " MiB (" << mib(before[i])
                << " MiB before the fill), held " << (s ? s->held_locks() : 0) << ", resting "
                << (s ? s->resting_locks() : 0) << ", live lock actors "
                << (s ? s->live_lock_actors() : 0) << "\n";
    }

    // Restart n1: stop it (it drains), start it on its data dir, and time
    // until it answers a status of a filled lock (a round with its peers).
    auto& first = cluster.nodes()[0];
    Cluster::stop(first);
    auto started = steady_clock::now();
    cluster.start(first, false);
    auto ep = net::parse_endpoint(first.endpoint());
    bool served = false;
    while (!served && steady_clock::now() - started < seconds(120)) {
      if (auto h = net::connect_node(sys, *ep, milliseconds(500))) {
        wire::Request req;
        req.mutable_status()->set_name("orders/0");
        auto r = ask(sys, *h, req);
        served = r && r->code() == wire::OK && r->status().held();
      }
      if (!served)
        std::this_thread::sleep_for(milliseconds(10));
    }
    auto took = duration<double>(steady_clock::now() - started).count();
    if (served)
      std::cout << first.id << " restarted with " << o.locks << " locks on disk: served again "
                << std::setprecision(2) << took << " s after it was started; RSS "
                << std::setprecision(1) << mib(resident_bytes(first.pid)) << " MiB\n";
    else {
      std::cout << first.id << " did not serve within 120 s of its restart\n";
      rc = 1;
    }
  }
  std::system(("rm -rf " + dir).c_str());
  return rc;
}

} // namespace godistlock::bench
