#include "actors/lock_table.hpp"

#include "messages/codec.hpp"

#include <cstring>
#include <stdexcept>

namespace godistlock::actors {

void LockTable::put(const std::string& name, const core::AcceptorRecord& record,
                    int64_t epoch_seen_ns) {
  put_encoded(name, messages::encode_resting(record), epoch_seen_ns);
}

void LockTable::put_encoded(const std::string& name, const std::string& bytes,
                            int64_t epoch_seen_ns) {
  Entry e;
  e.bytes = std::make_unique<char[]>(bytes.size());
  std::memcpy(e.bytes.get(), bytes.data(), bytes.size());
  e.size = static_cast<uint32_t>(bytes.size());
  e.epoch_seen_ns = epoch_seen_ns;
  entries_[name] = std::move(e);
}

std::optional<LockTable::Taken> LockTable::take(const std::string& name) {
  auto it = entries_.find(name);
  if (it == entries_.end())
    return std::nullopt;
  auto record = messages::decode_resting(std::string_view(it->second.bytes.get(), it->second.size));
  // Only this process writes the table: failing to decode is a bug, and
  // starting the lock from scratch would reuse tokens. Refuse loudly.
  if (!record)
    throw std::logic_error("lock table: cannot decode the resting record of '" + name + "'");
  Taken out{std::move(*record), it->second.epoch_seen_ns};
  entries_.erase(it);
  return out;
}

} // namespace godistlock::actors
