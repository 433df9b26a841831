// The actor through which a Client's requests reach the servers, and the
// table of server handles it keeps current (client.cpp's connections).
#pragma once

#include "messages/interfaces.hpp"

#include <caf/all.hpp>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

namespace godistlock::client::detail {

// Every server handle we hold, forgotten as soon as its connection drops.
struct ConnectionTable {
  std::mutex mutex;
  std::vector<std::optional<node_actor>> handles;
  void forget(const caf::actor_addr& addr) {
    std::lock_guard<std::mutex> guard(mutex);
    for (auto& h : handles)
      if (h && h->address() == addr)
        h.reset();
  }
};

// Requests reach the servers through this actor, which watches each server
// it forwards to. When a server's connection drops (its process died, say),
// every request still waiting on it fails at once with "the connection was
// lost", instead of at its timeout: CAF 0.17 does not fail a request whose
// receiver's node went away, and a waiting attempt parked at a node that
// died would otherwise hold its client for the whole attempt timeout.
struct WatcherState {
  struct Pending {
    caf::actor_addr server;
    caf::response_promise promise;
  };
  std::map<uint64_t, Pending> pending;
  uint64_t next_id = 0;
  void finish(uint64_t id, const std::function<void(caf::response_promise&)>& deliver) {
    auto it = pending.find(id);
    if (it == pending.end())
      return;
    deliver(it->second.promise);
    pending.erase(it);
  }
};

caf::behavior connection_watcher(caf::stateful_actor<WatcherState>* self,
                                 std::shared_ptr<ConnectionTable> table);

} // namespace godistlock::client::detail
