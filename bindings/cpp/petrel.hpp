// petrel.hpp: a header-only C++17 wrapper of Petrel's C API (petrel.h, libpetrel.so).
//
// RAII, move-only handles (Message, Producer, PushConsumer, PullConsumer, PullResult); every failing
// status becomes a petrel::Error carrying it; callbacks are std::function objects the wrapper keeps
// alive as long as the handle. No C++ exception ever crosses into the library: a listener that throws
// asks for redelivery, a transaction callback that throws answers UNKNOWN, a selector that throws fails
// the send and its exception is rethrown to the sender, an async-send callback that throws is reported
// on stderr.
//
// Link with -lpetrel. Only petrel.h and the standard library are included.
#ifndef PETREL_HPP
#define PETREL_HPP

// The wrapper's parts (bindings/cpp/petrel/); together they include only petrel.h and the standard library.
#include "petrel/core.hpp"
#include "petrel/plugins.hpp"
#include "petrel/logging.hpp"
#include "petrel/producer.hpp"
#include "petrel/pull_consumer.hpp"
#include "petrel/push_consumer.hpp"

#endif  // PETREL_HPP
