// Transactional messages: a committed one, a rolled-back one, and one whose local transaction answered
// UNKNOWN (as if the process had crashed); the broker checks that one back and the checker commits it.
// Only the committed messages reach the consumer.
//   ./transaction_checkback [NAME_SERVERS]     (default: $PETREL_NAMESRV or 127.0.0.1:9876)
#include <petrel.hpp>

#include <condition_variable>
#include <cstdlib>
#include <iostream>
#include <map>
#include <mutex>
#include <set>
#include <unistd.h>

int main(int argc, char **argv) {
    const char *configured = std::getenv("PETREL_NAMESRV");
    std::string name_servers = argc > 1 ? argv[1] : configured ? configured : "127.0.0.1:9876";
    std::string topic = "ExamplePayments_" + std::to_string(getpid());
    // The "database" the local transaction writes: payment id -> whether it went through.
    const std::map<std::string, bool> payments{{"pay-1", true}, {"pay-2", true}, {"pay-3", false}};
    std::mutex lock;
    std::condition_variable changed;
    std::set<std::string> received;
    bool checked = false;
    try {
        petrel::ProducerOptions producer_options;
        producer_options.name_servers = name_servers;
        producer_options.group = "example-tx-" + std::to_string(getpid());
        petrel::Producer producer(producer_options);
        producer.set_transaction_checker([&](const petrel::MessageView &message) {
            bool paid = payments.at(message.keys());
            std::lock_guard<std::mutex> guard(lock);
            std::cout << "check-back for " << message.keys() << ": " << (paid ? "commit" : "rollback") << std::endl;
            checked = true;
            changed.notify_all();
            return paid ? petrel::TransactionState::commit : petrel::TransactionState::rollback;
        });
        producer.start();
        for (const auto &[payment, paid] : payments) {
            petrel::Message message(topic, "payment " + payment);
            message.set_keys(payment);
            auto outcome = producer.send_transaction(message, [&, paid = paid](const petrel::MessageView &) {
                if (payment == "pay-2") return petrel::TransactionState::unknown;  // the checker answers later
                return paid ? petrel::TransactionState::commit : petrel::TransactionState::rollback;
            });
            const char *names[] = {"COMMIT", "ROLLBACK", "UNKNOWN"};
            std::cout << payment << ": local transaction " << names[static_cast<int>(outcome.second)] << std::endl;
        }

        petrel::PushConsumerOptions consumer_options;
        consumer_options.name_servers = name_servers;
        consumer_options.group = "example-payments-" + std::to_string(getpid());
        consumer_options.consume_from = petrel::ConsumeFrom::first_offset;
        petrel::PushConsumer consumer(consumer_options);
        consumer.subscribe(topic, "*");
        consumer.set_listener([&](const petrel::MessageView &message) {
            std::lock_guard<std::mutex> guard(lock);
            received.insert(message.keys());
            changed.notify_all();
            return petrel::ConsumeResult::success;
        });
        consumer.start();
        std::unique_lock<std::mutex> guard(lock);
        if (!changed.wait_for(guard, std::chrono::seconds(120),
                              [&] { return checked && received.count("pay-1") && received.count("pay-2"); })) {
            std::cerr << "transaction_checkback: timed out\n";
            return 1;
        }
        std::cout << "consumed:";
        for (const auto &payment : received) std::cout << " " << payment;
        std::cout << std::endl;
        if (received.count("pay-3")) {
            std::cerr << "transaction_checkback: a rolled-back message was delivered\n";
            return 1;
        }
    } catch (const petrel::Error &error) {
        std::cerr << "transaction_checkback: " << error.what() << "\n";
        return 1;
    }
    std::cout << "transaction_checkback: OK" << std::endl;
    return 0;
}
