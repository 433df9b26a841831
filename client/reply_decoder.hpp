// Turns the protocol's lock status and node stats into the library's plain
// public types (godistlock/lock_status.hpp, godistlock/node_stats.hpp), so
// the installed headers carry no Protobuf type.
#pragma once

#include "godistlock/lock_status.hpp"
#include "godistlock/node_stats.hpp"
#include "messages/godistlock.pb.h"

namespace godistlock::client::detail {

struct ReplyDecoder {
  static LockStatus lock_status(const wire::LockStatus& in);
  static NodeStats node_stats(const wire::NodeStats& in);
};

} // namespace godistlock::client::detail
