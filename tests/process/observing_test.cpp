// Observing and operating a node (issue 12): --metrics (Prometheus text read
// by a real HTTP client and parsed by prometheus_client's parser), /healthz
// and `stats` with peers and quorum, --version on every binary.
#include "harness.hpp"

#include <boost/test/unit_test.hpp>

#include <map>
#include <thread>

using namespace gdl_process;

namespace {

// Debian's python3-prometheus-client is for the system Python.
const std::string python = "/usr/bin/python3";

std::string binary(const std::string& name) {
  auto node = node_binary();
  return node.substr(0, node.rfind('/') + 1) + name;
}

// The port a node started with --metrics IP:0 logged. (No std::regex: GCC
// 12 warns about its internals at -O1 with ASan, and warnings are errors.)
uint16_t metrics_port(Node& node) {
  const std::string marker = "metrics on http://127.0.0.1:";
  auto log = node.log();
  auto at = log.find(marker);
  BOOST_REQUIRE_MESSAGE(at != std::string::npos, "no metrics line in:\n" << log);
  at += marker.size();
  auto digits = log.substr(at, log.find('/', at) - at);
  BOOST_REQUIRE_MESSAGE(!digits.empty() &&
                            digits.find_first_not_of("0123456789") == std::string::npos,
                        "no port in the metrics line:\n"
                            << log);
  return static_cast<uint16_t>(std::stoul(digits));
}

// metrics_scrape.py MODE URL: its stdout, after it exited 0.
std::string scrape(Harness& h, const std::string& mode, uint16_t port, const std::string& path) {
  auto url = "http://127.0.0.1:" + std::to_string(port) + path;
  Child c({python, GDL_SCRAPE_SCRIPT, mode, url}, h.scratch_file("scrape.out"),
          h.scratch_file("scrape.err"));
  auto e = c.wait_or_kill(20000ms);
  BOOST_REQUIRE_MESSAGE(e.exited && e.code == 0, c.describe());
  return c.out();
}

struct Scrape {
  std::map<std::string, std::string> family_types; // name -> type, as the parser saw them
  std::map<std::string, double> samples;           // "name{k=v,...}" -> value
  double sample(const std::string& key) const {
    auto it = samples.find(key);
    BOOST_REQUIRE_MESSAGE(it != samples.end(), "no sample " << key);
    return it->second;
  }
  double sample_or_zero(const std::string& key) const {
    auto it = samples.find(key);
    return it == samples.end() ? 0 : it->second;
  }
};

Scrape scrape_metrics(Harness& h, uint16_t port) {
  Scrape s;
  for (auto& line : split_lines(scrape(h, "metrics", port, "/metrics"))) {
    auto first = line.find(' '), last = line.rfind(' ');
    if (line.rfind("family ", 0) == 0)
      s.family_types[line.substr(first + 1, last - first - 1)] = line.substr(last + 1);
    else if (line.rfind("sample ", 0) == 0)
      s.samples[line.substr(first + 1, last - first - 1)] = std::stod(line.substr(last + 1));
  }
  return s;
}

int healthz(Harness& h, uint16_t port) {
  return std::stoi(trim(scrape(h, "status", port, "/healthz")));
}

Json json_object(const CliResult& r) {
  auto j = parse_json(r.out);
  BOOST_REQUIRE_MESSAGE(j && j->type == Json::Type::object,
                        "not one JSON object: " << r.describe());
  return *j;
}

} // namespace

BOOST_AUTO_TEST_SUITE(observing)

