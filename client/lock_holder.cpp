#include "client/lock_holder.hpp"

namespace godistlock::client {

LockHolder::LockHolder(Client& client, Lease lease, LostCallback on_lost)
    : client_(client), lease_(std::move(lease)), on_lost_(std::move(on_lost)) {
  refresher_ = std::thread([this] { refresh_loop(); });
}

LockHolder::~LockHolder() {
  release();
}

Lease LockHolder::lease() const {
  std::lock_guard<std::mutex> guard(mutex_);
  return lease_;
}

void LockHolder::mark_lost(const std::string& why) {
  if (lost_.exchange(true))
    return;
  if (on_lost_)
    on_lost_(lease(), why);
}

void LockHolder::refresh_loop() {
  std::unique_lock<std::mutex> lock(mutex_);
  while (!stopping_) {
    auto now = LeaseClock::now();
    if (now >= lease_.trusted_until) {
      lock.unlock();
      mark_lost("the lease ran out before a refresh succeeded");
      return;
    }
    // Refresh when a third of the trusted time is left... or every third of
    // it, whichever comes first; retry sooner after a failed attempt.
    auto trusted = trusted_lease(lease_.ttl);
    auto next = std::min(lease_.trusted_until - trusted / 3 * 2, lease_.trusted_until);
    if (next > now) {
      wake_.wait_for(lock, next - now);
      continue;
    }
    auto current = lease_;
    lock.unlock();
    // Bounded by the trusted deadline, so a hung server cannot delay the
    // news that the lease is gone.
    auto reply = client_.refresh(current, current.ttl, current.trusted_until);
    lock.lock();
    if (stopping_)
      break;
    if (reply.ok()) {
      // An unknown outcome keeps the old deadline; a success moves it.
      if (reply.lease.trusted_until > lease_.trusted_until)
        lease_.trusted_until = reply.lease.trusted_until;
      continue;
    }
    if (reply.status == Status::not_holder) {
      lock.unlock();
      mark_lost("the lock is no longer ours: " + reply.message);
      return;
    }
    // Unavailable: keep the old deadline and try again shortly.
    wake_.wait_for(lock, std::chrono::milliseconds(50));
  }
}

bool LockHolder::release() {
  {
    std::lock_guard<std::mutex> guard(mutex_);
    if (released_)
      return true;
    released_ = true;
    stopping_ = true;
  }
  wake_.notify_all();
  if (refresher_.joinable()) {
    // Called from the lost callback, i.e. on the refresh thread itself.
    if (refresher_.get_id() == std::this_thread::get_id())
      refresher_.detach();
    else
      refresher_.join();
  }
  if (lost_)
    return false;
  auto current = lease();
  auto reply = client_.release(current.name, current.token);
  return reply.ok();
}

} // namespace godistlock::client
