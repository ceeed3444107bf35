// Must not compile: the HTTP server knows nothing of what it serves (the dashboard, the pipeline).
#include "dashboard.hpp"
