// The C++ wrapper's PushConsumer and PullConsumer against a real broker (part of petrel_cpp_test).
#include "test_support.hpp"

#include <mutex>
#include <set>

namespace {

/// What a listener saw, thread-safe.
struct Seen {
    std::mutex lock;
    std::vector<std::pair<std::string, int32_t>> entries;

    void add(const std::string &body, int32_t reconsume_times) {
        std::lock_guard<std::mutex> guard(lock);
        entries.emplace_back(body, reconsume_times);
    }
    size_t count_with(int32_t reconsume_times) {
        std::lock_guard<std::mutex> guard(lock);
        size_t count = 0;
        for (const auto &entry : entries) count += entry.second == reconsume_times ? 1 : 0;
        return count;
    }
};

petrel::PushConsumerOptions push_options(const std::string &group) {
    petrel::PushConsumerOptions options;
    options.name_servers = name_servers;
    options.group = group;
    options.consume_from = petrel::ConsumeFrom::first_offset;
    options.thread_count = 2;
    options.max_reconsume_times = 3;
    options.allocation = "average";
    return options;
}

}  // namespace

void test_push_consumer() {
    std::string topic = unique("CppPush");
    auto producer = started_producer();
    for (const char *body : {"fine", "retry", "throws"}) {
        petrel::Message message(topic, body);
        message.set_tags("A").set_keys(std::string("key-") + body).set_property("color", "red");
        producer.send(message);
    }
    petrel::Message filtered(topic, "filtered-out");
    filtered.set_tags("B");
    producer.send(filtered);

    EXPECT_ERROR(invalid_argument, petrel::PushConsumer(push_options("")));
    {
        petrel::PushConsumer without_listener(push_options(unique("CG")));
        without_listener.subscribe(topic, "*");
        EXPECT_ERROR(invalid_state, without_listener.start());
        EXPECT_ERROR(invalid_argument, without_listener.subscribe("", "*"));
    }
    Seen seen;
    std::atomic<bool> fields_ok{true};
    petrel::PushConsumer consumer(push_options(unique("CG")));
    consumer.subscribe(topic, "A");
    consumer.set_listener([&](const petrel::MessageView &message) {
        seen.add(message.body(), message.reconsume_times());
        if (message.tags() != "A" || message.keys() != "key-" + message.body() || message.property("color") != "red" ||
            message.topic() != topic || message.id().empty() || message.queue_offset() < 0 || message.store_timestamp() <= 0) {
            fields_ok = false;
        }
        // Enumeration shows the user property and RocketMQ's own (the id as UNIQ_KEY).
        auto properties = message.properties();
        auto has = [&](const std::string &name, const std::string &value) {
            for (const auto &entry : properties) if (entry.first == name) return entry.second == value;
            return false;
        };
        if (!has("color", "red") || !has("UNIQ_KEY", message.id())) fields_ok = false;
        if (message.reconsume_times() == 0 && message.body() == "retry") return petrel::ConsumeResult::retry_later;
        if (message.reconsume_times() == 0 && message.body() == "throws") throw std::runtime_error("listener failure on purpose");
        return petrel::ConsumeResult::success;
    });
    consumer.start();
    EXPECT_ERROR(invalid_state, consumer.subscribe(topic, "*"));
    CHECK(wait_until([&] { return seen.count_with(0) >= 3 && seen.count_with(1) >= 2; }));
    consumer.shutdown();
    CHECK(fields_ok.load());
    {
        std::lock_guard<std::mutex> guard(seen.lock);
        for (const auto &entry : seen.entries) CHECK(entry.first != "filtered-out" && !(entry.first == "fine" && entry.second > 0));
    }

    // Batches and broadcasting: two broadcasting consumers of one group both get everything.
    std::vector<std::unique_ptr<Seen>> everyone;
    std::vector<petrel::PushConsumer> broadcasters;
    std::string group = unique("CG_broadcast");
    for (int index = 0; index < 2; ++index) {
        auto options = push_options(group);
        options.message_model = petrel::MessageModel::broadcasting;
        options.instance_name = "b" + std::to_string(index);
        options.batch_max_size = 4;
        broadcasters.emplace_back(options);
        everyone.push_back(std::make_unique<Seen>());
        Seen *target = everyone.back().get();
        broadcasters.back().subscribe(topic, "*");
        broadcasters.back().set_batch_listener([target](const std::vector<petrel::MessageView> &messages) {
            if (messages.empty() || messages.size() > 4) return petrel::ConsumeResult::retry_later;
            for (const auto &message : messages) target->add(message.body(), 0);
            return petrel::ConsumeResult::success;
        });
        broadcasters.back().start();
    }
    for (auto &target : everyone) CHECK(wait_until([&] { return target->count_with(0) >= 4; }));
}

