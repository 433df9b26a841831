// The node's command line (actors/node_options.hpp): every flag's good and
// bad values. A bad value is one clear line and no node.
#include "actors/node_options.hpp"
#include "core/log.hpp"

#include <boost/test/unit_test.hpp>

#include <string>
#include <vector>

using godistlock::actors::NodeCommandLine;
using godistlock::actors::parse_node_command_line;

namespace {

std::vector<std::string> minimal() {
  return {"--id", "n1", "--listen", "127.0.0.1:7001", "--data-dir", "/tmp/x"};
}

std::vector<std::string> with(std::vector<std::string> extra) {
  auto args = minimal();
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

std::string error_of(const std::vector<std::string>& args) {
  NodeCommandLine cli;
  return parse_node_command_line(args, cli);
}

} // namespace

BOOST_AUTO_TEST_SUITE(node_options)

BOOST_AUTO_TEST_CASE(minimal_command_line_has_safe_defaults) {
  NodeCommandLine cli;
  BOOST_TEST(parse_node_command_line(minimal(), cli) == "");
  BOOST_TEST(cli.node.id == "n1");
  BOOST_TEST(cli.node.fsync);
  BOOST_TEST(!cli.node.bootstrap);
  BOOST_TEST(!cli.node.accept_data_loss);
  BOOST_TEST(cli.test_clock_rate == 1.0);
  BOOST_TEST(cli.node.test_hold_accepts.count() == 0);
  BOOST_TEST(!cli.node.test_exit_before_announce);
  BOOST_TEST(cli.node.peers.empty());
}

BOOST_AUTO_TEST_CASE(every_flag_parses) {
  NodeCommandLine cli;
  auto args = with({"--peers", "n2@127.0.0.1:7002,n3@127.0.0.1:7003", "--bootstrap", "--durability",
                    "none", "--log-level", "debug", "--idle-retire", "5s", "--test-clock-rate",
                    "1.001", "--test-hold-accepts", "1500ms", "--test-exit-before-announce"});
  BOOST_TEST(parse_node_command_line(args, cli) == "");
  BOOST_TEST(cli.node.peers.size() == 2u);
  BOOST_TEST(cli.node.bootstrap);
  BOOST_TEST(!cli.node.fsync);
  BOOST_TEST(cli.node.idle_retire.count() == 5000);
  BOOST_TEST(cli.test_clock_rate == 1.001);
  BOOST_TEST(cli.node.test_hold_accepts.count() == 1500);
  BOOST_TEST(cli.node.test_exit_before_announce);
}

BOOST_AUTO_TEST_CASE(bad_values_are_one_clear_error) {
  struct Case {
    std::vector<std::string> args;
    std::string says; // a part of the error
  };
  const std::vector<Case> cases = {
      {{"--listen", "127.0.0.1:7001", "--data-dir", "/tmp/x"}, "missing --id"},
      {{"--id", "n1", "--data-dir", "/tmp/x"}, "missing --listen"},
      {{"--id", "n1", "--listen", "127.0.0.1:7001"}, "missing --data-dir"},
      {with({"--listen", "nohost"}), "bad --listen"},
      {with({"--peers", "n2@"}), "bad --peers"},
      {with({"--durability", "sometimes"}), "bad --durability"},
      {with({"--log-level", "loud"}), "bad --log-level"},
      {with({"--idle-retire", "0s"}), "bad --idle-retire"},
      {with({"--idle-retire", "soon"}), "bad --idle-retire"},
      {with({"--test-mutation", "everything"}), "bad --test-mutation"},
      {with({"--test-clock-rate", "3"}), "bad --test-clock-rate"},
      {with({"--test-clock-rate", "1.0x"}), "bad --test-clock-rate"},
      {with({"--test-hold-accepts", "11s"}), "bad --test-hold-accepts"},
      {with({"--test-hold-accepts", "-5ms"}), "bad --test-hold-accepts"},
      {with({"--frobnicate", "1"}), "unknown option --frobnicate"},
      {with({"--data-dir"}), "missing value for --data-dir"},
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    BOOST_TEST_CONTEXT("case #" << i << " (" << cases[i].says << ")") {
      auto error = error_of(cases[i].args);
      BOOST_TEST(error.find(cases[i].says) != std::string::npos, "got: " << error);
      BOOST_TEST(error.find('\n') == std::string::npos);
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(node_scheduler_options)

BOOST_AUTO_TEST_CASE(sharing_with_two_to_four_threads_by_default) {
  NodeCommandLine cli;
  BOOST_TEST(parse_node_command_line(minimal(), cli) == "");
  BOOST_TEST(cli.scheduler.policy == "sharing");
  BOOST_TEST(cli.scheduler.threads >= 2u);
  BOOST_TEST(cli.scheduler.threads <= 4u);
}

BOOST_AUTO_TEST_CASE(threads_and_policy_can_be_set) {
  NodeCommandLine cli;
  BOOST_TEST(parse_node_command_line(with({"--threads", "7", "--scheduler", "stealing"}), cli) ==
             "");
  BOOST_TEST(cli.scheduler.threads == 7u);
  BOOST_TEST(cli.scheduler.policy == "stealing");
}

BOOST_AUTO_TEST_CASE(bad_threads_and_policies_are_refused) {
  for (auto bad : {"0", "65", "-1", "two", "", "3x"})
    BOOST_TEST(error_of(with({"--threads", bad})).rfind("bad --threads", 0) == 0, bad);
  for (auto bad : {"testing", "Sharing", ""})
    BOOST_TEST(error_of(with({"--scheduler", bad})).rfind("bad --scheduler", 0) == 0, bad);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_CASE(version_flag_needs_nothing_else) {
  NodeCommandLine cli;
  BOOST_TEST(parse_node_command_line({"--version"}, cli) == "");
  BOOST_TEST(cli.version);
}

BOOST_AUTO_TEST_CASE(metrics_takes_an_ip_and_a_port) {
  NodeCommandLine cli;
  BOOST_TEST(parse_node_command_line(with({"--metrics", "127.0.0.1:9100"}), cli) == "");
  BOOST_REQUIRE(cli.metrics);
  BOOST_TEST(cli.metrics->to_string() == "127.0.0.1:9100");
  for (auto good : {"[::1]:9100", "localhost:9100", "0.0.0.0:0"})
    BOOST_TEST(error_of(with({"--metrics", good})) == "", good);
  for (auto bad : {"host.example:9100", "9100", "127.0.0.1:", "http://127.0.0.1:9100", ""})
    BOOST_TEST(error_of(with({"--metrics", bad})).rfind("bad --metrics", 0) == 0, bad);
}

// --help describes every flag the parser takes, except the fault-injection
// ones, which docs/testing.md describes.
BOOST_AUTO_TEST_CASE(help_describes_every_flag_but_the_test_ones) {
  const std::string usage = godistlock::actors::node_usage;
  const std::vector<std::pair<std::string, std::string>> flags{{"--id", "n9"},
                                                               {"--listen", "127.0.0.1:7009"},
                                                               {"--data-dir", "/tmp/y"},
                                                               {"--peers", "127.0.0.1:7002"},
                                                               {"--bootstrap", ""},
                                                               {"--accept-data-loss", ""},
                                                               {"--durability", "none"},
                                                               {"--metrics", "127.0.0.1:9100"},
                                                               {"--log-level", "debug"},
                                                               {"--log-format", "json"},
                                                               {"--idle-retire", "5s"},
                                                               {"--threads", "2"},
                                                               {"--scheduler", "stealing"},
                                                               {"--version", ""},
                                                               {"--help", ""}};
  for (auto& [flag, value] : flags) {
    auto args = value.empty() ? with({flag}) : with({flag, value});
    BOOST_TEST(error_of(args) == "", flag);
    // A line of its own: "  --flag VALUE  what it does" or "  --help, -h ...".
    auto at = usage.find("\n  " + flag);
    auto next = at == std::string::npos ? '?' : usage[at + 3 + flag.size()];
    BOOST_TEST((next == ' ' || next == ','), flag);
  }
  for (auto test_flag : {"--test-mutation", "--test-clock-rate", "--test-hold-accepts",
                         "--test-exit-before-announce"}) {
    BOOST_TEST(error_of(with({test_flag})).rfind("unknown option", 0) != 0, test_flag);
    BOOST_TEST(usage.find(test_flag) == std::string::npos, test_flag);
  }
}

BOOST_AUTO_TEST_SUITE(log_lines)

// 2026-12-06T07:35:12.345Z, as milliseconds since the Unix epoch.
constexpr int64_t at = 1796542512345;

BOOST_AUTO_TEST_CASE(text_lines_start_with_rfc3339_utc) {
  using namespace godistlock::core;
  BOOST_TEST(format_log_line(LogFormat::text, LogLevel::info, "ready", at) ==
             "2026-12-06T07:35:12.345Z INFO  ready");
  BOOST_TEST(format_log_line(LogFormat::text, LogLevel::warning, "x", 0) ==
             "1970-01-01T00:00:00.000Z WARN  x");
}

BOOST_AUTO_TEST_CASE(json_lines_are_one_object_each) {
  using namespace godistlock::core;
  BOOST_TEST(format_log_line(LogFormat::json, LogLevel::error, "disk \"d\"\n\\", at) ==
             "{\"time\":\"2026-12-06T07:35:12.345Z\",\"level\":\"error\",\"msg\":\"disk "
             "\\\"d\\\"\\u000a\\\\\"}");
  LogFormat f = LogFormat::text;
  BOOST_TEST(parse_log_format("json", f));
  BOOST_TEST((f == LogFormat::json));
  BOOST_TEST(!parse_log_format("xml", f));
}

BOOST_AUTO_TEST_SUITE_END()
