#include "workload.hpp"

#include "checkers.hpp"
#include "recording_client.hpp"

#include "client/client.hpp"

#include <algorithm>
#include <cmath>
#include <random>
#include <unistd.h>

namespace gdl_chaos {

namespace client = godistlock::client;
using namespace std::chrono;
using namespace std::chrono_literals;

namespace detail {

// One client thread's view: its Client, its name in the history, its ops.
// Lease deadlines need no conversion: this process's lease clock is real.
class Actor : public RecordingClient {
public:
  Actor(std::string name, client::ClientOptions options, History& history)
      : RecordingClient(
            std::move(name), std::move(options), [&history](Event e) { history.record(e); },
            [](client::LeaseClock::time_point t) { return t.time_since_epoch().count(); }) {}

  bool write(FencedRegister& store, const client::Lease& lease, const std::string& detail = {}) {
    auto id = invoke(Op::write, lease.name, lease.token, detail);
    bool accepted = store.write(lease.name, lease.token, register_value(name(), id));
    complete(Op::write, id, lease.name, accepted ? EventType::ok : EventType::fail, lease.token,
             accepted ? "" : "refused: a higher token was seen");
    return accepted;
  }
};

} // namespace detail

namespace {

using detail::Actor;

client::ClientOptions client_options(const WorkloadOptions& o, const std::string& name) {
  client::ClientOptions c;
  c.servers = o.servers;
  c.attempt_timeout = o.attempt_timeout;
  // Unique per process run, as the protocol requires.
  c.client_id = "chaos-" + std::to_string(::getpid()) + "-" + name;
  c.test_lease_from_reply = o.lease_from_reply;
  return c;
}

milliseconds uniform_ms(std::mt19937_64& rng, int64_t lo, int64_t hi) {
  return milliseconds(std::uniform_int_distribution<int64_t>(lo, hi)(rng));
}

// A ttl from lo to hi, log-uniform: short and long leases alike.
milliseconds ttl_between(std::mt19937_64& rng, milliseconds lo, milliseconds hi) {
  double a = std::log(static_cast<double>(lo.count()));
  double b = std::log(static_cast<double>(std::max(lo, hi).count()));
  return milliseconds(
      static_cast<int64_t>(std::exp(std::uniform_real_distribution<double>(a, b)(rng))));
}

// When to refresh: after a third of the shorter of what is trusted and what
// the next refresh asks for.
client::LeaseClock::time_point next_refresh(const client::Lease& lease, milliseconds ttl) {
  auto now = client::LeaseClock::now();
  auto left =
      lease.trusted_until > now ? lease.trusted_until - now : client::LeaseClock::duration{};
  auto trusted = std::min<client::LeaseClock::duration>(left, client::trusted_lease(ttl));
  return now + trusted / 3;
}

// Holds `lease` for `hold`: refreshes at a third of the trusted time, each
// refresh asking for a ttl from `ttl_range` (longer or shorter than the
// lease), fenced writes in between, stops when the lease is lost or on
// `stopping`. Logs cs-enter before (by the caller) and cs-exit here, then
// releases.
void hold_lock(Actor& actor, FencedRegister& store, client::Lease lease, milliseconds hold,
               std::pair<milliseconds, milliseconds> ttl_range, std::mt19937_64& rng,
               const std::atomic<bool>& stopping) {
  const auto& lock = lease.name;
  auto hold_until = client::LeaseClock::now() + hold;
  auto next_ttl = [&] {
    return rng() % 2 ? lease.ttl : ttl_between(rng, ttl_range.first, ttl_range.second);
  };
  auto ttl = next_ttl();
  auto refresh_at = next_refresh(lease, ttl);
  for (;;) {
    auto now = client::LeaseClock::now();
    if (!lease.still_trusted()) {
      actor.note(EventType::lease_lost, lock, lease.token, "the trusted time ran out");
      break;
    }
    if (now >= hold_until || stopping)
      break;
    if (now >= refresh_at) {
      auto extended = actor.refresh(lease, ttl);
      if (!extended) {
        actor.note(EventType::lease_lost, lock, lease.token, "a refresh failed");
        break;
      }
      lease = *extended;
      ttl = next_ttl();
      refresh_at = next_refresh(lease, ttl);
      continue;
    }
    actor.write(store, lease);
    auto nap = client::LeaseClock::now() + uniform_ms(rng, 20, 150);
    std::this_thread::sleep_until(std::min({nap, hold_until, refresh_at, lease.trusted_until}));
  }
  actor.note(EventType::cs_exit, lock, lease.token, "");
  // Even a lost lease is given back: if it is still ours, others need not
  // wait for it to lapse.
  actor.release(lock, lease.token);
}

} // namespace

Workload::Workload(WorkloadOptions options, History& history, FencedRegister& store)
    : options_(std::move(options)), history_(history), store_(store) {}

Workload::~Workload() {
  stop();
}

std::vector<std::string> Workload::hot_locks() const {
  std::vector<std::string> out;
  for (size_t i = 0; i < options_.hot_locks; ++i)
    out.push_back("hot-" + std::to_string(i));
  return out;
}

void Workload::start() {
  for (size_t i = 0; i < options_.clients; ++i)
    threads_.emplace_back([this, i] { client_loop(i); });
}

void Workload::stop() {
  stopping_ = true;
  pause_changed_.notify_all();
  for (auto& t : threads_)
    if (t.joinable())
      t.join();
  threads_.clear();
}

bool Workload::pause_a_holder(milliseconds pause, milliseconds limit) {
  std::unique_lock<std::mutex> lock(pause_mutex_);
  pause_wanted_ = true;
  pause_taken_ = false;
  pause_done_ = false;
  pause_length_ = pause;
  bool done = pause_changed_.wait_for(lock, limit, [&] { return pause_done_ || stopping_; });
  bool taken = pause_taken_;
  pause_wanted_ = false;
  if (!done && taken) {
    // Bounded: the paused client sleeps `pause` and then reports.
    pause_changed_.wait_for(lock, pause + 10s, [&] { return pause_done_ || stopping_; });
  }
  return taken;
}

void Workload::client_loop(size_t index) {
  auto name = "c" + std::to_string(index + 1);
  Actor actor(name, client_options(options_, name), history_);
  std::mt19937_64 rng(options_.seed * 1000003 + index);
  auto hot = hot_locks();
  const auto ttl = options_.ttl;

  while (!stopping_) {
    bool is_hot = std::uniform_int_distribution<int>(0, 99)(rng) < 70;
    std::string lock =
        is_hot ? hot[rng() % hot.size()]
               : "cold-" + std::to_string(rng() % std::max<size_t>(1, options_.cold_locks));
    std::pair<milliseconds, milliseconds> ttl_range{options_.ttl_min,
                                                    is_hot ? options_.ttl : options_.cold_ttl};
    int dice = std::uniform_int_distribution<int>(0, 99)(rng);
    if (dice < 15) {
      actor.status(lock);
      continue;
    }
    std::optional<milliseconds> wait;
    if (dice >= 45)
      wait = uniform_ms(rng, 200, 3000);
    auto lease = actor.acquire(lock, ttl_between(rng, ttl_range.first, ttl_range.second), wait);
    if (!lease) {
      std::this_thread::sleep_for(uniform_ms(rng, 10, 150));
      continue;
    }

    // A pending client pause takes the first holder of a hot lock: others
    // wait there, so a takeover right after the lease ends is likely.
    bool freeze = false;
    milliseconds pause{0};
    {
      std::lock_guard<std::mutex> guard(pause_mutex_);
      if (is_hot && pause_wanted_ && !pause_taken_) {
        pause_taken_ = true;
        freeze = true;
        pause = pause_length_;
      }
    }
    if (freeze) {
      actor.note(EventType::cs_enter, lock, lease->token, "");
      actor.write(store_, *lease);
      actor.note(EventType::fault_start, lock, lease->token,
                 "frozen for " + std::to_string(pause.count()) + " ms holding the lock",
                 "client-freeze");
      auto until = steady_clock::now() + pause;
      while (steady_clock::now() < until && !stopping_)
        std::this_thread::sleep_for(20ms);
      // Back from the freeze without looking at the clock, as a stalled
      // process would: the register must refuse this if a newer token wrote.
      actor.write(store_, *lease, "stale: after a client pause");
      actor.note(EventType::lease_lost, lock, lease->token, "noticed after the pause");
      actor.note(EventType::cs_exit, lock, lease->token, "");
      actor.note(EventType::fault_stop, lock, lease->token, "resumed", "client-freeze");
      {
        std::lock_guard<std::mutex> guard(pause_mutex_);
        pause_done_ = true;
      }
      pause_changed_.notify_all();
      actor.release(lock, lease->token);
      continue;
    }

    actor.note(EventType::cs_enter, lock, lease->token, "");
    // Mostly short holds (many handovers), some long enough to need refreshes.
    auto hold = std::uniform_int_distribution<int>(0, 99)(rng) < 65
                    ? uniform_ms(rng, 0, 300)
                    : uniform_ms(rng, 300, ttl.count() * 5 / 2);
    hold_lock(actor, store_, *lease, hold, ttl_range, rng, stopping_);
    actor.release(lock, lease->token);
  }
}

size_t Workload::run_routed(const RoutedClient& spec, steady_clock::time_point until) {
  auto options = client_options(options_, spec.name);
  options.servers.clear();
  for (auto i : spec.servers)
    options.servers.push_back(options_.servers.at(i));
  if (spec.attempt_timeout)
    options.attempt_timeout = *spec.attempt_timeout;
  Actor actor(spec.name, options, history_);
  std::mt19937_64 rng(options_.seed * 1000003 + std::hash<std::string>{}(spec.name));
  size_t grants = 0;
  if (spec.connect_first) {
    actor.status(spec.lock);
    std::this_thread::sleep_for(*spec.connect_first);
  }
  while (!stopping_ && steady_clock::now() < until) {
    auto lease = actor.acquire(spec.lock, spec.ttl, spec.wait);
    if (lease) {
      ++grants;
      actor.note(EventType::cs_enter, spec.lock, lease->token, "");
      auto left = duration_cast<milliseconds>(until - steady_clock::now());
      auto hold = std::min(uniform_ms(rng, spec.hold_min.count(), spec.hold_max.count()),
                           std::max(left, 0ms));
      if (spec.frozen) {
        std::this_thread::sleep_for(hold);
        if (!lease->still_trusted())
          actor.note(EventType::lease_lost, spec.lock, lease->token, "the trusted time ran out");
        actor.write(store_, *lease, "after a freeze");
        actor.note(EventType::cs_exit, spec.lock, lease->token, "");
        actor.release(spec.lock, lease->token);
        continue;
      }
      hold_lock(actor, store_, *lease, hold, {spec.ttl, spec.ttl_max.value_or(spec.ttl)}, rng,
                stopping_);
    }
    std::this_thread::sleep_for(spec.between);
  }
  return grants;
}

void Workload::probe(const std::vector<std::string>& locks, milliseconds wait) {
  Actor actor("probe", client_options(options_, "probe"), history_);
  for (auto& lock : locks) {
    auto lease = actor.acquire(lock, options_.ttl, wait);
    if (lease)
      actor.release(lock, lease->token);
  }
}

Session::Session(Workload& workload, const std::string& name, const std::vector<size_t>& servers,
                 milliseconds attempt_timeout) {
  auto options = client_options(workload.options_, name);
  options.servers.clear();
  for (auto i : servers)
    options.servers.push_back(workload.options_.servers.at(i));
  options.attempt_timeout = attempt_timeout;
  actor_ = std::make_unique<Actor>(name, options, workload.history_);
}

Session::~Session() = default;

void Session::status(const std::string& lock) {
  actor_->status(lock);
}

bool Session::try_and_release(const std::string& lock, milliseconds ttl) {
  auto lease = actor_->acquire(lock, ttl, std::nullopt);
  if (!lease)
    return false;
  actor_->note(EventType::cs_enter, lock, lease->token, "");
  actor_->note(EventType::cs_exit, lock, lease->token, "");
  actor_->release(lock, lease->token);
  return true;
}

} // namespace gdl_chaos
