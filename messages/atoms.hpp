// Every atom of GoDistLock (at most 10 characters from [A-Za-z0-9_]).
#pragma once

#include <caf/atom.hpp>

namespace godistlock::atoms {

using retire = caf::atom_constant<caf::atom("retire")>;
using handoff = caf::atom_constant<caf::atom("handoff")>;
using idle = caf::atom_constant<caf::atom("idle")>;
using park_end = caf::atom_constant<caf::atom("park_end")>;
using drain = caf::atom_constant<caf::atom("drain")>;
using persist = caf::atom_constant<caf::atom("persist")>;
using flush = caf::atom_constant<caf::atom("flush")>;
using compact = caf::atom_constant<caf::atom("compact")>;
using done = caf::atom_constant<caf::atom("done")>;
using peer_reply = caf::atom_constant<caf::atom("peer_reply")>;
using round_timeout = caf::atom_constant<caf::atom("round_to")>;
using retry = caf::atom_constant<caf::atom("retry")>;
using hold_over = caf::atom_constant<caf::atom("hold_over")>;
using broadcast = caf::atom_constant<caf::atom("broadcast")>;
using reconnect = caf::atom_constant<caf::atom("reconnect")>;
using reachable = caf::atom_constant<caf::atom("reachable")>;
using put_meta = caf::atom_constant<caf::atom("put_meta")>;
using drop_meta = caf::atom_constant<caf::atom("drop_meta")>;
using rejoin = caf::atom_constant<caf::atom("rejoin")>;
using rejoin_tick = caf::atom_constant<caf::atom("rejoin_tk")>;

} // namespace godistlock::atoms
