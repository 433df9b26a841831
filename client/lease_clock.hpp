// The clock a client times its leases with: CLOCK_BOOTTIME, which keeps
// counting while the machine is suspended, so a suspended client never
// under-counts how long its lease has run.
#pragma once

#include <chrono>

namespace godistlock::client {

struct LeaseClock {
  using duration = std::chrono::nanoseconds;
  using rep = duration::rep;
  using period = duration::period;
  using time_point = std::chrono::time_point<LeaseClock>;
  static constexpr bool is_steady = true;
  static time_point now() noexcept;
};

// Clock-rate drift the lease rules assume between any two machines (1e-3
// covers crystal error and NTP slewing, which Linux bounds at 500 ppm).
constexpr double max_clock_drift = 1e-3;

// How long a client may trust a lease of `ttl` counted from the send time of
// the attempt that created it: ttl·(1−ρ)/(1+ρ) minus a margin of
// max(50 ms, 1 % of ttl). Zero when nothing is left.
std::chrono::nanoseconds trusted_lease(std::chrono::milliseconds ttl);

} // namespace godistlock::client
