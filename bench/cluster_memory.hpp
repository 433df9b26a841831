// Memory per node with many held locks, and the restart time of a node
// with those locks on disk, on a real cluster of godistlock-node processes.
#pragma once

#include <cstddef>
#include <string>
#include <sys/types.h>

namespace godistlock::bench {

struct ClusterMemoryOptions {
  std::string node_binary; // godistlock-node
  size_t locks = 1000000;
  size_t nodes = 3;
  std::string durability = "fsync";
  size_t threads = 8; // filling threads, spread over the nodes
  size_t window = 32; // acquires in flight per thread (more only queue up)
};

// The resident set size of process `pid` (0 if it cannot be read).
size_t resident_bytes(pid_t pid);

// Prints the fill rate, each node's RSS, and the restart time; returns 0,
// 1 when a lock was not granted or the restarted node did not serve, 3
// when the cluster did not start.
int cluster_memory(const ClusterMemoryOptions& options);

} // namespace godistlock::bench
