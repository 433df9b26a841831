// Uses the installed client library the way another project would: takes a
// server list, try-locks one lock, reads its status and releases it.
//   godistlock-consumer HOST:PORT[,HOST:PORT...]
// Exit 0: granted, seen held and released; 2: bad arguments; 3: no server
// could answer; 1: anything else. scripts/check-install runs it.
#include <godistlock/client.hpp>

#include <chrono>
#include <iostream>

namespace gdl = godistlock;

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: godistlock-consumer HOST:PORT[,HOST:PORT...]\n";
    return 2;
  }
  std::string bad_entry;
  auto servers = gdl::net::parse_endpoint_list(argv[1], &bad_entry);
  if (!servers) {
    std::cerr << "godistlock-consumer: not HOST:PORT: '" << bad_entry << "'\n";
    return 2;
  }
  gdl::client::ClientOptions options;
  options.servers = *servers;
  options.attempt_timeout = std::chrono::seconds(2);
  gdl::client::Client locks(options);

  const std::string name = "consumer/check";
  auto grant = locks.try_acquire(name, std::chrono::seconds(10));
  if (!grant.ok()) {
    std::cerr << "godistlock-consumer: try " << name << ": " << gdl::client::to_string(grant.status)
              << ": " << grant.message << "\n";
    return grant.status == gdl::client::Status::unavailable ? 3 : 1;
  }
  std::cout << "granted " << name << " token " << grant.lease.token << "\n";

  auto status = locks.status(name);
  if (!status.ok() || !status.lock.held() || status.lock.token() != grant.lease.token) {
    std::cerr << "godistlock-consumer: status " << name
              << " does not show the grant: " << gdl::client::to_string(status.status) << " "
              << status.message << "\n";
    return 1;
  }
  auto released = locks.release(name, grant.lease.token);
  if (!released.ok()) {
    std::cerr << "godistlock-consumer: release " << name << ": "
              << gdl::client::to_string(released.status) << ": " << released.message << "\n";
    return 1;
  }
  std::cout << "released " << name << " (fence " << status.lock.fence() << ")\n";
  return 0;
}
