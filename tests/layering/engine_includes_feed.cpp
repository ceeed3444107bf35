// Must not compile: the engine (the bottom layer) cannot see the feed handlers above it.
#include "feed.hpp"
