// The checkers on hand-made histories: each one passes a correct history
// and reports the violation it exists for.
#include "checkers.hpp"
#include "history_builder.hpp"
#include "report.hpp"

#include <boost/test/unit_test.hpp>

using namespace gdl_chaos;
using gdl_chaos::test::HistoryBuilder;
using namespace std::chrono_literals;

namespace {

// The first violation, for failure messages (Boost evaluates them always).
std::string first_violation(const CheckResult& r) {
  return r.violations.empty() ? std::string() : r.violations.front();
}

} // namespace

BOOST_AUTO_TEST_SUITE(mutual_exclusion)

BOOST_AUTO_TEST_CASE(handover_after_release_passes) {
  HistoryBuilder h;
  h.grant("c1", 1, "L", 1, 0, 10, 1000);
  h.release("c1", 2, "L", 1, 50, 60);
  h.grant("c2", 1, "L", 2, 40, 70, 1000);
  auto r = check_mutual_exclusion(h.events);
  BOOST_TEST(r.ok(), first_violation(r));
}

BOOST_AUTO_TEST_CASE(two_holders_at_once_are_reported) {
  HistoryBuilder h;
  h.grant("c1", 1, "L", 1, 0, 10, 1000);
  h.grant("c2", 1, "L", 2, 20, 30, 1000);
  auto r = check_mutual_exclusion(h.events);
  BOOST_TEST(r.violations.size() == 1u);
}

BOOST_AUTO_TEST_CASE(a_stale_holder_ends_at_its_own_lease_clock) {
  // c1 never releases (it was paused), but its lease clock ended at 100.
  HistoryBuilder h;
  h.grant("c1", 1, "L", 1, 0, 10, 100);
  h.grant("c2", 1, "L", 2, 20, 120, 1000);
  h.add(500, EventType::lease_lost, "c1", Op::none, 0, "L", 1);
  BOOST_TEST(check_mutual_exclusion(h.events).ok());
}

BOOST_AUTO_TEST_CASE(a_refresh_extends_the_hold) {
  HistoryBuilder h;
  h.grant("c1", 1, "L", 1, 0, 10, 100);
  h.refresh("c1", 2, "L", 1, 60, 70, EventType::ok, 200);
  h.grant("c2", 1, "L", 2, 20, 150, 1000);
  BOOST_TEST(check_mutual_exclusion(h.events).violations.size() == 1u);
}

BOOST_AUTO_TEST_CASE(a_failed_refresh_ends_the_hold_at_its_invoke) {
  HistoryBuilder h;
  h.grant("c1", 1, "L", 1, 0, 10, 100);
  h.refresh("c1", 2, "L", 1, 30, 90, EventType::unknown);
  h.grant("c2", 1, "L", 2, 20, 50, 1000);
  BOOST_TEST(check_mutual_exclusion(h.events).ok());
}

BOOST_AUTO_TEST_CASE(lease_lost_ends_the_hold) {
  HistoryBuilder h;
  h.grant("c1", 1, "L", 1, 0, 10, 100);
  h.add(40, EventType::lease_lost, "c1", Op::none, 0, "L", 1);
  h.grant("c2", 1, "L", 2, 20, 50, 1000);
  BOOST_TEST(check_mutual_exclusion(h.events).ok());
}

BOOST_AUTO_TEST_CASE(a_late_refresh_opens_a_new_hold_at_its_reply) {
  HistoryBuilder h;
  h.grant("c1", 1, "L", 1, 0, 10, 100);
  h.refresh("c1", 2, "L", 1, 90, 110, EventType::ok, 200);
  h.grant("c2", 1, "L", 2, 20, 105, 1000);
  auto segments = hold_segments(h.events);
  BOOST_TEST(segments.size() == 3u);
  BOOST_TEST(check_mutual_exclusion(h.events).violations.size() == 1u);
}

