// A raw TCP connection to a node's port that the test keeps open: a stalled
// peer, a half-spoken handshake, hostile bytes. Every send and receive is
// bounded in time; only the node ends the connection early.
#pragma once

#include "harness.hpp"

#include <cstdint>
#include <string>

namespace gdl_process {

// `n` pseudo-random bytes, the same for the same seed.
std::string random_bytes(size_t n, uint32_t seed);

class RawConnection {
public:
  // Connects to 127.0.0.1:port; `io_limit` bounds each send and receive.
  explicit RawConnection(uint16_t port, Millis io_limit = 1000ms);
  ~RawConnection();
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;

  bool connected() const { return connected_; }
  // As much of `bytes` as the node takes before it closes or stalls.
  void send(const std::string& bytes);
  // Exactly n bytes, or empty.
  std::string read(size_t n);
  // Did the node close the connection within `limit`? Drains what it sent.
  bool closed_within(Millis limit);

private:
  int fd_ = -1;
  bool connected_ = false;
};

} // namespace gdl_process
