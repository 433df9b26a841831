#include "nemesis.hpp"

#include <algorithm>
#include <thread>

namespace gdl_chaos {

using namespace std::chrono;
using namespace std::chrono_literals;

const std::vector<std::string>& all_fault_kinds() {
  static const std::vector<std::string> kinds{
      "kill", "wipe", "pause", "client-pause", "partition", "bridge", "flap", "slow", "skew"};
  return kinds;
}

Nemesis::Nemesis(Cluster& cluster, Workload& workload, History& history, NemesisOptions options)
    : cluster_(cluster), workload_(workload), history_(history), options_(std::move(options)),
      rng_(options_.seed * 7919 + 17) {
  if (options_.faults.count("skew") && !options_.skew_supported)
    notes_.push_back("skew skipped: the node binary rejects --test-clock-rate");
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

bool Nemesis::wipe_restart() {
  // A wiped node may not come back (no rejoin yet): never wipe more members
  // than a majority can spare.
  size_t spare = (cluster_.size() - 1) / 2;
  if (down_.size() + 1 > spare)
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

bool Nemesis::pause_client() {
  auto length =
      milliseconds(static_cast<int64_t>(static_cast<double>(options_.lease.count()) *
                                        std::uniform_real_distribution<double>(1.5, 3.0)(rng_)));
  // Only a pause longer than the lease tests anything.
  if (fit(length) < options_.lease * 3 / 2)
    return false;
  // The client logs its own fault-start/stop: only it knows when it froze.
  bool taken = workload_.pause_a_holder(length, 10s);
  if (taken)
    ++applied_["client-pause"];
  else
    info("client-pause: no client held a lock within 10 s");
  return taken;
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
  start_fault("slow", "every link of " + cluster_.id(node) + " delayed by " +
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

void Nemesis::run(int64_t stop_faults_at) {
  std::vector<std::string> kinds;
  for (auto& k : all_fault_kinds())
    if (options_.faults.count(k) && (k != "skew" || options_.skew_supported))
      kinds.push_back(k);
  if (kinds.empty())
    return;
  // Fault lengths are cut to fit before the deadline (see fit()).
  stop_faults_at_ = stop_faults_at;
  while (now_ns() + 1'500'000'000 < stop_faults_at) {
    auto& kind = kinds[rng_() % kinds.size()];
    bool done = false;
    if (kind == "kill")
      done = kill_restart();
    else if (kind == "wipe")
      done = wipe_restart();
    else if (kind == "pause")
      done = pause_node();
    else if (kind == "client-pause")
      done = pause_client();
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
