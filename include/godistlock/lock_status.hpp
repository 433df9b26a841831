// What a server reports about one lock (Client::status). A plain value: the
// public API exposes no protocol or Protobuf type. The accessors keep the
// names of the protocol message it stands for.
#pragma once

#include <cstdint>
#include <string>

namespace godistlock::client {

namespace detail {
struct ReplyDecoder; // fills these from the server's answer (client.cpp)
}

class LockStatus {
public:
  bool held() const { return held_; }
  const std::string& owner() const { return owner_; }     // empty when free
  uint64_t token() const { return token_; }               // 0 when free
  uint64_t remaining_ms() const { return remaining_ms_; } // of the holder's lease
  uint64_t waiters() const { return waiters_; }
  uint64_t fence() const { return fence_; } // highest token ever issued for this lock

private:
  friend struct detail::ReplyDecoder;
  bool held_ = false;
  std::string owner_;
  uint64_t token_ = 0;
  uint64_t remaining_ms_ = 0;
  uint64_t waiters_ = 0;
  uint64_t fence_ = 0;
};

} // namespace godistlock::client
