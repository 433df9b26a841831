// Every typed actor interface of GoDistLock, one comment per handler.
#pragma once

#include "messages/atoms.hpp"
#include "messages/wire.hpp"

#include <caf/all.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace godistlock {

// The node: the one actor a node publishes on its port. Clients (the client
// library, the CLI, applications that are actors) talk to it.
using node_actor = caf::typed_actor<
    // A client request. The answer comes from the lock's actor, for a waiter
    // only once it is granted, its wait window ends, or the node drains.
    caf::replies_to<messages::wire_request>::with<messages::wire_response>,
    // A peer's vote request (prepare, accept) or handshake; routed to the
    // lock's actor here, which answers once its answer is on disk.
    caf::replies_to<messages::wire_peer_request>::with<messages::wire_peer_response>,
    // Local only: a lock actor with nothing to do offers its state to the lock
    // table (name, resting-form acceptor record, epoch first-seen in steady-clock
    // ns, requests it handled). True: it may stop. False: a request is on its way.
    caf::replies_to<atoms::retire, std::string, std::string, int64_t, uint64_t>::with<bool>,
    // Local only: stop serving clients, answer waiters "shutting down" and
    // reply once everything acknowledged is on disk.
    caf::replies_to<atoms::drain>::with<atoms::done>,
    // Local only, while this node catches up after losing its data: a
    // peer's answer to our rejoin (peer number, answer).
    caf::reacts_to<atoms::rejoin, uint32_t, messages::wire_peer_response>,
    // Timer: ask the peers that have not answered our rejoin again.
    caf::reacts_to<atoms::rejoin_tick>>;

// One lock on one node: acceptor of its register and proposer for the
// requests this node receives for it. Spawned on demand by the node.
using lock_actor = caf::typed_actor<
    // A client request routed here by the node (delegated: we answer the client).
    caf::replies_to<messages::wire_request>::with<messages::wire_response>,
    // Timer: a lease or reservation may have lapsed (argument: epoch number).
    caf::reacts_to<atoms::handoff, uint64_t>,
    // Timer: nothing happened for a while (argument: activity generation).
    caf::reacts_to<atoms::idle, uint64_t>,
    // Timer: a parked waiter's window ended (argument: its park id).
    caf::reacts_to<atoms::park_end, uint64_t>,
    // Acceptor duty: a peer's prepare or accept for this lock.
    caf::replies_to<messages::wire_peer_request>::with<messages::wire_peer_response>,
    // A peer's answer to our round (round id, peer number, answer).
    caf::reacts_to<atoms::peer_reply, uint64_t, uint32_t, messages::wire_peer_response>,
    // Timer: our round did not reach a quorum in time (round id).
    caf::reacts_to<atoms::round_timeout, uint64_t>,
    // Timer: run the round again after a conflict (round id).
    caf::reacts_to<atoms::retry, uint64_t>,
    // Timer, fault injection only (--test-hold-accepts): send the held
    // accepts of this round now (round id).
    caf::reacts_to<atoms::hold_over, uint64_t>,
    // Answer parked waiters "shutting down"; reply once our writes are durable.
    caf::replies_to<atoms::drain>::with<atoms::done>,
    // Catch-up after this node lost its data: rewrite the lock's value at a
    // majority of the peers with a ballot above `floor` (a counter), install
    // it here. True once on disk; false if no quorum decided it.
    caf::replies_to<atoms::rejoin, uint64_t>::with<bool>>;

// The cluster actor: keeps a connection to every peer (reconnecting with
// back-off), checks that each runs with the same member list, and carries
// our lock actors' vote requests to the peers.
using cluster_actor = caf::typed_actor<
    // Send the request to every reachable peer; each answer goes back to the
    // lock actor as peer_reply(round id, peer number, answer).
    caf::reacts_to<atoms::broadcast, lock_actor, uint64_t, messages::wire_peer_request>,
    // Timer: try to connect to peer number n (1-based) again.
    caf::reacts_to<atoms::reconnect, uint32_t>,
    // Send our rejoin to every reachable peer; each answer goes back to the
    // node actor as rejoin(peer number, answer).
    caf::reacts_to<atoms::rejoin, node_actor, messages::wire_peer_request>,
    // The peers reachable and agreeing on the membership now.
    caf::replies_to<atoms::reachable>::with<std::vector<std::string>>>;

// The node's write-ahead log, with group commit across locks.
using storage_actor = caf::typed_actor<
    // Append (key, value) records; the reply comes after they are on disk.
    caf::replies_to<atoms::persist, std::vector<std::string>,
                    std::vector<std::string>>::with<atoms::done>,
    // Self-message: write and sync everything gathered so far.
    caf::reacts_to<atoms::flush>,
    // Write a small file of the data dir (name, contents) durably.
    caf::replies_to<atoms::put_meta, std::string, std::string>::with<atoms::done>,
    // Remove a small file of the data dir durably.
    caf::replies_to<atoms::drop_meta, std::string>::with<atoms::done>>;

} // namespace godistlock
