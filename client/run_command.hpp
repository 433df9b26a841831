// `godistlock run`: holds a lock while a command runs, and makes sure the
// command (with everything in its process group) never outlives the hold.
#pragma once

#include "client/cli.hpp"
#include "client/client.hpp"

#include <iosfwd>

namespace godistlock::client::cli {

int run_command(Client& client, const CliCommand& cmd, std::ostream& out, std::ostream& err);

} // namespace godistlock::client::cli
