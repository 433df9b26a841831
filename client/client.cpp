#include "client/client.hpp"

#include "client/attempts.hpp"
#include "client/reply_decoder.hpp"
#include "client/transport.hpp"

#include "core/limits.hpp"
#include "messages/interfaces.hpp"
#include "messages/validate.hpp"
#include "net/connect.hpp"
#include "net/membership.hpp"
#include "net/system_config.hpp"

#include <caf/all.hpp>
#include <caf/io/all.hpp>

#include <algorithm>
#include <map>
#include <mutex>
#include <random>
#include <thread>

namespace godistlock::client {

namespace {

using namespace std::chrono;
using detail::Backoff;
using detail::connection_watcher;
using detail::ConnectionTable;
using detail::home_key;
using detail::plain_words;
using detail::rendezvous_ranking;
using detail::shared_system;

using caf::atom;

// How long a waiting acquire attempt may be parked at a server: mirrors
// actors::park_window_ms (the server never parks longer).
milliseconds park_window(milliseconds ttl) {
  return milliseconds(std::clamp<int64_t>(ttl.count() / 4, 20, 1000));
}

Status status_of(wire::Code code) {
  switch (code) {
  case wire::OK:
    return Status::ok;
  case wire::NOT_ACQUIRED:
    return Status::not_acquired;
  case wire::NOT_HOLDER:
    return Status::not_holder;
  case wire::INVALID_ARGUMENT:
    return Status::invalid_argument;
  case wire::NO_QUORUM:
  case wire::SHUTTING_DOWN:
  case wire::RECOVERING:
    return Status::unavailable;
  default:
    return Status::internal;
  }
}

} // namespace

const char* to_string(Status s) {
  switch (s) {
  case Status::ok:
    return "ok";
  case Status::not_acquired:
    return "not acquired";
  case Status::not_holder:
    return "not the holder";
  case Status::invalid_argument:
    return "invalid argument";
  case Status::unavailable:
    return "unavailable";
  default:
    return "internal error";
  }
}

struct Client::Impl {
  ClientOptions options;
  caf::actor_system& sys = shared_system();
  std::shared_ptr<ConnectionTable> connections = std::make_shared<ConnectionTable>();
  caf::actor watcher;
  std::atomic<size_t> preferred{0};
  std::atomic<uint64_t> next_request{1};
  // When each server last failed us (steady clock ns; 0: never). A lock's
  // home server that failed recently is passed over for a while.
  std::unique_ptr<std::atomic<int64_t>[]> failed_at;
  // "\n" + each server's address, the per-server half of home_of's hash key.
  std::vector<std::string> server_keys;

  explicit Impl(ClientOptions o) : options(std::move(o)) {
    if (options.client_id.empty())
      options.client_id = random_client_id();
    connections->handles.resize(options.servers.size());
    failed_at = std::make_unique<std::atomic<int64_t>[]>(options.servers.size());
    for (size_t i = 0; i < options.servers.size(); ++i) {
      failed_at[i] = 0;
      server_keys.push_back(home_key(options.servers[i]));
    }
    // Clients start at a random server, which spreads load over the cluster.
    if (!options.servers.empty())
      preferred = std::random_device{}() % options.servers.size();
    watcher = sys.spawn(connection_watcher, connections);
  }

  ~Impl() { caf::anon_send_exit(watcher, caf::exit_reason::user_shutdown); }

  std::optional<node_actor> connection(size_t i, milliseconds timeout, std::string& error) {
    {
      std::lock_guard<std::mutex> guard(connections->mutex);
      if (connections->handles[i])
        return connections->handles[i];
    }
    auto h = net::connect_node(sys, options.servers[i], timeout);
    if (!h) {
      error = plain_words(h.error(), timeout);
      return std::nullopt;
    }
    caf::anon_send(watcher, caf::actor_cast<caf::actor>(*h));
    std::lock_guard<std::mutex> guard(connections->mutex);
    connections->handles[i] = *h;
    return *h;
  }

  void drop(size_t i, const node_actor& h) {
    std::lock_guard<std::mutex> guard(connections->mutex);
    if (connections->handles[i] && *connections->handles[i] == h)
      connections->handles[i].reset();
  }

