// godistlock-bench: measures GoDistLock with the workloads of the peer
// harness (../shared/peers), so the numbers compare with etcd and Redis.
//   latency: W1 uncontended (client k loops acquire/release on its own
//            names) and W2 contended (every client loops on one hot lock).
//   memory:  bytes per resting held lock, with the node in this process.
//   cluster-memory: RSS per node of a real cluster full of held locks, and
//            how soon a node restarted on those locks serves again.
// Reports medians and percentiles over several runs; asserts nothing.
#include "actors/lock_table.hpp"
#include "actors/node.hpp"
#include "bench/cluster_memory.hpp"
#include "bench/fill.hpp"
#include "client/client.hpp"
#include "client/lock_holder.hpp"
#include "core/limits.hpp"
#include "godistlock/version.hpp"
#include "messages/codec.hpp"
#include "net/system_config.hpp"

#include <caf/all.hpp>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <malloc.h>
#include <map>
#include <thread>
#include <time.h>
#include <unistd.h>
#include <vector>

using namespace godistlock;
using namespace std::chrono;

namespace {

struct Args {
  std::string mode;
  std::string servers = "127.0.0.1:7001";
  std::vector<int> clients{1, 8, 32};
  std::vector<std::string> workloads{"w1", "w2"};
  double seconds = 5;
  int runs = 3;
  size_t locks = 100000;
  bool json = false;
  size_t nodes = 3;
  std::string durability = "fsync";
};

double percentile(std::vector<double> v, double p) {
  if (v.empty())
    return 0;
  std::sort(v.begin(), v.end());
  auto i = static_cast<size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

double median(std::vector<double> v) {
  return percentile(std::move(v), 0.5);
}

struct RunResult {
  double pairs_per_s = 0;
  double p50_us = 0;
  double p99_us = 0;
  uint64_t failures = 0;
};

// One measured run: `clients` threads, each with its own Client, for
// `seconds`; latency of the acquire (from asking to being granted).
RunResult run_once(const Args& a, const std::string& workload, int clients) {
  auto servers = *net::parse_endpoint_list(a.servers);
  std::vector<std::unique_ptr<client::Client>> cs;
  for (int i = 0; i < clients; ++i) {
    client::ClientOptions o;
    o.servers = servers;
    cs.push_back(std::make_unique<client::Client>(o));
  }
  std::atomic<bool> measuring{false};
  std::atomic<bool> stop{false};
  std::vector<std::vector<double>> lat(static_cast<size_t>(clients));
  std::vector<uint64_t> pairs(static_cast<size_t>(clients), 0);
  std::vector<uint64_t> failures(static_cast<size_t>(clients), 0);
  std::vector<std::thread> threads;
  for (int k = 0; k < clients; ++k) {
    threads.emplace_back([&, k] {
      auto& c = *cs[static_cast<size_t>(k)];
      for (uint64_t i = 0; !stop; ++i) {
        auto name = workload == "w1" ? "bench-" + std::to_string(k) + "-" + std::to_string(i % 1000)
                                     : std::string("hot");
        bool counted = measuring.load();
        client::AcquireOptions o;
        o.ttl = seconds(30);
        o.wait = seconds(10);
        auto t0 = steady_clock::now();
        auto g = c.acquire(name, o);
        auto t1 = steady_clock::now();
        if (!g.ok()) {
          ++failures[static_cast<size_t>(k)];
          continue;
        }
        c.release(name, g.lease.token);
        if (counted && measuring && !stop) {
          lat[static_cast<size_t>(k)].push_back(duration<double, std::micro>(t1 - t0).count());
          ++pairs[static_cast<size_t>(k)];
        }
      }
    });
  }
  std::this_thread::sleep_for(seconds(1)); // warm-up, not counted
  measuring = true;
  auto start = steady_clock::now();
  std::this_thread::sleep_for(duration<double>(a.seconds));
  measuring = false;
  auto elapsed = duration<double>(steady_clock::now() - start).count();
  stop = true;
  for (auto& t : threads)
    t.join();
  RunResult r;
  std::vector<double> all;
  uint64_t total = 0;
  for (size_t k = 0; k < lat.size(); ++k) {
    all.insert(all.end(), lat[k].begin(), lat[k].end());
    total += pairs[k];
    r.failures += failures[k];
  }
  r.pairs_per_s = static_cast<double>(total) / elapsed;
  r.p50_us = percentile(all, 0.5);
  r.p99_us = percentile(all, 0.99);
  return r;
}

// Every listed server must answer before anything is measured: a table of
// zeros from an unreachable cluster is not a result.
bool servers_answer(const Args& a) {
  client::ClientOptions o;
  o.servers = *net::parse_endpoint_list(a.servers);
  o.attempt_timeout = seconds(2);
  client::Client c(o);
  bool all = true;
  for (size_t i = 0; i < o.servers.size(); ++i) {
    auto r = c.stats(i);
    if (!r.ok()) {
      std::cerr << "godistlock-bench: " << o.servers[i].to_string()
                << " does not answer: " << r.message << "\n";
      all = false;
    }
  }
  return all;
}

int latency(const Args& a) {
  if (!servers_answer(a))
    return 3;
  if (a.json)
    std::cout << "[";
  else
    std::cout
        << "| workload | clients | runs | pairs/s (median) | acquire p50 µs (median) | acquire "
           "p99 µs (median) | p99 range µs | failures |\n|---|---|---|---|---|---|---|---|\n";
  bool first = true;
  for (auto& w : a.workloads) {
    for (int c : a.clients) {
      std::vector<double> rate, p50, p99;
      uint64_t failures = 0;
      for (int r = 0; r < a.runs; ++r) {
        auto res = run_once(a, w, c);
        rate.push_back(res.pairs_per_s);
        p50.push_back(res.p50_us);
        p99.push_back(res.p99_us);
        failures += res.failures;
      }
      if (median(rate) == 0) {
        std::cerr << "godistlock-bench: " << w << " with " << c << " clients completed no pair ("
                  << failures << " failed acquires)\n";
        return 3;
      }
      auto lo = *std::min_element(p99.begin(), p99.end());
      auto hi = *std::max_element(p99.begin(), p99.end());
      std::cout << std::fixed << std::setprecision(0);
      if (a.json) {
        std::cout << (first ? "" : ",") << "\n  {\"workload\":\"" << w << "\",\"clients\":" << c
                  << ",\"runs\":" << a.runs << ",\"pairs_per_s\":" << median(rate)
                  << ",\"acquire_p50_us\":" << median(p50) << ",\"acquire_p99_us\":" << median(p99)
                  << ",\"p99_min_us\":" << lo << ",\"p99_max_us\":" << hi
                  << ",\"failures\":" << failures << "}";
      } else {
        std::cout << "| " << w << " | " << c << " | " << a.runs << " | " << median(rate) << " | "
                  << median(p50) << " | " << median(p99) << " | " << lo << "–" << hi << " | "
                  << failures << " |" << std::endl;
      }
      first = false;
    }
  }
  if (a.json)
    std::cout << "\n]" << std::endl;
  return 0;
}

size_t rss_bytes() {
  return bench::resident_bytes(::getpid());
}

// Holds `locks` locks through the node actor directly (no network), waits
// until every lock actor has rested, and reports the RSS growth per lock.
int memory(const Args& a) {
  char tmpl[] = "/tmp/godistlock-bench-XXXXXX";
  if (!mkdtemp(tmpl))
    return 1;
  net::SystemConfig cfg;
  caf::actor_system sys{cfg};
  actors::NodeOptions o;
  o.id = "bench";
  o.listen = net::Endpoint{"127.0.0.1", 0};
  o.data_dir = std::string(tmpl) + "/data";
  o.fsync = false; // memory only: the disk is not what is measured here
  o.idle_retire = milliseconds(200);
  int rc = 0;
  {
    actors::Node node(sys, o);
    auto stats = [&] {
      caf::scoped_actor self{sys};
      messages::wire_request req;
      req.pb.set_client_id(client::random_client_id());
      req.pb.mutable_stats();
      wire::NodeStats out;
      self->request(node.handle(), seconds(10), req)
          .receive([&](messages::wire_response& r) { out = r.pb.stats(); }, [](caf::error&) {});
      return out;
    };
    malloc_trim(0);
    auto before = rss_bytes();
    auto fill = bench::fill_locks(sys, {node.handle()}, a.locks);
    auto granted = fill.granted;
    std::cout << "filled in " << fill.seconds << " s\n";
    auto deadline = steady_clock::now() + seconds(60);
    while (stats().live_lock_actors() > 0 && steady_clock::now() < deadline)
      std::this_thread::sleep_for(milliseconds(200));
    auto s = stats();
    malloc_trim(0); // hand freed actor memory back, so RSS shows what stays
    auto after = rss_bytes();
    std::cout << "locks granted: " << granted << ", held: " << s.held_locks()
              << ", resting: " << s.resting_locks() << ", live actors: " << s.live_lock_actors()
              << "\nRSS growth: " << (after - before) / 1024 << " KiB, "
              << static_cast<double>(after - before) / static_cast<double>(a.locks)
              << " bytes per resting held lock (names like 'orders/12345', owners like "
                 "'worker-1')\n";
    if (s.live_lock_actors() != 0)
      rc = 1;
    node.stop();
  }
  {
    // The same data dir opened again: replay alone, without a network.
    // CPU time of this thread too: on a busy machine the wall time says
    // more about the neighbours than about the replay.
    auto thread_cpu_s = [] {
      timespec ts{};
      ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
      return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
    };
    auto started = steady_clock::now();
    auto cpu_started = thread_cpu_s();
    actors::Node node(sys, o);
    std::cout << "reopened with " << a.locks << " locks on disk: replayed in " << std::fixed
              << std::setprecision(2) << duration<double>(steady_clock::now() - started).count()
              << " s (" << thread_cpu_s() - cpu_started << " s CPU)\n";
    node.stop();
  }
  std::system(("rm -rf " + std::string(tmpl)).c_str());
  return rc;
}

// The lock table alone, in a fresh process: what one resting held lock
// costs (map node, key, compact record) without the actor churn above.
int table_memory(const Args& a) {
  malloc_trim(0);
  auto before = rss_bytes();
  size_t encoded = 0;
  {
    actors::LockTable table;
    auto now = steady_clock::now().time_since_epoch().count();
    for (size_t i = 0; i < a.locks; ++i) {
      core::AcceptorRecord r;
      r.accepted = core::Ballot{7, 1, 0x9e3779b97f4a7c15ull};
      r.promised = r.accepted;
      r.value.fence = i % 50 + 1;
      r.value.epoch = core::Epoch{r.value.fence * 2, r.accepted};
      // Default CLI owners are the client id: "c-" and 32 hex digits.
      std::string client = client::random_client_id();
      r.value.holder =
          core::Holder{client, r.value.fence, 30000, core::LeaseOrigin{client, i % 1000 + 1, 0}};
      encoded += messages::encode_resting(r).size();
      table.put("orders/" + std::to_string(i), r, now);
    }
    malloc_trim(0);
    auto after = rss_bytes();
    std::cout << "lock table: " << table.size() << " resting held locks; compact record "
              << static_cast<double>(encoded) / static_cast<double>(a.locks)
              << " bytes on average; RSS growth " << (after - before) / 1024
              << " KiB = " << static_cast<double>(after - before) / static_cast<double>(a.locks)
              << " bytes per lock (names like 'orders/12345', 34-byte owner and client ids)\n";
  }
  return 0;
}

// Time from a lease's end to the next waiter's grant. The lease end is taken
// as the holder's send time + ttl (the server starts it a little later), so
// the figure is an upper bound.
int handoff(const Args& a) {
  char tmpl[] = "/tmp/godistlock-bench-XXXXXX";
  if (!mkdtemp(tmpl))
    return 1;
  net::SystemConfig cfg;
  caf::actor_system sys{cfg};
  actors::NodeOptions o;
  o.id = "bench";
  o.listen = net::Endpoint{"127.0.0.1", 0};
  o.data_dir = std::string(tmpl) + "/data";
  std::vector<double> ms;
  {
    actors::Node node(sys, o);
    client::ClientOptions co;
    co.servers = {net::Endpoint{"127.0.0.1", node.port()}};
    client::Client holder(co), waiter(co);
    auto ttl = milliseconds(300);
    for (int i = 0; i < a.runs; ++i) {
      auto name = "handoff-" + std::to_string(i);
      auto sent = steady_clock::now();
      auto g = holder.try_acquire(name, ttl);
      if (!g.ok())
        return 1;
      client::AcquireOptions w;
      w.ttl = seconds(5);
      w.wait = seconds(5);
      auto got = waiter.acquire(name, w);
      auto granted = steady_clock::now();
      if (!got.ok())
        return 1;
      ms.push_back(duration<double, std::milli>(granted - (sent + ttl)).count());
    }
    node.stop();
  }
  std::system(("rm -rf " + std::string(tmpl)).c_str());
  std::cout << std::fixed << std::setprecision(1) << "expiry -> next waiter granted over "
            << ms.size() << " handoffs (fsync on): median " << median(ms) << " ms, p90 "
            << percentile(ms, 0.9) << " ms, max " << *std::max_element(ms.begin(), ms.end())
            << " ms\n";
  return 0;
}

std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size()) {
    auto comma = s.find(',', start);
    out.push_back(s.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    if (comma == std::string::npos)
      break;
    start = comma + 1;
  }
  return out;
}

} // namespace

