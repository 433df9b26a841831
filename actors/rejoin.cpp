#include "actors/rejoin.hpp"

#include "core/log.hpp"
#include "messages/codec.hpp"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>

namespace godistlock::actors {

namespace {

using std::chrono::milliseconds;

constexpr milliseconds ask_again_after{250};
// A verdict that needs an operator must hold this long before the node
// gives up: in a brand-new cluster the peers start voting one by one.
constexpr milliseconds operator_verdict_grace{5000};
// While it waits for peers, the node says which ones, first after this...
constexpr milliseconds first_waiting_report{2000};
// ...then this often.
constexpr milliseconds waiting_report_every{5000};
constexpr size_t catch_up_parallelism = 64;
const char* const incarnations_file = "INCARNATIONS";
const char* const fence_floor_file = "FENCE_FLOOR";
const char* const joining_file = "JOINING";
const char* const incarnation_file = "INCARNATION";

wire::PeerRequest rejoin_request(const NodeContext& ctx) {
  wire::PeerRequest req;
  req.set_from_id(ctx.node_id);
  req.set_membership_digest(ctx.membership.digest);
  req.mutable_rejoin()->set_incarnation(ctx.incarnation->load());
  return req;
}

void send_rejoin(node_self self) {
  auto& ctx = *self->state.ctx;
  self->send(ctx.cluster, atoms::rejoin::value, node_actor{self},
             messages::wire_peer_request{rejoin_request(ctx)});
}

void ask_peers(node_self self) {
  if (!self->state.rejoin->unsaved)
    send_rejoin(self);
  self->delayed_send(self, ask_again_after, atoms::rejoin_tick::value);
}

void stop_fatally(node_self self, const std::string& reason) {
  GDL_ERROR(reason);
  auto& fatal = *self->state.ctx->fatal;
  std::function<void()> notify;
  {
    std::lock_guard<std::mutex> guard(fatal.mutex);
    fatal.reason = reason;
    notify = fatal.notify;
  }
  if (notify)
    notify();
}

// The incarnation every peer recorded goes to disk before JOINING goes:
// a crash in between just catches up again, as a newer incarnation.
void start_voting(node_self self, const char* how) {
  auto& st = self->state;
  auto done = st.rejoin->done;
  auto storage = st.ctx->storage;
  self->request(storage, caf::infinite, atoms::put_meta::value, std::string(incarnation_file),
                std::to_string(st.ctx->incarnation->load()) + "\n")
      .then([=](atoms::done) {
        self->request(storage, caf::infinite, atoms::drop_meta::value, std::string(joining_file))
            .then([=](atoms::done) {
              self->state.rejoin.reset();
              GDL_INFO("voting now (" << how << "; " << done << " locks caught up)");
            });
      });
}

void catch_up_next(node_self self);

void catch_up_one(node_self self, std::string name) {
  auto& rj = *self->state.rejoin;
  ++rj.in_flight;
  auto& live = live_actor(self, name);
  ++live.forwarded;
  self->request(live.handle, std::chrono::minutes(1), atoms::rejoin::value, rj.ballot_floor)
      .then(
          [=](bool installed) {
            auto& rj = *self->state.rejoin;
            --rj.in_flight;
            if (installed)
              ++rj.done;
            else
              rj.waiting.push_back(name); // no quorum this time: again later
            catch_up_next(self);
          },
          [=](caf::error&) {
            auto& rj = *self->state.rejoin;
            --rj.in_flight;
            rj.waiting.push_back(name);
            catch_up_next(self);
          });
}

void catch_up_next(node_self self) {
  auto& rj = *self->state.rejoin;
  while (rj.in_flight < catch_up_parallelism && !rj.waiting.empty()) {
    auto name = std::move(rj.waiting.front());
    rj.waiting.pop_front();
    catch_up_one(self, std::move(name));
  }
  if (rj.in_flight == 0 && rj.waiting.empty())
    start_voting(self, "caught up from a majority");
}

// Records what the peers know and writes it down before acting on it: the
// incarnations they know and, after a data loss, their fence floor.
void learn_then(node_self self, std::function<void()> then) {
  auto& st = self->state;
  auto& ctx = *st.ctx;
  ctx.incarnations->learn(st.rejoin->plan.incarnations());
  auto text = core::IncarnationBook::encode(ctx.incarnations->known());
  auto floor = st.rejoin->plan.fence_floor();
  bool new_floor = floor > ctx.fence_floor->load();
  if (new_floor)
    ctx.fence_floor->store(floor);
  auto storage = ctx.storage;
  self->request(storage, caf::infinite, atoms::put_meta::value, std::string(incarnations_file),
                std::move(text))
      .then([=](atoms::done) {
        if (!new_floor) {
          then();
          return;
        }
        GDL_WARN("a peer started fresh locks above token "
                 << floor << " after a data loss: so does this node");
        self->request(storage, caf::infinite, atoms::put_meta::value, std::string(fence_floor_file),
                      std::to_string(floor) + "\n")
            .then([=](atoms::done) { then(); });
      });
}

// After a majority lost its data, tokens must still never repeat: fresh
// locks start above a floor no earlier token can have reached (seconds of
// the wall clock in the high bits; see docs/operations.md for the limits).
void raise_fence_floor_then(node_self self, std::function<void()> then) {
  auto& ctx = *self->state.ctx;
  auto secs = std::chrono::duration_cast<std::chrono::seconds>(
                  std::chrono::system_clock::now().time_since_epoch())
                  .count();
  uint64_t floor = static_cast<uint64_t>(secs) << 32;
  if (floor <= ctx.fence_floor->load())
    floor = ctx.fence_floor->load() + (uint64_t{1} << 32);
  ctx.fence_floor->store(floor);
  GDL_WARN("--accept-data-loss: new locks start above token " << floor);
  self->request(ctx.storage, caf::infinite, atoms::put_meta::value, std::string(fence_floor_file),
                std::to_string(floor) + "\n")
      .then([=](atoms::done) { then(); });
}

std::string peer_name(const NodeContext& ctx, uint32_t peer) {
  auto& m = ctx.membership.peers.at(peer - 1);
  return m.id.empty() ? m.endpoint.to_string() : m.id + "@" + m.endpoint.to_string();
}

// What the node waits for, and from whom: the operator must know which
// peers to start (a new cluster needs every member).
void report_waiting(node_self self) {
  auto& st = self->state;
  auto& rj = *st.rejoin;
  auto& ctx = *st.ctx;
  auto now = core::Clock::now();
  if (now - st.started < first_waiting_report ||
      (rj.last_report && now - *rj.last_report < waiting_report_every))
    return;
  rj.last_report = now;
  std::string missing;
  for (auto p : rj.plan.missing())
    missing += (missing.empty() ? "" : ", ") + peer_name(ctx, p);
  auto peers = ctx.membership.peers.size();
  GDL_WARN("not voting yet: no answer from "
           << (missing.empty() ? "(none)" : missing) << "; " << rj.plan.answered() << " of "
           << peers << " peers answered, " << rj.plan.voting_peers()
           << " of them holding data. This node (no data) needs " << rj.plan.voting_needed()
           << " peers that hold data; in a brand-new cluster, where "
           << "none does, it needs every one of the " << peers << " peers to answer (only then "
           << "can it tell a new cluster from one whose majority lost its data)");
}

} // namespace

void describe_waiting(const node_state& st, wire::NodeStats& out) {
  if (!st.rejoin || st.rejoin->catching_up)
    return;
  auto& plan = st.rejoin->plan;
  for (auto p : plan.missing())
    out.add_awaiting_peers(peer_name(*st.ctx, p));
  out.set_data_peers_answered(plan.voting_peers());
  out.set_data_peers_needed(plan.voting_needed());
}

namespace {

void decide(node_self self) {
  auto& st = self->state;
  auto& rj = *st.rejoin;
  if (rj.catching_up)
    return;
  using Verdict = core::RejoinPlan::Verdict;
  auto verdict = rj.plan.verdict();
  if (verdict == Verdict::waiting) {
    report_waiting(self);
    return;
  }
  if (verdict == Verdict::vote_now) {
    rj.catching_up = true;
    learn_then(self, [=] { start_voting(self, "no member held a lock"); });
    return;
  }
  if (verdict == Verdict::catch_up) {
    rj.catching_up = true;
    rj.ballot_floor = rj.plan.ballot_floor();
    auto locks = rj.plan.locks();
    rj.waiting.assign(locks.begin(), locks.end());
    GDL_INFO("catching up " << rj.waiting.size() << " locks from " << rj.plan.voting_peers()
                            << " peers above ballot " << rj.ballot_floor);
    learn_then(self, [=] { catch_up_next(self); });
    return;
  }
  // needs_bootstrap or majority_lost: only an operator may decide.
  if (st.ctx->accept_data_loss) {
    rj.catching_up = true;
    learn_then(self, [=] {
      raise_fence_floor_then(self, [=] { start_voting(self, "--accept-data-loss"); });
    });
    return;
  }
  auto now = core::Clock::now();
  if (!rj.refused_since)
    rj.refused_since = now;
  if (now - *rj.refused_since < operator_verdict_grace)
    return;
  rj.catching_up = true; // stops asking: the node is about to stop
  if (verdict == Verdict::needs_bootstrap)
    stop_fatally(self, "fewer than a majority of the members hold data, and none of them has a "
                       "lock. For a brand-new cluster, start every node with --bootstrap the "
                       "first time; if a majority lost its data, see --accept-data-loss in "
                       "docs/operations.md");
  else
    stop_fatally(self, "only " + std::to_string(rj.plan.voting_peers()) + " of the " +
                           std::to_string(st.ctx->membership.size()) +
                           " members still hold their data, fewer than a majority: locks and "
                           "tokens may have been lost. Refusing to vote; see --accept-data-loss in "
                           "docs/operations.md");
}

} // namespace

std::string joining_text(uint64_t incarnation) {
  return "catching up after a lost data dir; do not remove\nincarnation " +
         std::to_string(incarnation) + "\n";
}

uint64_t joining_incarnation(const std::optional<std::string>& text) {
  // Unreadable or from an older version (no such line): 0. The peers then
  // tell the node if they know a newer incarnation of it.
  auto at = text ? text->find("\nincarnation ") : std::string::npos;
  if (at == std::string::npos)
    return 0;
  try {
    return std::stoull(text->substr(at + 13));
  } catch (const std::exception&) {
    return 0;
  }
}

void start_rejoin(node_self self) {
  auto& ctx = *self->state.ctx;
  self->state.rejoin.emplace(
      core::RejoinPlan(ctx.membership.peers.size(), ctx.quorum, ctx.bootstrap));
  GDL_WARN("this node has no data (new or lost data dir), incarnation "
           << ctx.incarnation->load() << ": not voting until "
           << self->state.rejoin->plan.voting_needed()
           << " peers that hold data have recorded it and it has caught up from them (in a "
              "brand-new cluster: until every peer has answered)");
  if (ctx.test_exit_before_announce) {
    // Fault injection: the new incarnation is on disk, no peer heard of it.
    GDL_ERROR("--test-exit-before-announce: exiting before announcing incarnation "
              << ctx.incarnation->load());
    std::fflush(nullptr);
    std::_Exit(75);
  }
  ask_peers(self);
}

void on_rejoin_answer(node_self self, uint32_t peer, const wire::PeerResponse& answer) {
  auto& st = self->state;
  if (!st.rejoin || !answer.has_rejoin() || answer.refused() != wire::NOT_REFUSED)
    return;
  auto& r = answer.rejoin();
  auto& ctx = *st.ctx;
  if (r.newer_incarnation() > ctx.incarnation->load() && !st.rejoin->catching_up) {
    // A peer knows a newer life of ours (a late rejoin of an earlier one,
    // or one that crashed while catching up): go above it, ask everyone.
    auto newer = core::next_incarnation(r.newer_incarnation(), std::random_device{}());
    ctx.incarnation->store(newer);
    st.rejoin.emplace(core::RejoinPlan(ctx.membership.peers.size(), ctx.quorum, ctx.bootstrap));
    GDL_INFO("a peer knows a newer incarnation of this node: now " << newer);
    // On disk before it is announced, as at start.
    st.rejoin->unsaved = true;
    self->request(ctx.storage, caf::infinite, atoms::put_meta::value, std::string(joining_file),
                  joining_text(newer))
        .then([=](atoms::done) {
          auto& rj = self->state.rejoin;
          if (!rj || self->state.ctx->incarnation->load() != newer)
            return;
          rj->unsaved = false;
          send_rejoin(self); // the tick already running asks again if needed
        });
    return;
  }
  if (r.for_incarnation() != ctx.incarnation->load())
    return; // an answer to an earlier life's announcement
  core::RejoinAnswer a;
  a.voting = r.voting();
  a.fence_floor = r.fence_floor();
  a.accepted_any = r.accepted_any();
  a.locks.assign(r.locks().begin(), r.locks().end());
  a.highest_counter = r.highest_counter();
  for (auto& v : r.known())
    a.incarnations[v.node_id()] = v.incarnation();
  st.rejoin->plan.on_answer(peer, std::move(a));
  decide(self);
}

void on_rejoin_tick(node_self self) {
  auto& st = self->state;
  if (!st.rejoin || st.rejoin->catching_up)
    return;
  decide(self); // a verdict may have been waiting out its grace period
  if (st.rejoin && !st.rejoin->catching_up)
    ask_peers(self);
}

caf::result<messages::wire_peer_response> serve_rejoin(node_self self,
                                                       const wire::PeerRequest& req) {
  auto& st = self->state;
  messages::wire_peer_response out;
  out.pb.set_from_id(st.ctx->node_id);
  // From here on no accept that counted the node's forgotten promises
  // passes here; everything accepted before is below `highest`.
  auto s = st.ctx->incarnations->supersede(req.from_id(), req.rejoin().incarnation());
  auto& reply = *out.pb.mutable_rejoin();
  reply.set_for_incarnation(req.rejoin().incarnation());
  if (!s.recorded)
    reply.set_newer_incarnation(s.current);
  auto highest = s.highest_counter;
  reply.set_voting(!st.rejoin.has_value());
  reply.set_fence_floor(st.ctx->fence_floor->load());
  reply.set_accepted_any(st.ctx->incarnations->accepted_any());
  reply.set_highest_counter(highest);
  for (auto& [name, live] : st.live)
    reply.add_locks(name);
  st.table.for_each_name([&](std::string_view name) { reply.add_locks(std::string(name)); });
  auto known = st.ctx->incarnations->known();
  for (auto& [node, incarnation] : known) {
    auto& v = *reply.add_known();
    v.set_node_id(node);
    v.set_incarnation(incarnation);
  }
  auto rp = self->make_response_promise<messages::wire_peer_response>();
  self->request(st.ctx->storage, caf::infinite, atoms::put_meta::value,
                std::string(incarnations_file), core::IncarnationBook::encode(known))
      .then([rp, out](atoms::done) mutable { rp.deliver(out); });
  return rp;
}

} // namespace godistlock::actors
