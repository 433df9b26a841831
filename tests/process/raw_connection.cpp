#include "raw_connection.hpp"

#include <arpa/inet.h>
#include <cerrno>
#include <netinet/in.h>
#include <poll.h>
#include <random>
#include <sys/socket.h>
#include <unistd.h>

namespace gdl_process {

std::string random_bytes(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string bytes(n, '\0');
  for (auto& b : bytes)
    b = static_cast<char>(rng() & 0xff);
  return bytes;
}

RawConnection::RawConnection(uint16_t port, Millis io_limit) {
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  BOOST_REQUIRE(fd_ >= 0);
  timeval tv{static_cast<time_t>(io_limit.count() / 1000),
             static_cast<suseconds_t>(io_limit.count() % 1000 * 1000)};
  ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
}

RawConnection::~RawConnection() {
  if (fd_ >= 0)
    ::close(fd_);
}

void RawConnection::send(const std::string& bytes) {
  size_t sent = 0;
  while (sent < bytes.size()) {
    auto n = ::send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n <= 0)
      return; // closed on us, or stuck for the io limit
    sent += static_cast<size_t>(n);
  }
}

std::string RawConnection::read(size_t n) {
  std::string out(n, '\0');
  size_t got = 0;
  while (got < n) {
    auto r = ::recv(fd_, out.data() + got, n - got, 0);
    if (r <= 0)
      return {};
    got += static_cast<size_t>(r);
  }
  return out;
}

bool RawConnection::closed_within(Millis limit) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  char buf[4096];
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, 20) != 1)
      continue;
    auto r = ::recv(fd_, buf, sizeof buf, MSG_DONTWAIT);
    if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR))
      return true;
  }
  return false;
}

} // namespace gdl_process
