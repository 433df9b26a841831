// RAII ownership of a granted lock: keeps the lease alive in the background
// and tells the application at once when the lock is lost. Releases it on
// destruction.
#pragma once

#include "client.hpp"

#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

namespace godistlock::client {

class LockHolder {
public:
  using LostCallback = std::function<void(const Lease&, const std::string& why)>;

  // Takes over `lease` (which must be granted) and refreshes it every third
  // of its trusted time. `on_lost` runs on the refresh thread, once, when a
  // refresh is refused or the lease runs out before one succeeds.
  LockHolder(Client& client, Lease lease, LostCallback on_lost = {});
  ~LockHolder();
  LockHolder(const LockHolder&) = delete;
  LockHolder& operator=(const LockHolder&) = delete;

  bool lost() const { return lost_.load(); }
  // The current lease (its deadline moves forward with every refresh).
  Lease lease() const;
  // Stops refreshing and releases the lock (once). False when the release
  // was refused or no server answered.
  bool release();

private:
  void refresh_loop();
  void mark_lost(const std::string& why);

  Client& client_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  Lease lease_;
  LostCallback on_lost_;
  std::atomic<bool> lost_{false};
  bool stopping_ = false;
  bool released_ = false;
  std::thread refresher_;
};

} // namespace godistlock::client
