// Must not compile: the sinks cannot see the Kafka layer (a sibling, not below them).
#include "kafka_publisher.hpp"
