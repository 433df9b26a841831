// The clock a client times its leases with: CLOCK_BOOTTIME, which keeps
// counting while the machine is suspended, so a suspended client never
// under-counts how long its lease has run.
#pragma once

#include <atomic>
#include <chrono>

namespace godistlock::client {

struct LeaseClock {
  using duration = std::chrono::nanoseconds;
  using rep = duration::rep;
  using period = duration::period;
  using time_point = std::chrono::time_point<LeaseClock>;
  static constexpr bool is_steady = true;
  // CLOCK_BOOTTIME times test_rate().
  static time_point now() noexcept;
  // CLOCK_BOOTTIME itself, whatever test_rate() says.
  static time_point real_now() noexcept;
  // Test only (godistlock-chaos client worker processes, --clock-rate): makes
  // now() run at this rate relative to real time, to model a client whose
  // clock drifts, as core::Clock::test_rate() does for nodes. Process-global;
  // default 1.0; set once at start, before any lease is timed.
  static std::atomic<double>& test_rate() noexcept {
    static std::atomic<double> rate{1.0};
    return rate;
  }
};

// Clock-rate drift the lease rules assume between any two machines (1e-3
// covers crystal error and NTP slewing, which Linux bounds at 500 ppm).
constexpr double max_clock_drift = 1e-3;

// How long a client may trust a lease of `ttl` counted from the send time of
// the attempt that created it: ttl·(1−ρ)/(1+ρ) minus a margin of
// max(50 ms, 1 % of ttl). Zero when nothing is left.
std::chrono::nanoseconds trusted_lease(std::chrono::milliseconds ttl);

} // namespace godistlock::client
