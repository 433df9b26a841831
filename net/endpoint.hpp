// Moved to include/godistlock/endpoint.hpp, the installed public header. This path
// stays for code that includes it from the source tree (-I of the tree
// only, as the peers' benchmark adapter does), hence the relative path.
#pragma once

#include "../include/godistlock/endpoint.hpp"

namespace godistlock::net {

// An IPv4 or IPv6 address (no brackets), or "localhost": what a listener
// that resolves no names (the --metrics one) can bind. Not part of the
// installed header: only the node needs it.
bool is_ip_or_localhost(const std::string& host);

} // namespace godistlock::net
