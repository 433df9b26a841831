// Parsing and validation of the `godistlock` command line (client/cli.hpp).
#include "client/cli.hpp"

#include "core/limits.hpp"

#include <algorithm>
#include <charconv>
#include <string_view>

namespace godistlock::client {

namespace {

using namespace std::chrono;

constexpr const char* default_servers = "127.0.0.1:7001,127.0.0.1:7002,127.0.0.1:7003";
constexpr const char* duration_hint = "expected a duration like 250ms, 30s, 5m, 1h, 2d";
// The tool waits longer than one request may ask a server to (core::max_wait_ms):
// it asks again, as it does when waiting forever.
constexpr uint64_t max_cli_wait_ms = 30 * 86'400'000ull;

// ------------------------------------------------------------ command line

struct CommandSpec {
  std::string_view name;
  bool takes_name;
  std::vector<std::string_view> options; // besides the global --servers and --timeout
  bool needs_token;
};

const std::vector<CommandSpec>& command_specs() {
  static const std::vector<CommandSpec> specs = {
      {"acquire",
       true,
       {"--ttl", "--wait", "--owner", "--conflict-exit-code", "--json", "--quiet"},
       false},
      {"try", true, {"--ttl", "--owner", "--conflict-exit-code", "--json"}, false},
      {"release", true, {"--token", "--json"}, true},
      {"refresh", true, {"--token", "--ttl", "--json"}, true},
      {"check", true, {"--token", "--json"}, true},
      {"status", true, {"--json"}, false},
      {"stats", false, {"--json"}, false},
      {"cluster", false, {"--json"}, false},
      {"run",
       true,
       {"--ttl", "--wait", "--owner", "--conflict-exit-code", "--json", "--quiet"},
       false},
  };
  return specs;
}

const CommandSpec* find_command(std::string_view name) {
  for (auto& spec : command_specs())
    if (spec.name == name)
      return &spec;
  return nullptr;
}

bool is_global_option(std::string_view option) {
  return option == "--servers" || option == "--timeout";
}

bool is_command_option(std::string_view option) {
  for (auto& spec : command_specs())
    if (std::find(spec.options.begin(), spec.options.end(), option) != spec.options.end())
      return true;
  return false;
}

bool takes_option(const CommandSpec* spec, std::string_view option) {
  if (is_global_option(option))
    return true;
  return spec &&
         std::find(spec->options.begin(), spec->options.end(), option) != spec->options.end();
}

std::string bad_value(std::string_view option, std::string_view value, std::string_view why) {
  return "bad " + std::string(option) + " '" + std::string(value) + "': " + std::string(why);
}

// core::parse_duration_ms, plus whole days ("2d"), which only the tool takes.
std::optional<uint64_t> parse_cli_duration_ms(const std::string& text) {
  if (text.size() < 2 || text.back() != 'd')
    return core::parse_duration_ms(text);
  auto digits = std::string_view(text).substr(0, text.size() - 1);
  uint64_t days = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), days);
  if (ec != std::errc{} || end != digits.data() + digits.size() || digits.size() > 6 ||
      digits[0] == '+' || digits[0] == '-')
    return std::nullopt;
  return days * 86'400'000ull;
}

// Parses a duration option and checks it with `check` (a core::check_* rule).
std::string parse_duration(std::string_view option, const std::string& value,
                           std::string (*check)(uint64_t), milliseconds& out) {
  auto ms = parse_cli_duration_ms(value);
  if (!ms)
    return bad_value(option, value, duration_hint);
  if (auto error = check(*ms); !error.empty())
    return bad_value(option, value, error);
  out = milliseconds(*ms);
  return {};
}

std::string check_attempt_timeout(uint64_t ms) {
  if (ms == 0 || ms > core::max_wait_ms)
    return "timeout must be between 1ms and 1h, got " + core::format_duration_ms(ms);
  return {};
}

std::string check_cli_wait(uint64_t ms) {
  if (ms > max_cli_wait_ms)
    return "wait must be between 0 and 30d, or inf, got " +
           (ms % 86'400'000 == 0 ? std::to_string(ms / 86'400'000) + "d"
                                 : core::format_duration_ms(ms));
  return {};
}

std::string apply_value_option(std::string_view option, const std::string& value,
                               std::optional<std::string>& servers_text, CliCommand& out) {
  if (option == "--servers") {
    servers_text = value;
    return {};
  }
  if (option == "--timeout")
    return parse_duration(option, value, check_attempt_timeout, out.attempt_timeout);
  if (option == "--ttl")
    return parse_duration(option, value, core::check_ttl_ms, out.ttl);
  if (option == "--wait") {
    if (value == "inf") {
      out.wait.reset();
      return {};
    }
    milliseconds wait{0};
    auto error = parse_duration(option, value, check_cli_wait, wait);
    out.wait = wait;
    return error;
  }
  if (option == "--conflict-exit-code") {
    int code = -1;
    auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), code);
    if (value.empty() || value.size() > 3 || ec != std::errc{} ||
        end != value.data() + value.size() || code < 0 || code > 255)
      return bad_value(option, value, "expected an exit status from 0 to 255");
    out.conflict_exit_code = code;
    return {};
  }
  if (option == "--owner") {
    if (auto error = core::check_owner(value); !error.empty())
      return "bad --owner: " + error;
    out.owner = value;
    return {};
  }
  if (option == "--token") {
    auto token = core::parse_token(value);
    if (!token || *token == 0)
      return bad_value(option, value, "expected a token from acquire (a positive decimal integer)");
    out.token = *token;
    return {};
  }
  return "unknown option " + std::string(option);
}