int main(int argc, char** argv) {
  const char* usage =
      "usage: godistlock-bench latency [--servers LIST] [--clients 1,8,32] [--workloads w1,w2]\n"
      "                                [--seconds S] [--runs R] [--json]\n"
      "         (exit 3, no table, when a server does not answer or a row completes no pair)\n"
      "       godistlock-bench memory [--locks N]     (node in process, RSS per resting lock)\n"
      "       godistlock-bench cluster-memory [--locks N] [--nodes 3] [--durability fsync|none]\n"
      "         (godistlock-node processes: RSS per node with N held locks, restart time)\n"
      "       godistlock-bench table [--locks N]      (the lock table alone)\n"
      "       godistlock-bench handoff [--runs R]     (lease expiry -> next waiter granted)\n";
  Args a;
  if (argc < 2) {
    std::cerr << usage;
    return 2;
  }
  a.mode = argv[1];
  if (a.mode == "--version") {
    std::cout << "godistlock-bench " << godistlock::version << " (commit " << godistlock::git_commit
              << ")\n";
    return 0;
  }
  try {
    for (int i = 2; i < argc; i += 2) {
      std::string k = argv[i];
      if (k == "--json") {
        a.json = true;
        --i; // a flag without a value
        continue;
      }
      if (i + 1 >= argc)
        throw std::invalid_argument(k + " needs a value");
      std::string v = argv[i + 1];
      if (k == "--servers")
        a.servers = v;
      else if (k == "--clients") {
        a.clients.clear();
        for (auto& x : split(v))
          a.clients.push_back(std::stoi(x));
      } else if (k == "--workloads")
        a.workloads = split(v);
      else if (k == "--seconds")
        a.seconds = std::stod(v);
      else if (k == "--runs")
        a.runs = std::stoi(v);
      else if (k == "--locks")
        a.locks = std::stoul(v);
      else if (k == "--nodes")
        a.nodes = std::stoul(v);
      else if (k == "--durability" && (v == "fsync" || v == "none"))
        a.durability = v;
      else
        throw std::invalid_argument(k);
    }
  } catch (const std::exception& e) {
    std::cerr << "godistlock-bench: bad option " << e.what() << "\n" << usage;
    return 2;
  }
  if (a.mode == "latency" && net::parse_endpoint_list(a.servers))
    return latency(a);
  if (a.mode == "memory")
    return memory(a);
  if (a.mode == "table")
    return table_memory(a);
  if (a.mode == "cluster-memory") {
    bench::ClusterMemoryOptions o;
    auto exe = std::filesystem::read_symlink("/proc/self/exe");
    o.node_binary = (exe.parent_path() / "godistlock-node").string();
    o.locks = a.locks;
    o.nodes = a.nodes;
    o.durability = a.durability;
    return bench::cluster_memory(o);
  }
  if (a.mode == "handoff")
    return handoff(a);
  std::cerr << usage;
  return 2;
}
