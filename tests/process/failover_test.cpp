// Failover under a queue of waiters: many `run --wait` critical sections on
// one lock while the lock's home node (every client's first choice for it)
// is killed with -9 and restarted. Nobody may fail for want of a quorum
// while a majority is up, and no two sections may overlap. How long the
// sections paused is reported, not asserted (performance belongs in
// benchmarks).
#include "harness.hpp"

#include "client/client.hpp"
#include "net/endpoint.hpp"

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <thread>

using namespace gdl_process;

namespace {

// The member (1-based) that is the home of `lock` for the list `servers`.
size_t home_member(const std::string& servers, const std::string& lock) {
  auto list = godistlock::net::parse_endpoint_list(servers);
  BOOST_REQUIRE(list);
  auto home = godistlock::client::home_server(*list, lock);
  BOOST_REQUIRE(home);
  return *home + 1;
}

// A critical section that notices an overlap: mkdir is atomic, so a second
// section inside the first finds the directory there.
const char* const section_script = "mkdir \"$1/inside\" 2>/dev/null || echo OVERLAP >> \"$1/log\"; "
                                   "echo \"start $(date +%s%N)\" >> \"$1/log\"; sleep 0.05; "
                                   "echo \"end $(date +%s%N)\" >> \"$1/log\"; rmdir \"$1/inside\"";

std::vector<int64_t> ends_in(const std::string& log) {
  std::vector<int64_t> ends;
  for (auto& line : split_lines(log))
    if (line.rfind("end ", 0) == 0)
      ends.push_back(std::stoll(line.substr(4)));
  std::sort(ends.begin(), ends.end());
  return ends;
}

// Runs `sections` waiting `run`s on one lock, kills the lock's home and
// `extra_kills` more members once a few sections are done, restarts them
// after a second, and checks that every run exits 0 without an overlap.
void sections_through_a_home_kill(ClusterFixture& f, size_t sections, size_t extra_kills) {
  const auto all = f.servers();
  const std::string lock = "stock";
  const auto home = home_member(all, lock);
  std::vector<size_t> victims{home};
  for (size_t m = 1; m <= f.members.size() && victims.size() < 1 + extra_kills; ++m)
    if (m != home)
      victims.push_back(m);
  const auto dir = f.scratch().path();
  std::vector<Child*> runs;
  for (size_t k = 0; k < sections; ++k)
    runs.push_back(&f.cli_background({"--servers", all, "--timeout", "2s", "run", lock, "--wait",
                                      "90s", "--ttl", "3s", "--owner", "buyer-" + std::to_string(k),
                                      "--", "sh", "-c", section_script, "sh", dir}));
  const auto log = dir + "/log";
  BOOST_REQUIRE_MESSAGE(eventually([&] { return ends_in(read_file(log)).size() >= 5; }, 60000ms),
                        "the sections did not get going:\n"
                            << read_file(log));
  for (auto m : victims)
    f.node(m).kill9();
  std::this_thread::sleep_for(1000ms);
  for (auto m : victims)
    f.restart(m);

  int failed = 0;
  for (auto* run : runs) {
    auto e = run->wait_for(120000ms);
    if (!e || !e->exited || e->code != 0) {
      ++failed;
      BOOST_ERROR("a run did not exit 0: " << run->describe());
    }
  }
  auto text = read_file(log);
  BOOST_CHECK_MESSAGE(!contains(text, "OVERLAP"), "two critical sections overlapped:\n" << text);
  auto ends = ends_in(text);
  BOOST_CHECK_EQUAL(ends.size(), sections);
  int64_t longest = 0;
  for (size_t k = 1; k < ends.size(); ++k)
    longest = std::max(longest, ends[k] - ends[k - 1]);
  BOOST_TEST_MESSAGE(f.members.size()
                     << " nodes, " << victims.size() << " killed (home n" << home
                     << "): " << sections - static_cast<size_t>(failed) << " of " << sections
                     << " runs exited 0; longest pause between two finished sections "
                     << static_cast<double>(longest) / 1e9 << " s; all done in "
                     << static_cast<double>(ends.empty() ? 0 : ends.back() - ends.front()) / 1e9
                     << " s");
}

} // namespace

BOOST_AUTO_TEST_SUITE(failover)

BOOST_FIXTURE_TEST_CASE(waiting_runs_outlast_a_kill_of_the_locks_home, ClusterFixture) {
  start_cluster(3);
  sections_through_a_home_kill(*this, 30, 0);
}

BOOST_FIXTURE_TEST_CASE(five_nodes_outlast_two_kills, ClusterFixture) {
  start_cluster(5);
  sections_through_a_home_kill(*this, 30, 1);
}

// Two of three down, long enough for the survivor's reconnect back-off to
// reach its 2 s cap; one comes back. The survivor dials it as soon as it
// says hello, not at the end of the back-off: the time from the restarted
// node being ready to the first grant through the survivor is reported.
BOOST_FIXTURE_TEST_CASE(a_restarted_peer_is_dialled_back_at_once, ClusterFixture) {
  start_cluster(3);
  node(2).kill9();
  node(3).kill9();
  std::this_thread::sleep_for(5000ms);
  auto no = cli_at(endpoint(1), {"--timeout", "1s", "try", "quorum-back", "--owner", "o"});
  BOOST_CHECK_MESSAGE(no.code() == 3, "granted without a majority: " << no.describe());
  restart(2);
  auto ready = std::chrono::steady_clock::now();
  std::optional<double> first_grant_s;
  while (!first_grant_s && std::chrono::steady_clock::now() - ready < 10s) {
    auto r = cli_at(endpoint(1), {"--timeout", "1s", "try", "quorum-back", "--owner", "o"});
    if (r.code() == 0)
      first_grant_s =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - ready).count();
  }
  BOOST_REQUIRE_MESSAGE(first_grant_s, "no grant through n1 within 10 s of n2's restart");
  BOOST_TEST_MESSAGE("restarted peer ready -> first grant through the survivor: "
                     << *first_grant_s << " s (the back-off cap is 2 s)");
}

BOOST_AUTO_TEST_SUITE_END()
