// Members missing while a node has no data (docs/protocol.md, "Losing a data
// dir"): a wiped node rejoins a 5-node cluster with another member dead for
// good; a brand-new cluster waits for every member and says for whom; a
// node that exits after writing its new incarnation, before announcing it,
// is taken back by its peers.
#include "harness.hpp"

#include <sstream>

using namespace gdl_process;

namespace {

// `try` through `servers`: the token if granted, nullopt otherwise (the
// result in `out`).
std::optional<uint64_t> try_lock(Harness& h, const std::string& servers, const std::string& name,
                                 const std::string& owner, CliResult* out = nullptr,
                                 const std::string& ttl = "30s") {
  auto r =
      h.cli_at(servers, {"--timeout", "3s", "try", name, "--owner", owner, "--ttl", ttl}, 15000ms);
  if (out)
    *out = r;
  return r.code() == 0 ? parse_token_output(r.out) : std::nullopt;
}

uint64_t must_grant(Harness& h, const std::string& servers, const std::string& name,
                    const std::string& owner, const std::string& ttl = "30s") {
  CliResult r;
  auto token = try_lock(h, servers, name, owner, &r, ttl);
  BOOST_REQUIRE_MESSAGE(token, "try through " << servers << " was not granted: " << r.describe());
  return *token;
}

void must_release(Harness& h, const std::string& servers, const std::string& name, uint64_t token) {
  auto r = h.cli_at(servers, {"--timeout", "3s", "release", name, "--token", str(token)}, 15000ms);
  BOOST_REQUIRE_MESSAGE(r.code() == 0, r.describe());
}

// `name` is held by `owner` with `token`, read through `servers`.
void check_held(Harness& h, const std::string& servers, const std::string& name,
                const std::string& owner, uint64_t token) {
  auto r = h.cli_at(servers, {"--timeout", "3s", "status", name, "--json"}, 15000ms);
  BOOST_REQUIRE_MESSAGE(r.code() == 0, r.describe());
  auto j = parse_json(r.out);
  BOOST_REQUIRE_MESSAGE(j, r.describe());
  BOOST_CHECK_MESSAGE(json_bool(*j, "held") == true && json_uint(*j, "token") == token &&
                          json_string(*j, "owner") == owner,
                      "an acknowledged grant (" << owner << ", token " << token
                                                << ") was lost: " << r.describe());
}

CliResult cluster_view(Harness& h, const std::string& servers) {
  return h.cli_at(servers, {"--timeout", "3s", "cluster"}, 15000ms);
}

} // namespace

BOOST_AUTO_TEST_SUITE(members)

// 5 nodes: n5 dies for good, n4 loses its data dir and is restarted. It must
// catch up from the three others that answer and vote: with n1 stopped too,
// n2 + n3 + n4 are the only majority, and they keep every grant and serve
// with growing tokens.
BOOST_FIXTURE_TEST_CASE(wiped_node_rejoins_five_nodes_with_one_dead, ClusterFixture) {
  start_cluster(5, true);
  auto held = must_grant(*this, servers(), "kept", "holder", "1h");
  uint64_t last = 0;
  for (int i = 0; i < 3; ++i) {
    auto t = must_grant(*this, servers(), "seq", "before-" + std::to_string(i));
    BOOST_CHECK_GT(t, last);
    last = t;
    must_release(*this, servers(), "seq", t);
  }
  node(5).kill9(); // for good
  node(4).kill9();
  wipe(4);
  auto& back = restart(4);
  BOOST_REQUIRE_MESSAGE(eventually([&] { return contains(back.log(), "voting now"); }, 20000ms),
                        "the wiped node did not vote with one member dead: " << back.log());
  BOOST_CHECK_MESSAGE(contains(back.log(), "catching up"), back.log());

  node(1).kill9(); // from here every decision needs n4's votes
  check_held(*this, servers({4, 2, 3}), "kept", "holder", held);
  CliResult refused;
  BOOST_CHECK_MESSAGE(!try_lock(*this, servers({4, 2, 3}), "kept", "intruder", &refused),
                      "DOUBLE GRANT after the rejoin: " << refused.describe());
  for (int i = 0; i < 3; ++i) {
    auto t = must_grant(*this, servers({4, 2, 3}), "seq", "after-" + std::to_string(i));
    BOOST_CHECK_MESSAGE(t > last, "token " << t << " after " << last);
    last = t;
    must_release(*this, servers({4, 2, 3}), "seq", t);
  }
  // n4 itself proposes too.
  auto own = must_grant(*this, endpoint(4), "seq", "at-n4");
  BOOST_CHECK_GT(own, last);
}

