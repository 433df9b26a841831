// godistlock-example: the two ways an application uses GoDistLock.
//   1. The client library: a web shop decrements stock under a lock, with a
//      LockHolder keeping the lease alive and a fenced write to storage.
//   2. An application that is itself a CAF actor talks to the node's typed
//      actor interface directly.
// Usage: godistlock-example [--servers HOST:PORT[,HOST:PORT...]]
#include "client/client.hpp"
#include "client/lock_holder.hpp"
#include "messages/interfaces.hpp"
#include "net/connect.hpp"
#include "net/system_config.hpp"

#include <caf/all.hpp>
#include <caf/io/all.hpp>

#include <cstdlib>
#include <iostream>
#include <map>
#include <string>

using namespace godistlock;
using namespace std::chrono_literals;

namespace {

// Stands in for the shop's database: it remembers the highest fencing token
// it has seen per key and refuses writes that carry an older one, so a
// holder whose lease ran out (a long GC pause, say) cannot clobber newer data.
class FencedStore {
public:
  int read(const std::string& key) { return values_[key]; }
  bool write(const std::string& key, int value, uint64_t token) {
    auto& highest = highest_token_[key];
    if (token < highest)
      return false;
    highest = token;
    values_[key] = value;
    return true;
  }

private:
  std::map<std::string, int> values_;
  std::map<std::string, uint64_t> highest_token_;
};

int library_example(const std::vector<net::Endpoint>& servers) {
  client::ClientOptions options;
  options.servers = servers;
  client::Client locks(options);
  FencedStore db;
  db.write("stock:sku-42", 3, 0);

  for (int order = 1; order <= 4; ++order) {
    client::AcquireOptions how;
    how.ttl = 10s;
    how.wait = 5s;
    auto granted = locks.acquire("stock:sku-42", how);
    if (!granted.ok()) {
      std::cerr << "order " << order << ": lock not acquired: " << granted.message << "\n";
      return 1;
    }
    client::LockHolder holder(locks, granted.lease,
                              [](const client::Lease& l, const std::string& why) {
                                std::cerr << "lost the lock on " << l.name << ": " << why << "\n";
                              });
    // Check, then decrement: safe because no other order holds the lock.
    int stock = db.read("stock:sku-42");
    if (stock == 0) {
      std::cout << "order " << order << ": sold out\n";
    } else if (holder.lost() || !db.write("stock:sku-42", stock - 1, holder.lease().token)) {
      std::cout << "order " << order << ": lock lost before the write; nothing written\n";
    } else {
      std::cout << "order " << order << ": sold one (token " << holder.lease().token << "), "
                << stock - 1 << " left\n";
    }
    holder.release();
  }
  return 0;
}

// An actor that owns no client library: it sends the Protobuf request to the
// node's typed interface itself and reacts to the reply.
caf::behavior try_then_release(caf::event_based_actor* self, node_actor node) {
  // A random client id per run: ids derived from a PID repeat across hosts
  // and restarts, and two processes with one id are one owner to the
  // server. The owner names this program.
  auto client_id = client::random_client_id();
  messages::wire_request acquire;
  acquire.pb.set_client_id(client_id);
  acquire.pb.set_request_id(1);
  auto& a = *acquire.pb.mutable_acquire();
  a.set_name("reports:nightly");
  a.set_owner("example-actor");
  a.set_ttl_ms(5000);
  a.set_wait_ms(0); // try-lock
  self->request(node, 5s, acquire)
      .then(
          [=](const messages::wire_response& r) {
            if (r.pb.code() != wire::OK) {
              caf::aout(self) << "actor: not acquired: " << r.pb.message() << std::endl;
              return;
            }
            auto token = r.pb.grant().token();
            caf::aout(self) << "actor: holding reports:nightly with token " << token << std::endl;
            messages::wire_request release;
            release.pb.set_client_id(client_id);
            release.pb.set_request_id(2);
            release.pb.mutable_release()->set_name("reports:nightly");
            release.pb.mutable_release()->set_token(token);
            self->request(node, 5s, release)
                .then(
                    [=](const messages::wire_response& done) {
                      caf::aout(self)
                          << "actor: released: " << wire::Code_Name(done.pb.code()) << std::endl;
                    },
                    [=](caf::error& e) {
                      caf::aout(self) << "actor: " << to_string(e) << std::endl;
                    });
          },
          [=](caf::error& e) {
            caf::aout(self) << "actor: request failed: " << to_string(e) << std::endl;
          });
  return {};
}

int actor_example(const std::vector<net::Endpoint>& servers) {
  net::SystemConfig cfg;
  caf::actor_system sys{cfg};
  for (auto& ep : servers) {
    auto node = net::connect_node(sys, ep, 2s);
    if (!node)
      continue;
    sys.spawn(try_then_release, *node);
    return 0; // the actor system waits for the actor to finish
  }
  std::cerr << "actor: no server reachable\n";
  return 3;
}

} // namespace

int main(int argc, char** argv) {
  std::string list = "127.0.0.1:7001";
  if (auto env = std::getenv("GODISTLOCK_SERVERS"))
    list = env;
  if (argc == 3 && std::string(argv[1]) == "--servers")
    list = argv[2];
  else if (argc != 1) {
    std::cerr << "usage: godistlock-example [--servers HOST:PORT[,HOST:PORT...]]\n";
    return 2;
  }
  auto servers = net::parse_endpoint_list(list);
  if (!servers || servers->empty()) {
    std::cerr << "godistlock-example: bad server list '" << list << "'\n";
    return 2;
  }
  if (int rc = library_example(*servers); rc != 0)
    return rc;
  return actor_example(*servers);
}
