#include "core/ballot.hpp"

namespace godistlock::core {

std::string to_string(const Ballot& b) {
  return "(" + std::to_string(b.counter) + "," + std::to_string(b.node) + "," +
         std::to_string(b.nonce) + ")";
}

} // namespace godistlock::core
