// godistlock-chaos: runs a cluster of real nodes under K clients and a
// nemesis for a given duration and seed, then checks the history. Exit 0:
// no violation; 1: violations (history and node logs kept); 2: bad usage or
// the cluster could not be set up.
#include "checkers.hpp"
#include "client_processes.hpp"
#include "client_worker.hpp"
#include "cluster.hpp"
#include "fenced_register.hpp"
#include "history.hpp"
#include "nemesis.hpp"
#include "report.hpp"
#include "workload.hpp"

#include "client/client.hpp"
#include "core/limits.hpp"
#include "godistlock/version.hpp"
#include "net/endpoint.hpp"

#include <algorithm>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <thread>
#include <unistd.h>

using namespace gdl_chaos;
using namespace std::chrono;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

const char* const usage =
    "usage: godistlock-chaos [--nodes 3|5] [--clients K] [--duration DUR] [--seed S]\n"
    "                        [--faults "
    "kill,wipe,pause,client-pause,client-skew,partition,bridge,\n"
    "                         flap,slow,skew,amnesia,crash-after-promise,stale-acceptor,\n"
    "                         slow-reply,backlog]\n"
    "                        [--mutation NAME] [--keep-history DIR] [--node-bin PATH]\n"
    "                        [--ttl DUR] [--cold-ttl DUR] [--skew-rate R] [--hot-locks N]\n"
    "                        [--cold-locks N]\n"
    "                        [--client-processes N]\n"
    "       godistlock-chaos --version | --help\n"
    "  --duration    how long the clients run (default 60s); faults stop a tail before the end\n"
    "  --faults      fault kinds the nemesis may pick (default: all, or none); the last four\n"
    "                are composite sequences aimed at wiped-votes-at-once, skip-promise-fsync,\n"
    "                proposer-clock-expiry and lease-from-reply (docs/testing.md);\n"
    "                client-pause SIGSTOPs a client process holding a lock, client-skew\n"
    "                restarts one with its lease clock at rate R or 2 - R (--skew-rate);\n"
    "                backlog delays a member's client link so that attempts time out,\n"
    "                are retried elsewhere, and the late ones run after the retries\n"
    "  --mutation    break the implementation on purpose: skip-promise-fsync,\n"
    "                wiped-votes-at-once, proposer-clock-expiry, lifo-queue,\n"
    "                stale-lease-restart (passed to\n"
    "                every node as --test-mutation NAME), lease-from-reply, slow-client-clock\n"
    "                (client side; the latter runs client processes' clocks at rate 0.5),\n"
    "                wipe-with-bootstrap (harness side: a wiped node restarts with --bootstrap)\n"
    "  --keep-history  write the history (and report.json) into DIR and keep them\n"
    "  --ttl         the longest lease asked for on hot locks (default 2s); each acquire\n"
    "                and refresh asks for its own, from 200ms up\n"
    "  --cold-ttl    the longest lease asked for on cold locks (default 10s)\n"
    "  --skew-rate   clock rate of a skewed node or client process (default 1.001; a slow\n"
    "                one gets 2 - R)\n"
    "  --client-processes  client worker processes besides the K client threads (default 1\n"
    "                if client-pause or client-skew may run, else 0)\n";

const std::set<std::string> node_mutations{"skip-promise-fsync", "wiped-votes-at-once",
                                           "proposer-clock-expiry", "lifo-queue",
                                           "stale-lease-restart"};
const std::set<std::string> client_mutations{"lease-from-reply", "slow-client-clock"};
// Mutations of the harness itself, against unchanged nodes.
const std::set<std::string> harness_mutations{"wipe-with-bootstrap"};

struct Options {
  size_t nodes = 3;
  size_t clients = 4;
  milliseconds duration{60000};
  uint64_t seed = 0;
  bool seed_given = false;
  std::string faults;
  std::string mutation;
  std::string keep_dir;
  std::string node_bin;
  milliseconds ttl{2000};
  milliseconds cold_ttl{10000};
  double skew_rate = 1.001;
  size_t hot_locks = 3;
  size_t cold_locks = 50;
  std::optional<size_t> client_processes;
};

std::string self_dir() {
  std::error_code ec;
  auto exe = fs::read_symlink("/proc/self/exe", ec);
  return ec ? std::string(".") : exe.parent_path().string();
}