// A brand-new cluster with n3 not started: n1 and n2 (--bootstrap) cannot
// tell it from one whose majority lost its data, so they wait for n3, and
// say so by name. Once n3 starts, the cluster serves.
BOOST_FIXTURE_TEST_CASE(new_cluster_waits_for_every_member_and_names_the_missing, ClusterFixture) {
  plan_cluster(3, true);
  for (size_t i : {1, 2}) {
    auto extra = cluster_args(i);
    extra.push_back("--bootstrap");
    members[i - 1].node =
        &start_node(members[i - 1].id, members[i - 1].port, members[i - 1].data_dir, extra);
  }
  const std::string missing = "no answer from n3@" + endpoint(3);
  for (size_t i : {1, 2})
    BOOST_CHECK_MESSAGE(eventually([&] { return contains(node(i).log(), missing); }, 10000ms),
                        "n" << i << " does not say it waits for n3: " << node(i).log());
  CliResult r;
  BOOST_CHECK_MESSAGE(!try_lock(*this, servers({1, 2}), "early", "o", &r),
                      "a new cluster granted without every member: " << r.describe());
  BOOST_CHECK_MESSAGE(r.code() == 3, r.describe());
  BOOST_CHECK_MESSAGE(contains(node(1).log(), "needs every one of the 2 peers to answer"),
                      node(1).log());
  // `cluster` says the same, not only the log.
  auto view = cluster_view(*this, servers({1, 2}));
  BOOST_CHECK_MESSAGE(view.code() == 3, view.describe());
  BOOST_CHECK_MESSAGE(contains(view.out, "not voting yet: waiting for n3") &&
                          contains(view.out, "a brand-new cluster needs every member started"),
                      view.describe());
  auto json = cli_at(servers({1, 2}), {"--timeout", "3s", "cluster", "--json"}, 15000ms);
  BOOST_CHECK_MESSAGE(contains(json.out, "\"awaiting_peers\":[\"n3@" + endpoint(3) + "\"]"),
                      json.describe());

  auto extra = cluster_args(3);
  extra.push_back("--bootstrap");
  members[2].node = &start_node(members[2].id, members[2].port, members[2].data_dir, extra);
  for (size_t i = 1; i <= 3; ++i)
    BOOST_REQUIRE_MESSAGE(
        eventually([&] { return contains(node(i).log(), "voting now"); }, 15000ms),
        "n" << i << " did not start voting: " << node(i).log());
  must_grant(*this, servers(), "early", "o");
}

// issue 10 §4: the node writes its new incarnation (JOINING) before it
// announces it. Exiting in between must not leave peers refusing it: the
// restart goes above the written one, the peers record that, and it votes.
BOOST_FIXTURE_TEST_CASE(exit_between_writing_and_announcing_an_incarnation, ClusterFixture) {
  start_cluster(3, true);
  auto held = must_grant(*this, servers(), "inc", "holder", "1h");
  node(3).kill9();
  wipe(3);
  auto args = node_args(3);
  args.push_back("--test-exit-before-announce");
  auto& crashed = start_node_process(args);
  auto exit = crashed.wait_or_kill(10000ms);
  BOOST_REQUIRE_MESSAGE(exit.exited && exit.code == 75, crashed.describe());
  auto joining = read_file(members[2].data_dir + "/JOINING");
  auto at = joining.find("incarnation ");
  BOOST_REQUIRE_MESSAGE(at != std::string::npos, "JOINING without the incarnation: " << joining);
  auto written = std::stoull(joining.substr(at + 12));
  // Nobody heard of it.
  for (size_t i : {1, 2})
    BOOST_CHECK_MESSAGE(
        !contains(read_file(members[i - 1].data_dir + "/INCARNATIONS"), str(written) + " n3"),
        "n" << i << " recorded an incarnation that was never announced");

  auto& back = restart(3);
  BOOST_REQUIRE_MESSAGE(eventually([&] { return contains(back.log(), "voting now"); }, 15000ms),
                        "the restarted node was not taken back: " << back.log());
  auto now_text = read_file(members[2].data_dir + "/INCARNATION");
  BOOST_CHECK_MESSAGE(std::stoull(now_text) > written,
                      "incarnation " << trim(now_text) << " not above " << written);
  // n2 and n3 are a majority without n1: n3's votes are accepted.
  node(1).kill9();
  check_held(*this, servers({3, 2}), "inc", "holder", held);
  auto t = must_grant(*this, endpoint(3), "after", "a");
  BOOST_CHECK_GT(t, 0u);
}

BOOST_AUTO_TEST_SUITE_END()
