// tickforge CLI — `tickforge run`.
#pragma once

#include "run_options.hpp"

namespace tickforge::cli {

/// Runs the engine with the given options until the input ends, the duration passes or SIGINT/SIGTERM.
/// Returns the process exit code (0 on success, 1 on a run-time failure such as an unreadable file).
int run(RunOptions opt);

}  // namespace tickforge::cli