std::string parse(int argc, char** argv, Options& o) {
  std::vector<std::string> args(argv + 1, argv + argc);
  for (size_t i = 0; i < args.size(); ++i) {
    const auto& flag = args[i];
    if (flag == "--help" || flag == "-h")
      return "help";
    if (flag == "--version")
      return "version";
    if (i + 1 >= args.size())
      return "missing value for " + flag;
    const auto& value = args[++i];
    auto number = [&](uint64_t lo, uint64_t hi, uint64_t& out) -> bool {
      try {
        size_t used = 0;
        auto v = std::stoull(value, &used);
        if (used != value.size() || v < lo || v > hi)
          return false;
        out = v;
        return true;
      } catch (...) {
        return false;
      }
    };
    uint64_t n = 0;
    if (flag == "--nodes") {
      if (!number(3, 5, n) || n == 4)
        return "bad --nodes '" + value + "': 3 or 5";
      o.nodes = n;
    } else if (flag == "--clients") {
      if (!number(1, 64, n))
        return "bad --clients '" + value + "': 1 to 64";
      o.clients = n;
    } else if (flag == "--duration" || flag == "--ttl" || flag == "--cold-ttl") {
      auto ms = godistlock::core::parse_duration_ms(value);
      if (!ms || *ms == 0)
        return "bad " + flag + " '" + value + "': a duration such as 120s";
      if (flag != "--duration" && *ms < 200)
        return "bad " + flag + " '" + value + "': at least 200ms";
      (flag == "--ttl"        ? o.ttl
       : flag == "--cold-ttl" ? o.cold_ttl
                              : o.duration) = milliseconds(*ms);
    } else if (flag == "--seed") {
      if (!number(0, UINT64_MAX, n))
        return "bad --seed '" + value + "'";
      o.seed = n;
      o.seed_given = true;
    } else if (flag == "--faults") {
      o.faults = value;
    } else if (flag == "--mutation") {
      if (!node_mutations.count(value) && !client_mutations.count(value) &&
          !harness_mutations.count(value))
        return "unknown --mutation '" + value + "'";
      o.mutation = value;
    } else if (flag == "--keep-history") {
      o.keep_dir = value;
    } else if (flag == "--node-bin") {
      o.node_bin = value;
    } else if (flag == "--skew-rate") {
      try {
        o.skew_rate = std::stod(value);
      } catch (...) {
        return "bad --skew-rate '" + value + "'";
      }
      if (!(o.skew_rate > 1.0 && o.skew_rate < 2.0))
        return "bad --skew-rate '" + value + "': between 1 and 2, e.g. 1.001";
    } else if (flag == "--hot-locks") {
      if (!number(1, 100, n))
        return "bad --hot-locks '" + value + "'";
      o.hot_locks = n;
    } else if (flag == "--client-processes") {
      if (!number(0, 16, n))
        return "bad --client-processes '" + value + "': 0 to 16";
      o.client_processes = n;
    } else if (flag == "--cold-locks") {
      if (!number(0, 100000, n))
        return "bad --cold-locks '" + value + "'";
      o.cold_locks = n;
    } else {
      return "unknown option " + flag;
    }
  }
  return {};
}

std::set<std::string> fault_set(const std::string& list, std::string& error) {
  std::set<std::string> out;
  if (list.empty()) {
    for (auto& k : all_fault_kinds())
      out.insert(k);
    return out;
  }
  if (list == "none")
    return out;
  std::stringstream s(list);
  std::string item;
  while (std::getline(s, item, ',')) {
    if (std::find(all_fault_kinds().begin(), all_fault_kinds().end(), item) ==
        all_fault_kinds().end()) {
      error = "unknown fault kind '" + item + "'";
      return {};
    }
    out.insert(item);
  }
  return out;
}

// Waits (bounded) until the cluster grants a lock: a quorum is up and linked.
bool wait_for_quorum(const std::vector<godistlock::net::Endpoint>& servers, milliseconds limit) {
  godistlock::client::ClientOptions co;
  co.servers = servers;
  co.attempt_timeout = 2000ms;
  godistlock::client::Client c(co);
  auto until = steady_clock::now() + limit;
  while (steady_clock::now() < until) {
    auto r = c.try_acquire("chaos-ready", 1000ms);
    if (r.ok()) {
      c.release("chaos-ready", r.lease.token);
      return true;
    }
    std::this_thread::sleep_for(200ms);
  }
  return false;
}

// Delayed lease restarts the members answered without a change, summed
// over their counters (a restarted member counts from its restart).
uint64_t stale_attempts(const std::vector<godistlock::net::Endpoint>& servers) {
  godistlock::client::ClientOptions co;
  co.servers = servers;
  co.attempt_timeout = 1000ms;
  godistlock::client::Client c(co);
  uint64_t sum = 0;
  for (size_t i = 0; i < servers.size(); ++i)
    if (auto r = c.stats(i); r.ok())
      sum += r.stats.stale_attempts();
  return sum;
}

} // namespace

