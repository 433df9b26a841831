// Small builders for client responses, shared by the node and lock actors.
#pragma once

#include "core/change.hpp"
#include "messages/wire.hpp"

#include <string>

namespace godistlock::actors {

inline messages::wire_response error_response(wire::Code code, std::string message,
                                              uint64_t request_id) {
  messages::wire_response r;
  r.pb.set_code(code);
  r.pb.set_message(std::move(message));
  r.pb.set_request_id(request_id);
  return r;
}

inline messages::wire_response ok_response(uint64_t request_id) {
  messages::wire_response r;
  r.pb.set_code(wire::OK);
  r.pb.set_request_id(request_id);
  return r;
}

inline messages::wire_response grant_response(const core::Result& res, uint64_t request_id) {
  messages::wire_response r;
  r.pb.set_code(wire::OK);
  r.pb.set_request_id(request_id);
  auto& g = *r.pb.mutable_grant();
  g.set_token(res.token);
  g.set_lease_ms(res.lease_ms);
  g.set_lease_client_id(res.origin.client);
  g.set_lease_request_id(res.origin.request);
  g.set_lease_attempt(res.origin.attempt);
  return r;
}

} // namespace godistlock::actors
