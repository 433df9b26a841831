// CAF carriers for the Protobuf request and response: the bytes cross the
// network as a string and are parsed on arrival. A payload that does not
// parse fails deserialization, so garbage never reaches a handler.
#pragma once

#include "messages/godistlock.pb.h"

#include <caf/all.hpp>

#include <string>

namespace godistlock::messages {

struct wire_request {
  wire::Request pb;
};

struct wire_response {
  wire::Response pb;
};

struct wire_peer_request {
  wire::PeerRequest pb;
};

struct wire_peer_response {
  wire::PeerResponse pb;
};

template <class Inspector, class Carrier>
typename Inspector::result_type inspect_carrier(Inspector& f, Carrier& x, const char* name) {
  std::string bytes;
  if constexpr (Inspector::reads_state)
    bytes = x.pb.SerializeAsString();
  auto parse = caf::meta::load_callback([&]() -> caf::error {
    if (!x.pb.ParseFromString(bytes))
      return caf::sec::invalid_argument;
    return caf::none;
  });
  return f(caf::meta::type_name(name), bytes, parse);
}

template <class Inspector> typename Inspector::result_type inspect(Inspector& f, wire_request& x) {
  return inspect_carrier(f, x, "gdl_request");
}

template <class Inspector> typename Inspector::result_type inspect(Inspector& f, wire_response& x) {
  return inspect_carrier(f, x, "gdl_response");
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, wire_peer_request& x) {
  return inspect_carrier(f, x, "gdl_peer_request");
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, wire_peer_response& x) {
  return inspect_carrier(f, x, "gdl_peer_response");
}

} // namespace godistlock::messages