int main(int argc, char** argv) {
  // The hidden mode the harness starts its client processes in.
  if (argc > 1 && std::string(argv[1]) == "--client-worker")
    return run_client_worker(argc - 1, argv + 1);
  std::signal(SIGPIPE, SIG_IGN);
  Options o;
  if (auto error = parse(argc, argv, o); !error.empty()) {
    if (error == "help") {
      std::cout << usage;
      return 0;
    }
    if (error == "version") {
      std::cout << "godistlock-chaos " << godistlock::version << " (commit "
                << godistlock::git_commit << ")\n";
      return 0;
    }
    std::cerr << "godistlock-chaos: " << error << "\n" << usage;
    return 2;
  }
  std::string fault_error;
  auto faults = fault_set(o.faults, fault_error);
  if (!fault_error.empty()) {
    std::cerr << "godistlock-chaos: " << fault_error << "\n" << usage;
    return 2;
  }
  if (!o.seed_given)
    o.seed = std::random_device{}() % 1000000;
  if (o.node_bin.empty())
    o.node_bin = self_dir() + "/godistlock-node";
  if (::access(o.node_bin.c_str(), X_OK) != 0) {
    std::cerr << "godistlock-chaos: no node binary at " << o.node_bin << " (--node-bin)\n";
    return 2;
  }
  const size_t client_processes = o.client_processes.value_or(
      faults.count("client-pause") || faults.count("client-skew") ? 1 : 0);
  std::cout << "godistlock-chaos: seed " << o.seed << ", " << o.nodes << " nodes, " << o.clients
            << " clients, " << client_processes << " client processes, "
            << o.duration.count() / 1000.0 << " s" << std::endl;

  char tmpl[] = "/tmp/gdl-chaos-XXXXXX";
  if (!::mkdtemp(tmpl)) {
    std::cerr << "godistlock-chaos: cannot create a scratch dir in /tmp\n";
    return 2;
  }
  const std::string base = tmpl;
  std::string history_dir = base;
  if (!o.keep_dir.empty()) {
    std::error_code ec;
    fs::create_directories(o.keep_dir, ec);
    history_dir = o.keep_dir;
  }
  const std::string history_path = history_dir + "/history-seed" + std::to_string(o.seed) + "-" +
                                   std::to_string(::getpid()) + ".jsonl";

  std::vector<std::string> notes;
  std::vector<std::string> common_flags;
  if (node_mutations.count(o.mutation)) {
    if (!Cluster::node_accepts_flag(o.node_bin, "--test-mutation", o.mutation, base)) {
      std::cerr << "godistlock-chaos: " << o.node_bin << " does not accept --test-mutation "
                << o.mutation << ": this mutation cannot be run against it\n";
      fs::remove_all(base);
      return 2;
    }
    common_flags = {"--test-mutation", o.mutation};
  }
  bool skew_supported = faults.count("skew") &&
                        Cluster::node_accepts_flag(o.node_bin, "--test-clock-rate", "1.0", base);

  // After the last heal a lock may wait for: a holder that vanished (one
  // lease), a waiter offered the lock that vanished too (the 2 s
  // reservation), the next holder's lease if it froze, then peers
  // reconnecting (back-off up to 2 s) and clients' failover: 2 leases + 7 s.
  const milliseconds liveness_bound = o.ttl * 2 + 7000ms;
  // Away from faults a lock with waiters may go without a holder for at
  // most: a grant to a waiter that left (one lease, as long as that lock's
  // longest), then a reservation to one (2 s), plus 1 s for rounds. After a
  // fault, leftovers of it (grants to clients cut off, or that lost their
  // node) may take as long as a cold lease more.
  auto waiters_bound = [&o](const std::string& lock) -> nanoseconds {
    return (lock.rfind("cold-", 0) == 0 ? o.cold_ttl : o.ttl) + 3000ms;
  };
  const nanoseconds waiters_grace = std::max(liveness_bound, o.cold_ttl + 3000ms);
  int exit_code = 0;
  {
    ClusterOptions co;
    co.nodes = o.nodes;
    co.node_binary = o.node_bin;
    co.base_dir = base;
    co.common_flags = common_flags;
    Cluster cluster(co);
    if (auto error = cluster.start(); !error.empty()) {
      std::cerr << "godistlock-chaos: the cluster did not start: " << error
                << "\nnode logs kept in " << base << "\n";
      return 2;
    }
    std::vector<godistlock::net::Endpoint> servers;
    for (size_t i = 0; i < cluster.size(); ++i)
      servers.push_back(*godistlock::net::parse_endpoint(cluster.client_endpoint(i)));
    if (!wait_for_quorum(servers, 30s)) {
      std::cerr << "godistlock-chaos: the cluster granted no lock within 30 s; node logs kept in "
                << base << "\n";
      return 2;
    }

    History history(history_path);
    FencedRegister store;
    WorkloadOptions wo;
    wo.servers = servers;
    wo.clients = o.clients;
    wo.seed = o.seed;
    wo.ttl = o.ttl;
    wo.cold_ttl = o.cold_ttl;
    wo.hot_locks = o.hot_locks;
    wo.cold_locks = o.cold_locks;
    wo.lease_from_reply = o.mutation == "lease-from-reply";
    Workload workload(wo, history, store);
    ClientProcessOptions cpo;
    cpo.binary = fs::read_symlink("/proc/self/exe").string();
    cpo.log_dir = base;
    cpo.servers = servers;
    cpo.seed = o.seed;
    cpo.ttl = o.ttl;
    cpo.hot_locks = o.hot_locks;
    cpo.base_rate = o.mutation == "slow-client-clock" ? 0.5 : 1.0;
    ClientProcesses workers(cpo, history, store);
    workers.start(client_processes); // before the nemesis, which counts them

    NemesisOptions no;
    no.faults = faults;
    no.seed = o.seed;
    no.lease = o.ttl;
    no.attempt_timeout = wo.attempt_timeout;
    no.skew_rate = o.skew_rate;
    no.skew_supported = skew_supported;
    no.wipe_with_bootstrap = o.mutation == "wipe-with-bootstrap";
    no.client_processes = &workers;
    no.client_rate = cpo.base_rate;
    Nemesis nemesis(cluster, workload, history, no);

    const int64_t start = now_ns();
    const int64_t end = start + duration_cast<nanoseconds>(o.duration).count();
    // The tail after the last fault leaves room to see liveness.
    auto tail = std::max<int64_t>(duration_cast<nanoseconds>(liveness_bound + 2s).count(),
                                  (end - start) * 15 / 100);
    auto warmup = std::min<int64_t>(2'000'000'000, (end - start) / 10);
    workload.start();
    std::this_thread::sleep_for(nanoseconds(warmup));
    if (end - tail > now_ns())
      nemesis.run(end - tail);
    else
      notes.push_back("the run is too short for faults: the tail alone is " +
                      std::to_string(tail / 1'000'000) + " ms");
    nemesis.heal_all();
    for (size_t i = 0; i < cluster.size(); ++i)
      if (!cluster.running(i))
        notes.push_back(cluster.id(i) + " was down at the end (see the history's info events)");
    while (now_ns() < end)
      std::this_thread::sleep_for(50ms);
    workload.stop();
    workers.stop_all(); // by PID: SIGCONT, SIGTERM, then SIGKILL
    workload.probe(workload.hot_locks(), liveness_bound);
    notes.push_back("stale attempts answered without a change: " +
                    std::to_string(stale_attempts(servers)));

    auto events = history.snapshot();
    std::vector<CheckResult> checks{check_mutual_exclusion(events),
                                    check_tokens(events),
                                    check_fenced_register(events, store.log(), store.state()),
                                    check_no_lost_updates(events),
                                    check_fifo(events, o.ttl),
                                    check_liveness(events, workload.hot_locks(), liveness_bound),
                                    check_waiters_served(events, waiters_bound, waiters_grace)};
    RunInfo info;
    info.seed = o.seed;
    info.nodes = o.nodes;
    info.clients = o.clients;
    info.duration_s = static_cast<double>(o.duration.count()) / 1000.0;
    info.faults = o.faults.empty() ? "all" : o.faults;
    info.mutation = o.mutation;
    info.lease_ms = o.ttl.count();
    info.history_path = history_path;
    info.history_kept = !o.keep_dir.empty();
    info.notes = notes;
    for (auto& n : nemesis.notes())
      info.notes.push_back(n);
    info.register_accepted = store.accepted();
    info.register_rejected = store.rejected();
    auto report = make_report(events, checks, info);
    std::cout << report.text() << "\nREPORT-JSON " << report.json() << std::endl;
    std::ofstream(history_dir + "/report-seed" + std::to_string(o.seed) + "-" +
                  std::to_string(::getpid()) + ".json")
        << report.json() << "\n";
    exit_code = report.ok() ? 0 : 1;
  } // the cluster's destructor kills every node by PID

  if (exit_code != 0) {
    std::cout << "VIOLATIONS: seed " << o.seed << ", history " << history_path << ", node logs in "
              << base << std::endl;
  } else if (o.keep_dir.empty()) {
    std::error_code ec;
    fs::remove_all(base, ec);
  } else {
    std::cout << "history kept: " << history_path << " (node logs in " << base << ")" << std::endl;
  }
  return exit_code;
}
