#include "nemesis.hpp"

#include "client/client.hpp"

#include <algorithm>
#include <memory>
#include <optional>
#include <thread>

namespace gdl_chaos {

using namespace std::chrono;
using namespace std::chrono_literals;

namespace {
// Member indices from `first` on, wrapping around.
std::vector<size_t> starting_at(size_t first, size_t n) {
  std::vector<size_t> out;
  for (size_t k = 0; k < n; ++k)
    out.push_back((first + k) % n);
  return out;
}
} // namespace

const std::vector<std::string>& all_fault_kinds() {
  static const std::vector<std::string> kinds{
      "kill",           "wipe",       "pause",   "client-pause",
      "client-skew",    "partition",  "bridge",  "flap",
      "slow",           "skew",       "amnesia", "crash-after-promise",
      "stale-acceptor", "slow-reply", "backlog"};
  return kinds;
}

Nemesis::Nemesis(Cluster& cluster, Workload& workload, History& history, NemesisOptions options)
    : cluster_(cluster), workload_(workload), history_(history), options_(std::move(options)),
      rng_(options_.seed * 7919 + 17) {
  if (options_.faults.count("skew") && !options_.skew_supported)
    notes_.push_back("skew skipped: the node binary rejects --test-clock-rate");
  for (auto kind : {"client-pause", "client-skew"})
    if (options_.faults.count(kind) &&
        (!options_.client_processes || options_.client_processes->size() == 0))
      notes_.push_back(std::string(kind) + " skipped: no client processes (--client-processes)");
}

void Nemesis::start_fault(const std::string& kind, const std::string& detail) {
  Event e;
  e.type = EventType::fault_start;
  e.process = "nemesis";
  e.fault = kind;
  e.op_id = ++fault_number_;
  e.detail = detail;
  history_.record(e);
  ++applied_[kind];
}

void Nemesis::stop_fault(const std::string& kind, const std::string& detail) {
  Event e;
  e.type = EventType::fault_stop;
  e.process = "nemesis";
  e.fault = kind;
  e.op_id = fault_number_;
  e.detail = detail;
  history_.record(e);
}

void Nemesis::info(const std::string& detail) {
  Event e;
  e.type = EventType::info;
  e.process = "nemesis";
  e.detail = detail;
  history_.record(e);
}

void Nemesis::sleep_for(milliseconds d) {
  std::this_thread::sleep_for(d);
}

milliseconds Nemesis::uniform(milliseconds lo, milliseconds hi) {
  return milliseconds(std::uniform_int_distribution<int64_t>(lo.count(), hi.count())(rng_));
}

milliseconds Nemesis::fit(milliseconds d) const {
  auto left = milliseconds((stop_faults_at_ - now_ns()) / 1'000'000);
  return std::max(milliseconds(100), std::min(d, left));
}

std::vector<size_t> Nemesis::running_members() {
  std::vector<size_t> out;
  for (size_t i = 0; i < cluster_.size(); ++i)
    if (cluster_.running(i))
      out.push_back(i);
  return out;
}

std::vector<size_t> Nemesis::shuffled_members() {
  std::vector<size_t> all;
  for (size_t i = 0; i < cluster_.size(); ++i)
    all.push_back(i);
  std::shuffle(all.begin(), all.end(), rng_);
  return all;
}

void Nemesis::restart_down_members() {
  for (size_t i = 0; i < cluster_.size(); ++i) {
    if (cluster_.running(i))
      continue;
    auto error = cluster_.restart(i);
    if (error.empty()) {
      if (down_.erase(i))
        info(cluster_.id(i) + " is back");
      continue;
    }
    // Said once per member, not at every retry.
    if (down_.insert(i).second)
      info(cluster_.id(i) + " stays down: " + error);
  }
}

void Nemesis::split(const std::vector<size_t>& side_a, const std::vector<size_t>& side_b,
                    LinkMode mode) {
  for (auto a : side_a)
    for (auto b : side_b)
      cluster_.set_links(a, b, mode);
}

namespace {
std::string names(const Cluster& c, const std::vector<size_t>& members) {
  std::string out;
  for (auto i : members)
    out += (out.empty() ? "" : ",") + c.id(i);
  return "{" + out + "}";
}
} // namespace

bool Nemesis::kill_restart() {
  auto up = running_members();
  if (up.empty())
    return false;
  auto i = up[rng_() % up.size()];
  auto down = fit(uniform(300ms, 3000ms));
  cluster_.kill(i);
  start_fault("kill", "kill -9 " + cluster_.id(i) + ", restart after " +
                          std::to_string(down.count()) + " ms");
  sleep_for(down);
  auto error = cluster_.restart(i);
  if (!error.empty())
    down_.insert(i);
  stop_fault("kill", error.empty() ? cluster_.id(i) + " restarted with its data"
                                   : cluster_.id(i) + " did not restart: " + error);
  return true;
}

namespace {
// True while member i, last started without data, has not said "voting
// now" since: it is still catching up and holds no data yet.
bool catching_up(const Cluster& c, size_t i) {
  auto log = read_file(c.log_path(i));
  auto start = log.rfind("godistlock-node " + c.id(i) + " ready on ");
  if (start == std::string::npos)
    return false;
  auto line = log.substr(start, log.find('\n', start) - start);
  return line.find("catching up before voting") != std::string::npos &&
         log.find("voting now", start) == std::string::npos;
}

bool any_catching_up(const Cluster& c) {
  for (size_t i = 0; i < c.size(); ++i)
    if (catching_up(c, i))
      return true;
  return false;
}
} // namespace

bool Nemesis::wipe_restart() {
  // A wiped node may not come back (no rejoin yet), and one that came back
  // holds no data until it caught up: never wipe more members than a
  // majority can spare.
  size_t spare = (cluster_.size() - 1) / 2;
  size_t without_data = down_.size();
  for (size_t i = 0; i < cluster_.size(); ++i)
    if (!down_.count(i) && catching_up(cluster_, i))
      ++without_data;
  if (without_data + 1 > spare)
    return false;
  auto up = running_members();
  if (up.empty())
    return false;
  auto i = up[rng_() % up.size()];
  auto down = fit(uniform(300ms, 2000ms));
  cluster_.kill(i);
  cluster_.wipe(i);
  start_fault("wipe", "kill -9 " + cluster_.id(i) + ", wipe its data dir, restart after " +
                          std::to_string(down.count()) + " ms " +
                          (options_.wipe_with_bootstrap ? "WITH --bootstrap (mutation)"
                                                        : "without --bootstrap"));
  sleep_for(down);
  auto error =
      cluster_.restart(i, options_.wipe_with_bootstrap ? std::vector<std::string>{"--bootstrap"}
                                                       : std::vector<std::string>{});
  if (!error.empty())
    down_.insert(i);
  stop_fault("wipe", error.empty() ? cluster_.id(i) + " rejoined with an empty data dir"
                                   : cluster_.id(i) + " could not rejoin: " + error);
  return true;
}

bool Nemesis::pause_node() {
  auto up = running_members();
  if (up.empty())
    return false;
  auto i = up[rng_() % up.size()];
  auto length = fit(
      milliseconds(static_cast<int64_t>(static_cast<double>(options_.lease.count()) *
                                        std::uniform_real_distribution<double>(0.1, 3.0)(rng_))));
  cluster_.pause(i);
  start_fault("pause",
              "SIGSTOP " + cluster_.id(i) + " for " + std::to_string(length.count()) + " ms");
  sleep_for(length);
  cluster_.resume(i);
  stop_fault("pause", "SIGCONT " + cluster_.id(i));
  return true;
}

// Stale attempts on purpose: one member's links to its peers (not to its
// clients) get slow, each way by a sixth to a fifth of the clients'
// attempt timeout. Its rounds (two round trips at most) still finish
// within the round timeout, but its lock actors' intake backs up behind them, and
// queued requests outlast the clients' patience: clients retry through the
// other members (refreshes with other ttls, re-acquires), which form a
// majority among themselves, and the backlogged member proposes the queued
// attempts after their newer retries were applied.
bool Nemesis::backlog() {
  auto up = running_members();
  if (up.size() < 2)
    return false;
  auto node = up[rng_() % up.size()];
  auto delay = uniform(options_.attempt_timeout / 6, options_.attempt_timeout / 5);
  auto length = fit(uniform(4000ms, 8000ms));
  auto set = [&](milliseconds d) {
    for (size_t j = 0; j < cluster_.size(); ++j)
      if (j != node) {
        cluster_.link(node, j).set_delay(d);
        cluster_.link(j, node).set_delay(d);
      }
  };
  // A holder that asks the backlogged member first and gives up on it
  // sooner than its rounds take: its refreshes (ttls that lengthen and
  // shorten) are retried through the others while the member still queues
  // them; a taker through another member takes the lock when it lapses.
  // A lock whose home, for the holder's server list, is the member.
  RoutedClient holder;
  holder.servers = starting_at(node, cluster_.size());
  std::vector<godistlock::net::Endpoint> holder_servers;
  for (auto i : holder.servers)
    holder_servers.push_back(workload_.servers().at(i));
  std::string lock;
  for (int k = 0; k < 1000; ++k) {
    lock = "backlog-" + std::to_string(fault_number_ + 1) + "-" + std::to_string(k);
    if (godistlock::client::home_server(holder_servers, lock) == size_t{0})
      break;
  }
  holder.name = lock + "-holder-via-" + cluster_.id(node);
  holder.lock = lock;
  // Leases that outlive a late attempt, so that it finds the grant alive.
  holder.ttl = 1000ms;
  holder.ttl_max = options_.lease * 3;
  holder.attempt_timeout = delay; // a round through the member takes twice that at least
  holder.hold_min = 2000ms;
  holder.hold_max = 4000ms;
  holder.wait = options_.lease;
  holder.between = 100ms;
  auto taker = taker_via(lock + "-taker-via-" + cluster_.id(up[0] == node ? up[1] : up[0]),
                         up[0] == node ? up[1] : up[0], lock, 50ms);
  auto end = steady_clock::now() + length;
  set(delay);
  start_fault("backlog", "links between " + cluster_.id(node) + " and its peers delayed by " +
                             std::to_string(delay.count()) + " ms each way for " +
                             std::to_string(length.count()) + " ms");
  start_routed({holder, taker}, end);
  sleep_for(length);
  set(0ms);
  join_routed();
  // Bytes already held back still arrive, and the queued attempts run.
  sleep_for(fit(delay * 2));
  stop_fault("backlog", "links of " + cluster_.id(node) + " at full speed");
  return true;
}

bool Nemesis::pause_client() {
  auto* workers = options_.client_processes;
  if (!workers || workers->size() == 0)
    return false;
  auto length =
      milliseconds(static_cast<int64_t>(static_cast<double>(options_.lease.count()) *
                                        std::uniform_real_distribution<double>(1.5, 3.0)(rng_)));
  // Only a pause longer than the lease tests anything.
  if (fit(length) < options_.lease * 3 / 2)
    return false;
  // A whole client process, library threads included, stopped while it is
  // inside its critical section (most likely preparing a write).
  auto holder = workers->wait_for_holder(10s);
  if (!holder) {
    info("client-pause: no client process held a lock within 10 s");
    return false;
  }
  length = fit(length); // the wait may have used up the time left
  if (length < options_.lease * 3 / 2)
    return false;
  workers->pause(holder->index);
  auto who = holder->name + " (pid " + std::to_string(holder->pid) + ")";
  start_fault("client-pause", "SIGSTOP " + who + " holding " + holder->lock + " token " +
                                  std::to_string(holder->token) + " for " +
                                  std::to_string(length.count()) + " ms");
  sleep_for(length);
  workers->resume(holder->index);
  stop_fault("client-pause", "SIGCONT " + who);
  return true;
}

// A client whose clock runs at another rate: a worker process restarted
// with --clock-rate R (or 2 - R) for 3-6 s, then at its usual rate again.
bool Nemesis::skew_client() {
  auto* workers = options_.client_processes;
  if (!workers || workers->size() == 0)
    return false;
  auto i = rng_() % workers->size();
  double rate = rng_() % 2 ? options_.skew_rate : 2.0 - options_.skew_rate;
  auto wanted = uniform(3000ms, 6000ms);
  auto old_name = workers->name(i);
  auto name = workers->restart(i, rate);
  auto length = fit(wanted); // stopping the old worker may have taken a while
  start_fault("client-skew",
              old_name + " stopped; " +
                  (name.empty() ? std::string("its successor did not start")
                                : name + " (pid " + std::to_string(workers->pid(i)) +
                                      ") started with --clock-rate " + std::to_string(rate)) +
                  " for " + std::to_string(length.count()) + " ms");
  sleep_for(length);
  auto skewed = workers->name(i);
  auto back = workers->restart(i, options_.client_rate);
  stop_fault("client-skew", skewed + " stopped; " +
                                (back.empty() ? std::string("its successor did not start")
                                              : back + " (pid " + std::to_string(workers->pid(i)) +
                                                    ") started with --clock-rate " +
                                                    std::to_string(options_.client_rate)));
  return true;
}

bool Nemesis::partition() {
  auto order = shuffled_members();
  auto mode = rng_() % 2 ? LinkMode::cut : LinkMode::stall;
  size_t minority = rng_() % 2 ? 1 : (cluster_.size() - 1) / 2;
  std::vector<size_t> small(order.begin(), order.begin() + static_cast<long>(minority));
  std::vector<size_t> large(order.begin() + static_cast<long>(minority), order.end());
  auto length = fit(uniform(1000ms, 5000ms));
  split(small, large, mode);
  start_fault("partition", names(cluster_, small) + " | " + names(cluster_, large) + " (" +
                               to_string(mode) + ") for " + std::to_string(length.count()) + " ms");
  sleep_for(length);
  cluster_.heal_network();
  stop_fault("partition", "healed");
  return true;
}

bool Nemesis::bridge() {
  if (cluster_.size() < 3)
    return false;
  auto order = shuffled_members();
  size_t bridge_node = order[0];
  std::vector<size_t> left, right;
  for (size_t k = 1; k < order.size(); ++k)
    (k % 2 ? left : right).push_back(order[k]);
  auto mode = rng_() % 2 ? LinkMode::cut : LinkMode::stall;
  auto length = fit(uniform(1000ms, 5000ms));
  split(left, right, mode);
  start_fault("bridge", names(cluster_, left) + " - " + cluster_.id(bridge_node) + " - " +
                            names(cluster_, right) + ", " + names(cluster_, left) + " x " +
                            names(cluster_, right) + " " + to_string(mode) + " for " +
                            std::to_string(length.count()) + " ms");
  sleep_for(length);
  cluster_.heal_network();
  stop_fault("bridge", "healed");
  return true;
}

bool Nemesis::flap() {
  auto total = fit(uniform(3000ms, 6000ms));
  start_fault("flap",
              "isolating random nodes on and off for " + std::to_string(total.count()) + " ms");
  auto until = steady_clock::now() + total;
  size_t toggles = 0;
  while (steady_clock::now() < until) {
    cluster_.heal_network();
    if (rng_() % 2) {
      auto order = shuffled_members();
      std::vector<size_t> rest(order.begin() + 1, order.end());
      split({order[0]}, rest, LinkMode::cut);
    }
    ++toggles;
    sleep_for(std::min(uniform(200ms, 800ms),
                       duration_cast<milliseconds>(until - steady_clock::now()) + 1ms));
  }
  cluster_.heal_network();
  stop_fault("flap", "healed after " + std::to_string(toggles) + " toggles");
  return true;
}

bool Nemesis::slow() {
  auto order = shuffled_members();
  auto node = order[0];
  auto delay = uniform(200ms, 800ms);
  auto length = fit(uniform(3000ms, 6000ms));
  for (size_t j = 0; j < cluster_.size(); ++j)
    if (j != node) {
      cluster_.link(node, j).set_delay(delay);
      cluster_.link(j, node).set_delay(delay);
    }
  // Its clients' requests and replies too: a grant decided at once reaches
  // its client `delay` after the acceptors started timing the lease.
  cluster_.client_link(node).set_delay(delay);
  start_fault("slow", "every link of " + cluster_.id(node) + " (clients' too) delayed by " +
                          std::to_string(delay.count()) + " ms for " +
                          std::to_string(length.count()) + " ms");
  // A holder frozen meanwhile shows whether leases are timed from the send:
  // a grant decided through the slow node reaches its client late.
  std::thread frozen;
  if (options_.faults.count("client-pause")) {
    auto pause = options_.lease * 2;
    frozen = std::thread([this, pause] { workload_.pause_a_holder(pause, 3s); });
  }
  sleep_for(length);
  if (frozen.joinable())
    frozen.join();
  for (size_t j = 0; j < cluster_.size(); ++j)
    if (j != node) {
      cluster_.link(node, j).set_delay(0ms);
      cluster_.link(j, node).set_delay(0ms);
    }
  cluster_.client_link(node).set_delay(0ms);
  stop_fault("slow", "links of " + cluster_.id(node) + " at full speed");
  return true;
}

bool Nemesis::skew() {
  if (!options_.skew_supported)
    return false;
  auto up = running_members();
  if (up.empty())
    return false;
  auto i = up[rng_() % up.size()];
  double rate = rng_() % 2 ? options_.skew_rate : 2.0 - options_.skew_rate;
  auto length = fit(uniform(3000ms, 6000ms));
  cluster_.kill(i);
  start_fault("skew", cluster_.id(i) + " restarted with --test-clock-rate " + std::to_string(rate) +
                          " for " + std::to_string(length.count()) + " ms");
  auto error = cluster_.restart(i, {"--test-clock-rate", std::to_string(rate)});
  if (!error.empty())
    info("skew: " + cluster_.id(i) + " did not start with the clock rate: " + error);
  else
    sleep_for(length);
  cluster_.kill(i);
  error = cluster_.restart(i);
  if (!error.empty())
    down_.insert(i);
  stop_fault("skew", error.empty() ? cluster_.id(i) + " restarted at the normal rate"
                                   : cluster_.id(i) + " did not restart: " + error);
  return true;
}

RoutedClient Nemesis::taker_via(const std::string& name, size_t member, const std::string& lock,
                                milliseconds between) const {
  RoutedClient t;
  t.name = name;
  t.servers = {member};
  t.lock = lock;
  t.ttl = options_.lease;
  t.hold_max = 200ms;
  t.between = between;
  return t;
}

void Nemesis::start_routed(const std::vector<RoutedClient>& specs, steady_clock::time_point until) {
  for (auto& spec : specs)
    routed_.emplace_back([this, spec, until] { workload_.run_routed(spec, until); });
}

void Nemesis::join_routed() {
  // Bounded: each routed client stops at its `until` plus one call.
  for (auto& t : routed_)
    if (t.joinable())
      t.join();
  routed_.clear();
}

// A majority loses a grant by two faults that each look harmless: minority
// M misses grants while cut off, then B (which has them) is wiped and comes
// back, then the rest (A) goes away, so B plus M form the quorum. Correct
// nodes: B waits to catch up from every peer, the cluster is unavailable
// until A is back. With wiped-votes-at-once, B+M grant held locks again.
bool Nemesis::amnesia() {
  if (!down_.empty() || running_members().size() != cluster_.size())
    return false;
  const size_t n = cluster_.size();
  const size_t f = (n - 1) / 2;
  auto order = shuffled_members();
  std::vector<size_t> m(order.begin(), order.begin() + static_cast<long>(f));
  size_t b = order[f];
  std::vector<size_t> a(order.begin() + static_cast<long>(f) + 1, order.end());
  std::vector<size_t> not_m(order.begin() + static_cast<long>(f), order.end());
  std::vector<size_t> not_a(order.begin(), order.begin() + static_cast<long>(f) + 1);
  auto cut_for = fit(options_.lease * 2);
  auto away_for = fit(options_.lease * 3);
  auto lock = "amnesia-" + std::to_string(fault_number_ + 1);
  start_fault("amnesia", names(cluster_, m) + " cut off for " + std::to_string(cut_for.count()) +
                             " ms while " + lock + " is granted via " + cluster_.id(a[0]) +
                             "; then kill -9 + wipe + restart " + cluster_.id(b) + "; then " +
                             names(cluster_, a) + " cut off for " +
                             std::to_string(away_for.count()) + " ms");
  split(m, not_m, LinkMode::cut);
  // A long lease, granted while M is away: only A and B know of it.
  auto end = steady_clock::now() + cut_for + away_for + 5s;
  RoutedClient holder;
  holder.name = lock + "-holder";
  holder.servers = starting_at(a[0], n);
  holder.lock = lock;
  holder.ttl = options_.lease * 4;
  holder.hold_min = holder.hold_max = cut_for + away_for + 5s;
  holder.wait = options_.lease;
  start_routed({holder}, end);
  sleep_for(cut_for);
  cluster_.kill(b);
  cluster_.wipe(b);
  auto error = cluster_.restart(b);
  if (!error.empty()) {
    down_.insert(b);
    info("amnesia: " + cluster_.id(b) + " did not restart: " + error);
  }
  // Swap at once: M back, A away, before anything re-replicates to M.
  cluster_.heal_network();
  split(a, not_a, LinkMode::cut);
  info("amnesia: " + cluster_.id(b) + " restarted wiped; " + names(cluster_, m) + " back, " +
       names(cluster_, a) + " cut off");
  // Takers that can only reach B and M: any grant of the held lock now is
  // a double grant.
  std::vector<RoutedClient> takers;
  for (auto i : not_a)
    takers.push_back(taker_via(lock + "-taker-" + cluster_.id(i), i, lock, 50ms));
  start_routed(takers, steady_clock::now() + away_for);
  sleep_for(away_for);
  cluster_.heal_network();
  join_routed();
  stop_fault("amnesia", "healed");
  return true;
}

// Lost promises (notes 4.2). Members other than a bridge B are split into
// two sides that cannot reach each other, so each side's quorum needs B,
// and they are restarted with --test-hold-accepts: each proposer stalls
// between its promises and its accepts, as if paused exactly there. Then,
// once per step, on a fresh lock:
//   1. side Y reads the lock three times: prepares only, which raise Y's
//      ballot counter and B's promise;
//   2. B is killed -9 and restarted with its data, and redialled;
//   3. side X tries the lock: it prepares at B with a low ballot and holds;
//      100 ms later side Y does, with a higher ballot, and holds;
//   4. B is killed and restarted again, and redialled before the holds end;
//   5. X's accept reaches B, then Y's.
// Correct nodes: B kept Y's promises, so X's ballot or X's accept is
// refused and X retries. With skip-promise-fsync B forgot them: it accepts
// X's value (chosen with X's own vote), then Y's, whose ballot is above the
// next promise X's accept carried, so a second value is chosen that never
// saw the first: token 1 granted twice. The sides swap roles every step.
bool Nemesis::crash_after_promise() {
  if (!down_.empty() || running_members().size() != cluster_.size())
    return false;
  const auto hold = hold_accepts_;
  auto total = fit(uniform(12000ms, 15000ms));
  auto lock = "promise-" + std::to_string(fault_number_ + 1);
  auto order = shuffled_members();
  size_t bridge_node = order[0];
  std::vector<size_t> left, right;
  for (size_t k = 1; k < order.size(); ++k)
    (k % 2 ? left : right).push_back(order[k]);
  std::vector<size_t> sides(order.begin() + 1, order.end());
  start_fault("crash-after-promise",
              names(cluster_, left) + " x " + names(cluster_, right) + " cut, both holding " +
                  "accepts " + std::to_string(hold.count()) + " ms after their promises; " +
                  cluster_.id(bridge_node) + " bridges them and is killed -9 and restarted " +
                  "with its data twice per step for " + std::to_string(total.count()) +
                  " ms; each step races for a fresh lock " + lock + "-K via both sides");
  // One member at a time, so the cluster keeps a quorum while they restart.
  auto restart_sides = [&](const std::vector<std::string>& flags) {
    for (auto i : sides) {
      cluster_.kill(i);
      auto error = cluster_.restart(i, flags);
      if (!error.empty() && down_.insert(i).second)
        info("crash-after-promise: " + cluster_.id(i) + " did not restart: " + error);
    }
  };
  restart_sides({"--test-hold-accepts", std::to_string(hold.count()) + "ms"});
  for (auto a : left)
    for (auto b : right)
      cluster_.set_links(a, b, LinkMode::cut);
  size_t kills = 0;
  // Restarts B and waits (bounded) until the proposer of each side has
  // redialled it, as its log says; false if that took too long.
  auto dialled = [&](size_t side) {
    auto log = read_file(cluster_.log_path(side));
    auto needle = "connected to peer " + cluster_.id(bridge_node) + " at";
    size_t count = 0;
    for (auto at = log.find(needle); at != std::string::npos; at = log.find(needle, at + 1))
      ++count;
    return count;
  };
  auto crash_bridge = [&](milliseconds limit) {
    auto before_left = dialled(left[0]);
    auto before_right = dialled(right[0]);
    cluster_.kill(bridge_node);
    ++kills;
    auto error = cluster_.restart(bridge_node);
    if (!error.empty()) {
      if (down_.insert(bridge_node).second)
        info("crash-after-promise: " + cluster_.id(bridge_node) + " did not restart: " + error);
      return false;
    }
    auto until = steady_clock::now() + limit;
    while (steady_clock::now() < until) {
      if (dialled(left[0]) > before_left && dialled(right[0]) > before_right)
        return true;
      sleep_for(10ms);
    }
    return false;
  };
  // A lease that outlasts the held round, or the grant comes too late to use.
  const auto ttl = std::max(options_.lease, hold * 4);
  std::vector<std::unique_ptr<Session>> via;
  for (auto& side : {left, right})
    via.push_back(std::make_unique<Session>(workload_, lock + "-via-" + cluster_.id(side[0]),
                                            std::vector<size_t>{side[0]}, hold + 3000ms));
  // Connected before the first step, so that X's first request is not
  // slowed by setting up its connection and overtaken by Y's.
  for (auto& session : via)
    session->status(lock + "-0");
  auto until = steady_clock::now() + total;
  size_t steps = 0, missed = 0;
  for (size_t k = 1; down_.empty() && steady_clock::now() + hold * 3 < until; ++k) {
    auto name = lock + "-" + std::to_string(k);
    auto& x = *via[k % 2];
    auto& y = *via[(k + 1) % 2];
    for (int r = 0; r < 3; ++r)
      y.status(name);
    if (!crash_bridge(5000ms)) {
      ++missed;
      continue;
    }
    std::thread tx([&] { x.try_and_release(name, ttl); });
    sleep_for(100ms);
    std::thread ty([&] { y.try_and_release(name, ttl); });
    sleep_for(200ms); // both have their promises by now
    // Back before the holds end, or this step tests nothing.
    if (!crash_bridge(hold - 300ms))
      ++missed;
    tx.join();
    ty.join();
    ++steps;
  }
  via.clear();
  cluster_.heal_network();
  restart_sides({});
  stop_fault("crash-after-promise", std::to_string(steps) + " steps, " + std::to_string(missed) +
                                        " of them with " + cluster_.id(bridge_node) +
                                        " back too late; " + std::to_string(kills) +
                                        " kills; sides back to normal");
  return true;
}

// A slow reply: a client that only knows A gets its grant through A's slowed
// client link (each way delayed by 0.6 leases, so the grant is decided
// 0.6 leases after the send and arrives 1.2 leases after it) and then
// freezes for 2 leases; a client through another member takes the lock at
// the server's expiry. Timed from the send, the holder trusts the grant
// shorter than the server keeps it (or not at all); timed from the reply
// (mutation lease-from-reply) it trusts it past the takeover.
bool Nemesis::slow_reply() {
  if (!down_.empty() || running_members().size() != cluster_.size())
    return false;
  auto order = shuffled_members();
  size_t a = order[0];
  size_t b = order[1];
  auto delay = options_.lease * 6 / 10;
  auto length = options_.lease * 4;
  auto lock = "reply-" + std::to_string(fault_number_ + 1);
  start_fault("slow-reply", "clients' link to " + cluster_.id(a) + " delayed by " +
                                std::to_string(delay.count()) + " ms each way; " + lock +
                                " held through it by a client that freezes, taken via " +
                                cluster_.id(b));
  auto end = steady_clock::now() + length;
  RoutedClient holder;
  holder.name = lock + "-frozen-via-" + cluster_.id(a);
  holder.servers = {a};
  holder.lock = lock;
  holder.ttl = options_.lease;
  holder.hold_min = holder.hold_max = options_.lease * 2;
  holder.wait = options_.lease;
  // It must still be listening when the grant arrives, 1.2 leases after it
  // asked (the workload's own attempt timeout is shorter than that).
  holder.attempt_timeout = options_.lease * 3 / 2;
  holder.frozen = true;
  holder.between = options_.lease * 3; // one grant per fault
  holder.connect_first = 500ms;
  auto taker = taker_via(lock + "-taker-via-" + cluster_.id(b), b, lock, 10ms);
  start_routed({holder}, end);
  sleep_for(250ms); // connected through the fast link
  cluster_.client_link(a).set_delay(delay);
  // The holder's acquire leaves at +500 ms and is decided `delay` later;
  // the taker starts once the lock is held, and gets it when it lapses.
  sleep_for(250ms + delay + 300ms);
  start_routed({taker}, end);
  sleep_for(length);
  cluster_.client_link(a).set_delay(0ms);
  join_routed();
  stop_fault("slow-reply", "done");
  return true;
}

// A stale acceptor: C is cut off while a lock is held and refreshed through
// the others for several leases, then only C's dials to its peers heal (an
// asymmetric partition), and a client that only knows C tries to take the
// lock while its holder keeps refreshing. With
// proposer-clock-expiry C times the lease by its own old epoch and grants it.
bool Nemesis::stale_acceptor() {
  if (!down_.empty() || running_members().size() != cluster_.size())
    return false;
  const size_t n = cluster_.size();
  auto order = shuffled_members();
  size_t c = order[0];
  size_t a = order[1];
  std::vector<size_t> rest(order.begin() + 1, order.end());
  auto cut_for = fit(options_.lease * 3);
  auto take_for = fit(options_.lease * 2);
  auto lock = "stale-" + std::to_string(fault_number_ + 1);
  start_fault("stale-acceptor", lock + " held via " + cluster_.id(a) + "; " + cluster_.id(c) +
                                    " cut off for " + std::to_string(cut_for.count()) +
                                    " ms, then its own dials healed and the lock tried via " +
                                    cluster_.id(c) + " for " + std::to_string(take_for.count()) +
                                    " ms");
  auto end = steady_clock::now() + 500ms + cut_for + take_for;
  RoutedClient holder;
  holder.name = lock + "-holder";
  holder.servers = starting_at(a, n);
  holder.lock = lock;
  holder.ttl = options_.lease;
  holder.hold_min = holder.hold_max = 500ms + cut_for + take_for;
  holder.wait = options_.lease;
  start_routed({holder}, end);
  // Let C see the grant first, so it holds an epoch that goes stale.
  sleep_for(500ms);
  split({c}, rest, LinkMode::cut);
  sleep_for(cut_for);
  auto taker = taker_via(lock + "-taker-" + cluster_.id(c), c, lock, 10ms);
  // Half-heal: C's own dials pass again, its peers' dials to C stay cut,
  // so C's proposer reaches a quorum while its acceptor keeps the old epoch.
  for (auto j : rest)
    cluster_.link(c, j).set_mode(LinkMode::pass);
  info("stale-acceptor: " + cluster_.id(c) +
       " can reach its peers again, they still cannot reach it");
  start_routed({taker}, steady_clock::now() + take_for);
  sleep_for(take_for);
  cluster_.heal_network();
  info("stale-acceptor: healed");
  join_routed();
  stop_fault("stale-acceptor", "done");
  return true;
}

void Nemesis::run(int64_t stop_faults_at) {
  std::vector<std::string> kinds;
  for (auto& k : all_fault_kinds())
    if (options_.faults.count(k) && (k != "skew" || options_.skew_supported))
      kinds.push_back(k);
  if (kinds.empty())
    return;
  // Fault lengths are cut to fit before the deadline (see fit()).
  stop_faults_at_ = stop_faults_at;
  // Every run that may have stale attempts has them: this one goes first.
  if (options_.faults.count("backlog") &&
      now_ns() + duration_cast<nanoseconds>(10s).count() < stop_faults_at) {
    backlog();
    sleep_for(uniform(500ms, 2000ms));
  }
  while (now_ns() + 1'500'000'000 < stop_faults_at) {
    auto& kind = kinds[rng_() % kinds.size()];
    // A composite fault is several steps, each cut by fit(): start one only
    // if all of it fits before the deadline, so the tail stays fault-free.
    auto lease = options_.lease;
    auto whole = kind == "amnesia"               ? lease * 5 + 3000ms
                 : kind == "crash-after-promise" ? milliseconds(22'000)
                 : kind == "stale-acceptor"      ? lease * 5 + 1000ms
                 : kind == "slow-reply"          ? lease * 4 + 1000ms
                 : kind == "client-skew"         ? milliseconds(17'000) // 2 stops of <= 5 s, 3-6 s
                 : kind == "backlog"             ? milliseconds(10'000)
                                                 : milliseconds(0);
    if (now_ns() + duration_cast<nanoseconds>(whole).count() >= stop_faults_at) {
      sleep_for(100ms);
      continue;
    }
    // Amnesia wipes a member (as wipe does, see wipe_restart): not while
    // another one holds no data yet.
    if (kind == "amnesia" && any_catching_up(cluster_)) {
      sleep_for(100ms);
      continue;
    }
    bool done = false;
    if (kind == "kill")
      done = kill_restart();
    else if (kind == "wipe")
      done = wipe_restart();
    else if (kind == "pause")
      done = pause_node();
    else if (kind == "backlog")
      done = backlog();
    else if (kind == "client-pause")
      done = pause_client();
    else if (kind == "client-skew")
      done = skew_client();
    else if (kind == "partition")
      done = partition();
    else if (kind == "bridge")
      done = bridge();
    else if (kind == "flap")
      done = flap();
    else if (kind == "slow")
      done = slow();
    else if (kind == "skew")
      done = skew();
    else if (kind == "amnesia")
      done = amnesia();
    else if (kind == "crash-after-promise")
      done = crash_after_promise();
    else if (kind == "stale-acceptor")
      done = stale_acceptor();
    else if (kind == "slow-reply")
      done = slow_reply();
    if (!down_.empty())
      restart_down_members();
    sleep_for(done ? uniform(500ms, 2000ms) : 100ms);
  }
  heal_all();
}

void Nemesis::heal_all() {
  cluster_.heal_network();
  for (size_t i = 0; i < cluster_.size(); ++i)
    cluster_.resume(i);
  restart_down_members();
}

} // namespace gdl_chaos