  // The lock's home: the server every client with this server list tries
  // first for it (rendezvous hashing), so that one node proposes for a lock
  // and rounds do not duel. If it failed us in the last second, the next
  // server of the lock's ranking: every client of a dead home then moves
  // to the same node, instead of each to its own, duelling, choice.
  std::optional<size_t> home_of(const std::string& lock) const {
    if (lock.empty() || server_keys.size() < 2)
      return std::nullopt;
    auto now = std::chrono::steady_clock::now().time_since_epoch().count();
    for (auto i : rendezvous_ranking(server_keys, lock)) {
      auto failed = failed_at[i].load();
      if (failed == 0 || now - failed >= std::chrono::nanoseconds(std::chrono::seconds(1)).count())
        return i;
    }
    return std::nullopt;
  }

  void note_failure(size_t i) {
    failed_at[i] = std::chrono::steady_clock::now().time_since_epoch().count();
  }

  struct Exchange {
    bool answered = false;
    wire::Response response;
    std::string error;
  };

  // How one call sends its request.
  struct SendOptions {
    // Longer than attempt_timeout per attempt (a waiting acquire's park window).
    milliseconds extra_wait{0};
    // Records each attempt's send time, for timing a lease.
    std::map<uint32_t, LeaseClock::time_point>* sent_at = nullptr;
    std::optional<size_t> only; // this server, once; otherwise every server in turn
    // No attempt runs past it (a lease keeper must hear in time that its
    // refresh failed).
    std::optional<LeaseClock::time_point> deadline;
    // Keep going over the servers (with back-off and jitter) until
    // attempt_timeout has passed since the call began: a one-shot call must
    // outlast a failover, not fail because the first server it met was
    // dead or on the minority side. A waiting acquire paces itself instead.
    bool retry = true;
    // Reasons collected over several calls (a waiting acquire's passes).
    detail::Failures* failures = nullptr;
    // Asked between passes: true ends the retrying (a try-lock's Ctrl-C).
    std::function<bool()> stop;
  };

  // Sends `req` to one server after another, starting with the lock's home
  // (or the one that answered last), until one answers. The request id
  // stays; the attempt number grows with every send, so the servers see
  // one request however often it is retried. The first pass gives every
  // server a full attempt_timeout; later passes only what is left of it.
  Exchange send(wire::Request& req, const SendOptions& o) {
    Exchange ex;
    auto n = options.servers.size();
    if (n == 0) {
      ex.error = "no servers configured";
      return ex;
    }
    detail::Failures own;
    auto& failures = o.failures ? *o.failures : own;
    const auto began = LeaseClock::now();
    auto retry_until = began + options.attempt_timeout;
    if (o.deadline)
      retry_until = std::min(retry_until, *o.deadline);
    size_t tries = o.only ? 1 : n;
    Backoff backoff;
    for (bool first_pass = true;; first_pass = false) {
      auto home = home_of(messages::lock_name(req));
      size_t start = o.only ? *o.only : home ? *home : preferred.load();
      for (size_t k = 0; k < tries; ++k) {
        size_t i = (start + k) % n;
        auto timeout = options.attempt_timeout + o.extra_wait;
        std::optional<LeaseClock::time_point> end = o.deadline;
        if (!first_pass)
          end = retry_until;
        bool cut_short = false;
        if (end) {
          auto left = duration_cast<milliseconds>(*end - LeaseClock::now());
          if (left <= milliseconds(0))
            break;
          cut_short = left < timeout;
          timeout = std::min(timeout, left);
        }
        if (attempt(req, i, timeout, cut_short, o.sent_at, failures, ex))
          return ex;
      }
      auto stopped = [&] { return o.stop && o.stop(); };
      if (!o.retry || o.only || LeaseClock::now() >= retry_until || stopped())
        break;
      backoff.wait(retry_until, o.stop);
      if (LeaseClock::now() >= retry_until || stopped())
        break;
    }
    ex.error = failures.empty() ? "no server could answer before the deadline" : failures.text();
    return ex;
  }

