// The node actor's part of rejoining after a lost data dir (notes 4.3):
// announce a new incarnation to every peer, collect their answers, then
// rewrite every lock at a majority of the peers before voting again. The
// decisions themselves live in core/rejoin.hpp.
#pragma once

#include "actors/node_actor.hpp"

namespace godistlock::actors {

using node_self = node_actor::stateful_pointer<node_state>;

// Starts asking the peers; the node refuses votes and clients meanwhile.
void start_rejoin(node_self self);
// A peer's answer to our rejoin.
void on_rejoin_answer(node_self self, uint32_t peer, const wire::PeerResponse& answer);
// Timer: ask again those that have not answered.
void on_rejoin_tick(node_self self);

// While the node waits for its peers' answers: whom it waits for and how
// many answers from peers holding data it has and needs (for `stats`).
void describe_waiting(const node_state& st, wire::NodeStats& out);

// The JOINING file, which holds the newest incarnation the node may have
// announced, and that incarnation read back (0 if there is none).
std::string joining_text(uint64_t incarnation);
uint64_t joining_incarnation(const std::optional<std::string>& text);

// A peer announces its new incarnation: record it durably, then answer with
// what this node holds (every lock it has a record of, highest ballot).
caf::result<messages::wire_peer_response> serve_rejoin(node_self self,
                                                       const wire::PeerRequest& req);

} // namespace godistlock::actors
