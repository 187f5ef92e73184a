// Plugins through the C++ wrapper (part of petrel_cpp_test): ordered sends through selector-hash land on
// order_id % queues, two consumers with allocate-consistent-hash settle to one owner per queue, compressor
// plugins load into consumer options, broken fixtures throw plugin_error with their reason.
#include "test_support.hpp"

#include <cstdlib>
#include <map>
#include <mutex>
#include <set>

namespace {

/// The queue count the producer offers for `topic`.
int32_t queue_count(petrel::Producer &producer, const std::string &topic) {
    petrel::Message probe(topic, "probe");
    int32_t count = 0;
    producer.send_selected(probe, [&](int32_t queues, const petrel::MessageView &) { return (count = queues), 0; });
    return count;
}

void test_selector_plugins(petrel::Producer &producer, const std::string &directory) {
    std::string topic = unique("CppPluginOrders");
    petrel::SelectorPlugin by_name("selector-hash", std::nullopt, directory);
    petrel::SelectorPlugin by_path(directory + "/selector-hash.so");
    int32_t queues = queue_count(producer, topic);
    CHECK(queues > 0);
    for (int64_t order_id : {0, 1, 2, 3, 5, 6, 11, 1000003, 42}) {
        petrel::Message message(topic, "order-" + std::to_string(order_id));
        CHECK(producer.send_plugin_selected(message, by_name, order_id).queue_id == order_id % queues);
        CHECK(producer.send_plugin_selected(message, by_path, order_id).queue_id == order_id % queues);
    }
    petrel::Message keyed(topic, "keyed");
    CHECK(producer.send_plugin_selected(keyed, by_name, std::string("customer-7")).queue_id ==
          producer.send_plugin_selected(keyed, by_path, std::string("customer-7")).queue_id);
    try {
        petrel::SelectorPlugin broken("broken-init-failure", std::string("nope"), directory);
        CHECK(!"broken-init-failure loaded");
    } catch (const petrel::Error &error) {
        CHECK(error.status() == petrel::Status::plugin_error);
        CHECK(std::string(error.what()).find("cannot start with config 'nope'") != std::string::npos);
    }
    EXPECT_ERROR(plugin_error, petrel::SelectorPlugin("broken-abi-major", std::nullopt, directory));
    EXPECT_ERROR(plugin_error, petrel::SelectorPlugin("selector-hash"));  // a name needs a directory
}

void test_consumer_plugin_options(const std::string &directory) {
    petrel::PushConsumerOptions push;
    push.name_servers = name_servers;
    push.group = unique("CG");
    push.plugin_directory = directory;
    push.allocation_plugin = "allocate-consistent-hash";
    push.allocation_plugin_config = "virtual-nodes=x";
    EXPECT_ERROR(plugin_error, petrel::PushConsumer{push});
    push.allocation_plugin_config.reset();
    push.compressor_plugin = "broken-abi-major";
    EXPECT_ERROR(plugin_error, petrel::PushConsumer{push});
    push.compressor_plugin = "compress-zstd";
    petrel::PushConsumer accepted(push);
    petrel::PullConsumerOptions pull;
    pull.name_servers = name_servers;
    pull.group = unique("CG");
    pull.plugin_directory = directory;
    pull.compressor_plugin = "compress-zstd";
    petrel::PullConsumer puller(pull);
}

void test_allocation_plugin(petrel::Producer &producer, const std::string &directory) {
    std::string topic = unique("CppPluginAllocation"), group = unique("CG");
    petrel::SelectorPlugin selector("selector-hash", std::nullopt, directory);
    int32_t queues = queue_count(producer, topic);
    std::mutex lock;
    std::map<std::pair<int, int>, std::set<int>> owners;
    std::vector<std::unique_ptr<petrel::PushConsumer>> consumers;
    for (int index = 0; index < 2; ++index) {
        petrel::PushConsumerOptions options;
        options.name_servers = name_servers;
        options.group = group;
        options.consume_from = petrel::ConsumeFrom::first_offset;
        options.plugin_directory = directory;
        options.allocation_plugin = "allocate-consistent-hash";
        auto consumer = std::make_unique<petrel::PushConsumer>(options);
        consumer->subscribe(topic);
        consumer->set_listener([&, index](const petrel::MessageView &message) {
            int round = -1, queue = -1;
            if (std::sscanf(message.body().c_str(), "%d/%d", &round, &queue) == 2) {
                std::lock_guard<std::mutex> guard(lock);
                owners[{round, queue}].insert(index);
            }
            return petrel::ConsumeResult::success;
        });
        consumer->start();
        consumers.push_back(std::move(consumer));
    }
    // Settled: two rounds in a row give every queue's message to exactly one consumer, the same one.
    std::vector<std::set<int>> previous;
    bool settled = false;
    for (int round = 0; round < 60 && !settled; ++round) {
        for (int32_t queue = 0; queue < queues; ++queue) {
            petrel::Message message(topic, std::to_string(round) + "/" + std::to_string(queue));
            producer.send_plugin_selected(message, selector, queue + static_cast<int64_t>(round) * queues);
        }
        bool complete = wait_until([&] {
            std::lock_guard<std::mutex> guard(lock);
            for (int32_t queue = 0; queue < queues; ++queue) {
                if (!owners.count({round, queue})) return false;
            }
            return true;
        });
        if (!complete) continue;
        std::vector<std::set<int>> current;
        bool exact = true;
        {
            std::lock_guard<std::mutex> guard(lock);
            for (int32_t queue = 0; queue < queues; ++queue) {
                current.push_back(owners[{round, queue}]);
                exact = exact && current.back().size() == 1;
            }
        }
        settled = exact && current == previous;
        previous = current;
    }
    CHECK(settled);
    for (auto &consumer : consumers) consumer->shutdown();
}

}  // namespace

void test_plugins() {
    const char *configured = std::getenv("PETREL_PLUGIN_DIR");
    if (!configured || !*configured) {
        ++failures;
        std::cerr << "set PETREL_PLUGIN_DIR to the built plugins' directory\n";
        return;
    }
    std::string directory = configured;
    auto producer = started_producer();
    test_selector_plugins(producer, directory);
    test_consumer_plugin_options(directory);
    test_allocation_plugin(producer, directory);
}
