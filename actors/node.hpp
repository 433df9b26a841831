// The node facade: builds and owns everything one godistlock-node runs (data
// dir, storage actor, node actor, published port) so that main() and tests
// never juggle raw actor handles.
#pragma once

#include "actors/node_context.hpp"
#include "core/mutation.hpp"
#include "core/wal.hpp"
#include "messages/interfaces.hpp"
#include "net/endpoint.hpp"
#include "net/membership.hpp"

#include <caf/all.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace godistlock::actors {

struct NodeOptions {
  std::string id;
  net::Endpoint listen;
  std::vector<net::Member> peers;
  // A brand-new cluster: nodes may start voting with no data when no member
  // holds any. Without it, such a node waits for an operator.
  bool bootstrap = false;
  // After a majority of the members lost their data: vote anyway, with
  // fresh locks' tokens above a floor (docs/operations.md). Never routine.
  bool accept_data_loss = false;
  // Fault-injection harness only: a deliberate bug (core/mutation.hpp).
  core::Mutation mutation = core::Mutation::none;
  // Fault-injection harness only: a proposer waits this long between a
  // quorum of promises and its accepts (a stall exactly between the phases).
  std::chrono::milliseconds test_hold_accepts{0};
  // Fault-injection only: a node that lost its data exits (status 75) once
  // its new incarnation is on disk, before any peer has heard of it.
  bool test_exit_before_announce = false;
  std::string data_dir;
  bool fsync = true;
  std::chrono::milliseconds idle_retire{3000};
};

class Node {
public:
  // Opens the data dir (throws core::StorageError naming file and offset on
  // damage), replays it, spawns the actors and publishes the node actor
  // (throws std::runtime_error when the port cannot be bound).
  Node(caf::actor_system& sys, const NodeOptions& options);
  ~Node();
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  uint16_t port() const { return port_; }
  const node_actor& handle() const { return node_; }
  size_t replayed_locks() const { return replayed_locks_; }
  const std::vector<std::string>& warnings() const { return warnings_; }
  // Catching up after a lost data dir (not voting yet)?
  bool joining_at_start() const { return ctx_->joining; }
  // Called (on an actor thread) when the node must stop on its own; see
  // fatal_reason(). Set before anything can go wrong: right after start.
  void on_fatal(std::function<void()> notify);
  std::string fatal_reason() const;
  // What `godistlock stats` shows, asked of the node actor; nullopt when it
  // does not answer within `timeout`. Blocks: never call it from an actor.
  std::optional<wire::NodeStats> stats(std::chrono::milliseconds timeout) const;
  // What the actors measure for --metrics (net/metrics_server.hpp).
  std::shared_ptr<NodeMetrics> metrics() const { return ctx_->metrics; }

  // Stops taking requests, answers waiters "shutting down" and returns once
  // everything acknowledged is on disk (or `timeout` passed).
  void drain(std::chrono::milliseconds timeout);
  // Stops the actors; the actor system can then shut down.
  void stop();

private:
  void read_identity(core::Wal& wal, const NodeOptions& options);

  caf::actor_system& sys_;
  std::shared_ptr<NodeContext> ctx_;
  node_actor node_;
  storage_actor storage_;
  cluster_actor cluster_;
  uint16_t port_ = 0;
  size_t replayed_locks_ = 0;
  std::vector<std::string> warnings_;
  bool stopped_ = false;
};

} // namespace godistlock::actors
