// Must not compile: the parsers cannot see the Kafka layer above them.
#include "kafka_client.hpp"
