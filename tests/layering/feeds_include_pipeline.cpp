// Must not compile: a feed handler cannot see the application layer (the pipeline) above it.
#include "pipeline.hpp"
