// `stats` and `cluster`: what the nodes say about themselves.
#include "client/cli_common.hpp"

#include <chrono>
#include <cstdio>
#include <future>
#include <ostream>
#include <set>

namespace godistlock::client::cli {

namespace {

std::string join(const std::vector<std::string>& items, const std::string& separator,
                 std::string (*render)(std::string_view)) {
  std::string joined;
  for (auto& item : items) {
    if (!joined.empty())
      joined += separator;
    joined += render(item);
  }
  return joined;
}

std::string as_is(std::string_view text) {
  return std::string(text);
}

// "n2" of "n2@127.0.0.1:7002".
std::string id_only(std::string_view member) {
  return std::string(member.substr(0, member.find('@')));
}

struct Probe {
  StatsReply reply;
  double rtt_ms = 0;
};

// Why one server did not answer, without the "no server could answer
// (ADDR: ...)" wrapping that a call through every server needs.
std::string reason_only(const std::string& server, const std::string& message) {
  auto prefix = "no server could answer (" + server + ": ";
  if (message.rfind(prefix, 0) == 0 && message.size() > prefix.size() && message.back() == ')')
    return message.substr(prefix.size(), message.size() - prefix.size() - 1);
  return message;
}

// A node whose stats have no `majority` predates the field: it says
// nothing about what it sees, so only what the tool reaches counts.
bool knows_view(const NodeStats& s) {
  return s.majority() > 0;
}

// A node without data that still waits for answers names whom it waits
// for: in a brand-new cluster that is every member not started yet.
std::string waiting_state(const NodeStats& s) {
  std::string text = "not voting yet: waiting for " + join(s.awaiting_peers(), ", ", id_only);
  if (s.data_peers_answered() == 0)
    text += " (no member that answered holds data: a brand-new cluster needs every member "
            "started)";
  else
    text += " (" + std::to_string(s.data_peers_answered()) + " of the " +
            std::to_string(s.data_peers_needed()) + " peers with data it needs have answered)";
  return text;
}

std::string state_of(const NodeStats& s) {
  if (s.draining())
    return "draining";
  if (s.recovering() && s.awaiting_peers().size() > 0)
    return waiting_state(s);
  if (s.recovering())
    return "catching up (not voting)";
  if (knows_view(s) && !s.sees_majority())
    return "cut off from the majority";
  return "serving";
}

std::string rtt_text(double ms) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f", ms);
  return text;
}

} // namespace

int stats_command(Client& client, const CliCommand& cmd, std::ostream& out, std::ostream& err) {
  auto reply = client.stats();
  if (!reply.ok())
    return report_failure(err, "stats", reply);
  auto& s = reply.stats;
  if (cmd.json) {
    out << "{\"server\":" << json_string(reply.server)
        << ",\"node_id\":" << json_string(s.node_id()) << ",\"uptime_ms\":" << s.uptime_ms()
        << ",\"live_lock_actors\":" << s.live_lock_actors()
        << ",\"resting_locks\":" << s.resting_locks() << ",\"held_locks\":" << s.held_locks()
        << ",\"waiters\":" << s.waiters() << ",\"grants\":" << s.grants()
        << ",\"releases\":" << s.releases() << ",\"expiries\":" << s.expiries()
        << ",\"stale_attempts\":" << s.stale_attempts()
        << ",\"cluster_size\":" << s.cluster_size() << ",\"members\":["
        << join(s.members(), ",", json_string) << "],\"draining\":" << json_bool(s.draining())
        << ",\"wal_commits\":" << s.wal_commits() << ",\"wal_records\":" << s.wal_records()
        << ",\"wal_tail_bytes_dropped\":" << s.wal_tail_bytes_dropped()
        << ",\"recovering\":" << json_bool(s.recovering()) << ",\"connected_peers\":["
        << join(s.connected_peers(), ",", json_string)
        << "],\"sees_majority\":" << json_bool(s.sees_majority())
        << ",\"majority\":" << s.majority() << ",\"incarnation\":" << s.incarnation()
        << ",\"awaiting_peers\":[" << join(s.awaiting_peers(), ",", json_string) << "]}\n";
    return exit_ok;
  }
  out << "server: " << reply.server << "\n"
      << "node_id: " << s.node_id() << "\n"
      << "uptime_ms: " << s.uptime_ms() << "\n"
      << "live_lock_actors: " << s.live_lock_actors() << "\n"
      << "resting_locks: " << s.resting_locks() << "\n"
      << "held_locks: " << s.held_locks() << "\n"
      << "waiters: " << s.waiters() << "\n"
      << "grants: " << s.grants() << "\n"
      << "releases: " << s.releases() << "\n"
      << "expiries: " << s.expiries() << "\n"
      << "stale_attempts: " << s.stale_attempts() << "\n"
      << "cluster_size: " << s.cluster_size() << "\n"
      << "members: " << join(s.members(), ",", as_is) << "\n"
      << "draining: " << json_bool(s.draining()) << "\n"
      << "wal_commits: " << s.wal_commits() << "\n"
      << "wal_records: " << s.wal_records() << "\n"
      << "wal_tail_bytes_dropped: " << s.wal_tail_bytes_dropped() << "\n"
      << "recovering: " << json_bool(s.recovering()) << "\n"
      << "connected_peers: " << join(s.connected_peers(), ",", as_is) << "\n"
      << "sees_majority: " << json_bool(s.sees_majority()) << "\n"
      << "majority: " << s.majority() << "\n"
      << "incarnation: " << s.incarnation() << "\n"
      << "awaiting_peers: " << join(s.awaiting_peers(), ",", as_is) << "\n";
  return exit_ok;
}

