#include "worker_protocol.hpp"

#include "client/lease_clock.hpp"

#include <boost/test/unit_test.hpp>

#include <thread>

using namespace gdl_chaos;

BOOST_AUTO_TEST_SUITE(worker_protocol)

BOOST_AUTO_TEST_CASE(percent_encoding_round_trips_any_text) {
  std::string text = "wait 1200 ms\tx=y 100%\n\x01\x7f caf\xc3\xa9";
  auto encoded = percent_encode(text);
  BOOST_TEST(encoded.find(' ') == std::string::npos);
  BOOST_TEST(encoded.find('\n') == std::string::npos);
  BOOST_TEST(encoded.find('=') == std::string::npos);
  BOOST_TEST(percent_decode(encoded).value() == text);
  BOOST_TEST(percent_encode("w1-1#7") == "w1-1#7");
  BOOST_TEST(!percent_decode("%4"));
  BOOST_TEST(!percent_decode("%zz"));
  BOOST_TEST(!percent_decode("abc%"));
}

BOOST_AUTO_TEST_CASE(a_line_round_trips) {
  LineMessage m;
  m.kind = "event";
  m.fields["detail"] = "a b=c";
  m.fields["empty"] = "";
  auto parsed = parse_line(encode_line(m));
  BOOST_REQUIRE(parsed);
  BOOST_TEST(parsed->kind == "event");
  BOOST_TEST((parsed->fields == m.fields));
  BOOST_TEST(!parse_line(""));
  BOOST_TEST(!parse_line("event noequals"));
  BOOST_TEST(!parse_line("event =x"));
}

BOOST_AUTO_TEST_CASE(every_event_field_round_trips) {
  Event e;
  e.time_ns = 11734861022113;
  e.type = EventType::ok;
  e.process = "w1-2";
  e.op = Op::acquire;
  e.op_id = 17;
  e.lock = "hot-1";
  e.token = 9;
  e.server = "127.0.0.1:40121";
  e.trusted_until_ns = 11736795000000;
  e.fence = 12;
  e.holder_token = 9;
  e.fault = "client-pause";
  e.detail = "wait 1200 ms, \"quoted\"";
  auto line = encode_event(e);
  BOOST_TEST(line.find('\n') == std::string::npos);
  auto parsed = parse_line(line);
  BOOST_REQUIRE(parsed);
  auto back = decode_event(*parsed);
  BOOST_REQUIRE(back);
  BOOST_TEST(back->to_json() == e.to_json());
  BOOST_TEST(back->fence == 12u);
  BOOST_TEST(back->holder_token == 9u);

  // A negative deadline (a lease that ran out while the process was stopped)
  // and every event type and op survive too.
  for (auto type : {EventType::invoke, EventType::fail, EventType::unknown, EventType::fault_start,
                    EventType::fault_stop, EventType::cs_enter, EventType::cs_exit,
                    EventType::lease_lost, EventType::queued, EventType::info}) {
    Event f;
    f.time_ns = 5;
    f.type = type;
    f.process = "w1-1";
    f.op = Op::refresh;
    f.trusted_until_ns = -3;
    auto g = decode_event(*parse_line(encode_event(f)));
    BOOST_REQUIRE(g);
    BOOST_TEST(g->to_json() == f.to_json());
  }
  // A queued report keeps its place in the queue.
  Event q;
  q.time_ns = 7;
  q.type = EventType::queued;
  q.process = "w1-1";
  q.op = Op::acquire;
  q.op_id = 4;
  q.lock = "hot-0";
  q.position = 3;
  auto r = decode_event(*parse_line(encode_event(q)));
  BOOST_REQUIRE(r);
  BOOST_TEST(r->position == 3u);
  BOOST_TEST(r->to_json() == q.to_json());
  for (auto op : {Op::try_acquire, Op::release, Op::status, Op::write})
    BOOST_TEST((op_from_string(to_string(op)).value() == op));
}

