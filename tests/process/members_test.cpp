// Members missing while a node has no data (docs/protocol.md, "Losing a data
// dir"): a wiped node rejoins a 5-node cluster with another member dead for
// good.
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

BOOST_AUTO_TEST_SUITE_END()
