// Rejoining with a member down, in the deterministic simulation
// (paxos_sim.hpp): a node that lost its data catches up from the peers that
// answer while another node is down for good, so some rejoins decide on
// N - quorum + 1 voting peers instead of every peer (core/rejoin.hpp). The
// checkers: chosen values form one chain (no acknowledged grant is lost),
// tokens grow in decision order, and no grant overlaps a trusted lease.
#include "paxos_sim.hpp"

#include <boost/test/unit_test.hpp>

namespace {

// 5 or 7 nodes, the last one dead from early on; many crashes, most of them
// wipes, so wiped nodes rejoin while it is down (and while others crash).
void member_down(sim::Config& cfg) {
  cfg.nodes = cfg.seed % 3 == 0 ? 7 : 5;
  cfg.proposers = cfg.seed % 2 ? 2 : 3;
  cfg.crashes = 3 + static_cast<int>(cfg.seed % 4);
  cfg.wipe_percent = 70;
  cfg.dead_node_at = (cfg.seed % 5) * 400'000;
  // Some messages arrive very late: promises and accepts of rounds that
  // counted a wiped node's forgotten promise reach peers after its rejoin.
  cfg.straggler_percent = cfg.seed % 2 ? 5 : 0;
}

} // namespace

BOOST_AUTO_TEST_SUITE(simulation_member_down)

BOOST_AUTO_TEST_CASE(wiped_nodes_rejoin_while_a_member_is_down) {
  sim::Stats total;
  auto failures = sim::runs_failed(1500, total, member_down);
  BOOST_TEST(failures == 0);
  BOOST_TEST_MESSAGE(
      "simulated " << total.events << " events: " << total.grants << " grants, " << total.takeovers
                   << " expiry takeovers, " << total.crashes_without_data << " wipes, "
                   << total.rejoins_caught_up << " rejoins caught up, " << total.rejoins_fresh
                   << " with nothing to catch up, " << total.partial_rejoins
                   << " decided without every peer's answer, " << total.stale_refusals
                   << " accepts refused for a stale incarnation");
  // The runs must exercise what they claim to.
  BOOST_TEST(total.grants > 1000u);
  BOOST_TEST(total.takeovers > 50u);
  BOOST_TEST(total.crashes_without_data > 300u);
  BOOST_TEST(total.rejoins_caught_up > 300u);
  BOOST_TEST(total.partial_rejoins > 200u);
  BOOST_TEST(total.stale_refusals > 0u);
}

BOOST_AUTO_TEST_SUITE_END()