std::string parse_servers(const std::optional<std::string>& servers_text, const char* servers_env,
                          CliCommand& out) {
  std::string source = "--servers";
  std::string text = default_servers;
  if (servers_text) {
    text = *servers_text;
  } else if (servers_env) {
    // Set but empty is a mistake (an unset variable in a script, say), not
    // a request for the default list.
    source = "GODISTLOCK_SERVERS";
    text = servers_env;
  }
  std::string bad_entry;
  auto servers = net::parse_endpoint_list(text, &bad_entry);
  if (text.empty())
    return bad_value(source, text, "empty: expected HOST:PORT[,HOST:PORT...]");
  if (!servers)
    return "bad " + source + " entry '" + bad_entry +
           "': expected HOST:PORT (a host name or address, no ID@ or scheme; IPv6 in "
           "brackets: [::1]:7001)";
  if (servers->empty())
    return bad_value(source, text, "expected HOST:PORT[,HOST:PORT...]");
  out.servers = std::move(*servers);
  return {};
}

} // namespace

std::string parse_cli_command_line(const std::vector<std::string>& args, const char* servers_env,
                                   CliCommand& out) {
  out = CliCommand{};
  const CommandSpec* spec = nullptr;
  std::optional<std::string> servers_text;
  bool have_name = false;
  bool have_token = false;
  bool have_program = false;
  // After "--", arguments are not options: a NAME may start with "-".
  bool options_done = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const auto& arg = args[i];
    if (spec && arg == "--" && !options_done) {
      // run's first "--" comes before NAME only when NAME is still missing
      // and more than a CMD follows: run [OPTIONS] -- -name -- CMD.
      bool name_follows = spec->name == "run" && !have_name &&
                          std::find(args.begin() + static_cast<std::ptrdiff_t>(i) + 1, args.end(),
                                    "--") != args.end();
      if (spec->name != "run" || name_follows) {
        options_done = true;
        continue;
      }
    }
    if (spec && spec->name == "run" && arg == "--") {
      out.program.assign(args.begin() + static_cast<std::ptrdiff_t>(i) + 1, args.end());
      have_program = true;
      break;
    }
    if (!spec && arg == "help") {
      out.help = true;
      if (i + 1 < args.size()) {
        if (!find_command(args[i + 1]))
          return "help: unknown command '" + args[i + 1] + "'";
        out.help_topic = args[i + 1];
      }
      if (i + 2 < args.size())
        return "help takes at most one COMMAND";
      return {};
    }
    if (!options_done && (arg == "-h" || arg == "--help")) {
      out.help = true;
      if (spec)
        out.help_topic = std::string(spec->name);
      return {};
    }
    if (arg == "--version" && !spec) {
      out.version = true;
      return {};
    }
    if (!options_done && arg.size() > 1 && arg[0] == '-') {
      // --option VALUE or --option=VALUE
      auto equals = arg.find('=');
      std::string option = arg.substr(0, equals);
      if (!takes_option(spec, option)) {
        if (spec && is_command_option(option))
          return std::string(spec->name) + " does not take " + option;
        return "unknown option " + option;
      }
      if (option == "--json" || option == "--quiet") {
        if (equals != std::string::npos)
          return option + " takes no value";
        (option == "--json" ? out.json : out.quiet) = true;
        continue;
      }
      std::string value;
      if (equals != std::string::npos)
        value = arg.substr(equals + 1);
      else if (i + 1 < args.size())
        value = args[++i];
      else
        return "missing value for " + option;
      if (auto error = apply_value_option(option, value, servers_text, out); !error.empty())
        return error;
      if (option == "--token")
        have_token = true;
      continue;
    }
    if (!spec) {
      spec = find_command(arg);
      if (!spec)
        return "unknown command '" + arg + "'";
      out.command = arg;
    } else if (spec->takes_name && !have_name) {
      if (auto error = core::check_name(arg); !error.empty())
        return "bad NAME: " + error;
      out.name = arg;
      have_name = true;
    } else if (spec->name == "run") {
      return "run: put -- before the command: run NAME [OPTIONS] -- CMD [ARGS...]";
    } else {
      return "unexpected argument '" + arg + "'";
    }
  }
  if (!spec)
    return "missing command";
  if (spec->takes_name && !have_name)
    return out.command + ": missing NAME";
  if (spec->needs_token && !have_token)
    return out.command + ": missing --token N";
  if (spec->name == "run" && (!have_program || out.program.empty()))
    return "run: missing -- CMD [ARGS...]";
  return parse_servers(servers_text, servers_env, out);
}

} // namespace godistlock::client
