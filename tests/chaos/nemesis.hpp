// The nemesis of a chaos run: picks faults with the seed, one at a time,
// applies them to the cluster (or to a client), heals each within bounded
// time and logs fault-start / fault-stop in the history. Runs on the main
// thread, which owns the node processes.
#pragma once

#include "client_processes.hpp"
#include "cluster.hpp"
#include "history.hpp"
#include "workload.hpp"

#include <chrono>
#include <cstdint>
#include <map>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace gdl_chaos {

// Every fault kind the nemesis knows, in the order of the --faults help.
const std::vector<std::string>& all_fault_kinds();

struct NemesisOptions {
  std::set<std::string> faults;
  uint64_t seed = 1;
  std::chrono::milliseconds lease{2000};
  // The clients' attempt timeout: backlog delays a member's client link
  // so that they move on while their attempts are on the way there.
  std::chrono::milliseconds attempt_timeout{2000};
  // Clock rate given to a skewed node (its reciprocal-ish 2 - rate for a slow one).
  double skew_rate = 1.001;
  bool skew_supported = false;
  // Harness-side mutation: restart a wiped node with --bootstrap, which the
  // protocol documents as unsafe (it votes with an empty state).
  bool wipe_with_bootstrap = false;
  // The client worker processes client-pause and client-skew act on (none:
  // those faults are skipped).
  ClientProcesses* client_processes = nullptr;
  // The clock rate a client process returns to after client-skew (1.0; the
  // slow-client-clock mutation: 0.5).
  double client_rate = 1.0;
};

class Nemesis {
public:
  Nemesis(Cluster& cluster, Workload& workload, History& history, NemesisOptions options);

  // Applies faults until no fault fits before `stop_faults_at` (lease clock,
  // ns), then heals everything. Bounded: each fault has a bounded length.
  void run(int64_t stop_faults_at);
  // Heals what is left: network, paused nodes, nodes that are down.
  void heal_all();

  const std::map<std::string, size_t>& applied() const { return applied_; }
  const std::vector<std::string>& notes() const { return notes_; }

private:
  void start_fault(const std::string& kind, const std::string& detail);
  void stop_fault(const std::string& kind, const std::string& detail);
  void info(const std::string& detail);
  void sleep_for(std::chrono::milliseconds d);
  std::chrono::milliseconds uniform(std::chrono::milliseconds lo, std::chrono::milliseconds hi);
  // `d`, shortened so that the fault ends by the time faults must stop.
  std::chrono::milliseconds fit(std::chrono::milliseconds d) const;
  std::vector<size_t> running_members();
  // Restarts members that are down; logs those that cannot come back.
  void restart_down_members();
  std::vector<size_t> shuffled_members();
  void split(const std::vector<size_t>& side_a, const std::vector<size_t>& side_b, LinkMode mode);

  bool kill_restart();
  bool wipe_restart();
  bool pause_node();
  bool backlog();
  bool pause_client();
  bool skew_client();
  bool partition();
  bool bridge();
  bool flap();
  bool slow();
  bool skew();
  // Composite faults: sequences aimed at one node-side bug each.
  bool amnesia();
  bool crash_after_promise();
  bool stale_acceptor();
  bool slow_reply();
  // A client of a composite fault that only knows `member` and tries to
  // take `lock` every `between`, holding it briefly when it gets it.
  RoutedClient taker_via(const std::string& name, size_t member, const std::string& lock,
                         std::chrono::milliseconds between) const;
  // Runs routed clients on threads until `until`; join with join_routed().
  void start_routed(const std::vector<RoutedClient>& specs,
                    std::chrono::steady_clock::time_point until);
  void join_routed();
  std::vector<std::thread> routed_;

  Cluster& cluster_;
  Workload& workload_;
  History& history_;
  NemesisOptions options_;
  std::mt19937_64 rng_;
  uint64_t fault_number_ = 0;
  int64_t stop_faults_at_ = 0;
  std::set<size_t> down_; // members that could not be restarted
  // How long crash-after-promise stalls its proposers between the phases.
  std::chrono::milliseconds hold_accepts_{2500};
  std::map<std::string, size_t> applied_;
  std::vector<std::string> notes_;
};

} // namespace gdl_chaos
