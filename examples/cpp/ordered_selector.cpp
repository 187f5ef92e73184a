// Ordered messages: every step of an order goes to the queue a selector picks from the order id, and an
// orderly push consumer sees each order's steps in the order they were sent.
//   ./ordered_selector [NAME_SERVERS]     (default: $PETREL_NAMESRV or 127.0.0.1:9876)
#include <petrel.hpp>

#include <condition_variable>
#include <cstdlib>
#include <iostream>
#include <map>
#include <mutex>
#include <unistd.h>

int main(int argc, char **argv) {
    const char *configured = std::getenv("PETREL_NAMESRV");
    std::string name_servers = argc > 1 ? argv[1] : configured ? configured : "127.0.0.1:9876";
    std::string topic = "ExampleOrders_" + std::to_string(getpid());
    const std::vector<int> orders{101, 102, 103};
    const std::vector<std::string> steps{"created", "paid", "shipped", "delivered"};
    try {
        petrel::ProducerOptions producer_options;
        producer_options.name_servers = name_servers;
        producer_options.group = "example-ordered-producer";
        petrel::Producer producer(producer_options);
        producer.start();
        for (const auto &step : steps) {
            for (int order_id : orders) {
                petrel::Message message(topic, std::to_string(order_id) + ":" + step);
                message.set_keys(std::to_string(order_id));
                // The same order id, the same queue: that keeps one order's steps in sequence.
                auto result = producer.send_selected(message, [order_id](int32_t queue_count, const petrel::MessageView &) {
                    return order_id % queue_count;
                });
                std::cout << "sent order " << order_id << " " << step << " to queue " << result.queue_id << "\n";
            }
        }

        std::mutex lock;
        std::condition_variable changed;
        std::map<std::string, std::vector<std::string>> seen;
        size_t total = 0;
        petrel::PushConsumerOptions consumer_options;
        consumer_options.name_servers = name_servers;
        consumer_options.group = "example-ordered-consumer-" + std::to_string(getpid());
        consumer_options.consume_from = petrel::ConsumeFrom::first_offset;
        consumer_options.orderly = true;
        petrel::PushConsumer consumer(consumer_options);
        consumer.subscribe(topic, "*");
        consumer.set_listener([&](const petrel::MessageView &message) {
            std::string body = message.body();
            std::lock_guard<std::mutex> guard(lock);
            seen[body.substr(0, body.find(':'))].push_back(body.substr(body.find(':') + 1));
            ++total;
            changed.notify_all();
            return petrel::ConsumeResult::success;
        });
        consumer.start();
        std::unique_lock<std::mutex> guard(lock);
        if (!changed.wait_for(guard, std::chrono::seconds(60), [&] { return total == orders.size() * steps.size(); })) {
            std::cerr << "ordered_selector: timed out\n";
            return 1;
        }
        for (const auto &[order_id, received] : seen) {
            std::cout << "order " << order_id << ":";
            for (size_t index = 0; index < received.size(); ++index) std::cout << (index ? " -> " : " ") << received[index];
            std::cout << "\n";
            if (received != steps) {
                std::cerr << "ordered_selector: steps out of order\n";
                return 1;
            }
        }
    } catch (const petrel::Error &error) {
        std::cerr << "ordered_selector: " << error.what() << "\n";
        return 1;
    }
    std::cout << "ordered_selector: OK" << std::endl;
    return 0;
}
