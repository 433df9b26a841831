// A client worker PROCESS of a chaos run (godistlock-chaos --client-worker,
// started by ClientProcesses): one client loop with the client library, so
// that the nemesis can SIGSTOP a whole client (library threads included) and
// give it a clock that runs at another rate. It reports its history events
// and asks for fenced-register writes over stdin/stdout (worker_protocol.hpp).
//
//   godistlock-chaos --client-worker --name w1-1 --servers H:P,H:P [--seed S]
//       [--ttl MS] [--hot-locks N] [--clock-rate R] [--attempt-timeout MS]
//
// Loop until SIGTERM or EOF on stdin: acquire one of the hot locks (waiting
// 1-3 s), hold it for a random time with refreshes and fenced writes,
// release. Before each write it checks its lease, then "prepares" for
// 50-150 ms, then writes with its token without looking again: a SIGSTOP
// in that window makes it write with a stale token after SIGCONT (the
// classic stalled-client bug the fencing token exists for).
#pragma once

namespace gdl_chaos {

// argv[0] is "--client-worker". Returns the exit code: 0 stopped, 2 bad usage.
int run_client_worker(int argc, char** argv);

} // namespace gdl_chaos
