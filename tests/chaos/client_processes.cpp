#include "client_processes.hpp"

#include "worker_protocol.hpp"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <iostream>
#include <sstream>
#include <unistd.h>

namespace gdl_chaos {

using namespace std::chrono;
using namespace std::chrono_literals;

struct ClientProcesses::Worker {
  std::string name;
  double rate = 1.0;
  std::unique_ptr<ChildProcess> child;
  std::thread reader;
  std::mutex write_mutex; // the child's stdin
  // Guarded by ClientProcesses::mutex_ (written by the main thread and the reader).
  bool stopped = false; // SIGSTOPped
  bool alive = true;
  bool holding = false;
  std::string lock;
  uint64_t token = 0;
};

ClientProcesses::ClientProcesses(ClientProcessOptions options, History& history,
                                 FencedRegister& store)
    : options_(std::move(options)), history_(history), store_(store) {}

ClientProcesses::~ClientProcesses() {
  stop_all();
}

void ClientProcesses::start(size_t n) {
  for (size_t i = 0; i < n; ++i) {
    incarnations_.push_back(0);
    slots_.push_back(spawn(i, options_.base_rate));
  }
}

std::unique_ptr<ClientProcesses::Worker> ClientProcesses::spawn(size_t index, double rate) {
  auto w = std::make_unique<Worker>();
  auto incarnation = ++incarnations_.at(index);
  w->name = "w" + std::to_string(index + 1) + "-" + std::to_string(incarnation);
  w->rate = rate;
  std::string servers;
  for (auto& s : options_.servers)
    servers += (servers.empty() ? "" : ",") + s.to_string();
  std::ostringstream rate_text;
  rate_text.precision(17);
  rate_text << rate;
  std::vector<std::string> argv{
      options_.binary, "--client-worker",
      "--name",        w->name,
      "--servers",     servers,
      "--seed",        std::to_string(options_.seed * 1000003 + 7919 * index + incarnation),
      "--ttl",         std::to_string(options_.ttl.count()),
      "--hot-locks",   std::to_string(options_.hot_locks),
      "--clock-rate",  rate_text.str()};
  try {
    w->child =
        std::make_unique<ChildProcess>(argv, options_.log_dir + "/" + w->name + ".log", true);
  } catch (const std::exception& e) {
    Event info;
    info.type = EventType::info;
    info.process = "nemesis";
    info.detail = w->name + " did not start: " + e.what();
    history_.record(info);
    w->alive = false;
    return w;
  }
  auto* raw = w.get();
  w->reader = std::thread([this, raw] { read_loop(*raw); });
  return w;
}

void ClientProcesses::read_loop(Worker& w) {
  std::string buffer;
  char chunk[4096];
  int fd = w.child->stdout_fd();
  for (;;) {
    auto n = ::read(fd, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      break; // the worker exited (every copy of the write end is closed)
    buffer.append(chunk, static_cast<size_t>(n));
    for (auto nl = buffer.find('\n'); nl != std::string::npos; nl = buffer.find('\n')) {
      handle_line(w, buffer.substr(0, nl));
      buffer.erase(0, nl + 1);
    }
  }
  std::lock_guard<std::mutex> guard(mutex_);
  w.alive = false;
  w.holding = false;
  changed_.notify_all();
}

void ClientProcesses::handle_line(Worker& w, const std::string& line) {
  auto message = parse_line(line);
  if (!message) {
    std::cerr << "godistlock-chaos: " << w.name << " sent an unreadable line: " << line << "\n";
    return;
  }
  if (auto e = decode_event(*message)) {
    // A worker speaks only for itself.
    e->process = w.name;
    {
      std::lock_guard<std::mutex> guard(mutex_);
      if (e->type == EventType::cs_enter) {
        w.holding = true;
        w.lock = e->lock;
        w.token = e->token;
      } else if (e->type == EventType::cs_exit) {
        w.holding = false;
      }
    }
    changed_.notify_all();
    history_.record_at(std::move(*e));
    return;
  }
  if (auto r = decode_write_request(*message)) {
    // Logged here, around the register's write, as a client thread's write.
    Event e;
    e.type = EventType::invoke;
    e.process = w.name;
    e.op = Op::write;
    e.op_id = r->id;
    e.lock = r->lock;
    e.token = r->token;
    e.detail = r->detail;
    history_.record(e);
    bool accepted = store_.write(r->lock, r->token, r->value);
    e.type = accepted ? EventType::ok : EventType::fail;
    e.detail = accepted ? "" : "refused: a higher token was seen";
    history_.record(e);
    auto reply = encode_write_reply({r->id, accepted}) + "\n";
    std::lock_guard<std::mutex> guard(w.write_mutex);
    size_t done = 0;
    while (done < reply.size()) {
      auto n = ::write(w.child->stdin_fd(), reply.data() + done, reply.size() - done);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        break; // it is gone; its write stays unanswered
      done += static_cast<size_t>(n);
    }
    return;
  }
  std::cerr << "godistlock-chaos: " << w.name << " sent an unknown message: " << line << "\n";
}

std::optional<WorkerHolding> ClientProcesses::wait_for_holder(milliseconds limit) {
  std::unique_lock<std::mutex> lock(mutex_);
  std::optional<WorkerHolding> found;
  changed_.wait_for(lock, limit, [&] {
    for (size_t i = 0; i < slots_.size(); ++i) {
      auto& w = *slots_[i];
      if (w.alive && w.holding && !w.stopped) {
        found = WorkerHolding{i, w.name, w.child->pid(), w.lock, w.token};
        return true;
      }
    }
    return false;
  });
  return found;
}

void ClientProcesses::pause(size_t index) {
  auto& w = *slots_.at(index);
  if (!w.child || w.stopped)
    return;
  w.child->signal(SIGSTOP);
  std::lock_guard<std::mutex> guard(mutex_);
  w.stopped = true;
}

void ClientProcesses::resume(size_t index) {
  auto& w = *slots_.at(index);
  if (!w.child || !w.stopped)
    return;
  w.child->signal(SIGCONT);
  std::lock_guard<std::mutex> guard(mutex_);
  w.stopped = false;
}

std::string ClientProcesses::name(size_t index) const {
  return slots_.at(index)->name;
}

pid_t ClientProcesses::pid(size_t index) const {
  auto& w = *slots_.at(index);
  return w.child ? w.child->pid() : -1;
}

void ClientProcesses::stop(size_t index) {
  auto& w = *slots_.at(index);
  if (w.child) {
    if (w.stopped)
      w.child->signal(SIGCONT);
    w.child->signal(SIGTERM);
    // It finishes its current call (an acquire waits up to 3 s by its own
    // clock, plus an attempt), releases and exits; one that does not is
    // killed (a clock at rate 0.5 makes that wait 6 s).
    if (!w.child->wait_for(5000ms)) {
      std::cerr << "godistlock-chaos: " << w.name << " ignored SIGTERM for 5 s: SIGKILL\n";
      w.child->kill_and_reap();
    }
  }
  // The pipe's write end died with the process: the reader sees EOF.
  if (w.reader.joinable())
    w.reader.join();
  std::lock_guard<std::mutex> guard(mutex_);
  w.stopped = false;
  w.alive = false;
  w.holding = false;
}

std::string ClientProcesses::restart(size_t index, double rate) {
  stop(index);
  auto next = spawn(index, rate);
  {
    std::lock_guard<std::mutex> guard(mutex_);
    std::swap(slots_.at(index), next);
  }
  // `next` is the old worker now: stopped, its reader joined.
  return slots_.at(index)->child ? slots_.at(index)->name : std::string();
}

void ClientProcesses::stop_all() {
  for (size_t i = 0; i < slots_.size(); ++i)
    stop(i);
}

} // namespace gdl_chaos
