#include "actors/lock_table.hpp"

#include "messages/codec.hpp"

#include <cstring>
#include <stdexcept>

namespace godistlock::actors {

namespace {

constexpr size_t header_bytes = 4 + 4 + 8;

template <class T> T load(const char* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return v;
}

} // namespace

std::string_view LockTable::Block::name() const {
  return {data.get() + header_bytes, load<uint32_t>(data.get())};
}

std::string_view LockTable::Block::record() const {
  return {data.get() + header_bytes + load<uint32_t>(data.get()), load<uint32_t>(data.get() + 4)};
}

int64_t LockTable::Block::epoch_seen_ns() const {
  return load<int64_t>(data.get() + 8);
}

LockTable::Block LockTable::make_block(std::string_view name, std::string_view record,
                                       int64_t epoch_seen_ns) {
  Block b;
  b.data = std::make_unique<char[]>(header_bytes + name.size() + record.size());
  auto name_size = static_cast<uint32_t>(name.size());
  auto record_size = static_cast<uint32_t>(record.size());
  std::memcpy(b.data.get(), &name_size, 4);
  std::memcpy(b.data.get() + 4, &record_size, 4);
  std::memcpy(b.data.get() + 8, &epoch_seen_ns, 8);
  // memcpy from an empty view's null pointer is undefined, even for 0 bytes.
  if (!name.empty())
    std::memcpy(b.data.get() + header_bytes, name.data(), name.size());
  if (!record.empty())
    std::memcpy(b.data.get() + header_bytes + name.size(), record.data(), record.size());
  return b;
}

void LockTable::put(const std::string& name, const core::AcceptorRecord& record,
                    int64_t epoch_seen_ns) {
  put_encoded(name, messages::encode_resting(record), epoch_seen_ns);
}

void LockTable::put_encoded(const std::string& name, const std::string& bytes,
                            int64_t epoch_seen_ns) {
  auto block = make_block(name, bytes, epoch_seen_ns);
  if (auto it = entries_.find(block); it != entries_.end())
    entries_.erase(it);
  entries_.insert(std::move(block));
}

std::optional<LockTable::Taken> LockTable::take(const std::string& name) {
  auto it = entries_.find(make_block(name, {}, 0));
  if (it == entries_.end())
    return std::nullopt;
  auto record = messages::decode_resting(it->record());
  // Only this process writes the table: failing to decode is a bug, and
  // starting the lock from scratch would reuse tokens. Refuse loudly.
  if (!record)
    throw std::logic_error("lock table: cannot decode the resting record of '" + name + "'");
  Taken out{std::move(*record), it->epoch_seen_ns()};
  entries_.erase(it);
  return out;
}

} // namespace godistlock::actors