BOOST_AUTO_TEST_CASE(different_locks_do_not_interfere) {
  HistoryBuilder h;
  h.grant("c1", 1, "A", 1, 0, 10, 1000);
  h.grant("c2", 1, "B", 1, 0, 10, 1000);
  BOOST_TEST(check_mutual_exclusion(h.events).ok());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(tokens)

BOOST_AUTO_TEST_CASE(increasing_tokens_pass) {
  HistoryBuilder h;
  h.grant("c1", 1, "L", 1, 0, 10, 100);
  h.grant("c2", 1, "L", 2, 20, 130, 1000);
  BOOST_TEST(check_tokens(h.events).ok());
}

BOOST_AUTO_TEST_CASE(a_repeated_token_is_reported) {
  HistoryBuilder h;
  h.grant("c1", 1, "L", 4, 0, 10, 100);
  h.grant("c2", 1, "L", 4, 200, 210, 1000);
  auto r = check_tokens(h.events);
  BOOST_TEST(!r.ok());
}

BOOST_AUTO_TEST_CASE(a_smaller_token_after_a_completed_grant_is_reported) {
  HistoryBuilder h;
  h.grant("c1", 1, "L", 5, 0, 10, 100);
  h.grant("c2", 1, "L", 3, 20, 30, 1000);
  BOOST_TEST(check_tokens(h.events).violations.size() == 1u);
}

BOOST_AUTO_TEST_CASE(concurrent_grants_may_complete_in_any_order) {
  HistoryBuilder h;
  h.grant("c1", 1, "L", 5, 0, 30, 100);
  h.grant("c2", 1, "L", 3, 10, 20, 100);
  BOOST_TEST(check_tokens(h.events).ok());
}

BOOST_AUTO_TEST_CASE(the_same_owner_may_get_its_token_again) {
  HistoryBuilder h;
  h.grant("c1", 1, "L", 7, 0, 10, 100);
  h.grant("c1", 2, "L", 7, 50, 60, 200);
  BOOST_TEST(check_tokens(h.events).ok());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(fenced_register_checker)

BOOST_AUTO_TEST_CASE(a_real_register_passes) {
  FencedRegister store;
  HistoryBuilder h;
  h.grant("c1", 1, "L", 1, 0, 10, 1000);
  h.add(20, EventType::invoke, "c1", Op::write, 2, "L", 1);
  BOOST_REQUIRE(store.write("L", 1, register_value("c1", 2)));
  h.add(21, EventType::ok, "c1", Op::write, 2, "L", 1);
  h.release("c1", 3, "L", 1, 30, 40);
  h.grant("c2", 1, "L", 2, 50, 60, 1000);
  h.add(70, EventType::invoke, "c2", Op::write, 2, "L", 2);
  BOOST_REQUIRE(store.write("L", 2, register_value("c2", 2)));
  h.add(71, EventType::ok, "c2", Op::write, 2, "L", 2);
  // A stale write after c1's lease ended: refused, and that is fine.
  h.add(80, EventType::invoke, "c1", Op::write, 4, "L", 1);
  BOOST_REQUIRE(!store.write("L", 1, register_value("c1", 4)));
  h.add(81, EventType::fail, "c1", Op::write, 4, "L", 1);
  auto r = check_fenced_register(h.events, store.log(), store.state());
  BOOST_TEST(r.ok(), first_violation(r));
}

BOOST_AUTO_TEST_CASE(accepting_a_lower_token_is_reported) {
  std::vector<RegisterWrite> log{{1, "L", 5, "a", true, 0}, {2, "L", 3, "b", true, 5}};
  RegisterState state{{"L", {"a", "b"}}};
  BOOST_TEST(check_fenced_register({}, log, state).violations.size() == 1u);
}

BOOST_AUTO_TEST_CASE(a_lost_acknowledged_write_is_reported) {
  HistoryBuilder h;
  h.add(20, EventType::invoke, "c1", Op::write, 2, "L", 1);
  h.add(21, EventType::ok, "c1", Op::write, 2, "L", 1);
  std::vector<RegisterWrite> log{{1, "L", 1, register_value("c1", 2), true, 0}};
  BOOST_TEST(!check_fenced_register(h.events, log, RegisterState{}).ok());
}

BOOST_AUTO_TEST_CASE(a_refused_write_under_a_trusted_lease_is_reported) {
  HistoryBuilder h;
  h.grant("c1", 1, "L", 1, 0, 10, 1000);
  h.add(20, EventType::invoke, "c1", Op::write, 2, "L", 1);
  h.add(21, EventType::fail, "c1", Op::write, 2, "L", 1);
  std::vector<RegisterWrite> log{{1, "L", 2, "other", true, 0},
                                 {2, "L", 1, register_value("c1", 2), false, 2}};
  RegisterState state{{"L", {"other"}}};
  BOOST_TEST(check_fenced_register(h.events, log, state).violations.size() == 1u);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(no_lost_updates)

BOOST_AUTO_TEST_CASE(a_consistent_history_passes) {
  HistoryBuilder h;
  h.grant("c1", 1, "L", 1, 0, 10, 1000);
  h.status("c2", 1, "L", 20, 30, 1, 1);
  h.release("c1", 2, "L", 1, 40, 50);
  h.status("c2", 2, "L", 60, 70, 1, 0);
  h.grant("c2", 3, "L", 80, 90, 1000, 2);
  auto r = check_no_lost_updates(h.events);
  BOOST_TEST(r.ok(), first_violation(r));
}

BOOST_AUTO_TEST_CASE(a_token_granted_again_after_its_release_is_reported) {
  HistoryBuilder h;
  h.grant("c1", 1, "L", 1, 0, 10, 1000);
  h.release("c1", 2, "L", 1, 40, 50);
  h.grant("c1", 3, "L", 1, 60, 70, 1000);
  BOOST_TEST(check_no_lost_updates(h.events).violations.size() == 1u);
}

BOOST_AUTO_TEST_CASE(a_fence_going_back_is_reported) {
  HistoryBuilder h;
  h.grant("c1", 1, "L", 4, 0, 10, 1000);
  h.status("c2", 1, "L", 20, 30, 3, 3);
  BOOST_TEST(check_no_lost_updates(h.events).violations.size() == 1u);
}

BOOST_AUTO_TEST_CASE(a_released_holder_showing_again_is_reported) {
  HistoryBuilder h;
  h.grant("c1", 1, "L", 4, 0, 10, 1000);
  h.release("c1", 2, "L", 4, 40, 50);
  h.status("c2", 1, "L", 60, 70, 4, 4);
  BOOST_TEST(check_no_lost_updates(h.events).violations.size() == 1u);
}

BOOST_AUTO_TEST_CASE(a_status_overlapping_the_grant_may_show_the_old_fence) {
  HistoryBuilder h;
  h.status("c2", 1, "L", 0, 30, 3, 3);
  h.grant("c1", 1, "L", 4, 5, 10, 1000);
  BOOST_TEST(check_no_lost_updates(h.events).ok());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(fifo)

namespace {

// c1 holds L (token 1) until 1200; c2 queues behind it (told at 520), then
// c3 (invoked at 600, told at 1100). Tokens for c2 and c3 as given; the
// history starts at `base` ms.
HistoryBuilder two_waiters(uint64_t c2_token, uint64_t c3_token, int64_t base = 0) {
  HistoryBuilder h;
  h.grant("c1", 1, "L", 1, base, base + 10, base + 2000);
  h.add(base + 20, EventType::invoke, "c2", Op::acquire, 1, "L");
  h.queued("c2", 1, "L", base + 520, 1);
  h.add(base + 600, EventType::invoke, "c3", Op::acquire, 1, "L");
  h.queued("c3", 1, "L", base + 1100, 2);
  h.release("c1", 2, "L", 1, base + 1200, base + 1205);
  h.add(base + 1210, EventType::ok, "c2", Op::acquire, 1, "L", c2_token);
  h.add(base + 1700, EventType::ok, "c3", Op::acquire, 1, "L", c3_token);
  return h;
}

} // namespace

BOOST_AUTO_TEST_CASE(waiters_served_in_order_pass) {
  auto h = two_waiters(2, 3);
  auto r = check_fifo(h.events);
  BOOST_TEST(r.ok(), first_violation(r));
  BOOST_TEST(r.checked.value_or(0) == 1u); // (c2, c3); c3 was queued after c2 was invoked
}

BOOST_AUTO_TEST_CASE(a_later_waiter_served_first_is_reported) {
  auto h = two_waiters(3, 2);
  auto r = check_fifo(h.events);
  BOOST_TEST(r.violations.size() == 1u);
  BOOST_TEST(r.checked.value_or(0) == 1u);
}

BOOST_AUTO_TEST_CASE(only_queued_reports_before_the_invoke_count) {
  // c2 was told it is queued only after c3 was invoked: no order between them.
  HistoryBuilder h;
  h.add(0, EventType::invoke, "c2", Op::acquire, 1, "L");
  h.add(10, EventType::invoke, "c3", Op::acquire, 1, "L");
  h.queued("c2", 1, "L", 500, 2);
  h.add(600, EventType::ok, "c3", Op::acquire, 1, "L", 2);
  h.add(900, EventType::ok, "c2", Op::acquire, 1, "L", 3);
  auto r = check_fifo(h.events);
  BOOST_TEST(r.ok());
  BOOST_TEST(r.checked.value_or(1) == 0u);
}

BOOST_AUTO_TEST_CASE(pairs_near_a_fault_are_left_out) {
  auto inside = two_waiters(3, 2, 3000);
  inside.fault(3800, 3900, "kill");
  auto r = check_fifo(inside.events);
  BOOST_TEST(r.ok(), first_violation(r));
  BOOST_TEST(r.checked.value_or(1) == 0u);

  // Healed 2.4 s before c2's invoke: within the grace, left out; 2.6 s
  // before: checked.
  auto grace = two_waiters(3, 2, 3000);
  grace.fault(500, 620, "partition");
  BOOST_TEST(check_fifo(grace.events).ok());
  auto after = two_waiters(3, 2, 3000);
  after.fault(300, 420, "partition");
  BOOST_TEST(check_fifo(after.events).violations.size() == 1u);

  // A client's own pause counts as a fault too.
  auto paused = two_waiters(3, 2, 3000);
  paused.add(3100, EventType::fault_start, "c9", Op::none, 0, "L").fault = "client-pause";
  paused.add(3300, EventType::fault_stop, "c9", Op::none, 0, "L").fault = "client-pause";
  BOOST_TEST(check_fifo(paused.events).ok());
}

BOOST_AUTO_TEST_CASE(a_waiter_that_queued_again_counts_from_then) {
  // c2 was told position 1, then 3: it lost its place (e.g. gave back a
  // grant that came too late) and queued again behind c3.
  HistoryBuilder h;
  h.add(0, EventType::invoke, "c2", Op::acquire, 1, "L");
  h.queued("c2", 1, "L", 500, 1);
  h.add(600, EventType::invoke, "c3", Op::acquire, 1, "L");
  h.queued("c2", 1, "L", 1000, 1);
  h.queued("c2", 1, "L", 1500, 3);
  h.add(1600, EventType::invoke, "c4", Op::acquire, 1, "L");
  h.add(1700, EventType::ok, "c3", Op::acquire, 1, "L", 2);
  h.queued("c2", 1, "L", 2000, 1);
  h.add(2100, EventType::ok, "c2", Op::acquire, 1, "L", 3);
  h.add(2500, EventType::ok, "c4", Op::acquire, 1, "L", 4);
  auto r = check_fifo(h.events);
  BOOST_TEST(r.ok(), first_violation(r));
  BOOST_TEST(r.checked.value_or(0) == 1u); // (c2, c4) only

  // The same, but c4 overtook c2 after it queued again: reported.
  for (auto& e : h.events)
    if (e.process == "c4" && e.type == EventType::ok)
      e.token = 1;
  BOOST_TEST(check_fifo(h.events).violations.size() == 1u);

  // A report without a position ("not said") also ends what counted before.
  HistoryBuilder z;
  z.add(0, EventType::invoke, "c2", Op::acquire, 1, "L");
  z.queued("c2", 1, "L", 500, 1);
  z.add(600, EventType::invoke, "c3", Op::acquire, 1, "L");
  z.queued("c2", 1, "L", 1000, 0);
  z.queued("c2", 1, "L", 1500, 1);
  z.add(1700, EventType::ok, "c3", Op::acquire, 1, "L", 2);
  z.add(2100, EventType::ok, "c2", Op::acquire, 1, "L", 3);
  BOOST_TEST(check_fifo(z.events).ok());
}

BOOST_AUTO_TEST_CASE(a_grant_the_owner_did_not_see_is_left_out) {
  // c3's wait ended "not acquired" while its claim of the lock was being
  // decided: it held token 2 unawares, and its next acquire got it back at
  // once, after c2 had queued behind it. Correct; not a FIFO violation.
  HistoryBuilder h;
  h.add(0, EventType::invoke, "c3", Op::acquire, 1, "L");
  h.add(400, EventType::fail, "c3", Op::acquire, 1, "L");
  h.add(410, EventType::invoke, "c2", Op::acquire, 1, "L");
  h.queued("c2", 1, "L", 910, 1);
  h.add(1000, EventType::invoke, "c3", Op::acquire, 2, "L");
  h.add(1010, EventType::ok, "c3", Op::acquire, 2, "L", 2);
  h.add(1500, EventType::ok, "c2", Op::acquire, 1, "L", 3);
  auto r = check_fifo(h.events, 2s);
  BOOST_TEST(r.ok(), first_violation(r));
  BOOST_TEST(r.checked.value_or(1) == 0u);
  // Two leases after the failure the grant would have lapsed: reported.
  BOOST_TEST(check_fifo(h.events, 250ms).violations.size() == 1u);
}

BOOST_AUTO_TEST_CASE(try_locks_and_failed_waits_are_not_paired) {
  HistoryBuilder h;
  h.add(0, EventType::invoke, "c2", Op::acquire, 1, "L");
  h.queued("c2", 1, "L", 500, 1);
  h.add(600, EventType::invoke, "c3", Op::try_acquire, 1, "L");
  h.add(610, EventType::ok, "c3", Op::try_acquire, 1, "L", 2);
  h.add(700, EventType::invoke, "c4", Op::acquire, 1, "L");
  h.add(800, EventType::ok, "c4", Op::acquire, 1, "L", 3);
  h.add(900, EventType::fail, "c2", Op::acquire, 1, "L");
  auto r = check_fifo(h.events);
  BOOST_TEST(r.ok());
  BOOST_TEST(r.checked.value_or(1) == 0u);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(liveness)

BOOST_AUTO_TEST_CASE(a_grant_soon_after_the_heal_passes) {
  HistoryBuilder h;
  h.fault(0, 100, "kill");
  h.grant("c1", 1, "hot-0", 1, 150, 200, 1000);
  BOOST_TEST(check_liveness(h.events, {"hot-0"}, 1s).ok());
}

BOOST_AUTO_TEST_CASE(a_grant_only_before_the_heal_is_reported) {
  HistoryBuilder h;
  h.grant("c1", 1, "hot-0", 1, 0, 10, 1000);
  h.fault(50, 100, "partition");
  BOOST_TEST(!check_liveness(h.events, {"hot-0"}, 1s).ok());
}

BOOST_AUTO_TEST_CASE(a_grant_too_late_is_reported) {
  HistoryBuilder h;
  h.fault(0, 100, "kill");
  h.grant("c1", 1, "hot-0", 1, 150, 5000, 6000);
  BOOST_TEST(!check_liveness(h.events, {"hot-0"}, 1s).ok());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(report)

BOOST_AUTO_TEST_CASE(percentiles_use_the_nearest_rank) {
  std::vector<double> v;
  for (int i = 1; i <= 100; ++i)
    v.push_back(i);
  auto p = percentiles(v);
  BOOST_TEST(p.p50_ms == 50);
  BOOST_TEST(p.p99_ms == 99);
  BOOST_TEST(p.max_ms == 100);
}

BOOST_AUTO_TEST_CASE(violations_fail_the_report) {
  HistoryBuilder h;
  h.grant("c1", 1, "L", 1, 0, 10, 1000);
  h.grant("c2", 1, "L", 2, 20, 30, 1000);
  h.fault(5, 25, "pause");
  auto r = make_report(h.events, {check_mutual_exclusion(h.events)}, RunInfo{});
  BOOST_TEST(!r.ok());
  BOOST_TEST(r.faults.at("pause") == 1u);
  BOOST_TEST(r.json().find("\"pass\":false") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(the_report_shows_how_many_cases_were_checked) {
  HistoryBuilder h;
  h.add(0, EventType::invoke, "c2", Op::acquire, 1, "L");
  h.queued("c2", 1, "L", 500, 1);
  h.add(600, EventType::invoke, "c3", Op::acquire, 1, "L");
  h.add(700, EventType::ok, "c2", Op::acquire, 1, "L", 1);
  h.add(800, EventType::ok, "c3", Op::acquire, 1, "L", 2);
  auto r = make_report(h.events, {check_fifo(h.events)}, RunInfo{});
  BOOST_TEST(r.ok());
  BOOST_TEST(r.text().find("fifo               0 violations in 1 checked") != std::string::npos,
             r.text());
  BOOST_TEST(r.json().find("\"fifo\":{\"kind\":\"fairness\",\"violations\":0,\"checked\":1,") !=
             std::string::npos);
  BOOST_TEST(h.events[1].to_json().find("\"type\":\"queued\"") != std::string::npos);
  BOOST_TEST(h.events[1].to_json().find("\"position\":1") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(waiters_served)

namespace {

std::function<std::chrono::nanoseconds(const std::string&)> bound_of(std::chrono::nanoseconds b) {
  return [b](const std::string&) { return b; };
}

} // namespace

BOOST_AUTO_TEST_CASE(a_handover_to_the_waiter_passes) {
  HistoryBuilder h;
  h.grant("c1", 1, "L", 1, 0, 10, 5000);
  h.add(20, EventType::invoke, "c2", Op::acquire, 1, "L");
  h.release("c1", 2, "L", 1, 1000, 1010);
  h.add(1015, EventType::ok, "c2", Op::acquire, 1, "L", 2).trusted_until_ns = h.ns(6000);
  h.release("c2", 2, "L", 2, 2000, 2010);
  auto r = check_waiters_served(h.events, bound_of(std::chrono::milliseconds(500)), 0s);
  BOOST_TEST(r.ok(), first_violation(r));
  BOOST_TEST(r.kind == "liveness");
  BOOST_TEST(*r.checked == 2u); // c1's own acquire, and the handover to c2
}

// The ghost waiter: c1 released, c2 (gone) was offered the lock, c3 waited
// with nobody holding the lock for 4 s.
BOOST_AUTO_TEST_CASE(waiters_left_without_a_holder_are_reported) {
  HistoryBuilder h;
  h.grant("c1", 1, "L", 1, 0, 10, 5000);
  h.add(20, EventType::invoke, "c3", Op::acquire, 1, "L");
  h.release("c1", 2, "L", 1, 1000, 1010);
  h.add(5000, EventType::fail, "c3", Op::acquire, 1, "L");
  auto r = check_waiters_served(h.events, bound_of(std::chrono::milliseconds(3000)), 0s);
  BOOST_TEST(r.violations.size() == 1u);
  // A client asking again at once keeps the span going.
  h.add(5100, EventType::invoke, "c3", Op::acquire, 2, "L");
  h.add(9000, EventType::fail, "c3", Op::acquire, 2, "L");
  r = check_waiters_served(h.events, bound_of(std::chrono::milliseconds(6000)), 0s);
  BOOST_TEST(r.violations.size() == 1u, first_violation(r));
}

BOOST_AUTO_TEST_CASE(spans_near_a_fault_are_left_out) {
  HistoryBuilder h;
  h.add(0, EventType::invoke, "c3", Op::acquire, 1, "L");
  h.add(5000, EventType::unknown, "c3", Op::acquire, 1, "L");
  h.fault(100, 200, "partition");
  auto r = check_waiters_served(h.events, bound_of(std::chrono::milliseconds(1000)), 1s);
  BOOST_TEST(r.ok(), first_violation(r));
  BOOST_TEST(*r.checked == 0u);
  // Try-locks are not waiters.
  HistoryBuilder t;
  t.add(0, EventType::invoke, "c3", Op::try_acquire, 1, "L");
  t.add(5000, EventType::fail, "c3", Op::try_acquire, 1, "L");
  BOOST_TEST(check_waiters_served(t.events, bound_of(std::chrono::milliseconds(1000)), 0s).ok());
}

BOOST_AUTO_TEST_SUITE_END()
