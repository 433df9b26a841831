#include "harness.hpp"

#include <boost/test/results_collector.hpp>

#include <arpa/inet.h>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <netinet/in.h>
#include <poll.h>
#include <set>
#include <sstream>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

extern char** environ;

namespace gdl_process {

namespace {

using Clock = std::chrono::steady_clock;

std::mutex registry_mutex;
std::set<pid_t>& registry() {
  static std::set<pid_t> pids;
  return pids;
}

void register_pid(pid_t pid) {
  std::lock_guard<std::mutex> guard(registry_mutex);
  registry().insert(pid);
}

void unregister_pid(pid_t pid) {
  std::lock_guard<std::mutex> guard(registry_mutex);
  registry().erase(pid);
}

std::string shorten(const std::string& text, size_t max = 4000) {
  if (text.size() <= max)
    return text;
  return text.substr(0, max / 2) + "\n[... " + std::to_string(text.size() - max) + " bytes ...]\n" +
         text.substr(text.size() - max / 2);
}

std::string quote_args(const std::vector<std::string>& argv) {
  std::string out;
  for (auto& a : argv) {
    if (!out.empty())
      out += ' ';
    bool plain = !a.empty() && a.find_first_of(" '\"\\$\t\n") == std::string::npos && a.size() < 80;
    bool printable = true;
    for (unsigned char c : a)
      if (c < 0x20 || c >= 0x7f)
        printable = false;
    if (plain && printable) {
      out += a;
    } else if (a.size() >= 80) {
      out += "<" + std::to_string(a.size()) + " bytes>";
    } else {
      out += '\'';
      for (unsigned char c : a) {
        if (c < 0x20 || c >= 0x7f) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\x%02x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
      }
      out += '\'';
    }
  }
  return out;
}

// Tidies up children left behind by a test binary that exits early.
// A closed output pipe (e.g. `process_tests | head`) must not kill the test
// binary before its fixtures clean up.
struct ExitCleanup {
  ExitCleanup() {
    std::signal(SIGPIPE, SIG_IGN);
    std::atexit([] { kill_all_children(); });
  }
} exit_cleanup;

} // namespace

// $GDL_TEST_BIN_DIR, if set, points the tests at the binaries of another build.
namespace {
std::string bin_dir() {
  const char* dir = std::getenv("GDL_TEST_BIN_DIR");
  return dir && *dir ? std::string(dir) : std::string(GDL_BIN_DIR);
}
} // namespace

std::string node_binary() {
  return bin_dir() + "/godistlock-node";
}

std::string cli_binary() {
  return bin_dir() + "/godistlock";
}

bool cli_available() {
  return ::access(cli_binary().c_str(), X_OK) == 0;
}

// ------------------------------------------------------------------ files

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void write_file(const std::string& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
  BOOST_REQUIRE_MESSAGE(out.good(), "cannot write " << path);
}

bool file_exists(const std::string& path) {
  return ::access(path.c_str(), F_OK) == 0;
}

std::string trim(std::string_view text) {
  size_t b = 0, e = text.size();
  while (b < e && std::isspace(static_cast<unsigned char>(text[b])))
    ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(text[e - 1])))
    --e;
  return std::string(text.substr(b, e - b));
}

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line))
    lines.push_back(line);
  return lines;
}

TempDir::TempDir() {
  char tmpl[] = "/tmp/gdl-proc-XXXXXX";
  char* made = ::mkdtemp(tmpl);
  if (!made)
    throw std::runtime_error(std::string("mkdtemp failed: ") + std::strerror(errno));
  path_ = made;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

// ------------------------------------------------------------------ network

uint16_t free_loopback_port() {
  for (int attempt = 0; attempt < 20; ++attempt) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
      BOOST_FAIL("socket: " << std::strerror(errno));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    uint16_t port = 0;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
      socklen_t len = sizeof addr;
      if (::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0)
        port = ntohs(addr.sin_port);
    }
    ::close(fd);
    if (port != 0)
      return port;
  }
  BOOST_FAIL("could not find a free loopback port");
  return 0;
}

