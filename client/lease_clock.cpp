#include "client/lease_clock.hpp"

#include <algorithm>
#include <ctime>

namespace godistlock::client {

LeaseClock::time_point LeaseClock::real_now() noexcept {
  timespec ts{};
  clock_gettime(CLOCK_BOOTTIME, &ts);
  return time_point(std::chrono::seconds(ts.tv_sec) + std::chrono::nanoseconds(ts.tv_nsec));
}

LeaseClock::time_point LeaseClock::now() noexcept {
  auto real = real_now();
  double rate = test_rate().load(std::memory_order_relaxed);
  if (rate == 1.0)
    return real;
  return time_point(
      duration(static_cast<rep>(static_cast<double>(real.time_since_epoch().count()) * rate)));
}

std::chrono::nanoseconds trusted_lease(std::chrono::milliseconds ttl) {
  using namespace std::chrono;
  auto ttl_ns = duration_cast<nanoseconds>(ttl).count();
  auto scaled = static_cast<int64_t>(static_cast<double>(ttl_ns) * (1.0 - max_clock_drift) /
                                     (1.0 + max_clock_drift));
  auto margin =
      std::max<int64_t>(duration_cast<nanoseconds>(milliseconds(50)).count(), ttl_ns / 100);
  return nanoseconds(std::max<int64_t>(0, scaled - margin));
}

} // namespace godistlock::client