void test_pull_consumer() {
    std::string topic = unique("CppPull");
    auto producer = started_producer();
    for (int index = 0; index < 5; ++index) {
        petrel::Message message(topic, "p" + std::to_string(index));
        message.set_tags(index % 2 ? "odd" : "even").set_property("n", std::to_string(index));
        producer.send_ordered(message, "one-key");
    }
    petrel::PullConsumerOptions options;
    options.name_servers = name_servers;
    options.group = unique("CG_pull");
    options.poll_timeout = std::chrono::milliseconds(200);
    petrel::PullConsumer consumer(options);
    petrel::Queue some_queue{topic, "broker-a", 0};
    EXPECT_ERROR(invalid_state, consumer.fetch_queues(topic));
    consumer.start();
    std::vector<petrel::Queue> queues;
    CHECK(wait_until([&] {
        try {
            queues = consumer.fetch_queues(topic);
        } catch (const petrel::Error &error) {
            if (error.status() != petrel::Status::no_route) throw;
        }
        return !queues.empty();
    }));
    EXPECT_ERROR(no_route, consumer.fetch_queues(unique("NoSuchTopic")));
    int64_t total = 0;
    for (const auto &queue : queues) {
        CHECK(queue.topic == topic && queue.broker_name == "broker-a");
        auto result = consumer.pull(queue, 0, "*", 3);
        if (result.empty()) continue;
        CHECK(result[0].body() == "p0" && result[0].property("n") == std::optional<std::string>("0"));
        CHECK(result.size() == 3 && result.next_offset() == 3 && result.messages().size() == 3);
        auto rest = consumer.pull(queue, result.next_offset());
        CHECK(rest.size() == 2 && rest.next_offset() == 5);
        auto odd = consumer.pull(queue, 0, "odd");
        CHECK(odd.size() == 2 && odd[0].body() == "p1" && odd[1].tags() == "odd");
        auto nothing = consumer.pull(queue, 5);
        CHECK(nothing.empty() && nothing.next_offset() == 5);
        consumer.commit(queue, 5);
        EXPECT_ERROR(invalid_argument, consumer.pull(queue, 0, "*", 0));
        total += static_cast<int64_t>(result.size() + rest.size());
    }
    CHECK(total == 5);
    EXPECT_ERROR(invalid_argument, consumer.pull(petrel::Queue{std::string(300, 'x'), "broker-a", 0}, 0));
    EXPECT_ERROR(invalid_state, consumer.subscribe(topic, "*"));
    consumer.shutdown();

    // Subscribe and poll.
    options.group = unique("CG_poll");
    options.consume_from = petrel::ConsumeFrom::first_offset;
    petrel::PullConsumer poller(options);
    poller.subscribe(topic, "even");
    poller.start();
    std::set<std::string> polled;
    CHECK(wait_until([&] {
        auto result = poller.poll(std::chrono::milliseconds(200));
        CHECK(result.next_offset() == -1);
        for (const auto &message : result.messages()) polled.insert(message.body());
        return polled.size() >= 3;
    }));
    CHECK((polled == std::set<std::string>{"p0", "p2", "p4"}));
    poller.shutdown();
    EXPECT_ERROR(shut_down, poller.poll(std::chrono::milliseconds(10)));
}