BOOST_FIXTURE_TEST_CASE(metrics_count_requests_in_prometheus_text, Harness) {
  auto& node = start_node("m1", 0, {}, {"--metrics", "127.0.0.1:0"});
  auto port = metrics_port(node);
  auto servers = node.endpoint();
  auto first = cli_at(servers, {"try", "M1", "--owner", "a"});
  BOOST_REQUIRE_MESSAGE(first.code() == 0, first.describe());
  auto token = parse_token_output(first.out).value_or(0);
  auto busy = cli_at(servers, {"try", "M1", "--owner", "b"});
  BOOST_CHECK_MESSAGE(busy.code() == 1, busy.describe());
  auto before = scrape_metrics(*this, port);
  auto released = cli_at(servers, {"release", "M1", "--token", str(token)});
  BOOST_CHECK_MESSAGE(released.code() == 0, released.describe());
  auto status = cli_at(servers, {"status", "M1"});
  BOOST_CHECK_MESSAGE(status.code() == 0, status.describe());
  auto after = scrape_metrics(*this, port);

  // Every family the issue asks for, with the type the parser read.
  const std::map<std::string, std::string> expected{
      {"godistlock_requests", "counter"},
      {"godistlock_grant_wait_seconds", "histogram"},
      {"godistlock_hold_seconds", "histogram"},
      {"godistlock_rounds", "counter"},
      {"godistlock_round_conflicts", "counter"},
      {"godistlock_wal_syncs", "counter"},
      {"godistlock_wal_sync_seconds", "histogram"},
      {"godistlock_wal_records_per_sync", "histogram"},
      {"godistlock_peers_reachable", "gauge"},
      {"godistlock_sees_majority", "gauge"},
      {"godistlock_live_lock_actors", "gauge"},
      {"godistlock_resting_locks", "gauge"},
      {"godistlock_incarnation", "gauge"},
  };
  for (auto& [name, type] : expected) {
    auto it = after.family_types.find(name);
    BOOST_CHECK_MESSAGE(it != after.family_types.end() && it->second == type,
                        name << " missing or not a " << type);
  }
  BOOST_CHECK_EQUAL(before.sample("godistlock_requests_total{kind=try,result=ok}"), 1);
  BOOST_CHECK_EQUAL(before.sample("godistlock_requests_total{kind=try,result=not_acquired}"), 1);
  BOOST_CHECK_EQUAL(before.sample_or_zero("godistlock_requests_total{kind=release,result=ok}"), 0);
  BOOST_CHECK_EQUAL(after.sample("godistlock_requests_total{kind=release,result=ok}"), 1);
  BOOST_CHECK_EQUAL(after.sample("godistlock_requests_total{kind=status,result=ok}"), 1);
  BOOST_CHECK_EQUAL(after.sample("godistlock_grant_wait_seconds_count{}"), 1);
  BOOST_CHECK_EQUAL(before.sample("godistlock_hold_seconds_count{}"), 0);
  BOOST_CHECK_EQUAL(after.sample("godistlock_hold_seconds_count{}"), 1);
  BOOST_CHECK_GT(after.sample("godistlock_rounds_total{}"),
                 before.sample("godistlock_rounds_total{}"));
  BOOST_CHECK_GT(after.sample("godistlock_wal_syncs_total{}"),
                 before.sample("godistlock_wal_syncs_total{}"));
  BOOST_CHECK_EQUAL(after.sample("godistlock_wal_sync_seconds_count{}"),
                    after.sample("godistlock_wal_syncs_total{}"));
  BOOST_CHECK_GE(after.sample("godistlock_wal_records_per_sync_sum{}"),
                 after.sample("godistlock_wal_syncs_total{}"));
  BOOST_CHECK_EQUAL(after.sample("godistlock_live_lock_actors{}"), 1);
  BOOST_CHECK_EQUAL(after.sample("godistlock_sees_majority{}"), 1); // a cluster of one
  BOOST_CHECK_GT(after.sample("godistlock_incarnation{}"), 0);
  BOOST_CHECK_EQUAL(healthz(*this, port), 200);
}

