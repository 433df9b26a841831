#include "client/attempts.hpp"

#include "client/client.hpp"
#include "net/membership.hpp"

#include <caf/atom.hpp>
#include <caf/sec.hpp>

#include <algorithm>

namespace godistlock::client {

namespace detail {

std::string home_key(const net::Endpoint& server) {
  return "\n" + server.to_string();
}

// The key with the highest hash of lock + key wins (rendezvous hashing).
size_t rendezvous(const std::vector<std::string>& keys, const std::string& lock) {
  size_t best = 0;
  uint64_t best_score = 0;
  for (size_t i = 0; i < keys.size(); ++i) {
    auto score = net::stable_hash(lock + keys[i]);
    if (i == 0 || score > best_score) {
      best = i;
      best_score = score;
    }
  }
  return best;
}

std::string plain_words(const caf::error& e, std::chrono::milliseconds timeout) {
  if (e.category() == caf::atom("system")) {
    switch (static_cast<caf::sec>(e.code())) {
    case caf::sec::request_timeout:
      return "no answer within " + std::to_string(timeout.count()) + " ms";
    case caf::sec::cannot_connect_to_node:
      return "cannot connect (nothing listening, or unreachable)";
    case caf::sec::no_actor_published_at_port:
      return "not a GoDistLock node";
    case caf::sec::unexpected_actor_messaging_interface:
      return "a GoDistLock node of an incompatible version";
    case caf::sec::remote_linking_failed:
    case caf::sec::connection_timeout:
    case caf::sec::request_receiver_down:
      return "the connection was lost";
    default:
      break;
    }
  }
  if (e.category() == caf::atom("exit"))
    return "the connection was lost";
  return "connection failed";
}

void Failures::note(const std::string& server, const std::string& reason, bool cut_short) {
  auto it = std::find_if(servers_.begin(), servers_.end(),
                         [&](const Server& s) { return s.address == server; });
  if (it == servers_.end()) {
    servers_.push_back(Server{server, reason, 1});
    return;
  }
  ++it->attempts;
  if (!cut_short || it->reason.empty())
    it->reason = reason;
}

std::string Failures::text() const {
  std::string text = "no server could answer (";
  for (size_t k = 0; k < servers_.size(); ++k) {
    auto& s = servers_[k];
    text += (k ? "; " : "") + s.address;
    if (s.attempts > 1)
      text += " (" + std::to_string(s.attempts) + " attempts)";
    text += ": " + s.reason;
  }
  return text + ")";
}

} // namespace detail

std::optional<size_t> home_server(const std::vector<net::Endpoint>& servers,
                                  const std::string& lock) {
  if (lock.empty() || servers.size() < 2)
    return std::nullopt;
  std::vector<std::string> keys;
  for (auto& s : servers)
    keys.push_back(detail::home_key(s));
  return detail::rendezvous(keys, lock);
}

} // namespace godistlock::client
