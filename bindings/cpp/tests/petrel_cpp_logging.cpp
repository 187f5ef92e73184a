// The C++ wrapper's logging: a std::function receives the library's records at the threshold set.
#include "test_support.hpp"

#include <mutex>
#include <vector>

void test_logging() {
    CHECK(petrel::log_level() == petrel::LogLevel::warning);
    EXPECT_ERROR(invalid_argument, petrel::set_log_level(static_cast<petrel::LogLevel>(12)));
    std::mutex lock;
    std::vector<std::pair<petrel::LogLevel, std::string>> records;
    std::atomic<int> calls{0};
    petrel::set_log_handler(petrel::LogLevel::info, [&](petrel::LogLevel level, const std::string &logger,
                                                        const std::string &message) {
        std::lock_guard<std::mutex> guard(lock);
        records.emplace_back(level, logger + ": " + message);
        calls++;
        if (calls == 1) throw std::runtime_error("log handler failure on purpose");
    });
    CHECK(petrel::log_level() == petrel::LogLevel::info);
    {
        petrel::ProducerOptions options;
        options.name_servers = name_servers;
        petrel::Producer producer(options);
        producer.start();
        producer.shutdown();
    }
    CHECK(wait_until([&] {
        std::lock_guard<std::mutex> guard(lock);
        for (const auto &record : records) {
            if (record.first == petrel::LogLevel::info &&
                record.second.find("petrel.client: client instance started") != std::string::npos) return true;
        }
        return false;
    }));
    // Back to the default: the handler is released and never called again.
    petrel::set_log_handler(petrel::LogLevel::warning, nullptr);
    int before = calls.load();
    {
        std::lock_guard<std::mutex> guard(lock);
        for (const auto &record : records) CHECK(record.first >= petrel::LogLevel::info);
    }
    petrel::set_log_level(petrel::LogLevel::info);
    {
        petrel::ProducerOptions options;
        options.name_servers = name_servers;
        petrel::Producer producer(options);
        producer.start();
    }
    petrel::set_log_level(petrel::LogLevel::warning);
    CHECK(calls.load() == before);
}