bool send_raw_bytes(uint16_t port, const std::string& bytes, Millis io_limit) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0)
    return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  auto deadline = Clock::now() + io_limit;
  auto remaining_ms = [&] {
    auto left = std::chrono::duration_cast<Millis>(deadline - Clock::now()).count();
    return static_cast<int>(std::max<int64_t>(0, left));
  };
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    if (errno != EINPROGRESS) {
      ::close(fd);
      return false;
    }
    pollfd p{fd, POLLOUT, 0};
    int err = 0;
    socklen_t len = sizeof err;
    if (::poll(&p, 1, remaining_ms()) != 1 ||
        ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0) {
      ::close(fd);
      return false;
    }
  }
  size_t sent = 0;
  while (sent < bytes.size() && remaining_ms() > 0) {
    pollfd p{fd, POLLOUT, 0};
    if (::poll(&p, 1, remaining_ms()) != 1)
      break;
    auto n = ::send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR)
        continue;
      break; // the peer closed on us: fine
    }
    sent += static_cast<size_t>(n);
  }
  ::shutdown(fd, SHUT_WR);
  char buf[4096];
  while (remaining_ms() > 0) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, remaining_ms()) != 1)
      break;
    auto n = ::recv(fd, buf, sizeof buf, 0);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
      break;
  }
  ::close(fd);
  return true;
}

// ------------------------------------------------------------------ processes

std::string Exit::describe() const {
  std::string s = exited ? "exit " + std::to_string(code) : "signal " + std::to_string(signal);
  if (timed_out)
    s += " (killed by the test: time limit)";
  return s;
}

