// Send three messages, then consume them with a push consumer.
//   ./send_and_consume [NAME_SERVERS]     (default: $PETREL_NAMESRV or 127.0.0.1:9876)
#include <petrel.hpp>

#include <condition_variable>
#include <cstdlib>
#include <iostream>
#include <mutex>
#include <unistd.h>

int main(int argc, char **argv) {
    const char *configured = std::getenv("PETREL_NAMESRV");
    std::string name_servers = argc > 1 ? argv[1] : configured ? configured : "127.0.0.1:9876";
    std::string topic = "ExampleGreetings_" + std::to_string(getpid());  // a fresh topic per run
    try {
        petrel::ProducerOptions producer_options;
        producer_options.name_servers = name_servers;
        producer_options.group = "example-producer";
        petrel::Producer producer(producer_options);
        producer.start();
        for (int index = 0; index < 3; ++index) {
            petrel::Message message(topic, "hello " + std::to_string(index));
            message.set_tags("greeting").set_keys("order-" + std::to_string(index)).set_property("language", "c++");
            petrel::SendResult result = producer.send(message);
            std::cout << "sent hello " << index << " as " << result.message_id << " to queue " << result.queue_id << "\n";
        }

        std::mutex lock;
        std::condition_variable changed;
        int received = 0;
        petrel::PushConsumerOptions consumer_options;
        consumer_options.name_servers = name_servers;
        consumer_options.group = "example-consumer-" + std::to_string(getpid());
        consumer_options.consume_from = petrel::ConsumeFrom::first_offset;
        petrel::PushConsumer consumer(consumer_options);
        consumer.subscribe(topic, "greeting");
        // Runs on a library thread. Throwing here would redeliver the message later.
        consumer.set_listener([&](const petrel::MessageView &message) {
            std::lock_guard<std::mutex> guard(lock);
            std::cout << "received " << message.body() << " tags=" << message.tags() << " keys=" << message.keys()
                      << " language=" << message.property("language").value_or("?") << std::endl;
            ++received;
            changed.notify_all();
            return petrel::ConsumeResult::success;
        });
        consumer.start();
        std::unique_lock<std::mutex> guard(lock);
        if (!changed.wait_for(guard, std::chrono::seconds(60), [&] { return received == 3; })) {
            std::cerr << "send_and_consume: timed out\n";
            return 1;
        }
    } catch (const petrel::Error &error) {
        std::cerr << "send_and_consume: " << error.what() << "\n";
        return 1;
    }
    std::cout << "send_and_consume: OK" << std::endl;
    return 0;
}
