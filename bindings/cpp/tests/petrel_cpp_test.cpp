// The C++ wrapper (petrel.hpp) against a real broker at $PETREL_NAMESRV: every class and method, bad
// arguments included. Prints "all checks passed" and exits 0 when everything held.
#include "test_support.hpp"

#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <iostream>
#include <mutex>
#include <set>
#include <thread>

namespace {

void test_basics_and_messages() {
    CHECK(!petrel::version().empty());
    CHECK(petrel::status_name(petrel::Status::timeout) == "PETREL_TIMEOUT");
    petrel::Message message("Topic", std::string("a\0b", 3));
    message.set_tags("T").set_keys("k1 k2").set_property("color", "red").set_delay_level(3).set_delay_level(0);
    auto view = message.view();
    CHECK(view.topic() == "Topic" && view.tags() == "T" && view.keys() == "k1 k2");
    CHECK(view.body() == std::string("a\0b", 3) && view.property("color") == std::optional<std::string>("red"));
    CHECK(!view.property("absent") && view.id().empty() && view.queue_id() == -1 && view.queue_offset() == -1);
    CHECK(view.reconsume_times() == -1 && view.born_timestamp() == -1 && view.store_timestamp() == -1);
    message.set_property("alpha", "1");
    using Entries = std::vector<std::pair<std::string, std::string>>;
    CHECK(view.properties() == (Entries{{"alpha", "1"}, {"color", "red"}}));
    EXPECT_ERROR(invalid_argument, petrel::Message(""));
    EXPECT_ERROR(invalid_argument, message.set_delay_level(99));
    EXPECT_ERROR(invalid_argument, message.set_deliver_time(-5));
    message.set_deliver_time(std::chrono::system_clock::now()).set_deliver_time(0);
    petrel::Message moved = std::move(message);
    CHECK(moved.view().topic() == "Topic" && message.native() == nullptr);
    // A moved-from message has no C message: enumeration fails with a status, never a crash.
    EXPECT_ERROR(invalid_argument, message.view().properties());
    petrel::Error error(petrel::Status::broker_error, "remark");
    CHECK(std::string(error.what()) == "PETREL_BROKER_ERROR: remark" && error.message() == "remark");
}

void test_batch_ordered_selected(petrel::Producer &producer, const std::string &topic);

/// Text with many near-repeats (the same generator as Tests/CAPI/capi_producer.c).
std::string word_soup() {
    static const char *const words[] = {"broker", "queue", "offset", "message", "topic", "consumer", "producer",
                                        "commit", "log", "index", "tag", "key", "retry", "delay", "order",
                                        "batch", "flush", "store", "route", "group"};
    std::string text;
    uint64_t state = 0x2545F4914F6CDD1DULL;
    for (int index = 0; index < 40000; index++) {
        state = state * 6364136223846793005ULL + 1442695040888963407ULL;
        text += words[(state >> 33) % 20];
        text += (state & 0x100) == 0 ? " " : ", ";
    }
    return text;
}

/// compression_level: out of range is refused; the word soup sent at levels 1 and 9 prints both offset
/// message ids ("compression-level-ids <1> <9>") for test_cpp_binding.py to compare the stored sizes.
void test_compression_levels() {
    petrel::ProducerOptions options;
    options.name_servers = name_servers;
    options.compression_level = 0;
    EXPECT_ERROR(invalid_argument, petrel::Producer{options});
    std::string ids[2];
    const int32_t levels[2] = {1, 9};
    const std::string body = word_soup();
    for (int index = 0; index < 2; index++) {
        options.group = unique("PG_level");
        options.compression_level = levels[index];
        petrel::Producer producer(options);
        producer.start();
        petrel::Message message("CppCompression", body);
        ids[index] = producer.send(message).offset_message_id;
    }
    std::cout << "compression-level-ids " << ids[0] << " " << ids[1] << "\n";
}

void test_producer_sends() {
    EXPECT_ERROR(invalid_argument, petrel::Producer(petrel::ProducerOptions{}));
    test_compression_levels();
    {
        petrel::ProducerOptions options;
        options.name_servers = name_servers;
        petrel::Producer unstarted(options);
        petrel::Message message("Topic", "x");
        EXPECT_ERROR(invalid_state, unstarted.send(message));
    }
    auto producer = started_producer();
    std::string topic = unique("CppSend");
    petrel::Message message(topic, "sync");
    message.set_tags("A").set_keys("key-1").set_property("color", "red");
    auto result = producer.send(message);
    CHECK(result.send_status == 0 && !result.message_id.empty() && !result.offset_message_id.empty());
    CHECK(result.broker_name == "broker-a" && message.view().id() == result.message_id);

    std::mutex lock;
    std::condition_variable done;
    std::vector<petrel::Status> statuses;
    for (int index = 0; index < 3; ++index) {
        petrel::Message async(topic, "async");
        producer.send_async(async, [&](petrel::Status status, const petrel::SendResult *sent, const std::string &) {
            std::lock_guard<std::mutex> guard(lock);
            statuses.push_back(sent && !sent->message_id.empty() ? status : petrel::Status::internal_error);
            done.notify_all();
        });
    }
    petrel::Message throwing(topic, "async-throwing");
    producer.send_async(throwing, [](petrel::Status, const petrel::SendResult *, const std::string &) {
        throw std::runtime_error("callback failure on purpose");
    });
    {
        std::unique_lock<std::mutex> guard(lock);
        CHECK(done.wait_for(guard, std::chrono::seconds(30), [&] { return statuses.size() == 3; }));
        for (auto status : statuses) CHECK(status == petrel::Status::ok);
    }
    // Argument errors come back as exceptions at once; the callback is never called for them.
    std::atomic<int> refused_calls{0};
    petrel::Message bad_topic("bad topic!", "x");
    EXPECT_ERROR(invalid_argument, producer.send_async(bad_topic, [&](petrel::Status, const petrel::SendResult *,
                                                                      const std::string &) { refused_calls++; }));
    petrel::Message empty_body(topic);
    EXPECT_ERROR(invalid_argument, producer.send_async(empty_body, [&](petrel::Status, const petrel::SendResult *,
                                                                       const std::string &) { refused_calls++; }));
    petrel::Message oneway(topic, "oneway");
    producer.send_oneway(oneway);
    test_batch_ordered_selected(producer, topic);
    CHECK(refused_calls.load() == 0);
    // sync + 3 async + the throwing callback's message + oneway + 3 batch + 2 ordered + selected.
    CHECK(wait_until([&] { return read_bodies(topic).size() == 12; }));
    producer.shutdown();
    producer.shutdown();
    EXPECT_ERROR(shut_down, producer.send(message));
    petrel::Producer moved = std::move(producer);
    EXPECT_ERROR(invalid_state, producer.start());
}

void test_batch_ordered_selected(petrel::Producer &producer, const std::string &topic) {

    std::vector<petrel::Message> batch;
    for (int index = 0; index < 3; ++index) batch.emplace_back(topic, "batch-" + std::to_string(index));
    auto batch_result = producer.send_batch(batch);
    CHECK(batch_result.message_id == batch[0].view().id() && batch[1].view().id() != batch[0].view().id());
    std::vector<petrel::Message> empty_batch;
    EXPECT_ERROR(invalid_argument, producer.send_batch(empty_batch));

    petrel::Message first(topic, "ordered-1"), second(topic, "ordered-2");
    auto ordered_first = producer.send_ordered(first, "order-9");
    auto ordered_second = producer.send_ordered(second, "order-9");
    CHECK(ordered_first.queue_id == ordered_second.queue_id);
    EXPECT_ERROR(invalid_argument, producer.send_ordered(first, ""));

    petrel::Message selected(topic, "selected");
    int seen_count = 0;
    auto selected_result = producer.send_selected(selected, [&](int32_t queue_count, const petrel::MessageView &view) {
        seen_count = queue_count;
        return view.body() == "selected" ? queue_count - 1 : 0;
    });
    CHECK(seen_count > 0 && selected_result.queue_id == seen_count - 1);
    EXPECT_ERROR(invalid_argument, producer.send_selected(selected, [](int32_t count, const petrel::MessageView &) { return count; }));
    bool rethrown = false;
    try {
        producer.send_selected(selected, [](int32_t, const petrel::MessageView &) -> int32_t { throw std::logic_error("selector"); });
    } catch (const std::logic_error &) {
        rethrown = true;
    }
    CHECK(rethrown);
    petrel::Message reserved(topic, "x");
    reserved.set_property("UNIQ_KEY", "mine");
    EXPECT_ERROR(invalid_argument, producer.send(reserved));

    // A deliver time holds the message until then.
    std::string timed_topic = unique("CppTimed");
    petrel::Message now(timed_topic, "now");
    producer.send(now);
    CHECK(wait_until([&] { return !read_bodies(timed_topic).empty(); }));  // readable: reads are quick now
    auto deliver_at = std::chrono::system_clock::now() + std::chrono::milliseconds(2000);
    petrel::Message later(timed_topic, "later");
    later.set_deliver_time(deliver_at);
    producer.send(later);
    CHECK(read_bodies(timed_topic) == std::vector<std::string>{"now"});
    CHECK(wait_until([&] { return read_bodies(timed_topic).size() == 2; }));
    CHECK(std::chrono::system_clock::now() >= deliver_at - std::chrono::milliseconds(200));
}

void test_transactions() {
    std::string topic = unique("CppTx");
    std::atomic<int> checks{0};
    auto producer = [&] {
        petrel::ProducerOptions options;
        options.name_servers = name_servers;
        options.group = unique("TG");
        petrel::Producer created(options);
        created.set_transaction_checker([&](const petrel::MessageView &view) {
            ++checks;
            if (view.body() == "throws") throw std::runtime_error("checker failure on purpose");
            return view.body() == "unknown" ? petrel::TransactionState::commit : petrel::TransactionState::rollback;
        });
        created.start();
        return created;
    }();
    EXPECT_ERROR(invalid_state, producer.set_transaction_checker([](const petrel::MessageView &) { return petrel::TransactionState::commit; }));
    auto run = [&](const std::string &body, petrel::TransactionState answer) {
        petrel::Message message(topic, body);
        return producer.send_transaction(message, [&](const petrel::MessageView &view) {
            if (view.id().empty()) throw std::runtime_error("no id");
            if (body == "throws") throw std::runtime_error("local failure on purpose");
            return answer;
        });
    };
    CHECK(run("committed", petrel::TransactionState::commit).second == petrel::TransactionState::commit);
    CHECK(run("rolled-back", petrel::TransactionState::rollback).second == petrel::TransactionState::rollback);
    CHECK(run("unknown", petrel::TransactionState::unknown).second == petrel::TransactionState::unknown);
    CHECK(run("throws", petrel::TransactionState::commit).second == petrel::TransactionState::unknown);
    CHECK(wait_until([&] {
        auto bodies = read_bodies(topic);
        return std::multiset<std::string>(bodies.begin(), bodies.end()) == std::multiset<std::string>{"committed", "unknown"};
    }));
    CHECK(wait_until([&] { return checks.load() >= 2; }));
}

}  // namespace

void test_push_consumer();
void test_pull_consumer();
void test_plugins();
void test_logging();

int main() {
    const char *configured = std::getenv("PETREL_NAMESRV");
    if (!configured) {
        std::cerr << "set PETREL_NAMESRV to the name server address\n";
        return 2;
    }
    name_servers = configured;
    try {
        test_basics_and_messages();
        test_producer_sends();
        test_transactions();
        test_push_consumer();
        test_pull_consumer();
        test_plugins();
        test_logging();
    } catch (const std::exception &error) {
        std::cerr << "unexpected exception: " << error.what() << "\n";
        return 1;
    }
    if (failures) {
        std::cerr << failures << " checks failed\n";
        return 1;
    }
    std::cout << "all checks passed\n";
    return 0;
}
