#include "actors/node_options.hpp"

#include "core/limits.hpp"

#include <cstdlib>

namespace godistlock::actors {

const char* const node_usage =
    "usage: godistlock-node --id ID --listen HOST:PORT --data-dir DIR [OPTIONS]\n"
    "       godistlock-node --version | --help\n"
    "\n"
    "  --id ID             this node's name, unique in the cluster (1-128 printable bytes)\n"
    "  --listen HOST:PORT  where clients and peers reach this node ([::1]:7001 for IPv6)\n"
    "  --data-dir DIR      its write-ahead log and identity; created if missing\n"
    "  --peers [ID@]HOST:PORT,...\n"
    "                      the other members of the cluster (every node gets the same\n"
    "                      list); none: a cluster of one\n"
    "  --bootstrap         a brand-new cluster: start with no data when no member holds any\n"
    "  --accept-data-loss  after a majority lost its data: vote anyway (docs/operations.md)\n"
    "  --durability fsync|none\n"
    "                      fsync (default): acknowledge only what is on disk; none: for\n"
    "                      experiments only, a crash can lose acknowledged grants\n"
    "  --metrics IP:PORT   serve GET /metrics (Prometheus text) and GET /healthz (200 while\n"
    "                      this node sees a majority, else 503) over plain HTTP\n"
    "  --log-level error|warn|info|debug   (default info)\n"
    "  --log-format text|json\n"
    "                      text (default): RFC 3339 UTC time, level, message; json: one\n"
    "                      object per line with time, level and msg, for log shippers\n"
    "  --idle-retire DUR   an idle lock's actor rests its state in memory after this\n"
    "                      (default 3s)\n"
    "  --threads N         actor worker threads (default: the cores, 2 to 4)\n"
    "  --scheduler sharing|stealing\n"
    "                      CAF scheduler policy (default sharing; stealing polls while idle)\n"
    "  --version           print the version and the git commit, and exit\n"
    "  --help, -h          print this help, and exit\n"
    "Logs go to stderr. SIGINT or SIGTERM drains (waiters are told to go elsewhere,\n"
    "acknowledged changes are synced) and exits 0. Exit status: 0 stopped; 1 a data\n"
    "dir or port problem, or stopped on its own (the log says why); 2 bad usage.\n"
    "Fault-injection flags for tests only are in docs/testing.md; they break the\n"
    "node on purpose.\n";

std::string parse_node_command_line(const std::vector<std::string>& args, NodeCommandLine& out) {
  bool have_listen = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const auto& flag = args[i];
    if (flag == "--help" || flag == "-h") {
      out.help = true;
      return {};
    }
    if (flag == "--version") {
      out.version = true;
      return {};
    }
    if (flag == "--bootstrap") {
      out.node.bootstrap = true;
      continue;
    }
    if (flag == "--accept-data-loss") {
      out.node.accept_data_loss = true;
      continue;
    }
    if (flag == "--test-exit-before-announce") {
      out.node.test_exit_before_announce = true;
      continue;
    }
    if (i + 1 >= args.size())
      return flag.rfind("--", 0) == 0 ? "missing value for " + flag : "unexpected argument " + flag;
    const auto& value = args[++i];
    if (flag == "--id") {
      if (auto e = core::check_owner(value); !e.empty())
        return "bad --id: node id must be 1-128 bytes of printable UTF-8";
      out.node.id = value;
    } else if (flag == "--listen") {
      auto ep = net::parse_endpoint(value, true);
      if (!ep)
        return "bad --listen '" + value + "': expected HOST:PORT";
      out.node.listen = *ep;
      have_listen = true;
    } else if (flag == "--metrics") {
      auto ep = net::parse_endpoint(value, true);
      if (!ep || !net::is_ip_or_localhost(ep->host))
        return "bad --metrics '" + value + "': expected IP:PORT, such as 127.0.0.1:9100";
      out.metrics = *ep;
    } else if (flag == "--peers") {
      auto peers = net::parse_peer_list(value);
      if (!peers)
        return "bad --peers '" + value + "': expected [ID@]HOST:PORT[,[ID@]HOST:PORT...]";
      out.node.peers = *peers;
    } else if (flag == "--data-dir") {
      if (value.empty())
        return "bad --data-dir: empty path";
      out.node.data_dir = value;
    } else if (flag == "--threads" || flag == "--scheduler") {
      auto policy = out.scheduler.policy;
      size_t threads = out.scheduler.threads;
      if (flag == "--scheduler") {
        policy = value;
      } else {
        char* end = nullptr;
        auto n = std::strtoull(value.c_str(), &end, 10);
        if (value.empty() || *end != '\0' || value[0] == '-' || n > 64)
          return "bad --threads '" + value + "': expected 1 to 64";
        threads = static_cast<size_t>(n);
      }
      std::string error;
      auto parsed = net::parse_scheduler(policy, threads, error);
      if (!parsed)
        return "bad " + flag + " '" + value + "': " + error;
      out.scheduler = *parsed;
    } else if (flag == "--durability") {
      if (value == "fsync")
        out.node.fsync = true;
      else if (value == "none")
        out.node.fsync = false;
      else
        return "bad --durability '" + value + "': expected fsync or none";
    } else if (flag == "--log-level") {
      if (!core::parse_log_level(value, out.log_level))
        return "bad --log-level '" + value + "': expected error, warn, info or debug";
    } else if (flag == "--log-format") {
      if (!core::parse_log_format(value, out.log_format))
        return "bad --log-format '" + value + "': expected text or json";
    } else if (flag == "--test-mutation") {
      auto m = core::parse_mutation(value);
      if (!m)
        return "bad --test-mutation '" + value +
               "': expected skip-promise-fsync, wiped-votes-at-once, proposer-clock-expiry, "
               "lifo-queue or stale-lease-restart";
      out.node.mutation = *m;
    } else if (flag == "--test-clock-rate") {
      char* end = nullptr;
      double rate = std::strtod(value.c_str(), &end);
      if (value.empty() || *end != '\0' || !(rate >= 0.5 && rate <= 2.0))
        return "bad --test-clock-rate '" + value + "': expected a number from 0.5 to 2";
      out.test_clock_rate = rate;
    } else if (flag == "--test-hold-accepts") {
      auto ms = core::parse_duration_ms(value);
      if (!ms || *ms > 10000)
        return "bad --test-hold-accepts '" + value + "': expected a duration up to 10s";
      out.node.test_hold_accepts = std::chrono::milliseconds(*ms);
    } else if (flag == "--idle-retire") {
      auto ms = core::parse_duration_ms(value);
      if (!ms || *ms == 0 || *ms > core::max_ttl_ms)
        return "bad --idle-retire '" + value + "': expected a duration such as 3s";
      out.node.idle_retire = std::chrono::milliseconds(*ms);
    } else {
      return "unknown option " + flag;
    }
  }
  if (out.node.id.empty())
    return "missing --id";
  if (!have_listen)
    return "missing --listen";
  if (out.node.data_dir.empty())
    return "missing --data-dir";
  std::string error;
  if (!net::make_membership(out.node.id, out.node.listen, out.node.peers, error))
    return error;
  return {};
}

} // namespace godistlock::actors
