// A guard in front of CAF's BASP on the node's published port.
//
// CAF 0.17.6 trusts the 32-bit payload length of every BASP header it reads:
// basp_broker's new_data_msg handler passes it to configure_read(exactly(n))
// and the stream then resizes its read buffer to n bytes (zero-filled, so
// resident) before a single payload byte arrived. Four zero bytes and a random
// length cost up to 4 GiB per connection. It also dereferences a missing
// payload for a handshake header with length 0 (instance::handle).
//
// The guard is CAF's own doorman and scribe with a check in between: the node's
// port accepts connections through GuardedDoorman, whose scribes look at each
// header before the BASP broker sees it and close the connection (as if the
// peer had hung up) when it is not one a GoDistLock peer or client would send.
// Nothing is copied or proxied; a legit header costs a few comparisons.
#pragma once

#include <caf/actor_system.hpp>
#include <caf/expected.hpp>
#include <caf/fwd.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>

namespace godistlock::net {

struct GuardLimits {
  // The first header of a connection must be a client handshake (a node id,
  // 32 bytes in 0.17.6) with a payload of 1..handshake_payload bytes.
  uint32_t handshake_payload = 16 * 1024;
  // Payloads up to this size are always let through (every client request
  // and almost every vote); they cost at most this much per connection.
  uint32_t small_payload = 16 * 1024;
  // No BASP message may be larger (the largest legit one is a rejoin reply
  // that lists every lock name: about 32k names of 512 bytes).
  uint32_t max_payload = 16 * 1024 * 1024;
  // Larger payloads of all connections together, announced but not yet
  // received: one hostile connection per large message is enough otherwise.
  uint64_t large_budget = 16 * 1024 * 1024;
  // A connection that has not sent its handshake by then is closed.
  std::chrono::milliseconds handshake_timeout{5000};
};

// Why a header is refused, or nullopt if it may pass. `first`: the first
// header of the connection. `large_in_flight`: bytes of the large budget in
// use by other connections.
std::optional<std::string_view> refuse_header(const uint8_t* header, size_t size, bool first,
                                              uint64_t large_in_flight, const GuardLimits& limits);

// Like middleman().publish(whom, port, host, reuse), but every connection on
// that port goes through the guard. Returns the port.
caf::expected<uint16_t> publish_guarded(caf::actor_system& sys, caf::strong_actor_ptr whom,
                                        std::set<std::string> interface, uint16_t port,
                                        const std::string& host, bool reuse,
                                        const GuardLimits& limits = {});

} // namespace godistlock::net
