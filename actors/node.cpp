#include "actors/node.hpp"

#include "actors/cluster_actor.hpp"
#include "actors/node_actor.hpp"
#include "actors/rejoin.hpp"
#include "actors/storage_actor.hpp"
#include "core/wal.hpp"
#include "messages/codec.hpp"
#include "net/connect.hpp"

#include <caf/io/middleman.hpp>

#include <algorithm>
#include <chrono>
#include <malloc.h>
#include <random>
#include <stdexcept>

namespace godistlock::actors {

Node::Node(caf::actor_system& sys, const NodeOptions& options) : sys_(sys) {
  ctx_ = std::make_shared<NodeContext>();
  std::string error;
  auto membership = net::make_membership(options.id, options.listen, options.peers, error);
  if (!membership)
    throw std::runtime_error(error);
  ctx_->node_id = options.id;
  // Ballots carry a tag of the node; with the random nonce beside it, no
  // two nodes or two runs of one node produce the same ballot.
  ctx_->node_index = static_cast<uint32_t>(net::stable_hash(options.id));
  ctx_->boot_nonce = std::random_device{}() * 0x100000000ull + std::random_device{}();
  ctx_->membership = *membership;
  ctx_->members = membership->describe();
  ctx_->quorum = membership->quorum();
  ctx_->idle_retire = options.idle_retire;

  // Replay: the newest record per lock wins. Every epoch restarts its timer
  // at boot, which can only delay an expiry, never hasten it.
  std::unordered_map<std::string, std::string> newest;
  core::Wal::Options wal_options{options.data_dir, options.fsync};
  auto wal =
      std::make_shared<core::Wal>(wal_options, [&](std::string_view key, std::string_view value) {
        newest[std::string(key)].assign(value.data(), value.size());
      });
  warnings_ = wal->warnings();
  ctx_->counters->wal_tail_bytes_dropped = wal->tail_bytes_dropped();
  // The member list this data was written under. Restarting a member with
  // another list (say, without --peers: a cluster of one) would let it
  // decide alone on part of the state: refused.
  auto membership_text = std::to_string(membership->digest) + "\n";
  for (auto& m : membership->describe())
    membership_text += m + "\n";
  if (auto stored = wal->read_meta("MEMBERSHIP")) {
    auto stored_digest = stored->substr(0, stored->find('\n'));
    if (stored_digest != std::to_string(membership->digest))
      throw core::StorageError("data dir " + options.data_dir +
                               " was written by a cluster with another member list (see " +
                               options.data_dir +
                               "/MEMBERSHIP); start this node with the same --peers as before. "
                               "Changing the members of a cluster is not supported yet.");
  } else {
    wal->write_meta("MEMBERSHIP", membership_text);
  }
  read_identity(*wal, options);
  LockTable table;
  uint64_t highest_counter = 0;
  auto boot = core::Clock::now().time_since_epoch().count();
  for (auto& [name, bytes] : newest) {
    auto record = messages::decode_record(bytes);
    if (!record)
      throw core::StorageError("data dir " + options.data_dir + ": the record of lock '" + name +
                               "' passed its checksum but cannot be decoded");
    if (record->value.holder)
      ++ctx_->counters->held_locks;
    ctx_->counters->waiters +=
        static_cast<int64_t>(record->value.queue.size() + (record->value.reserved ? 1 : 0));
    highest_counter =
        std::max({highest_counter, record->promised.counter, record->accepted.counter});
    if (!record->accepted.is_zero())
      ctx_->incarnations->note_accepted(record->accepted.counter);
    table.put(name, *record, boot);
  }
  ctx_->incarnations->note(highest_counter);
  replayed_locks_ = table.size();
  // Replay's temporary copies (a million locks: hundreds of megabytes) go
  // back to the system, or the node would keep them resident for good.
  std::unordered_map<std::string, std::string>().swap(newest);
  ::malloc_trim(0);

  // Arguments are shared pointers: a detached actor initialises on its own
  // thread, possibly after this constructor returned.
  storage_ = sys.spawn<caf::detached>(storage_actor_impl, std::move(wal), ctx_->counters);
  ctx_->storage = storage_;
  if (!options.peers.empty()) {
    // The cluster actor only reads the context; it is complete but for its
    // own handle, which only lock actors (spawned later) use.
    cluster_ = sys.spawn(cluster_actor_impl, std::shared_ptr<const NodeContext>(ctx_));
    ctx_->cluster = cluster_;
  }
  node_ = sys.spawn(node_actor_impl, std::shared_ptr<const NodeContext>(ctx_),
                    std::make_shared<LockTable>(std::move(table)));
  auto port = net::publish_node(sys, node_, options.listen);
  if (!port) {
    stop();
    throw std::runtime_error("cannot listen on " + options.listen.to_string() + ": " +
                             sys.render(port.error()));
  }
  port_ = *port;
}

// Who this node is across restarts (its incarnation, the incarnations it
// knows of its peers) and whether it must catch up before voting.
void Node::read_identity(core::Wal& wal, const NodeOptions& options) {
  ctx_->bootstrap = options.bootstrap;
  ctx_->accept_data_loss = options.accept_data_loss;
  ctx_->mutation = options.mutation;
  ctx_->test_hold_accepts = options.test_hold_accepts;
  ctx_->test_exit_before_announce = options.test_exit_before_announce;
  if (auto floor = wal.read_meta("FENCE_FLOOR")) {
    try {
      ctx_->fence_floor->store(std::stoull(*floor));
    } catch (const std::exception&) {
      throw core::StorageError("data dir " + options.data_dir + ": FENCE_FLOOR is damaged");
    }
  }
  if (auto known = wal.read_meta("INCARNATIONS")) {
    auto parsed = core::IncarnationBook::parse(*known);
    if (!parsed)
      throw core::StorageError("data dir " + options.data_dir + ": INCARNATIONS is damaged");
    ctx_->incarnations->learn(*parsed);
  }
  auto incarnation = wal.read_meta("INCARNATION");
  // A data dir without an incarnation is new or was lost; one with JOINING
  // stopped during its catch-up. Either may have forgotten promises: the
  // node comes back as a new incarnation and catches up before it votes
  // (docs/protocol.md). A member that simply never saw a lock has an
  // incarnation and no records: it promised nothing, and votes at once.
  ctx_->joining = !options.peers.empty() && (!incarnation || wal.read_meta("JOINING")) &&
                  options.mutation != core::Mutation::wiped_votes_at_once;
  uint64_t stored = 0;
  if (incarnation) {
    try {
      stored = std::stoull(*incarnation);
    } catch (const std::exception&) {
      throw core::StorageError("data dir " + options.data_dir + ": INCARNATION is damaged");
    }
  }
  if (ctx_->joining) {
    // The new incarnation is on disk before any peer hears of it, so a
    // restart goes above every one this node may have announced. (Peers that
    // know a newer one say so anyway: that covers a lost JOINING.) INCARNATION
    // is written, with the one the peers recorded, before voting.
    auto announced = wal.read_meta("JOINING");
    auto next = core::next_incarnation(std::max(stored, joining_incarnation(announced)),
                                       std::random_device{}());
    ctx_->incarnation->store(next);
    wal.write_meta("JOINING", joining_text(next));
    return;
  }
  if (incarnation) {
    ctx_->incarnation->store(stored);
    return;
  }
  // A single node: no peer ever sees its incarnation.
  auto fresh = core::next_incarnation(0, std::random_device{}());
  if (options.mutation == core::Mutation::wiped_votes_at_once && !options.peers.empty()) {
    // The deliberate bug must reach the peers: peers learn incarnations from
    // the votes they see, and would refuse an older one than they know. The
    // wall clock in ns is newer than every earlier life's.
    fresh = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                      std::chrono::system_clock::now().time_since_epoch())
                                      .count());
  }
  ctx_->incarnation->store(fresh);
  wal.write_meta("INCARNATION", std::to_string(ctx_->incarnation->load()) + "\n");
}