  // One attempt at server i. True when it answered; otherwise why it did
  // not is in `failures`.
  bool attempt(wire::Request& req, size_t i, milliseconds timeout, bool cut_short,
               std::map<uint32_t, LeaseClock::time_point>* sent_at, detail::Failures& failures,
               Exchange& ex) {
    auto failed = [&](const std::string& reason, bool short_attempt = false) {
      failures.note(options.servers[i].to_string(), reason, short_attempt);
      note_failure(i);
      return false;
    };
    std::string error;
    auto handle = connection(i, timeout, error);
    if (!handle)
      return failed(error);
    if (sent_at)
      (*sent_at)[req.attempt()] = LeaseClock::now();
    auto result = detail::ask(sys, *handle, req, timeout);
    req.set_attempt(req.attempt() + 1);
    if (!result.response) {
      drop(i, *handle);
      bool timed_out = result.error.category() == caf::atom("system") &&
                       result.error.code() == static_cast<uint8_t>(caf::sec::request_timeout);
      return failed(plain_words(result.error, timeout), timed_out && cut_short);
    }
    ex.response = std::move(*result.response);
    // A draining node, or one that cannot reach a majority (it may sit
    // on the minority side of a partition): another server may do better.
    if (ex.response.code() == wire::SHUTTING_DOWN)
      return failed("shutting down");
    if (ex.response.code() == wire::RECOVERING)
      return failed("catching up after losing its data");
    if (ex.response.code() == wire::NO_QUORUM)
      return failed(ex.response.message());
    preferred = i;
    ex.answered = true;
    return true;
  }

  wire::Request new_request() {
    wire::Request req;
    req.set_client_id(options.client_id);
    req.set_request_id(next_request++);
    return req;
  }

  template <class R> static R fail(Status s, std::string msg) {
    R r;
    r.status = s;
    r.message = std::move(msg);
    return r;
  }

  template <class R> static R from_response(const wire::Response& resp) {
    R r;
    r.status = status_of(resp.code());
    r.message = resp.message();
    return r;
  }

  // Whether the grant's lease is timed from one of this request's attempts.
  bool lease_is_ours(const wire::Request& req, const wire::Grant& g,
                     const std::map<uint32_t, LeaseClock::time_point>& sent_at) const {
    return g.lease_client_id() == req.client_id() && g.lease_request_id() == req.request_id() &&
           sent_at.count(g.lease_attempt()) > 0;
  }

  // The lease is timed from the send time of the attempt that created it.
  // If that attempt is not one of ours, the lease cannot be timed: untrusted.
  LeaseClock::time_point
  trusted_until(const wire::Request& req, const wire::Grant& g,
                const std::map<uint32_t, LeaseClock::time_point>& sent_at) const {
    if (g.lease_client_id() != req.client_id() || g.lease_request_id() != req.request_id())
      return LeaseClock::time_point{};
    auto it = sent_at.find(g.lease_attempt());
    if (it == sent_at.end())
      return LeaseClock::time_point{};
    if (options.test_lease_from_reply)
      return LeaseClock::now() + trusted_lease(milliseconds(g.lease_ms()));
    return it->second + trusted_lease(milliseconds(g.lease_ms()));
  }

