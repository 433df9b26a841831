// The deterministic simulation of one lock's Paxos register: competing
// proposers over a lossy, duplicating, reordering network, with nodes that
// crash and come back with or without their data (the rejoin rule of
// core/incarnation.hpp and core/rejoin.hpp), and checkers for the chosen
// history and every trusted lease. Shared by the simulation test files.
//
// Every node runs the shipped proposer (core/proposer.hpp), as the lock
// actor does: the simulation feeds it the same events (proposals, votes,
// timers, writes made durable) and carries out its effects over the
// simulated network, disk and timers. A node that lost its data catches up
// through the same proposer. Over 450 lines: the network, the nodes' lives
// and the checkers share one event loop and its state.
#pragma once

#include "core/acceptor.hpp"
#include "core/ballot.hpp"
#include "core/change.hpp"
#include "core/incarnation.hpp"
#include "core/proposer.hpp"
#include "core/rejoin.hpp"
#include "core/round.hpp"

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <map>
#include <memory>
#include <optional>
#include <queue>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

namespace sim {

using namespace godistlock::core;

using Us = uint64_t; // simulated global time in microseconds

enum class Kind {
  prepare,
  promise,
  accept,
  accepted,
  wake,
  timer,         // a proposer's timer (ProposerTimer in `timer`, its round in `round`)
  durable,       // a proposer's write reached the disk (its ticket in `round`)
  crash,         // some node stops; which one is picked when it fires
  restart,       // a node boots again, with or without its data
  rejoin,        // a node that lost its data announces its new incarnation
  rejoin_answer, // a peer recorded it and tells what it holds
  rejoin_tick,   // the rejoining node asks again (answers get lost too)
  die,           // the last node stops for good (Config::dead_node_at)
};

struct Event {
  Us at = 0;
  uint64_t seq = 0;
  Kind kind = Kind::wake;
  uint32_t from = 0; // node index of the sender
  uint32_t to = 0;   // node index of the receiver (proposer index for wake/timeout)
  uint64_t round = 0;
  ProposerTimer timer = ProposerTimer::round_timeout;
  // A wake of a rejoining node: try its catch-up again.
  bool catch_up = false;
  uint64_t life = 0;        // timers: the life of the node that set them
  uint64_t incarnation = 0; // rejoin and its answer; accepted: the voter's
  Ballot ballot;
  Ballot next_promise;
  // Payloads are shared and immutable: events stay cheap to queue and copy.
  std::shared_ptr<const LockState> value;
  std::shared_ptr<const Promise> promise;
  std::shared_ptr<const PromiseSet> promise_set; // accept
  std::shared_ptr<const RejoinAnswer> answer;
  // Promise and accepted: the incarnations the voter knew when it answered.
  std::shared_ptr<const std::map<std::string, uint64_t>> known;
  Accepted accepted;
};

struct Later {
  bool operator()(const Event& a, const Event& b) const {
    return std::tie(a.at, a.seq) > std::tie(b.at, b.seq);
  }
};

struct Config {
  uint32_t seed = 1;
  size_t nodes = 3;
  size_t proposers = 2;
  int ops_per_proposer = 30;
  std::optional<size_t> drop_percent; // default: chosen by the seed
  size_t straggler_percent = 0;       // messages delayed far beyond the usual
  Us patience = 3;                    // round timeout, in maximal usual delays
  int crashes = 0;                    // crash events, spread over the first `crash_window_us`
  Us crash_window_us = 12'000'000;
  size_t early_crash_percent = 15; // of them: in the first 60 ms instead
  size_t wipe_percent = 50;        // crashes that lose the node's data
  // Fault injection (each must be caught by the checkers):
  uint64_t lying_witness_ms = 0;    // added to every reported age
  bool wiped_votes_at_once = false; // a wiped node votes with an empty state, no rejoin
  // Promises are not made durable (only accepts are): a crash with data
  // forgets every promise given since the node's last accept. The
  // proposers run with the mutation skip-promise-fsync.
  bool forget_promises = false;
  // The mutation proposer-clock-expiry: expiry judged by the proposer's
  // own acceptor, whatever epoch it holds.
  bool proposer_clock_expiry = false;
  // Ops that replay an earlier acquire or refresh attempt of a client that
  // has moved on (one that sat in a paused node's queue, say); its answer
  // reaches nobody.
  size_t stale_percent = 0;
  size_t long_ttl_percent = 0;     // ops with a ttl of 1-3 s instead of 100-300 ms
  bool test_stale_restart = false; // mutation stale-lease-restart
  // The last node stops for good at about this time (it is never a
  // proposer's node): rejoins must then do without its answer.
  std::optional<Us> dead_node_at;
  // Proposers learn the incarnations each vote carries before counting it.
  // false is a deliberate bug: a round that counted a wiped node's promise
  // can then be accepted by a peer that has not heard of the rejoin.
  bool learn_from_votes = true;
  // Every node starts knowing every node's incarnation, as after a real
  // bootstrap (every member answers every other's rejoin).
  bool bootstrapped_books = true;
};

struct Stats {
  uint64_t events = 0, grants = 0, takeovers = 0, fast_decisions = 0, read_only = 0, claims = 0,
           failed_rounds = 0, unknown_ops = 0, drops = 0, duplicates = 0, reservations_lapsed = 0,
           crashes_with_data = 0, crashes_without_data = 0, crashes_while_joining = 0,
           rejoins_caught_up = 0, rejoins_fresh = 0, catch_up_retries = 0, stale_refusals = 0,
           refused_verdicts = 0, newer_incarnations = 0, stale_replays = 0, partial_rejoins = 0;
  void add(const Stats& o) {
    events += o.events;
    grants += o.grants;
    takeovers += o.takeovers;
    fast_decisions += o.fast_decisions;
    read_only += o.read_only;
    claims += o.claims;
    failed_rounds += o.failed_rounds;
    unknown_ops += o.unknown_ops;
    drops += o.drops;
    duplicates += o.duplicates;
    reservations_lapsed += o.reservations_lapsed;
    crashes_with_data += o.crashes_with_data;
    crashes_without_data += o.crashes_without_data;
    crashes_while_joining += o.crashes_while_joining;
    rejoins_caught_up += o.rejoins_caught_up;
    rejoins_fresh += o.rejoins_fresh;
    catch_up_retries += o.catch_up_retries;
    stale_refusals += o.stale_refusals;
    refused_verdicts += o.refused_verdicts;
    newer_incarnations += o.newer_incarnations;
    stale_replays += o.stale_replays;
    partial_rejoins += o.partial_rejoins;
  }
};

struct Client {
  std::string owner;
  std::optional<uint64_t> token; // the grant this client believes it holds
  Us valid_until = 0;            // end of the lease it trusts (global time)
  bool waiting = false;
  uint64_t wait_request = 0;
  uint32_t wait_attempt = 0;
};

enum class OpKind { acquire, release, refresh, handoff };

struct Op {
  OpKind kind = OpKind::handoff;
  size_t client = 0;
  LeaseOrigin origin;
  Us sent_at = 0;
  uint64_t ttl = 0;
  bool wait = false;
  uint64_t token = 0;
  bool stale = false; // a replay of an earlier attempt: its client is not listening
};

// The clients of one node, and the op it is running for them.
struct Frontend {
  uint32_t node = 0;
  std::vector<Client> clients;
  std::optional<Op> op;
  std::vector<Op> sent; // recent acquire/refresh attempts, for stale replays
  int ops_left = 0;
  uint64_t tag = 0; // the op's proposal
};

// One node's life beyond its acceptor record.
enum class Status { up, down, joining };

struct Node {
  std::string id;
  Status status = Status::up;
  uint64_t incarnation = 0;
  uint64_t life = 0;      // bumped by every crash: timers of an earlier life are void
  bool keeps_data = true; // for the pending restart
  // The incarnation in its JOINING file (written before it is announced),
  // and what of it the pending restart finds (0: none, or wiped).
  uint64_t announced = 0;
  uint64_t joining_floor = 0;
  // Its durable part (what it knows of other incarnations) survives a crash
  // with data; the highest counter is rebuilt from the record at boot.
  std::unique_ptr<IncarnationBook> book = std::make_unique<IncarnationBook>();
  // While joining: the peers' answers, then the catch-up round.
  std::optional<RejoinPlan> plan;
  bool catching_up = false;
  // The shipped proposer, while the node runs (up, or catching up). It
  // refers to this node's acceptor and book.
  std::unique_ptr<Proposer> proposer;
  uint64_t next_tag = 0;
  uint64_t catch_up_tag = 0; // the proposal of the catch-up in flight (0: none)
  // The latest round the proposer prepared, and what each of its promisers
  // had accepted (the lineage checker's parent of the accept that follows).
  uint64_t prepared_round = 0;
  Ballot prepared_ballot;
  std::map<std::string, Ballot> promised_from;
};

struct Grant {
  Ballot ballot;
  uint64_t token;
  std::string owner;
};

class Simulation {
public:
  explicit Simulation(const Config& cfg) : cfg_(cfg), rng_(cfg.seed) {
    quorum_ = cfg.nodes / 2 + 1;
    drop_percent_ = pick(15);
    if (cfg.drop_percent)
      drop_percent_ = *cfg.drop_percent;
    dup_percent_ = pick(10);
    max_delay_us_ = 1000 + pick(20'000);
    for (size_t i = 0; i < cfg.nodes; ++i) {
      offsets_.push_back(static_cast<Us>(rng_() % 1'000'000'000'000ull));
      // Clock rates differ by up to the bound the lease rule assumes
      // (docs/protocol.md section 4); the extremes are the likeliest.
      auto r = pick(5);
      rates_.push_back(r == 0   ? 1 - rate_bound
                       : r == 1 ? 1 + rate_bound
                                : 1 + rate_bound * (double(pick(2001)) / 1000 - 1));
      acceptors_.emplace_back(AcceptorRecord{}, clock(static_cast<uint32_t>(i)));
      durable_.emplace_back();
      Node node;
      node.id = "n" + std::to_string(i);
      node.incarnation = rng_();
      nodes_.push_back(std::move(node));
    }
    // As after a bootstrap: every member recorded every other's incarnation.
    std::map<std::string, uint64_t> everyone;
    for (auto& node : nodes_)
      everyone[node.id] = node.incarnation;
    if (cfg.bootstrapped_books)
      for (auto& node : nodes_)
        node.book->learn(everyone);
    for (int i = 0; i < cfg.crashes; ++i) {
      Event crash;
      crash.kind = Kind::crash;
      // Some hit the first rounds, while the peers may hold no record yet.
      crash.at = chance(cfg.early_crash_percent) ? pick(60'000) : pick(cfg.crash_window_us);
      push(std::move(crash));
    }
    if (cfg.dead_node_at) {
      Event die;
      die.kind = Kind::die;
      die.to = static_cast<uint32_t>(cfg.nodes - 1);
      die.at = *cfg.dead_node_at;
      push(std::move(die));
    }
    for (uint32_t n = 0; n < cfg.nodes; ++n)
      start_proposer(n);
    for (size_t p = 0; p < cfg.proposers; ++p) {
      Frontend fe;
      fe.node = static_cast<uint32_t>(p);
      fe.ops_left = cfg.ops_per_proposer;
      for (int c = 0; c < 2; ++c) {
        Client client;
        client.owner = "p" + std::to_string(p) + "c" + std::to_string(c);
        fe.clients.push_back(client);
      }
      frontends_.push_back(std::move(fe));
      schedule_wake(p, pick(50'000));
    }
  }

  // Runs to the end; returns "" or the first violation.
  std::string run() {
    while (!events_.empty() && error_.empty()) {
      Event ev = events_.top();
      events_.pop();
      now_ = ev.at;
      if (now_ > give_up_us) {
        // Crashes keep a majority up, so every rejoin and op must end.
        fail("still running: a rejoin or a proposer is stuck (" + describe_nodes() + ")");
        break;
      }
      ++stats_.events;
      handle(ev);
      if (error_.empty())
        check_acceptors();
    }
    if (error_.empty())
      check_history();
    return error_;
  }

  const Stats& stats() const { return stats_; }

  // "n0 up, n1 joining (2 of 4 answered, 1 voting), ...": for a stuck run.
  std::string describe_nodes() const {
    std::ostringstream os;
    for (auto& node : nodes_) {
      os << (&node == &nodes_.front() ? "" : ", ") << node.id << ' '
         << (node.status == Status::up     ? "up"
             : node.status == Status::down ? "down"
                                           : "joining");
      if (node.plan)
        os << " (" << node.plan->answered() << " answered, " << node.plan->voting_peers()
           << " voting" << (node.catching_up ? ", catching up" : "") << ")";
    }
    return os.str();
  }

private:
  static constexpr Us give_up_us = 600'000'000;
  static constexpr Us disk_us = 200;          // one write, fsync included
  static constexpr double rate_bound = 0.001; // ρ of docs/protocol.md section 4

  // How long a client may trust a lease of `ttl_ms` from the send time of
  // its attempt: a witness that times `ttl_ms` on a clock running 1+ρ fast
  // reaches it no sooner (the client's own margin, D_c, is not modelled:
  // this is the tightest end the rule allows, so the checker is stricter).
  // (Less 2 us: the simulated clocks round down to whole microseconds.)
  static Us trusted_us(uint64_t ttl_ms) {
    return static_cast<Us>(static_cast<double>(ttl_ms) * 1000 / (1 + rate_bound)) - 2;
  }

  // ------------------------------------------------------------ plumbing

  size_t pick(size_t n) { return n == 0 ? 0 : static_cast<size_t>(rng_() % n); }
  bool chance(size_t percent) { return pick(100) < percent; }

  // Node `node`'s monotonic clock: its own offset and rate.
  Instant clock(uint32_t node) const {
    auto local = static_cast<Us>(static_cast<double>(now_) * rates_[node]);
    return Instant{} + std::chrono::microseconds(offsets_[node] + local);
  }

  void push(Event ev) {
    ev.seq = ++seq_;
    events_.push(std::move(ev));
  }

  // The network: loses, duplicates and delays (hence reorders) messages.
  void send(Event ev) {
    if (chance(drop_percent_)) {
      ++stats_.drops;
      return;
    }
    int copies = chance(dup_percent_) ? 2 : 1;
    stats_.duplicates += static_cast<uint64_t>(copies - 1);
    for (int i = 0; i < copies; ++i) {
      Event e = ev;
      // A few stragglers (a retransmission, a paused process) arrive long
      // after the rest, up to twice the time a proposer waits for them.
      e.at = now_ +
             (chance(cfg_.straggler_percent) ? pick(2 * round_timeout_us()) : pick(max_delay_us_));
      push(std::move(e));
    }
  }

  // A timer of node `n` (its clients', or with `catch_up` its rejoin's);
  // it dies with the node.
  void schedule(Kind kind, uint32_t n, Us delay, bool catch_up = false, uint64_t round = 0,
                ProposerTimer timer = ProposerTimer::round_timeout) {
    Event ev;
    ev.kind = kind;
    ev.to = n;
    ev.at = now_ + delay;
    ev.catch_up = catch_up;
    ev.round = round;
    ev.timer = timer;
    ev.life = nodes_[n].life;
    push(std::move(ev));
  }

  void schedule_wake(size_t p, Us delay) { schedule(Kind::wake, static_cast<uint32_t>(p), delay); }

  Us round_timeout_us() const { return cfg_.patience * max_delay_us_ + 2000; }

  void fail(const std::string& why) {
    if (!error_.empty())
      return;
    std::ostringstream os;
    os << "seed " << cfg_.seed << " (" << cfg_.nodes << " nodes, " << cfg_.proposers
       << " proposers) at t=" << now_ << "us: " << why;
    error_ = os.str();
  }

  // ------------------------------------------------------------ dispatch

  void handle(const Event& ev) {
    // A node that is down hears nothing, and its timers died with it.
    if (ev.kind != Kind::crash && ev.kind != Kind::restart && ev.kind != Kind::die &&
        nodes_[ev.to].status == Status::down)
      return;
    if (ev.life != nodes_[ev.to].life && (ev.kind == Kind::wake || ev.kind == Kind::timer ||
                                          ev.kind == Kind::durable || ev.kind == Kind::rejoin_tick))
      return;
    switch (ev.kind) {
    case Kind::prepare: {
      auto& node = nodes_[ev.to];
      if (node.status != Status::up)
        break; // catching up: it answers nothing
      auto p = acceptors_[ev.to].prepare(ev.ballot, clock(ev.to));
      if (p.ok) {
        p.age_ms += cfg_.lying_witness_ms;
        node.book->note(ev.ballot.counter);
      }
      p.voter = Voter{node.id, node.incarnation};
      Event reply;
      reply.known = std::make_shared<const std::map<std::string, uint64_t>>(node.book->known());
      reply.kind = Kind::promise;
      reply.from = ev.to;
      reply.to = ev.from;
      reply.round = ev.round;
      reply.life = ev.life;
      reply.promise = std::make_shared<const Promise>(std::move(p));
      send(std::move(reply));
      break;
    }
    case Kind::accept: {
      auto& node = nodes_[ev.to];
      if (node.status != Status::up)
        break;
      Accepted a;
      if (node.book->admit(*ev.promise_set, ev.ballot.counter))
        a = acceptors_[ev.to].accept(ev.ballot, *ev.value, ev.next_promise, clock(ev.to));
      else
        ++stats_.stale_refusals;
      a.voter = Voter{node.id, node.incarnation};
      if (a.ok) {
        record_accept(ev.to, ev.ballot, *ev.value);
        durable_[ev.to] = acceptors_[ev.to].record();
      }
      Event reply;
      reply.known = std::make_shared<const std::map<std::string, uint64_t>>(node.book->known());
      reply.kind = Kind::accepted;
      reply.from = ev.to;
      reply.to = ev.from;
      reply.round = ev.round;
      reply.life = ev.life;
      reply.incarnation = node.incarnation;
      reply.accepted = a;
      send(std::move(reply));
      break;
    }
    case Kind::promise:
    case Kind::accepted: {
      // To the proposer of the life that asked, about the round in flight.
      auto& node = nodes_[ev.to];
      if (ev.life != node.life || !node.proposer || !node.proposer->in_round(ev.round))
        break;
      learn(ev);
      auto voter = ev.from + 1; // 0 is the proposer's own acceptor
      if (ev.kind == Kind::promise) {
        if (ev.promise->ok && ev.round == node.prepared_round)
          node.promised_from.emplace(ev.promise->voter.node, ev.promise->accepted);
        apply(ev.to, node.proposer->on_promise(ev.round, voter, *ev.promise, clock(ev.to)));
      } else {
        apply(ev.to, node.proposer->on_accepted(ev.round, voter, ev.accepted, clock(ev.to)));
      }
      break;
    }
    case Kind::wake: {
      auto& node = nodes_[ev.to];
      if (ev.catch_up) {
        if (node.status == Status::joining && node.catching_up && node.catch_up_tag == 0)
          start_catch_up(ev.to);
        break;
      }
      if (node.status == Status::up && ev.to < frontends_.size() && !frontends_[ev.to].op)
        start_op(frontends_[ev.to]);
      break;
    }
    case Kind::timer:
      if (nodes_[ev.to].proposer)
        apply(ev.to, nodes_[ev.to].proposer->on_timer(ev.timer, ev.round, clock(ev.to)));
      break;
    case Kind::durable:
      if (nodes_[ev.to].proposer)
        apply(ev.to, nodes_[ev.to].proposer->on_durable(ev.round, clock(ev.to)));
      break;
    case Kind::crash:
      crash();
      break;
    case Kind::die:
      die(ev);
      break;
    case Kind::restart:
      if (ev.life == nodes_[ev.to].life)
        restart(ev.to);
      break;
    case Kind::rejoin:
      serve_rejoin(ev);
      break;
    case Kind::rejoin_answer:
      on_rejoin_answer(ev);
      break;
    case Kind::rejoin_tick: {
      auto& node = nodes_[ev.to];
      if (node.status == Status::joining && !node.catching_up)
        ask_peers(ev.to);
      break;
    }
    }
  }

  // What a vote's sender knew of incarnations, learned before it counts
  // (actors/lock_actor.cpp does the same with PeerResponse.known).
  void learn(const Event& ev) {
    if (cfg_.learn_from_votes && ev.known)
      nodes_[ev.to].book->learn(*ev.known);
  }

  // Sends a round's message to every peer of node `from` (its proposer
  // asks its own acceptor itself).
  void broadcast(uint32_t from, uint64_t round, Kind kind, const Ballot& b, const LockState* v,
                 const Ballot& nb, const PromiseSet* promisers) {
    std::shared_ptr<const LockState> value;
    if (v)
      value = std::make_shared<const LockState>(*v);
    std::shared_ptr<const PromiseSet> set;
    if (promisers)
      set = std::make_shared<const PromiseSet>(*promisers);
    for (uint32_t n = 0; n < cfg_.nodes; ++n) {
      if (n == from)
        continue;
      Event ev;
      ev.kind = kind;
      ev.from = from;
      ev.to = n;
      ev.round = round;
      ev.life = nodes_[from].life;
      ev.ballot = b;
      ev.next_promise = nb;
      ev.value = value;
      ev.promise_set = set;
      send(std::move(ev));
    }
  }

  // ------------------------------------------------------------ the proposer

  // A new process on node `n` (or the first): its proposer, set up as the
  // lock actor sets it up, over the node's acceptor and book.
  void start_proposer(uint32_t n) {
    ProposerSetup setup;
    setup.quorum = quorum_;
    setup.round_timeout = Millis((round_timeout_us() + 999) / 1000);
    if (cfg_.forget_promises)
      setup.mutation = Mutation::skip_promise_fsync;
    else if (cfg_.proposer_clock_expiry)
      setup.mutation = Mutation::proposer_clock_expiry;
    setup.seed = rng_();
    BallotSource ballots(n, rng_()); // a new process, a new nonce
    auto& record = acceptors_[n].record();
    ballots.observe(record.promised);
    ballots.observe(record.accepted);
    auto& node = nodes_[n];
    node.proposer =
        std::make_unique<Proposer>(setup, ballots, acceptors_[n], *node.book, [this, n] {
          return Voter{nodes_[n].id, nodes_[n].incarnation};
        });
    node.catch_up_tag = 0;
    node.prepared_round = 0;
  }

  // Carries out what node `n`'s proposer asked for, as the lock actor does.
  void apply(uint32_t n, ProposerEffects effects) {
    auto& node = nodes_[n];
    for (auto& effect : effects) {
      if (auto* p = std::get_if<SendPrepare>(&effect)) {
        node.prepared_round = p->round;
        node.prepared_ballot = p->ballot;
        node.promised_from.clear();
        if (node.status == Status::up) // it promised first (a catching-up node does not vote)
          node.promised_from.emplace(node.id, acceptors_[n].record().accepted);
        broadcast(n, p->round, Kind::prepare, p->ballot, nullptr, Ballot{}, nullptr);
      } else if (auto* a = std::get_if<SendAccept>(&effect)) {
        // After a prepare, built on the highest value its promisers had
        // accepted; on the one-round-trip path, on the proposer's previous
        // decision, whose accepts promised this ballot.
        bool prepared = a->round == node.prepared_round && a->ballot == node.prepared_ballot;
        note_parent(a->ballot,
                    prepared ? adopted(a->promise_set, node.promised_from)
                             : Ballot{a->ballot.counter - 1, a->ballot.node, a->ballot.nonce});
        broadcast(n, a->round, Kind::accept, a->ballot, &a->value, a->next_promise,
                  &a->promise_set);
      } else if (auto* w = std::get_if<Persist>(&effect)) {
        if (w->write)
          durable_[n] = acceptors_[n].record();
        // Writes complete in order: one fixed disk latency keeps them so.
        schedule(Kind::durable, n, disk_us, false, w->ticket);
      } else if (auto* t = std::get_if<ArmTimer>(&effect)) {
        if (t->kind == ProposerTimer::retry)
          ++stats_.failed_rounds;
        // The delay runs on the node's clock.
        auto delay = static_cast<double>(t->delay.count()) * 1000 / rates_[n];
        schedule(Kind::timer, n, static_cast<Us>(delay) + 1, false, t->round, t->kind);
      } else if (std::holds_alternative<AcceptorChanged>(effect)) {
        auto& record = acceptors_[n].record();
        record_accept(n, record.accepted, record.value);
      } else if (auto* f = std::get_if<Finished>(&effect)) {
        finished(n, *f);
      }
    }
  }

  void finished(uint32_t n, const Finished& f) {
    auto& node = nodes_[n];
    if (node.catch_up_tag != 0 && f.tag == node.catch_up_tag) {
      node.catch_up_tag = 0;
      caught_up(n, f);
      return;
    }
    if (n >= frontends_.size() || !frontends_[n].op || frontends_[n].tag != f.tag)
      return;
    auto& fe = frontends_[n];
    if (!f.decided) {
      unknown_outcome(fe);
      return;
    }
    if (f.read_only)
      ++stats_.read_only;
    else if (f.ballot != node.prepared_ballot)
      ++stats_.fast_decisions;
    decided(fe, f.ballot, f.result, f.read_only);
  }

  // ------------------------------------------------------------ clients

  void remember_send(const LeaseOrigin& o) {
    sent_at_[std::make_tuple(o.client, o.request, o.attempt)] = now_;
  }

  void start_op(Frontend& p) {
    if (p.ops_left <= 0)
      return;
    --p.ops_left;
    if (!p.sent.empty() && chance(cfg_.stale_percent)) {
      ++stats_.stale_replays;
      p.op = p.sent[pick(p.sent.size())];
      p.op->stale = true;
      propose_op(p);
      return;
    }
    Op op;
    op.sent_at = now_;
    op.ttl = chance(cfg_.long_ttl_percent) ? 1000 + 500 * pick(5) : 100 + 50 * pick(5);
    if (chance(12)) {
      op.kind = OpKind::handoff;
    } else {
      op.client = pick(p.clients.size());
      auto& c = p.clients[op.client];
      if (c.waiting) {
        if (chance(10)) { // the waiter gives up silently: its reservation must lapse
          c.waiting = false;
          next_op(p);
          return;
        }
        op.kind = OpKind::acquire;
        op.wait = true;
        op.origin = LeaseOrigin{c.owner, c.wait_request, ++c.wait_attempt};
      } else if (c.token) {
        auto r = pick(100);
        if (r < 40) {
          op.kind = OpKind::release;
          op.token = *c.token;
          c.token.reset();
          c.valid_until = std::min(c.valid_until, now_); // stops before it sends
        } else if (r < 65) {
          op.kind = OpKind::refresh;
          op.token = *c.token;
          op.origin = LeaseOrigin{c.owner, ++next_request_, 0};
        } else if (r < 80) { // the holder vanishes: its lease must expire
          c.token.reset();
          next_op(p);
          return;
        } else {
          op.kind = OpKind::acquire; // re-acquire while holding
          op.wait = chance(50);
          op.origin = LeaseOrigin{c.owner, ++next_request_, 0};
        }
      } else {
        op.kind = OpKind::acquire;
        op.wait = chance(60);
        op.origin = LeaseOrigin{c.owner, ++next_request_, 0};
      }
      if (op.kind == OpKind::acquire || op.kind == OpKind::refresh) {
        remember_send(op.origin);
        // An owner is one holder: a lease restart with a shorter ttl may be
        // chosen (or adopted by another round) before any answer comes, and
        // it also ends what an earlier, vanished attempt of this owner
        // trusted (docs/protocol.md, shared owners). Trust the earlier end.
        c.valid_until = std::min(c.valid_until, now_ + trusted_us(op.ttl));
        p.sent.push_back(op);
        if (p.sent.size() > 8)
          p.sent.erase(p.sent.begin());
      }
    }
    p.op = op;
    propose_op(p);
  }

  Change make_change(const Frontend& p) const {
    const Op& op = *p.op;
    switch (op.kind) {
    case OpKind::acquire: {
      AcquireArgs a{p.clients[op.client].owner, op.origin, op.ttl, op.wait};
      a.test_stale_restart = cfg_.test_stale_restart;
      return [a](LockState& s, WitnessAge age) { return acquire(s, age, a); };
    }
    case OpKind::release: {
      auto token = op.token;
      return [token](LockState& s, WitnessAge age) { return release(s, age, token); };
    }
    case OpKind::refresh: {
      auto token = op.token;
      auto origin = op.origin;
      auto ttl = op.ttl;
      bool test_stale = cfg_.test_stale_restart;
      return [=](LockState& s, WitnessAge age) {
        return refresh(s, age, token, origin, ttl, test_stale);
      };
    }
    case OpKind::handoff:
      break;
    }
    return [](LockState& s, WitnessAge age) { return handoff(s, age); };
  }

  // Proposes the op as the lock actor does (a release may find its own
  // earlier effect once a round for it was lost).
  void propose_op(Frontend& p) {
    auto& node = nodes_[p.node];
    p.tag = ++node.next_tag;
    std::shared_ptr<bool> retried;
    Change change = make_change(p);
    if (p.op->kind == OpKind::release) {
      retried = std::make_shared<bool>(false);
      auto token = p.op->token;
      change = [token, retried](LockState& s, WitnessAge age) {
        return release(s, age, token, *retried);
      };
    }
    apply(p.node, node.proposer->propose(Proposal{std::move(change), p.tag, false, retried},
                                         clock(p.node)));
  }

  // The client never learned the outcome: it must assume the worst.
  void unknown_outcome(Frontend& p) {
    lose_op(p);
    next_op(p);
  }

  void lose_op(Frontend& p) {
    ++stats_.unknown_ops;
    const Op op = *p.op;
    p.op.reset();
    if (!op.stale && (op.kind == OpKind::acquire || op.kind == OpKind::refresh)) {
      auto& c = p.clients[op.client];
      if (c.token) // a lease change may have happened: keep the earlier deadline
        c.valid_until = std::min(c.valid_until, op.sent_at + trusted_us(op.ttl));
    }
  }

  void decided(Frontend& p, const Ballot& ballot, const Result& r, bool read_only) {
    if (!read_only) {
      auto it = acceptors_of_.find(ballot);
      if (it == acceptors_of_.end() || it->second.size() < quorum_)
        fail("round " + to_string(ballot) + " decided without a quorum of accepts");
    }
    const Op op = *p.op;
    p.op.reset();
    if (r.expired_holder)
      ++stats_.takeovers;
    if (op.stale) {
      // Nobody hears the answer, but a grant it made must not break anyone's lease.
      if (r.outcome == Outcome::granted && r.new_grant)
        check_grant(p.clients[op.client].owner, ballot, r, now_ + 1);
    } else if (op.kind != OpKind::handoff) {
      auto& c = p.clients[op.client];
      switch (r.outcome) {
      case Outcome::granted:
        on_granted(c, ballot, r);
        break;
      case Outcome::queued:
        if (!c.waiting) {
          c.waiting = true;
          c.wait_request = op.origin.request;
          c.wait_attempt = op.origin.attempt;
        }
        break;
      case Outcome::refreshed:
        c.valid_until = lease_end(r);
        break;
      case Outcome::not_holder:
        c.token.reset();
        c.valid_until = std::min(c.valid_until, now_);
        break;
      default:
        if (op.kind == OpKind::acquire)
          c.waiting = false;
        break;
      }
    }
    next_op(p);
  }

  Us lease_end(const Result& r) {
    auto it = sent_at_.find(std::make_tuple(r.origin.client, r.origin.request, r.origin.attempt));
    if (it == sent_at_.end()) {
      fail("lease timed from an attempt that was never sent");
      return 0;
    }
    return it->second + trusted_us(r.lease_ms);
  }

  void on_granted(Client& c, const Ballot& ballot, const Result& r) {
    ++stats_.grants;
    if (c.waiting)
      ++stats_.claims;
    c.waiting = false;
    Us end = lease_end(r);
    check_grant(c.owner, ballot, r, end);
    c.token = r.token;
    c.valid_until = end;
  }

  // A grant valid until `end` must not overlap another owner's trusted lease.
  void check_grant(const std::string& owner, const Ballot& ballot, const Result& r, Us end) {
    auto [it, fresh] = token_owner_.emplace(r.token, owner);
    if (!fresh && it->second != owner)
      fail("token " + std::to_string(r.token) + " granted to " + it->second + " and " + owner);
    grants_.push_back(Grant{ballot, r.token, owner});
    if (end <= now_)
      return;
    for (auto& p : frontends_)
      for (auto& other : p.clients)
        if (other.owner != owner && other.valid_until > now_) {
          std::ostringstream os;
          os << owner << " granted token " << r.token << " (valid until " << end << ") while "
             << other.owner << " still trusts its lease until " << other.valid_until;
          fail(os.str());
        }
  }

  void next_op(Frontend& p) {
    Us gap = chance(4) ? 2'500'000 + pick(1'000'000) : pick(150'000);
    schedule_wake(p.node, gap);
  }

  // ------------------------------------------------------------ crashes

  // Stops a node, keeping at most a minority down or catching up: safety
  // must not depend on that, but liveness (and so the end of a run) does.
  void crash() {
    size_t out = static_cast<size_t>(std::count_if(
        nodes_.begin(), nodes_.end(), [](const Node& n) { return n.status != Status::up; }));
    std::vector<uint32_t> candidates;
    for (uint32_t n = 0; n < cfg_.nodes; ++n)
      if (nodes_[n].status == Status::joining ||
          (nodes_[n].status == Status::up && out + 1 <= (cfg_.nodes - 1) / 2))
        candidates.push_back(n);
    if (candidates.empty())
      return;
    uint32_t n = candidates[pick(candidates.size())];
    auto& node = nodes_[n];
    bool was_joining = node.status == Status::joining;
    node.status = Status::down;
    ++node.life;
    node.plan.reset();
    node.proposer.reset();
    node.catch_up_tag = 0;
    node.catching_up = false;
    // A node that crashes while catching up comes back as a new incarnation
    // in any case (it never finished learning what it forgot).
    node.keeps_data = !was_joining && !chance(cfg_.wipe_percent);
    // Its JOINING file survives unless the data dir is wiped again.
    node.joining_floor = was_joining && !chance(cfg_.wipe_percent) ? node.announced : 0;
    if (was_joining)
      ++stats_.crashes_while_joining;
    else if (node.keeps_data)
      ++stats_.crashes_with_data;
    else
      ++stats_.crashes_without_data;
    // The proposer's round dies with the process; its client is left not
    // knowing whether the change happened.
    if (n < frontends_.size() && frontends_[n].op)
      lose_op(frontends_[n]);
    // Some restarts come back within a message delay, so messages of the
    // old life still arrive after the new one started.
    Us downtime = chance(25) ? pick(2 * max_delay_us_) : 50'000 + pick(2'000'000);
    schedule(Kind::restart, n, downtime);
  }

  // The dead node stops for good, once that leaves a majority up.
  void die(const Event& ev) {
    uint32_t n = ev.to;
    if (n < frontends_.size()) {
      fail("the dead node has clients");
      return;
    }
    size_t out = static_cast<size_t>(std::count_if(
        nodes_.begin(), nodes_.end(), [](const Node& x) { return x.status != Status::up; }));
    if (nodes_[n].status != Status::up || out + 1 > (cfg_.nodes - 1) / 2) {
      Event again = ev;
      again.at = now_ + 100'000;
      push(std::move(again));
      return;
    }
    auto& node = nodes_[n];
    node.status = Status::down;
    ++node.life; // voids its timers and any pending restart
    node.plan.reset();
    node.proposer.reset();
    node.catch_up_tag = 0;
    node.catching_up = false;
  }

  void restart(uint32_t n) {
    auto& node = nodes_[n];
    if (node.keeps_data) {
      // The record and the incarnations it learned were on disk; the
      // highest counter (and whether it ever accepted) is rebuilt from the
      // record, epoch ages from boot.
      auto record = cfg_.forget_promises ? durable_[n] : acceptors_[n].record();
      acceptors_[n] = Acceptor(record, clock(n));
      auto known = node.book->known();
      node.book = std::make_unique<IncarnationBook>();
      node.book->learn(known);
      if (!record.accepted.is_zero())
        node.book->note_accepted(record.accepted.counter);
      node.book->note(std::max(record.promised.counter, record.accepted.counter));
      start_voting(n);
      return;
    }
    acceptors_[n] = Acceptor(AcceptorRecord{}, clock(n));
    durable_[n] = AcceptorRecord{};
    node.book = std::make_unique<IncarnationBook>();
    // The data dir, INCARNATION included, is gone: the node starts above
    // its JOINING file if it has one, else at the first generation, and the
    // peers tell it which one to go above.
    node.incarnation = next_incarnation(node.joining_floor, static_cast<uint32_t>(rng_()));
    node.announced = node.incarnation;
    if (cfg_.wiped_votes_at_once) {
      start_voting(n);
      return;
    }
    node.status = Status::joining;
    node.plan.emplace(cfg_.nodes - 1, quorum_, false);
    ask_peers(n);
  }

  // A node that caught up keeps the proposer that did it; one that
  // restarted gets a new one.
  void start_voting(uint32_t n) {
    auto& node = nodes_[n];
    node.status = Status::up;
    node.plan.reset();
    node.catching_up = false;
    if (!node.proposer)
      start_proposer(n);
    if (n < frontends_.size())
      schedule_wake(n, pick(50'000));
  }

  // ------------------------------------------------------------ rejoin

  // Peers are numbered 1..N-1 in the rejoining node's plan.
  static uint32_t peer_number(uint32_t self, uint32_t peer) {
    return peer < self ? peer + 1 : peer;
  }

  void ask_peers(uint32_t n) {
    send_rejoins(n);
    schedule(Kind::rejoin_tick, n, round_timeout_us());
  }

  void send_rejoins(uint32_t n) {
    for (uint32_t peer = 0; peer < cfg_.nodes; ++peer) {
      if (peer == n)
        continue;
      Event ev;
      ev.kind = Kind::rejoin;
      ev.from = n;
      ev.to = peer;
      ev.incarnation = nodes_[n].incarnation;
      send(std::move(ev));
    }
  }

  void serve_rejoin(const Event& ev) {
    auto& peer = nodes_[ev.to];
    // From here on no accept that counted the old incarnation's promises
    // passes this peer; all it admitted before is at most `highest`.
    auto s = peer.book->supersede(nodes_[ev.from].id, ev.incarnation);
    auto highest = s.highest_counter;
    auto answer = std::make_shared<RejoinAnswer>();
    if (!s.recorded)
      answer->newer_incarnation = s.current;
    answer->voting = peer.status == Status::up;
    auto& record = acceptors_[ev.to].record();
    if (!record.promised.is_zero() || !record.accepted.is_zero())
      answer->locks.push_back("lock");
    answer->accepted_any = peer.book->accepted_any();
    answer->highest_counter = highest;
    answer->incarnations = peer.book->known();
    Event reply;
    reply.kind = Kind::rejoin_answer;
    reply.from = ev.to;
    reply.to = ev.from;
    reply.incarnation = ev.incarnation; // matches the answer to the request
    reply.answer = std::move(answer);
    send(std::move(reply));
  }

  void on_rejoin_answer(const Event& ev) {
    auto& node = nodes_[ev.to];
    if (node.status != Status::joining || node.catching_up)
      return;
    if (ev.answer->newer_incarnation > node.incarnation) {
      // A peer knows a newer life of this node: go above it, start over.
      ++stats_.newer_incarnations;
      node.incarnation =
          next_incarnation(ev.answer->newer_incarnation, static_cast<uint32_t>(rng_()));
      node.announced = node.incarnation;
      node.plan.emplace(cfg_.nodes - 1, quorum_, false);
      send_rejoins(ev.to);
      return;
    }
    if (ev.incarnation != node.incarnation)
      return; // an answer to an earlier life's announcement
    node.plan->on_answer(peer_number(ev.to, ev.from), *ev.answer);
    using Verdict = RejoinPlan::Verdict;
    auto verdict = node.plan->verdict();
    if (verdict != Verdict::waiting && node.plan->answered() < cfg_.nodes - 1)
      ++stats_.partial_rejoins;
    switch (verdict) {
    case Verdict::waiting:
      return;
    case Verdict::vote_now:
      node.book->learn(node.plan->incarnations());
      ++stats_.rejoins_fresh;
      start_voting(ev.to);
      return;
    case Verdict::catch_up:
      node.book->learn(node.plan->incarnations());
      node.catching_up = true;
      start_proposer(ev.to);
      node.proposer->observe(Ballot{node.plan->ballot_floor(), 0, 0});
      start_catch_up(ev.to);
      return;
    case Verdict::needs_bootstrap:
    case Verdict::majority_lost:
      // Stale answers from peers that were catching up themselves; the
      // next tick asks again.
      ++stats_.refused_verdicts;
      return;
    }
  }

  // The x -> x round over the peers, at a ballot above all they had seen,
  // run by the node's proposer as the lock actor runs it on a rejoin.
  void start_catch_up(uint32_t n) {
    auto& node = nodes_[n];
    node.catch_up_tag = ++node.next_tag;
    apply(n, node.proposer->propose(
                 Proposal{[](LockState& s, WitnessAge age) { return unchanged(s, age); },
                          node.catch_up_tag, true, nullptr},
                 clock(n)));
  }

  void caught_up(uint32_t n, const Finished& f) {
    if (!f.decided) {
      ++stats_.catch_up_retries;
      schedule(Kind::wake, n, 1000 + pick(30'000), true);
      return;
    }
    if (f.read_only) {
      fail("a catch-up round decided without writing its value");
      return;
    }
    auto it = acceptors_of_.find(f.ballot);
    if (it == acceptors_of_.end() || it->second.size() < quorum_ || it->second.count(n))
      fail("catch-up round " + to_string(f.ballot) + " decided without a quorum of peers");
    // The proposer installed the value a majority of the peers now holds,
    // above all they had seen: from here on this node votes with it.
    auto& record = acceptors_[n].record();
    if (record.accepted != f.ballot)
      fail("catch-up round " + to_string(f.ballot) + " left the acceptor at " +
           to_string(record.accepted));
    durable_[n] = record;
    record_accept(n, record.accepted, record.value);
    ++stats_.rejoins_caught_up;
    start_voting(n);
  }

  // ------------------------------------------------------------ invariants

  // Which ballot's value a proposal was built on (zero: the initial state).
  // "Descends from" below means reachable along these links, which is
  // stricter than comparing fences.
  void note_parent(const Ballot& b, const Ballot& from) {
    if (!(from < b))
      fail("proposal at " + to_string(b) + " built on the later " + to_string(from));
    auto [it, fresh] = parent_.emplace(b, from);
    if (!fresh && it->second != from)
      fail("two proposals at ballot " + to_string(b));
  }

  // The highest accepted ballot among the promises the round counted.
  static Ballot adopted(const PromiseSet& set, const std::map<std::string, Ballot>& promised_from) {
    Ballot best;
    for (auto& voter : set) {
      auto it = promised_from.find(voter.node);
      if (it != promised_from.end() && it->second > best)
        best = it->second;
    }
    return best;
  }

  bool descends(Ballot later, const Ballot& earlier) const {
    while (earlier < later) {
      auto it = parent_.find(later);
      if (it == parent_.end())
        return false;
      later = it->second;
    }
    return later == earlier;
  }

  void record_accept(uint32_t node, const Ballot& b, const LockState& v) {
    auto [it, fresh] = value_at_.emplace(b, v);
    if (!fresh && it->second != v)
      fail("two different values accepted at ballot " + to_string(b));
    auto& who = acceptors_of_[b];
    who.insert(node);
    if (who.size() == quorum_)
      chosen_.emplace_back(b, v);
  }

  void check_acceptors() {
    for (size_t i = 0; i < acceptors_.size(); ++i) {
      auto& rec = acceptors_[i].record();
      if (rec.promised < rec.accepted)
        fail("acceptor " + std::to_string(i) + " promised below its accepted ballot");
      auto& v = rec.value;
      if (v.holder && v.reserved)
        fail("acceptor " + std::to_string(i) + " holds a value with holder and reservation");
      if (v.holder && v.holder->token != v.fence)
        fail("holder token differs from the fence");
    }
  }

  void check_history() {
    // Chosen values form one chain in ballot order (CASPaxos): each is built
    // on the one before, and fence and epoch only grow along it. A ballot
    // counts as chosen once a quorum of nodes accepted it, in whichever
    // incarnation: a proposer counts acks by node, and an ack sent before
    // a crash can still arrive after it.
    auto chosen = chosen_;
    std::sort(chosen.begin(), chosen.end(), [](auto& a, auto& b) { return a.first < b.first; });
    for (size_t i = 1; i < chosen.size(); ++i) {
      auto& a = chosen[i - 1].second;
      auto& b = chosen[i].second;
      if (b.fence < a.fence || b.epoch.number < a.epoch.number ||
          !descends(chosen[i].first, chosen[i - 1].first))
        fail("chosen value at " + to_string(chosen[i].first) + " does not descend from " +
             to_string(chosen[i - 1].first));
    }
    // Decided grants: tokens grow in decision (ballot) order; a token is
    // repeated only to its own holder (an idempotent retry or re-acquire).
    auto grants = grants_;
    std::sort(grants.begin(), grants.end(), [](auto& a, auto& b) { return a.ballot < b.ballot; });
    for (size_t i = 1; i < grants.size(); ++i) {
      auto& a = grants[i - 1];
      auto& b = grants[i];
      if (b.token < a.token || (b.token == a.token && b.owner != a.owner))
        fail("grant of token " + std::to_string(b.token) + " at " + to_string(b.ballot) +
             " does not follow token " + std::to_string(a.token) + " at " + to_string(a.ballot));
    }
  }

  Config cfg_;
  std::mt19937_64 rng_;
  size_t quorum_ = 2;
  size_t drop_percent_ = 0;
  size_t dup_percent_ = 0;
  Us max_delay_us_ = 1000;
  Us now_ = 0;
  uint64_t seq_ = 0;
  uint64_t next_request_ = 0;
  std::vector<Us> offsets_;
  std::vector<double> rates_;
  std::vector<Acceptor> acceptors_;
  std::vector<AcceptorRecord> durable_; // what survives a crash with data
  std::vector<Node> nodes_;
  std::vector<Frontend> frontends_;
  std::priority_queue<Event, std::vector<Event>, Later> events_;
  std::map<std::tuple<std::string, uint64_t, uint32_t>, Us> sent_at_;
  std::map<Ballot, LockState> value_at_;
  std::map<Ballot, std::set<uint32_t>> acceptors_of_;
  std::vector<std::pair<Ballot, LockState>> chosen_;
  std::map<Ballot, Ballot> parent_;
  std::map<uint64_t, std::string> token_owner_;
  std::vector<Grant> grants_;
  Stats stats_;
  std::string error_;
};

} // namespace sim

namespace sim {

// The command that runs `seed` of the current test case alone.
inline std::string replay_command(uint32_t seed) {
  namespace utf = boost::unit_test;
  auto& tc = utf::framework::current_test_case();
  auto& suite = utf::framework::get<utf::test_suite>(tc.p_parent_id);
  return "GDL_SIM_SEED=" + std::to_string(seed) +
         " build/bin/unit_tests --run_test=" + suite.p_name.get() + "/" + tc.p_name.get();
}

// How many of a scan's seeds this build runs: all, but half under
// AddressSanitizer (build-asan/, about 20 times slower), which looks for
// memory errors rather than rarer interleavings; CI runs both builds.
inline uint32_t seeds_in_this_build(uint32_t seeds) {
#ifdef __SANITIZE_ADDRESS__
  return std::max<uint32_t>(1, seeds / 2);
#else
  return seeds;
#endif
}

// GDL_SIM_SEED=N: run only seed N (to replay a failure).
inline std::optional<uint32_t> replayed_seed() {
  const char* v = std::getenv("GDL_SIM_SEED");
  if (!v || !*v)
    return std::nullopt;
  return static_cast<uint32_t>(std::strtoul(v, nullptr, 10));
}

// Runs seeds 1..`seeds` of correct nodes configured by `configure`, adds
// their stats to `total` and reports each violation with its seed and the
// command that replays it; stops after 3. Returns how many seeds failed.
template <class Configure> int runs_failed(uint32_t seeds, Stats& total, Configure configure) {
  int failures = 0;
  uint32_t first = 1;
  seeds = seeds_in_this_build(seeds);
  if (auto only = replayed_seed()) {
    first = *only;
    seeds = *only;
  }
  for (uint32_t seed = first; seed <= seeds && failures < 3; ++seed) {
    Config cfg;
    cfg.seed = seed;
    configure(cfg);
    Simulation s(cfg);
    auto error = s.run();
    total.add(s.stats());
    if (!error.empty()) {
      ++failures;
      BOOST_ERROR(error << "\n  replay: " << replay_command(seed));
    }
  }
  return failures;
}

// Runs seeds 1..`seeds` of a simulation with a deliberate bug and returns
// how many of them the checkers caught (the first one is printed); stops
// early once `enough` were caught.
template <class Configure>
int runs_caught(uint32_t seeds, const char* what, Configure configure, int enough = 1 << 30) {
  int caught = 0;
  uint32_t runs = 0;
  uint32_t seed = 1;
  if (auto only = replayed_seed()) {
    seed = *only;
    seeds = *only;
  }
  for (; seed <= seeds && caught < enough; ++seed, ++runs) {
    Config cfg;
    cfg.seed = seed;
    cfg.proposers = 3;
    configure(cfg);
    Simulation s(cfg);
    auto error = s.run();
    if (!error.empty() && caught++ == 0)
      BOOST_TEST_MESSAGE("first caught (seed " << seed << "): " << error
                                               << "\n  replay: " << replay_command(seed));
  }
  BOOST_TEST_MESSAGE(what << " caught in " << caught << " of " << runs << " runs");
  return caught;
}

} // namespace sim
