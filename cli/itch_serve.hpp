// tickforge CLI — `tickforge itch-serve`: an ITCH file as a MoldUDP64 session over UDP (app/itch_server.hpp).
#pragma once

#include "run_options.hpp"

namespace tickforge::cli {

/// Replays --serve-file to --serve-to until it has been sent and the linger has passed, or SIGINT/SIGTERM.
/// Returns the exit code: 0 when every packet went out, 1 when sending failed, 2 for bad settings.
int itch_serve(RunOptions opt);

}  // namespace tickforge::cli