void Node::on_fatal(std::function<void()> notify) {
  bool already = false;
  {
    std::lock_guard<std::mutex> guard(ctx_->fatal->mutex);
    ctx_->fatal->notify = notify;
    already = !ctx_->fatal->reason.empty();
  }
  if (already && notify)
    notify();
}

std::string Node::fatal_reason() const {
  std::lock_guard<std::mutex> guard(ctx_->fatal->mutex);
  return ctx_->fatal->reason;
}

Node::~Node() {
  stop();
}

void Node::drain(std::chrono::milliseconds timeout) {
  caf::scoped_actor self{sys_};
  self->request(node_, timeout, atoms::drain::value)
      .receive([](atoms::done) {}, [](caf::error&) {});
}

void Node::stop() {
  if (stopped_)
    return;
  stopped_ = true;
  if (port_ != 0)
    sys_.middleman().unpublish(node_, port_);
  // Lock actors are linked to the node actor and go down with it.
  caf::anon_send_exit(node_, caf::exit_reason::user_shutdown);
  if (cluster_)
    caf::anon_send_exit(cluster_, caf::exit_reason::user_shutdown);
  // Wait for the storage actor: until it is gone it holds the data dir's
  // lock, and a restart in the same process must be able to take it.
  caf::scoped_actor self{sys_};
  self->monitor(storage_);
  caf::anon_send_exit(storage_, caf::exit_reason::user_shutdown);
  self->receive([](caf::down_msg&) {}, caf::after(std::chrono::seconds(10)) >> [] {});
}

} // namespace godistlock::actors