BOOST_AUTO_TEST_CASE(malformed_events_are_refused) {
  BOOST_TEST(!decode_event(*parse_line("event type=ok proc=w1")));             // no time
  BOOST_TEST(!decode_event(*parse_line("event t=1 type=bogus proc=w1")));      // bad type
  BOOST_TEST(!decode_event(*parse_line("event t=1 type=ok proc=w1 op=bad")));  // bad op
  BOOST_TEST(!decode_event(*parse_line("event t=1 type=ok proc=w1 token=x"))); // bad number
  BOOST_TEST(!decode_event(*parse_line("event t=1 type=ok")));                 // no process
  BOOST_TEST(!decode_event(*parse_line("write id=1 lock=a token=2")));         // not an event
  BOOST_TEST(decode_event(*parse_line("event t=1 type=info proc=w1")).has_value());
}

BOOST_AUTO_TEST_CASE(write_requests_and_replies_round_trip) {
  WriteRequest r{7, "hot-0", 5, "w1-1#7", "stale: after a pause"};
  auto back = decode_write_request(*parse_line(encode_write_request(r)));
  BOOST_REQUIRE(back);
  BOOST_TEST(back->id == 7u);
  BOOST_TEST(back->lock == "hot-0");
  BOOST_TEST(back->token == 5u);
  BOOST_TEST(back->value == "w1-1#7");
  BOOST_TEST(back->detail == "stale: after a pause");
  BOOST_TEST(!decode_write_request(*parse_line("write id=7 token=5")));

  for (bool accepted : {true, false}) {
    auto reply = decode_write_reply(*parse_line(encode_write_reply({7, accepted})));
    BOOST_REQUIRE(reply);
    BOOST_TEST(reply->id == 7u);
    BOOST_TEST(reply->accepted == accepted);
  }
  BOOST_TEST(!decode_write_reply(*parse_line("written id=7 accepted=yes")));
  BOOST_TEST(!decode_write_reply(*parse_line("written accepted=1")));
}

BOOST_AUTO_TEST_CASE(deadlines_convert_from_a_skewed_clock_to_real_time) {
  // Rate 1: the same distance from now.
  BOOST_TEST(real_deadline(1500, 1000, 7000, 1.0) == 7500);
  // A slow clock (0.5): 500 ns of its time are 1000 ns of real time.
  BOOST_TEST(real_deadline(1500, 1000, 7000, 0.5) == 8000);
  // A fast clock (2): 500 ns of its time are 250 ns of real time.
  BOOST_TEST(real_deadline(1500, 1000, 7000, 2.0) == 7250);
  // A deadline already passed stays in the past.
  BOOST_TEST(real_deadline(900, 1000, 7000, 0.5) == 6800);
  // Within the drift the lease rules assume: 1.93 s at rate 0.999 is 1.93193... s.
  auto d = real_deadline(1'930'000'000, 0, 0, 0.999);
  BOOST_TEST(d > 1'931'931'000);
  BOOST_TEST(d < 1'931'932'000);
}

BOOST_AUTO_TEST_CASE(the_lease_clock_runs_at_its_test_rate_and_real_now_does_not) {
  using godistlock::client::LeaseClock;
  auto& rate = LeaseClock::test_rate();
  BOOST_TEST(rate.load() == 1.0);
  rate.store(0.5);
  auto real0 = LeaseClock::real_now();
  auto skewed0 = LeaseClock::now();
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  auto real1 = LeaseClock::real_now();
  auto skewed1 = LeaseClock::now();
  rate.store(1.0);
  auto real_ms = std::chrono::duration_cast<std::chrono::milliseconds>(real1 - real0).count();
  auto skewed_ms = std::chrono::duration_cast<std::chrono::milliseconds>(skewed1 - skewed0).count();
  BOOST_TEST(real_ms >= 200);
  BOOST_TEST(skewed_ms >= real_ms / 2 - 5);
  BOOST_TEST(skewed_ms <= real_ms / 2 + 5);
  // And a skewed deadline converts back to about the real one.
  auto deadline = skewed1 + std::chrono::milliseconds(100); // 200 ms real at rate 0.5
  auto converted =
      real_deadline(deadline.time_since_epoch().count(), skewed1.time_since_epoch().count(),
                    real1.time_since_epoch().count(), 0.5);
  BOOST_TEST(converted - real1.time_since_epoch().count() == 200'000'000);
}

BOOST_AUTO_TEST_SUITE_END()
