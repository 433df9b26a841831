// Where locks rest while they have no actor: name -> compact encoded
// acceptor record plus when this node first saw the record's epoch. A live
// CAF actor costs ~1.3 KB; a resting lock costs one set node and one heap
// block holding name, time and record together (measured with
// `godistlock-bench table`: see docs/architecture.md).
#pragma once

#include "core/acceptor.hpp"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>

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
  template <class F> void for_each_name(F&& f) const {
    for (auto& b : entries_)
      f(b.name());
  }

private:
  // One heap block: u32 name size, u32 record size, i64 epoch_seen_ns,
  // name bytes, record bytes.
  struct Block {
    std::unique_ptr<char[]> data;
    std::string_view name() const;
    std::string_view record() const;
    int64_t epoch_seen_ns() const;
  };
  struct ByName {
    size_t operator()(const Block& b) const { return std::hash<std::string_view>{}(b.name()); }
    bool operator()(const Block& a, const Block& b) const { return a.name() == b.name(); }
  };
  static Block make_block(std::string_view name, std::string_view record, int64_t epoch_seen_ns);

  std::unordered_set<Block, ByName, ByName> entries_;
};

} // namespace godistlock::actors
