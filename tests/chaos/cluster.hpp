// A cluster of real godistlock-node processes on loopback, each peer link
// through a LinkProxy the harness owns: node i's --peers names node j as
// "nj@127.0.0.1:<port of proxy i->j>", which forwards to j's real port.
// Clients reach node i through its own client proxy (so that replies can be
// delayed). Every process is tracked by PID.
#pragma once

#include "process.hpp"
#include "proxy.hpp"

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace gdl_chaos {

struct ClusterOptions {
  size_t nodes = 3;
  std::string node_binary;
  std::string base_dir;                  // data dirs and logs live under it
  std::vector<std::string> common_flags; // e.g. --test-mutation NAME, on every start
  std::chrono::milliseconds ready_limit{15000};
};

class Cluster {
public:
  explicit Cluster(ClusterOptions options);
  ~Cluster(); // kills every node by PID, stops every proxy

  // Starts every member with --bootstrap (a brand-new cluster). Returns an
  // error message, empty on success.
  std::string start();

  size_t size() const { return members_.size(); }
  const std::string& id(size_t i) const { return members_.at(i).id; }
  uint16_t port(size_t i) const { return members_.at(i).port; }
  std::string endpoint(size_t i) const;
  // Where clients reach member i: its client proxy.
  std::string client_endpoint(size_t i) const;
  LinkProxy& client_link(size_t i) { return *client_links_.at(i); }
  std::string log_path(size_t i) const { return members_.at(i).log_path; }
  bool running(size_t i);

  void kill(size_t i);
  // Removes member i's data dir (the node must be down).
  void wipe(size_t i);
  // Starts member i again on its port and data dir, never with --bootstrap,
  // plus `extra` flags for this start only. Empty on success, otherwise why
  // it did not get ready (the process is then reaped).
  std::string restart(size_t i, const std::vector<std::string>& extra = {});
  void pause(size_t i);
  void resume(size_t i);

  // The proxy that carries member `from`'s dial to member `to`.
  LinkProxy& link(size_t from, size_t to);
  // Sets both directed links between a and b.
  void set_links(size_t a, size_t b, LinkMode mode);
  void heal_network();
  // Waits (bounded) until `binary` accepts `flag value` (probed with --help).
  static bool node_accepts_flag(const std::string& binary, const std::string& flag,
                                const std::string& value, const std::string& scratch_dir);

private:
  struct Member {
    std::string id;
    uint16_t port = 0;
    std::string data_dir;
    std::string log_path;
    std::unique_ptr<ChildProcess> process;
    bool paused = false;
  };
  std::string launch(size_t i, bool bootstrap, const std::vector<std::string>& extra);
  std::vector<std::string> peer_flags(size_t i) const;

  ClusterOptions options_;
  std::vector<Member> members_;
  // links_[from * n + to]; null on the diagonal.
  std::vector<std::unique_ptr<LinkProxy>> links_;
  std::vector<std::unique_ptr<LinkProxy>> client_links_; // one per member
};

// A TCP port nothing listens on right now on 127.0.0.1 (bind 0, read, close).
uint16_t free_loopback_port();

} // namespace gdl_chaos
