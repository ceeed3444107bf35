// tickforge CLI — `tickforge broker` (an embedded Kafka cluster on its own) and `tickforge produce`
// (ticks to a topic as JSON, keyed by ticker: the counterpart of the seeds' Python producers).
#pragma once

#include "run_options.hpp"

namespace tickforge::cli {

/// Runs the embedded cluster until SIGINT/SIGTERM (or --duration), printing its bootstrap address on
/// stdout. Returns the exit code.
int broker(RunOptions opt);

/// Publishes synthetic ticks or a CSV history to --topic on --brokers at --rate. Returns the exit code:
/// 0 when every tick was delivered.
int produce(RunOptions opt);

}  // namespace tickforge::cli