Child::Child(const std::vector<std::string>& argv, const std::string& out_path,
             const std::string& err_path, const std::map<std::string, std::string>& env,
             unsigned max_fds)
    : argv_(argv), out_path_(out_path), err_path_(err_path) {
  BOOST_REQUIRE(!argv.empty());
  // Everything the child needs is prepared before fork: after it, only
  // async-signal-safe calls.
  std::vector<char*> args;
  for (auto& a : argv_)
    args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  std::vector<std::string> env_strings;
  for (char** e = environ; *e; ++e) {
    std::string entry(*e);
    auto key = entry.substr(0, entry.find('='));
    if (key == "GODISTLOCK_SERVERS" || env.count(key))
      continue;
    env_strings.push_back(entry);
  }
  for (auto& [k, v] : env)
    env_strings.push_back(k + "=" + v);
  std::vector<char*> envp;
  for (auto& e : env_strings)
    envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  const char* out_c = out_path_.c_str();
  const char* err_c = err_path_.c_str();

  started_ = Clock::now();
  const pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid < 0)
    BOOST_FAIL("fork: " << std::strerror(errno));
  if (pid == 0) {
    ::setpgid(0, 0);
    // Should the test binary itself die (a crash, SIGKILL, a closed output
    // pipe), its children go with it instead of lingering.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent)
      ::_exit(125);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    for (int sig : {SIGPIPE, SIGINT, SIGTERM, SIGCHLD, SIGHUP})
      ::signal(sig, SIG_DFL);
    int in = ::open("/dev/null", O_RDONLY);
    int out = ::open(out_c, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int err = ::open(err_c, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (in < 0 || out < 0 || err < 0)
      ::_exit(126);
    ::dup2(in, 0);
    ::dup2(out, 1);
    ::dup2(err, 2);
    if (max_fds > 0) {
      rlimit lim{max_fds, max_fds};
      ::setrlimit(RLIMIT_NOFILE, &lim);
    }
    ::execve(args[0], args.data(), envp.data());
    const char msg[] = "harness: execve failed\n";
    (void)!::write(2, msg, sizeof msg - 1);
    ::_exit(127);
  }
  ::setpgid(pid, pid); // also from here: no race with kill(-pid)
  pid_ = pid;
  register_pid(pid);
}

Child::~Child() {
  if (!exit_)
    kill_and_reap();
  // Whatever the child left behind in its group (e.g. the command of `run`)
  // goes too; the group id cannot be reused while a member is alive.
  ::kill(-pid_, SIGKILL);
}

void Child::reap(int wstatus) {
  Exit e;
  if (WIFEXITED(wstatus)) {
    e.exited = true;
    e.code = WEXITSTATUS(wstatus);
  } else if (WIFSIGNALED(wstatus)) {
    e.signal = WTERMSIG(wstatus);
  }
  exit_ = e;
  unregister_pid(pid_);
}

bool Child::running() {
  if (exit_)
    return false;
  int wstatus = 0;
  pid_t r = ::waitpid(pid_, &wstatus, WNOHANG);
  if (r == pid_) {
    reap(wstatus);
    return false;
  }
  return true;
}

std::optional<Exit> Child::wait_for(Millis limit) {
  auto deadline = Clock::now() + limit;
  while (running()) {
    if (Clock::now() >= deadline)
      return std::nullopt;
    std::this_thread::sleep_for(5ms);
  }
  return exit_;
}

Exit Child::wait_or_kill(Millis limit) {
  if (auto e = wait_for(limit))
    return *e;
  Exit e = kill_and_reap();
  e.timed_out = true;
  exit_ = e;
  return e;
}

void Child::send_signal(int sig) {
  if (!exit_)
    ::kill(pid_, sig);
}

Exit Child::kill_and_reap() {
  if (exit_)
    return *exit_;
  ::kill(-pid_, SIGKILL);
  ::kill(pid_, SIGKILL);
  int wstatus = 0;
  while (::waitpid(pid_, &wstatus, 0) < 0 && errno == EINTR) {
  }
  reap(wstatus);
  return *exit_;
}

double Child::seconds_running() const {
  return std::chrono::duration<double>(Clock::now() - started_).count();
}

std::string Child::describe() const {
  std::ostringstream s;
  s << "[" << quote_args(argv_) << "] -> " << (exit_ ? exit_->describe() : "still running")
    << "\n--- stdout:\n"
    << shorten(out()) << "\n--- stderr:\n"
    << shorten(err());
  return s.str();
}

void kill_all_children() {
  std::set<pid_t> pids;
  {
    std::lock_guard<std::mutex> guard(registry_mutex);
    pids.swap(registry());
  }
  for (pid_t pid : pids) {
    ::kill(-pid, SIGKILL);
    ::kill(pid, SIGKILL);
    int wstatus = 0;
    ::waitpid(pid, &wstatus, 0);
  }
}

bool process_gone(pid_t pid) {
  if (::kill(pid, 0) != 0 && errno == ESRCH)
    return true;
  // A zombie is dead, just not reaped (by a parent we do not control).
  std::string stat = read_file("/proc/" + std::to_string(pid) + "/stat");
  if (stat.empty())
    return true;
  auto close_paren = stat.rfind(')');
  return close_paren != std::string::npos && close_paren + 2 < stat.size() &&
         (stat[close_paren + 2] == 'Z' || stat[close_paren + 2] == 'X');
}

bool eventually(const std::function<bool()>& predicate, Millis limit, Millis step) {
  auto deadline = Clock::now() + limit;
  while (true) {
    if (predicate())
      return true;
    if (Clock::now() >= deadline)
      return false;
    std::this_thread::sleep_for(step);
  }
}

// ------------------------------------------------------------------ JSON

bool Json::has(const std::string& key) const {
  return type == Type::object && object.count(key) != 0;
}

const Json* Json::get(const std::string& key) const {
  if (type != Type::object)
    return nullptr;
  auto it = object.find(key);
  return it == object.end() ? nullptr : &it->second;
}

namespace {

struct JsonParser {
  std::string_view s;
  size_t i = 0;
  int depth = 0;

  void ws() {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r'))
      ++i;
  }
  bool literal(std::string_view word) {
    if (s.substr(i, word.size()) != word)
      return false;
    i += word.size();
    return true;
  }
  bool string(std::string& out) {
    if (i >= s.size() || s[i] != '"')
      return false;
    ++i;
    while (i < s.size()) {
      char c = s[i++];
      if (c == '"')
        return true;
      if (static_cast<unsigned char>(c) < 0x20)
        return false;
      if (c != '\\') {
        out += c;
        continue;
      }
      if (i >= s.size())
        return false;
      char e = s[i++];
      switch (e) {
      case '"':
      case '\\':
      case '/':
        out += e;
        break;
      case 'b':
        out += '\b';
        break;
      case 'f':
        out += '\f';
        break;
      case 'n':
        out += '\n';
        break;
      case 'r':
        out += '\r';
        break;
      case 't':
        out += '\t';
        break;
      case 'u': {
        if (i + 4 > s.size())
          return false;
        unsigned cp = 0;
        for (int k = 0; k < 4; ++k) {
          char h = s[i++];
          cp <<= 4;
          if (h >= '0' && h <= '9')
            cp |= static_cast<unsigned>(h - '0');
          else if (h >= 'a' && h <= 'f')
            cp |= static_cast<unsigned>(h - 'a' + 10);
          else if (h >= 'A' && h <= 'F')
            cp |= static_cast<unsigned>(h - 'A' + 10);
          else
            return false;
        }
        // Enough for tests: BMP code points as UTF-8 (surrogates kept raw).
        if (cp < 0x80) {
          out += static_cast<char>(cp);
        } else if (cp < 0x800) {
          out += static_cast<char>(0xc0 | (cp >> 6));
          out += static_cast<char>(0x80 | (cp & 0x3f));
        } else {
          out += static_cast<char>(0xe0 | (cp >> 12));
          out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
          out += static_cast<char>(0x80 | (cp & 0x3f));
        }
        break;
      }
      default:
        return false;
      }
    }
    return false;
  }
  bool number(std::string& out) {
    size_t b = i;
    if (i < s.size() && s[i] == '-')
      ++i;
    size_t digits = i;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i])))
      ++i;
    if (i == digits)
      return false;
    if (i < s.size() && s[i] == '.') {
      ++i;
      while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i])))
        ++i;
    }
    if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
      ++i;
      if (i < s.size() && (s[i] == '+' || s[i] == '-'))
        ++i;
      while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i])))
        ++i;
    }
    out = std::string(s.substr(b, i - b));
    return true;
  }
  bool value(Json& v) {
    if (++depth > 64)
      return false;
    ws();
    if (i >= s.size())
      return false;
    bool ok = false;
    char c = s[i];
    if (c == '{') {
      v.type = Json::Type::object;
      ++i;
      ws();
      if (i < s.size() && s[i] == '}') {
        ++i;
        ok = true;
      } else {
        while (true) {
          ws();
          std::string key;
          if (!string(key))
            break;
          ws();
          if (i >= s.size() || s[i] != ':')
            break;
          ++i;
          Json member;
          if (!value(member))
            break;
          v.object[key] = std::move(member);
          ws();
          if (i < s.size() && s[i] == ',') {
            ++i;
            continue;
          }
          if (i < s.size() && s[i] == '}') {
            ++i;
            ok = true;
          }
          break;
        }
      }
    } else if (c == '[') {
      v.type = Json::Type::array;
      ++i;
      ws();
      if (i < s.size() && s[i] == ']') {
        ++i;
        ok = true;
      } else {
        while (true) {
          Json item;
          if (!value(item))
            break;
          v.array.push_back(std::move(item));
          ws();
          if (i < s.size() && s[i] == ',') {
            ++i;
            continue;
          }
          if (i < s.size() && s[i] == ']') {
            ++i;
            ok = true;
          }
          break;
        }
      }
    } else if (c == '"') {
      v.type = Json::Type::string;
      ok = string(v.text);
    } else if (c == 't' || c == 'f') {
      v.type = Json::Type::boolean;
      v.boolean = c == 't';
      ok = literal(c == 't' ? "true" : "false");
    } else if (c == 'n') {
      v.type = Json::Type::null;
      ok = literal("null");
    } else {
      v.type = Json::Type::number;
      ok = number(v.text);
    }
    --depth;
    return ok;
  }
};

} // namespace