  // Leaves the queue of `name`, and makes sure no attempt of `acquire`
  // (say one delayed in a busy node) can queue again afterwards. `retry`
  // false: one pass over the servers only, when none could answer just now
  // (the queue place lapses anyway if no majority hears the cancel, and
  // the caller's wait is already over).
  void cancel_wait(const std::string& name, const std::string& owner, const wire::Request& acquire,
                   bool retry = true) {
    auto req = new_request();
    req.mutable_cancel()->set_name(name);
    req.mutable_cancel()->set_owner(owner);
    req.mutable_cancel()->set_acquire_request_id(acquire.request_id());
    SendOptions o;
    o.retry = retry;
    send(req, o);
  }
};

Client::Client(ClientOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}

Client::~Client() = default;

std::string random_client_id() {
  // std::random_device draws from the OS's (or the CPU's) entropy source,
  // not from a PRNG seeded by something guessable like a PID or a clock.
  std::random_device rd;
  static const char hex[] = "0123456789abcdef";
  std::string id = "c-";
  for (int word = 0; word < 4; ++word) {
    uint32_t bits = rd();
    for (int i = 0; i < 8; ++i, bits >>= 4)
      id.push_back(hex[bits & 0xf]);
  }
  return id;
}

const std::string& Client::client_id() const {
  return impl_->options.client_id;
}

const std::vector<net::Endpoint>& Client::servers() const {
  return impl_->options.servers;
}

std::string Client::last_server() const {
  if (impl_->options.servers.empty())
    return {};
  return impl_->options.servers[impl_->preferred.load()].to_string();
}

AcquireReply Client::acquire(const std::string& name, const AcquireOptions& options) {
  auto owner = options.owner.empty() ? impl_->options.client_id : options.owner;
  std::optional<LeaseClock::time_point> wait_until;
  if (options.wait)
    wait_until = LeaseClock::now() + *options.wait;
  auto remaining_wait_ms = [&]() -> uint64_t {
    if (!wait_until)
      return core::max_wait_ms;
    auto left = duration_cast<milliseconds>(*wait_until - LeaseClock::now()).count();
    return static_cast<uint64_t>(std::clamp<int64_t>(left, 0, core::max_wait_ms));
  };
  bool asked = false;
  Backoff backoff;
  detail::Failures failures; // since the last answer
  for (;;) {
    auto req = impl_->new_request();
    std::map<uint32_t, LeaseClock::time_point> sent_at;
    for (;;) {
      if (options.stop_requested && options.stop_requested()) {
        if (asked) // our place in the queue would otherwise be offered to nobody for 2 s
          impl_->cancel_wait(name, owner, req);
        return Impl::fail<AcquireReply>(Status::not_acquired, "interrupted");
      }
      bool try_lock = options.wait && options.wait->count() == 0;
      auto wait_ms = try_lock ? 0 : remaining_wait_ms();
      if (!try_lock && wait_ms == 0 && asked) {
        // Sent with wait 0, the attempt would be a try-lock that keeps our
        // place in the queue (the lock would later be offered to nobody for
        // 2 s): leave the queue instead.
        impl_->cancel_wait(name, owner, req);
        return Impl::fail<AcquireReply>(Status::not_acquired, "not acquired within the wait time");
      }
      auto& a = *req.mutable_acquire();
      a.set_name(name);
      a.set_owner(owner);
      a.set_ttl_ms(static_cast<uint64_t>(options.ttl.count()));
      a.set_wait_ms(wait_ms);
      Impl::SendOptions o;
      o.extra_wait = park_window(options.ttl);
      o.sent_at = &sent_at;
      // A try-lock is a one-shot call; a waiting acquire paces its own
      // passes below, until its wait ends.
      o.retry = try_lock;
      o.failures = &failures;
      o.stop = options.stop_requested;
      auto ex = impl_->send(req, o);
      asked = true;
      if (!ex.answered) {
        // A waiting acquire outlasts a failover or a lost majority: it asks
        // again (same request, next attempts) until its own wait ends.
        if (!try_lock && remaining_wait_ms() > 0) {
          backoff.wait(wait_until, options.stop_requested);
          if (remaining_wait_ms() > 0) // or a stop request, handled above
            continue;
          impl_->cancel_wait(name, owner, req, false); // in case an earlier attempt queued us
        }
        return Impl::fail<AcquireReply>(Status::unavailable, ex.error);
      }
      backoff.reset();
      failures.clear();
      auto& resp = ex.response;
      if (resp.code() == wire::QUEUED) {
        if (options.on_queued)
          options.on_queued(resp.position());
        if (wait_until && LeaseClock::now() >= *wait_until) {
          impl_->cancel_wait(name, owner, req);
          return Impl::fail<AcquireReply>(Status::not_acquired,
                                          "not acquired within the wait time");
        }
        continue; // ask again: same request, next attempt, place kept
      }
      if (resp.code() != wire::OK)
        return Impl::from_response<AcquireReply>(resp);
      AcquireReply r;
      r.status = Status::ok;
      r.lease = Lease{name, owner, resp.grant().token(), milliseconds(resp.grant().lease_ms()),
                      impl_->trusted_until(req, resp.grant(), sent_at)};
      if (r.lease.still_trusted())
        return r;
      // The lease is timed from another attempt than ours: this one was
      // stale (its owner's newer acquire, say from another thread of this
      // Client, came first) and changed nothing. The lease is not ours to
      // give back; ask again as a new request, which restarts it from us.
      if (!impl_->lease_is_ours(req, resp.grant(), sent_at))
        break;
      // The grant arrived after the lease had ended by our own clock: it is
      // worthless. Give it back, and try again while waiting time remains.
      release(name, r.lease.token);
      if (!options.wait || remaining_wait_ms() > 0)
        break;
      return Impl::fail<AcquireReply>(Status::not_acquired,
                                      "granted too late: the lease had already ended by this "
                                      "client's clock");
    }
  }
}

AcquireReply Client::try_acquire(const std::string& name, milliseconds ttl,
                                 const std::string& owner) {
  AcquireOptions o;
  o.ttl = ttl;
  o.wait = milliseconds(0);
  o.owner = owner;
  return acquire(name, o);
}

Reply Client::release(const std::string& name, uint64_t token) {
  auto req = impl_->new_request();
  req.mutable_release()->set_name(name);
  req.mutable_release()->set_token(token);
  auto ex = impl_->send(req, {});
  if (!ex.answered)
    return Impl::fail<Reply>(Status::unavailable, ex.error);
  return Impl::from_response<Reply>(ex.response);
}

AcquireReply Client::refresh(const Lease& lease, milliseconds ttl) {
  auto r = refresh(lease.name, lease.token, ttl);
  if (r.ok())
    r.lease.owner = lease.owner;
  return r;
}

AcquireReply Client::refresh(const std::string& name, uint64_t token, milliseconds ttl) {
  return refresh_until(name, token, ttl, std::nullopt);
}

AcquireReply Client::refresh(const Lease& lease, milliseconds ttl,
                             LeaseClock::time_point deadline) {
  auto r = refresh_until(lease.name, lease.token, ttl, deadline);
  if (r.ok())
    r.lease.owner = lease.owner;
  return r;
}

AcquireReply Client::refresh_until(const std::string& name, uint64_t token, milliseconds ttl,
                                   std::optional<LeaseClock::time_point> deadline) {
  auto req = impl_->new_request();
  req.mutable_refresh()->set_name(name);
  req.mutable_refresh()->set_token(token);
  req.mutable_refresh()->set_ttl_ms(static_cast<uint64_t>(ttl.count()));
  std::map<uint32_t, LeaseClock::time_point> sent_at;
  Impl::SendOptions o;
  o.sent_at = &sent_at;
  o.deadline = deadline;
  auto ex = impl_->send(req, o);
  if (!ex.answered)
    return Impl::fail<AcquireReply>(Status::unavailable, ex.error);
  if (ex.response.code() != wire::OK)
    return Impl::from_response<AcquireReply>(ex.response);
  AcquireReply r;
  r.status = Status::ok;
  auto& g = ex.response.grant();
  r.lease =
      Lease{name, {}, g.token(), milliseconds(g.lease_ms()), impl_->trusted_until(req, g, sent_at)};
  return r;
}

StatusReply Client::status(const std::string& name) {
  auto req = impl_->new_request();
  req.mutable_status()->set_name(name);
  auto ex = impl_->send(req, {});
  if (!ex.answered)
    return Impl::fail<StatusReply>(Status::unavailable, ex.error);
  auto r = Impl::from_response<StatusReply>(ex.response);
  r.lock = detail::ReplyDecoder::lock_status(ex.response.status());
  return r;
}

CheckReply Client::check(const std::string& name, uint64_t token) {
  auto req = impl_->new_request();
  req.mutable_check()->set_name(name);
  req.mutable_check()->set_token(token);
  auto ex = impl_->send(req, {});
  if (!ex.answered)
    return Impl::fail<CheckReply>(Status::unavailable, ex.error);
  auto r = Impl::from_response<CheckReply>(ex.response);
  r.current = ex.response.current();
  return r;
}

StatsReply Client::stats(std::optional<size_t> index) {
  auto req = impl_->new_request();
  req.mutable_stats();
  Impl::SendOptions o;
  o.only = index;
  auto ex = impl_->send(req, o);
  if (!ex.answered)
    return Impl::fail<StatsReply>(Status::unavailable, ex.error);
  auto r = Impl::from_response<StatsReply>(ex.response);
  r.stats = detail::ReplyDecoder::node_stats(ex.response.stats());
  r.server = impl_->options.servers[impl_->preferred.load()].to_string();
  if (index)
    r.server = impl_->options.servers[*index].to_string();
  return r;
}

} // namespace godistlock::client
