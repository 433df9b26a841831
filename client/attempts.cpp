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

namespace {

// FNV-1a of lock + key, finished with MurmurHash3's fmix64: keys that differ
// only in their last byte (ports 7001, 7002, ...) would otherwise score in
// a nearly fixed order, skewing which server is the home and the fallback.
uint64_t score(const std::string& lock, const std::string& key) {
  auto h = net::stable_hash(lock + key);
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdull;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ull;
  h ^= h >> 33;
  return h;
}

} // namespace

std::vector<size_t> rendezvous_ranking(const std::vector<std::string>& keys,
                                       const std::string& lock) {
  std::vector<std::pair<uint64_t, size_t>> scored;
  for (size_t i = 0; i < keys.size(); ++i)
    scored.emplace_back(score(lock, keys[i]), i);
  // Highest score first; equal scores by index, as rendezvous() picks.
  std::stable_sort(scored.begin(), scored.end(),
                   [](const auto& a, const auto& b) { return a.first > b.first; });
  std::vector<size_t> order;
  for (auto& s : scored)
    order.push_back(s.second);
  return order;
}

// The key with the highest hash of lock + key wins (rendezvous hashing).
size_t rendezvous(const std::vector<std::string>& keys, const std::string& lock) {
  size_t best = 0;
  uint64_t best_score = 0;
  for (size_t i = 0; i < keys.size(); ++i) {
    auto s = score(lock, keys[i]);
    if (i == 0 || s > best_score) {
      best = i;
      best_score = s;
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
