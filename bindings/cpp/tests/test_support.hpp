// Helpers shared by the C++ wrapper's test program: checks, polling, names, reading a topic back.
#ifndef PETREL_CPP_TEST_SUPPORT_HPP
#define PETREL_CPP_TEST_SUPPORT_HPP

#include "petrel.hpp"

#include <atomic>
#include <iostream>
#include <thread>

inline int failures = 0;

#define CHECK(condition)                                                                    \
    do {                                                                                    \
        if (!(condition)) {                                                                 \
            ++failures;                                                                     \
            std::cerr << __FILE__ << ":" << __LINE__ << ": check failed: " #condition "\n"; \
        }                                                                                   \
    } while (0)

/// Runs `action` and checks it throws petrel::Error with `status`.
template <typename Action>
inline void expect_error(petrel::Status status, Action action, int line) {
    try {
        action();
        ++failures;
        std::cerr << "line " << line << ": expected " << petrel::status_name(status) << ", nothing thrown\n";
    } catch (const petrel::Error &error) {
        if (error.status() != status) {
            ++failures;
            std::cerr << "line " << line << ": expected " << petrel::status_name(status) << ", got " << error.what() << "\n";
        }
    }
}
#define EXPECT_ERROR(status, statement) expect_error(petrel::Status::status, [&] { statement; }, __LINE__)

/// Polls `condition` every 20 ms for up to 60 s.
template <typename Condition>
inline bool wait_until(Condition condition) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (std::chrono::steady_clock::now() < deadline) {
        if (condition()) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return condition();
}

inline std::string name_servers;
inline std::string unique(const std::string &prefix) {
    static std::atomic<int> counter{0};
    return prefix + "_cpp_" + std::to_string(std::chrono::steady_clock::now().time_since_epoch().count() % 100000) + "_" +
           std::to_string(++counter);
}

inline petrel::Producer started_producer(std::optional<std::string> group = std::nullopt) {
    petrel::ProducerOptions options;
    options.name_servers = name_servers;
    options.group = group ? group : unique("PG");
    options.send_timeout = std::chrono::milliseconds(5000);
    options.retry_times = 2;
    options.compress_over_bytes = 4096;
    options.max_message_bytes = 4 * 1024 * 1024;
    petrel::Producer producer(options);
    producer.start();
    return producer;
}

/// Every message of a topic, read from offset 0 of each queue (empty while the topic has no route yet).
inline std::vector<std::string> read_bodies(const std::string &topic, const std::string &expression = "*") {
    petrel::PullConsumerOptions options;
    options.name_servers = name_servers;
    options.group = unique("CG_read");
    petrel::PullConsumer consumer(options);
    consumer.start();
    std::vector<std::string> bodies;
    try {
        for (const auto &queue : consumer.fetch_queues(topic)) {
            int64_t offset = 0;
            for (;;) {
                auto result = consumer.pull(queue, offset, expression);
                if (result.empty()) break;
                for (const auto &message : result.messages()) bodies.push_back(message.body());
                offset = result.next_offset();
            }
        }
    } catch (const petrel::Error &error) {
        if (error.status() != petrel::Status::no_route) throw;
    }
    return bodies;
}

#endif  // PETREL_CPP_TEST_SUPPORT_HPP