// /healthz and `stats` tell what the node itself sees: a member of three
// that lost both peers is unhealthy and names them; one peer back makes a
// majority again.
BOOST_FIXTURE_TEST_CASE(healthz_and_stats_follow_the_majority, ClusterFixture) {
  plan_cluster(3, true);
  for (size_t i = 1; i <= 3; ++i) {
    auto extra = cluster_args(i);
    extra.push_back("--bootstrap");
    if (i == 1)
      extra.insert(extra.end(), {"--metrics", "127.0.0.1:0"});
    members[i - 1].node =
        &start_node(members[i - 1].id, members[i - 1].port, members[i - 1].data_dir, extra);
  }
  auto port = metrics_port(node(1));
  BOOST_CHECK(eventually([&] { return healthz(*this, port) == 200; }, 15000ms, 100ms));

  node(2).kill9();
  node(3).kill9();
  BOOST_CHECK(eventually([&] { return healthz(*this, port) == 503; }, 15000ms, 100ms));
  auto alone = cli_at(endpoint(1), {"stats"});
  BOOST_REQUIRE_MESSAGE(alone.code() == 0, alone.describe());
  BOOST_CHECK_MESSAGE(contains(alone.out, "peer: n2@" + endpoint(2) + " unreachable") &&
                          contains(alone.out, "peer: n3@" + endpoint(3) + " unreachable") &&
                          contains(alone.out, "quorum: no (sees 1 of 3 members, majority 2)"),
                      alone.describe());
  auto cut_off = scrape_metrics(*this, port);
  BOOST_CHECK_EQUAL(cut_off.sample("godistlock_peers_reachable{}"), 0);
  BOOST_CHECK_EQUAL(cut_off.sample("godistlock_sees_majority{}"), 0);

  restart(2);
  BOOST_CHECK(eventually([&] { return healthz(*this, port) == 200; }, 15000ms, 100ms));
  auto pair = cli_at(endpoint(1), {"stats", "--json"});
  BOOST_REQUIRE_MESSAGE(pair.code() == 0, pair.describe());
  auto j = json_object(pair);
  BOOST_CHECK(json_bool(j, "quorum") == true);
  auto* peers = j.get("peers");
  BOOST_REQUIRE_MESSAGE(peers && peers->array.size() == 2, pair.describe());
  BOOST_CHECK(json_string(peers->array[0], "member") == "n2@" + endpoint(2));
  BOOST_CHECK(json_bool(peers->array[0], "reachable") == true);
  BOOST_CHECK(json_string(peers->array[1], "member") == "n3@" + endpoint(3));
  BOOST_CHECK(json_bool(peers->array[1], "reachable") == false);
  auto back = scrape_metrics(*this, port);
  BOOST_CHECK_EQUAL(back.sample("godistlock_peers_reachable{}"), 1);
  BOOST_CHECK_EQUAL(back.sample("godistlock_sees_majority{}"), 1);
}

BOOST_FIXTURE_TEST_CASE(bad_metrics_address_and_port_in_use_are_clear_errors, Harness) {
  for (auto bad : {"metrics.example:9100", "127.0.0.1", "127.0.0.1:99999", "http://1.2.3.4:9"}) {
    auto& c = start_node_expect_exit({"--id", "b1", "--listen", "127.0.0.1:0", "--data-dir",
                                      scratch_file("bad-data"), "--metrics", bad});
    BOOST_REQUIRE(c.exit());
    BOOST_CHECK_MESSAGE(c.exit()->status() == 2, c.describe());
    BOOST_CHECK_MESSAGE(contains(c.err(), std::string("bad --metrics '") + bad + "'"),
                        c.describe());
  }
  auto& first = start_node("u1", 0, {}, {"--metrics", "127.0.0.1:0"});
  auto taken = "127.0.0.1:" + std::to_string(metrics_port(first));
  auto& second = start_node_expect_exit({"--id", "u2", "--listen", "127.0.0.1:0", "--data-dir",
                                         scratch_file("u2-data"), "--metrics", taken});
  BOOST_REQUIRE(second.exit());
  BOOST_CHECK_MESSAGE(second.exit()->status() == 1, second.describe());
  BOOST_CHECK_MESSAGE(contains(second.err(), "--metrics: cannot listen on " + taken) &&
                          contains(second.err(), "in use"),
                      second.describe());
  BOOST_CHECK_MESSAGE(!contains(second.err(), "ready on"), second.describe());
}

BOOST_FIXTURE_TEST_CASE(chaos_and_bench_tell_their_version, Harness) {
  for (auto name : {"godistlock-chaos", "godistlock-bench"}) {
    Child c({binary(name), "--version"}, scratch_file("v.out"), scratch_file("v.err"));
    auto e = c.wait_or_kill(10000ms);
    BOOST_CHECK_MESSAGE(e.exited && e.code == 0, c.describe());
    BOOST_CHECK_MESSAGE(c.out().rfind(std::string(name) + " ", 0) == 0 &&
                            contains(c.out(), "(commit "),
                        c.describe());
  }
}

BOOST_AUTO_TEST_SUITE_END()