std::optional<Json> parse_json(std::string_view text) {
  JsonParser p{text};
  Json v;
  if (!p.value(v))
    return std::nullopt;
  p.ws();
  if (p.i != text.size())
    return std::nullopt;
  return v;
}

uint64_t uint_field(const Json& object, const std::string& key) {
  auto v = json_uint(object, key);
  BOOST_REQUIRE_MESSAGE(v, "missing or non-integer JSON field '" << key << "'");
  return *v;
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

std::optional<uint64_t> json_uint(const Json& object, const std::string& key) {
  const Json* v = object.get(key);
  if (!v || (v->type != Json::Type::number && v->type != Json::Type::string))
    return std::nullopt;
  const std::string& t = v->text;
  if (t.empty() || t.size() > 20)
    return std::nullopt;
  for (char c : t)
    if (!std::isdigit(static_cast<unsigned char>(c)))
      return std::nullopt;
  try {
    return std::stoull(t);
  } catch (...) {
    return std::nullopt;
  }
}

std::optional<bool> json_bool(const Json& object, const std::string& key) {
  const Json* v = object.get(key);
  if (!v || v->type != Json::Type::boolean)
    return std::nullopt;
  return v->boolean;
}

std::optional<std::string> json_string(const Json& object, const std::string& key) {
  const Json* v = object.get(key);
  if (!v || v->type != Json::Type::string)
    return std::nullopt;
  return v->text;
}

// ------------------------------------------------------------------ CLI

std::string CliResult::describe() const {
  std::ostringstream s;
  s << "[godistlock " << quote_args(args) << "] -> " << exit.describe() << " after " << seconds
    << " s\n--- stdout:\n"
    << shorten(out) << "\n--- stderr:\n"
    << shorten(err);
  return s.str();
}

void check_usage_error(const CliResult& r) {
  BOOST_CHECK_MESSAGE(r.code() == 2, "expected exit 2: " << r.describe());
  BOOST_CHECK_MESSAGE(r.out.empty(), "expected nothing on stdout: " << r.describe());
  auto err = trim(r.err);
  BOOST_CHECK_MESSAGE(!err.empty() && err.find('\n') == std::string::npos,
                      "expected a one-line message on stderr: " << r.describe());
}

std::optional<uint64_t> parse_token_output(const std::string& out) {
  // Exactly one line holding a positive decimal number (trailing newline allowed).
  std::string body = out;
  if (!body.empty() && body.back() == '\n')
    body.pop_back();
  if (body.empty() || body.size() > 20 || body[0] == '0')
    return std::nullopt;
  for (char c : body)
    if (c < '0' || c > '9')
      return std::nullopt;
  try {
    return std::stoull(body);
  } catch (...) {
    return std::nullopt;
  }
}

// ------------------------------------------------------------------ nodes

Exit Node::stop(int sig, Millis limit) {
  child_->send_signal(sig);
  return child_->wait_or_kill(limit);
}

Harness::Harness() = default;

Harness::~Harness() {
  // Nodes and CLIs alike: SIGKILL + waitpid for whatever still runs.
  for (auto& n : nodes_)
    n->child_->kill_and_reap();
  // On failure the node logs tell what the server side saw.
  using namespace boost::unit_test;
  auto id = framework::current_test_case().p_id;
  if (!results_collector.results(id).passed())
    for (auto& n : nodes_)
      BOOST_TEST_MESSAGE("log of node " << n->id_ << " (port " << n->port_ << "):\n"
                                        << shorten(n->log(), 6000));
  for (auto& c : children_)
    c->kill_and_reap();
}

std::string Harness::scratch_file(const std::string& stem) {
  return scratch_.file(std::to_string(++counter_) + "-" + stem);
}

Child& Harness::track(std::unique_ptr<Child> child) {
  children_.push_back(std::move(child));
  return *children_.back();
}

Node& Harness::start_node(const std::string& id, uint16_t port, std::string data_dir,
                          const std::vector<std::string>& extra) {
  if (data_dir.empty())
    data_dir = scratch_.file("data-" + id);
  const bool pick_port = port == 0;
  std::string last_failure;
  for (int attempt = 0; attempt < (pick_port ? 5 : 1); ++attempt) {
    uint16_t p = pick_port ? free_loopback_port() : port;
    std::vector<std::string> argv{
        node_binary(), "--id",  id, "--listen", "127.0.0.1:" + std::to_string(p),
        "--data-dir",  data_dir};
    argv.insert(argv.end(), extra.begin(), extra.end());
    auto child = std::make_unique<Child>(argv, scratch_file("node-" + id + ".out"),
                                         scratch_file("node-" + id + ".err"),
                                         std::map<std::string, std::string>{}, node_fd_limit_);
    Child* raw = child.get();
    const std::string ready = "ready on 127.0.0.1:" + std::to_string(p);
    bool is_ready =
        eventually([&] { return raw->err().find(ready) != std::string::npos || !raw->running(); },
                   10000ms, 10ms);
    if (is_ready && raw->err().find(ready) != std::string::npos && raw->running()) {
      auto node = std::make_unique<Node>();
      node->id_ = id;
      node->data_dir_ = data_dir;
      node->port_ = p;
      node->child_ = std::move(child);
      nodes_.push_back(std::move(node));
      return *nodes_.back();
    }
    if (!is_ready) {
      raw->kill_and_reap();
      BOOST_FAIL("node " << id << " not ready within 10 s: " << raw->describe());
    }
    raw->wait_or_kill(1000ms);
    last_failure = raw->describe();
    bool collision = raw->err().find("cannot listen") != std::string::npos;
    if (!collision)
      break;
  }
  BOOST_FAIL("node " << id << " failed to start: " << last_failure);
  throw std::logic_error("unreachable");
}

Child& Harness::start_node_process(const std::vector<std::string>& args) {
  std::vector<std::string> argv{node_binary()};
  argv.insert(argv.end(), args.begin(), args.end());
  return track(std::make_unique<Child>(argv, scratch_file("node.out"), scratch_file("node.err")));
}

Child& Harness::start_node_expect_exit(const std::vector<std::string>& args, Millis limit) {
  auto& child = start_node_process(args);
  child.wait_or_kill(limit);
  return child;
}

CliResult Harness::cli(const std::vector<std::string>& args, Millis limit) {
  BOOST_REQUIRE_MESSAGE(cli_available(), "the CLI is not built: " << cli_binary());
  std::vector<std::string> argv{cli_binary()};
  argv.insert(argv.end(), args.begin(), args.end());
  Child child(argv, scratch_file("cli.out"), scratch_file("cli.err"));
  CliResult r;
  r.args = args;
  r.exit = child.wait_or_kill(limit);
  r.seconds = child.seconds_running();
  r.out = child.out();
  r.err = child.err();
  BOOST_REQUIRE_MESSAGE(!r.exit.timed_out, "CLI exceeded its time limit: " << r.describe());
  return r;
}

CliResult Harness::cli_at(const std::string& servers, const std::vector<std::string>& args,
                          Millis limit) {
  std::vector<std::string> full{"--servers", servers};
  full.insert(full.end(), args.begin(), args.end());
  return cli(full, limit);
}

Child& Harness::cli_background(const std::vector<std::string>& args,
                               const std::map<std::string, std::string>& env) {
  BOOST_REQUIRE_MESSAGE(cli_available(), "the CLI is not built: " << cli_binary());
  std::vector<std::string> argv{cli_binary()};
  argv.insert(argv.end(), args.begin(), args.end());
  return track(std::make_unique<Child>(argv, scratch_file("bg.out"), scratch_file("bg.err"), env));
}

// ------------------------------------------------------------------ NodeFixture

NodeFixture::NodeFixture() {
  node = &start_node("n1");
}

std::vector<std::string> NodeFixture::with_servers(std::vector<std::string> args) const {
  args.insert(args.begin(), {"--servers", node->endpoint()});
  return args;
}

CliResult NodeFixture::gdl(const std::vector<std::string>& args, Millis limit) {
  return cli(with_servers(args), limit);
}

Child& NodeFixture::gdl_background(const std::vector<std::string>& args) {
  return cli_background(with_servers(args));
}

uint64_t NodeFixture::acquire(const std::string& name, const std::string& owner,
                              const std::string& ttl) {
  auto r = gdl({"acquire", name, "--owner", owner, "--ttl", ttl});
  BOOST_REQUIRE_MESSAGE(r.code() == 0, "acquire failed: " << r.describe());
  auto token = parse_token_output(r.out);
  BOOST_REQUIRE_MESSAGE(token, "acquire did not print a positive token alone: " << r.describe());
  return *token;
}

Json NodeFixture::status(const std::string& name) {
  auto r = gdl({"status", name, "--json"});
  BOOST_REQUIRE_MESSAGE(r.code() == 0, "status --json failed: " << r.describe());
  auto j = parse_json(r.out);
  BOOST_REQUIRE_MESSAGE(j && j->type == Json::Type::object,
                        "status --json is not a JSON object: " << r.describe());
  return *j;
}

Json NodeFixture::stats() {
  auto r = gdl({"stats", "--json"});
  BOOST_REQUIRE_MESSAGE(r.code() == 0, "stats --json failed: " << r.describe());
  auto j = parse_json(r.out);
  BOOST_REQUIRE_MESSAGE(j && j->type == Json::Type::object,
                        "stats --json is not a JSON object: " << r.describe());
  return *j;
}

bool NodeFixture::wait_for_waiters(const std::string& name, uint64_t n, Millis limit) {
  return eventually([&] { return json_uint(status(name), "waiters") == n; }, limit, 50ms);
}

// ------------------------------------------------------------------ ClusterFixture

void ClusterFixture::start_cluster(size_t n, bool named) {
  plan_cluster(n, named);
  for (size_t i = 1; i <= n; ++i) {
    auto extra = cluster_args(i);
    extra.push_back("--bootstrap");
    members[i - 1].node =
        &start_node(members[i - 1].id, members[i - 1].port, members[i - 1].data_dir, extra);
  }
  for (size_t i = 1; i <= n; ++i)
    BOOST_REQUIRE_MESSAGE(wait_connected(i), "member " << members[i - 1].id
                                                       << " did not connect to all peers in 10 s:\n"
                                                       << node(i).log());
  for (size_t i = 1; i <= n; ++i)
    BOOST_REQUIRE_MESSAGE(
        eventually([&] { return node(i).log().find("voting now") != std::string::npos; }, 10000ms),
        "member " << members[i - 1].id << " did not start voting in 10 s:\n"
                  << node(i).log());
}

void ClusterFixture::plan_cluster(size_t n, bool named) {
  BOOST_REQUIRE(members.empty() && n >= 1);
  named_peers = named;
  std::set<uint16_t> taken;
  for (size_t i = 1; i <= n; ++i) {
    uint16_t port = 0;
    for (int attempt = 0; attempt < 50 && (port == 0 || taken.count(port)); ++attempt)
      port = free_loopback_port();
    BOOST_REQUIRE_MESSAGE(port != 0 && !taken.count(port), "no distinct free port");
    taken.insert(port);
    members.push_back(Member{"n" + std::to_string(i), port,
                             scratch().file("data-n" + std::to_string(i)), nullptr});
  }
}

void ClusterFixture::wipe(size_t i) {
  std::error_code ec;
  std::filesystem::remove_all(members.at(i - 1).data_dir, ec);
  BOOST_REQUIRE_MESSAGE(!ec, "cannot remove " << members[i - 1].data_dir << ": " << ec.message());
}

std::vector<std::string> ClusterFixture::cluster_args(size_t i) const {
  std::string peers;
  for (size_t j = 1; j <= members.size(); ++j) {
    if (j == i)
      continue;
    if (!peers.empty())
      peers += ',';
    if (named_peers)
      peers += members[j - 1].id + "@";
    peers += endpoint(j);
  }
  return {"--peers", peers};
}

std::vector<std::string> ClusterFixture::node_args(size_t i) const {
  auto& m = members.at(i - 1);
  std::vector<std::string> args{"--id", m.id, "--listen", endpoint(i), "--data-dir", m.data_dir};
  auto extra = cluster_args(i);
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

std::string ClusterFixture::endpoint(size_t i) const {
  return "127.0.0.1:" + std::to_string(members.at(i - 1).port);
}

std::string ClusterFixture::servers(const std::vector<size_t>& which) const {
  std::string out;
  auto add = [&](size_t i) {
    if (!out.empty())
      out += ',';
    out += endpoint(i);
  };
  if (which.empty())
    for (size_t i = 1; i <= members.size(); ++i)
      add(i);
  for (auto i : which)
    add(i);
  return out;
}

Node& ClusterFixture::restart(size_t i) {
  auto& m = members.at(i - 1);
  BOOST_REQUIRE_MESSAGE(!m.node || !m.node->alive(), "member " << m.id << " still runs");
  m.node = &start_node(m.id, m.port, m.data_dir, cluster_args(i));
  return *m.node;
}

size_t ClusterFixture::connections_logged(size_t i, size_t j) {
  const std::string line = "connected to peer " + members.at(j - 1).id + " at ";
  auto log = node(i).log();
  size_t count = 0;
  for (auto pos = log.find(line); pos != std::string::npos; pos = log.find(line, pos + 1))
    ++count;
  return count;
}

bool ClusterFixture::wait_connected(size_t i, const std::vector<size_t>& peers, size_t times,
                                    Millis limit) {
  std::vector<size_t> which = peers;
  if (which.empty())
    for (size_t j = 1; j <= members.size(); ++j)
      if (j != i)
        which.push_back(j);
  return eventually(
      [&] {
        for (auto j : which)
          if (connections_logged(i, j) < times)
            return false;
        return true;
      },
      limit, 20ms);
}

} // namespace gdl_process
