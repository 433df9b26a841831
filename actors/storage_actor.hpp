// The node's storage actor: owns the write-ahead log and commits records
// from many lock actors with one write and one sync (group commit).
#pragma once

#include "actors/node_context.hpp"
#include "core/wal.hpp"
#include "messages/interfaces.hpp"

#include <memory>
#include <vector>

namespace godistlock::actors {

struct storage_state {
  std::shared_ptr<core::Wal> wal;
  std::shared_ptr<NodeCounters> counters;
  std::shared_ptr<NodeMetrics> metrics;                          // WAL syncs, their time and size
  std::vector<caf::typed_response_promise<atoms::done>> waiting; // answered after the next sync
  bool flush_scheduled = false;
  static inline const char* name = "godistlock.storage";
};

// Spawn detached: a sync blocks its thread for milliseconds.
storage_actor::behavior_type storage_actor_impl(storage_actor::stateful_pointer<storage_state> self,
                                                std::shared_ptr<core::Wal> wal,
                                                std::shared_ptr<NodeCounters> counters,
                                                std::shared_ptr<NodeMetrics> metrics);

} // namespace godistlock::actors