int cluster_command(Client& client, const CliCommand& cmd, std::ostream& out, std::ostream& err) {
  auto& servers = client.servers();
  // Ask every server at once: an unreachable one may take a whole attempt
  // timeout to give up on.
  std::vector<std::future<Probe>> answers;
  for (size_t i = 0; i < servers.size(); ++i)
    answers.push_back(std::async(std::launch::async, [&client, i] {
      auto sent = std::chrono::steady_clock::now();
      Probe p{client.stats(i), 0};
      p.rtt_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - sent)
                     .count();
      return p;
    }));
  uint64_t cluster_size = 0;
  std::set<std::string> serving_nodes; // by node id: a server listed twice counts once
  std::string lines;                   // text, or the JSON objects of the members
  for (size_t i = 0; i < servers.size(); ++i) {
    auto probe = answers[i].get();
    auto& reply = probe.reply;
    auto server = servers[i].to_string();
    if (cmd.json)
      lines += std::string(i ? "," : "") + "{\"server\":" + json_string(server);
    else
      lines += server;
    if (!reply.ok()) {
      auto why = reason_only(server, reply.message);
      lines += cmd.json ? ",\"reachable\":false,\"error\":" + json_string(why) + "}"
                        : " unreachable: " + why + "\n";
      continue;
    }
    auto& s = reply.stats;
    cluster_size = std::max(cluster_size, s.cluster_size());
    std::string state = state_of(s);
    if (state == "serving")
      serving_nodes.insert(s.node_id());
    auto peers = static_cast<size_t>(s.cluster_size() > 0 ? s.cluster_size() - 1 : 0);
    if (cmd.json) {
      lines +=
          ",\"reachable\":true,\"rtt_ms\":" + rtt_text(probe.rtt_ms) +
          ",\"node_id\":" + json_string(s.node_id()) +
          ",\"incarnation\":" + std::to_string(s.incarnation()) +
          ",\"state\":" + json_string(state) + ",\"awaiting_peers\":[" +
          join(s.awaiting_peers(), ",", json_string) + "],\"connected_peers\":[" +
          join(s.connected_peers(), ",", json_string) + "],\"peers\":" + std::to_string(peers) +
          ",\"sees_majority\":" + (knows_view(s) ? json_bool(s.sees_majority()) : "null") + "}";
      continue;
    }
    lines += " reachable (" + rtt_text(probe.rtt_ms) + " ms), node " + s.node_id();
    if (s.incarnation() != 0)
      lines += ", incarnation " + std::to_string(s.incarnation());
    lines += ", " + state;
    if (knows_view(s)) {
      lines += ", peers connected " + std::to_string(s.connected_peers().size()) + " of " +
               std::to_string(peers);
      if (s.connected_peers().size() > 0)
        lines += " (" + join(s.connected_peers(), ", ", id_only) + ")";
      lines += std::string(", quorum ") + (s.sees_majority() ? "yes" : "no");
    }
    lines += "\n";
  }
  if (cluster_size == 0) // nobody answered: assume the list is the whole cluster
    cluster_size = servers.size();
  auto majority = cluster_size / 2 + 1;
  bool quorum = serving_nodes.size() >= majority;
  if (cmd.json)
    out << "{\"cluster_size\":" << cluster_size << ",\"majority\":" << majority
        << ",\"serving\":" << serving_nodes.size() << ",\"quorum\":" << json_bool(quorum)
        << ",\"members\":[" << lines << "]}\n";
  else
    out << lines << serving_nodes.size() << " of " << cluster_size << " nodes serving, majority is "
        << majority << ": " << (quorum ? "quorum" : "no quorum") << "\n";
  if (!quorum) {
    err << message_prefix << "cluster: no quorum (" << serving_nodes.size() << " serving, "
        << majority << " needed)\n";
    return exit_unavailable;
  }
  return exit_ok;
}

} // namespace godistlock::client::cli
