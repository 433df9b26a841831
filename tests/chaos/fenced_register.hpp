// The resource the locks protect in a chaos run: a store that, per lock,
// accepts a write only with a fencing token at least as high as the highest
// it has seen, and keeps every write it accepted. It stands for the storage
// an application hands its tokens to.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace gdl_chaos {

struct RegisterWrite {
  uint64_t seq = 0; // order of arrival at the register, over all locks
  std::string lock;
  uint64_t token = 0;
  std::string value;
  bool accepted = false;
  uint64_t highest_before = 0; // the highest token seen for the lock when it arrived
};

// What the register holds per lock at the end: every accepted value, in order.
using RegisterState = std::map<std::string, std::vector<std::string>>;

class FencedRegister {
public:
  // True when accepted. Thread-safe.
  bool write(const std::string& lock, uint64_t token, const std::string& value);
  std::vector<RegisterWrite> log() const;
  RegisterState state() const;
  size_t accepted() const;
  size_t rejected() const;

private:
  mutable std::mutex mutex_;
  std::map<std::string, uint64_t> highest_;
  RegisterState state_;
  std::vector<RegisterWrite> log_;
  size_t accepted_ = 0;
};

} // namespace gdl_chaos
