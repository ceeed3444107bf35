// Must compile: the application layer sees every layer below it.
#include <tickforge/engine.hpp>

#include "csv_reader.hpp"
#include "feed.hpp"
#include "file_sinks.hpp"
#include "http_server.hpp"
#include "kafka_publisher.hpp"
#include "shard_core.hpp"
