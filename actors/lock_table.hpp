// Where locks rest while they have no actor: name -> compact encoded
// acceptor record plus when this node first saw the record's epoch. A live
// CAF actor costs ~1.3 KB; a resting lock costs a map node and one small
// allocation, so a million held locks fit in a few hundred MB or less.
#pragma once

#include "core/acceptor.hpp"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>

namespace godistlock::actors {

class LockTable {
public:
  struct Taken {
    core::AcceptorRecord record;
    int64_t epoch_seen_ns = 0;
  };

  void put(const std::string& name, const core::AcceptorRecord& record, int64_t epoch_seen_ns);
  // Stores bytes made by messages::encode_resting as they are.
  void put_encoded(const std::string& name, const std::string& resting_bytes,
                   int64_t epoch_seen_ns);
  // Removes and returns the lock's record, if it rests here.
  std::optional<Taken> take(const std::string& name);
  size_t size() const { return entries_.size(); }

private:
  struct Entry {
    std::unique_ptr<char[]> bytes;
    uint32_t size = 0;
    int64_t epoch_seen_ns = 0;
  };
  std::unordered_map<std::string, Entry> entries_;
};

} // namespace godistlock::actors
