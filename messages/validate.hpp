// Checks a client request against the protocol's limits before anything
// acts on it. Plain C++ over the Protobuf types, no CAF.
#pragma once

#include "messages/godistlock.pb.h"

#include <string>

namespace godistlock::messages {

// Empty when the request is well-formed; otherwise a one-line reason.
std::string validate(const wire::Request& req);

// The lock a request is about; empty for node-wide requests (stats).
const std::string& lock_name(const wire::Request& req);

} // namespace godistlock::messages
