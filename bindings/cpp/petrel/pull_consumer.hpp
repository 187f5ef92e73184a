// petrel::PullConsumer and PullResult: pull by queue and offset, or subscribe and poll.
// Part of petrel.hpp (bindings/cpp), the header-only C++17 wrapper of petrel.h; include petrel.hpp.
#ifndef PETREL_PULL_CONSUMER_HPP
#define PETREL_PULL_CONSUMER_HPP

#include "core.hpp"

namespace petrel {

/// One queue of a topic.
struct Queue {
    std::string topic;
    std::string broker_name;
    int32_t queue_id = 0;

    petrel_queue to_native() const {
        if (topic.size() >= sizeof(petrel_queue::topic) || broker_name.size() >= sizeof(petrel_queue::broker_name)) {
            throw Error(Status::invalid_argument, "topic or broker name too long for petrel_queue");
        }
        petrel_queue queue{};
        topic.copy(queue.topic, topic.size());
        broker_name.copy(queue.broker_name, broker_name.size());
        queue.queue_id = queue_id;
        return queue;
    }
};

/// Messages from one pull or poll (maybe none), valid while this object lives (move-only).
class PullResult {
public:
    explicit PullResult(petrel_pull_result *result) : result_(result) {}
    size_t size() const noexcept { return petrel_pull_result_count(result_.get()); }
    bool empty() const noexcept { return size() == 0; }
    MessageView operator[](size_t index) const noexcept { return MessageView(petrel_pull_result_message(result_.get(), index)); }
    std::vector<MessageView> messages() const {
        std::vector<MessageView> views;
        for (size_t index = 0; index < size(); ++index) views.push_back((*this)[index]);
        return views;
    }
    /// Where to pull next; -1 for poll results.
    int64_t next_offset() const noexcept { return petrel_pull_result_next_offset(result_.get()); }

private:
    struct Destroy {
        void operator()(petrel_pull_result *result) const noexcept { petrel_pull_result_destroy(result); }
    };
    std::unique_ptr<petrel_pull_result, Destroy> result_;
};

/// Pull consumer settings; unset optionals keep the library's defaults.
struct PullConsumerOptions {
    std::string name_servers;
    std::string group;
    std::optional<std::string> instance_name;
    std::optional<std::chrono::milliseconds> poll_timeout;
    ConsumeFrom consume_from = ConsumeFrom::last_offset;
    int64_t consume_timestamp = 0;
    /// As in PushConsumerOptions.
    std::optional<std::string> plugin_directory;
    std::optional<std::string> compressor_plugin;
    std::optional<std::string> compressor_plugin_config;
};

/// A pull consumer (move-only): pull by queue and offset, or subscribe and poll.
class PullConsumer {
public:
    explicit PullConsumer(const PullConsumerOptions &settings) {
        petrel_pull_consumer_options options;
        petrel_pull_consumer_options_init(&options);
        options.name_servers = settings.name_servers.c_str();
        options.group = settings.group.c_str();
        options.instance_name = detail::c_string(settings.instance_name);
        if (settings.poll_timeout) options.poll_timeout_milliseconds = static_cast<uint32_t>(settings.poll_timeout->count());
        options.consume_from = static_cast<petrel_consume_from>(settings.consume_from);
        options.consume_timestamp = settings.consume_timestamp;
        options.plugin_directory = detail::c_string(settings.plugin_directory);
        options.compressor_plugin = detail::c_string(settings.compressor_plugin);
        options.compressor_plugin_config = detail::c_string(settings.compressor_plugin_config);
        petrel_pull_consumer *consumer = nullptr;
        check(petrel_pull_consumer_create(&options, &consumer));
        consumer_.reset(consumer);
    }

    void start() { check(petrel_pull_consumer_start(native())); }
    void shutdown() { check(petrel_pull_consumer_shutdown(native())); }

    /// The topic's readable queues.
    std::vector<Queue> fetch_queues(const std::string &topic) {
        size_t count = 0;
        std::vector<petrel_queue> queues(16);
        petrel_status status = petrel_pull_consumer_fetch_queues(native(), topic.c_str(), queues.data(), queues.size(), &count);
        if (status == PETREL_BUFFER_TOO_SMALL && count > queues.size()) {
            queues.resize(count);
            status = petrel_pull_consumer_fetch_queues(native(), topic.c_str(), queues.data(), queues.size(), &count);
        }
        check(status);
        std::vector<Queue> result;
        for (size_t index = 0; index < count; ++index) {
            result.push_back(Queue{queues[index].topic, queues[index].broker_name, queues[index].queue_id});
        }
        return result;
    }

    /// Up to `max_messages` from `queue` at `offset`; an empty result when there is nothing new.
    PullResult pull(const Queue &queue, int64_t offset, const std::string &expression = "*", int32_t max_messages = 32) {
        petrel_queue native_queue = queue.to_native();
        petrel_pull_result *result = nullptr;
        petrel_status status = petrel_pull_consumer_pull(native(), &native_queue, expression.c_str(), offset, max_messages, &result);
        return finish(status, result);
    }
    /// Before start.
    void subscribe(const std::string &topic, const std::string &expression = "*") {
        check(petrel_pull_consumer_subscribe(native(), topic.c_str(), expression.c_str()));
    }
    /// Next messages from the assigned queues (empty when none arrived in time).
    PullResult poll(std::chrono::milliseconds timeout) {
        petrel_pull_result *result = nullptr;
        // Two statements: the call must set `result` before finish() reads it.
        petrel_status status = petrel_pull_consumer_poll(native(), static_cast<uint32_t>(timeout.count()), &result);
        return finish(status, result);
    }
    void commit(const Queue &queue, int64_t offset) {
        petrel_queue native_queue = queue.to_native();
        check(petrel_pull_consumer_commit(native(), &native_queue, offset));
    }

    petrel_pull_consumer *native() const {
        if (!consumer_) throw Error(Status::invalid_state, "the pull consumer was moved from");
        return consumer_.get();
    }

private:
    static PullResult finish(petrel_status status, petrel_pull_result *result) {
        PullResult owned(result);  // destroyed on every path
        if (status != PETREL_NO_MESSAGE) check(status);
        return owned;
    }

    struct Destroy {
        void operator()(petrel_pull_consumer *consumer) const noexcept { petrel_pull_consumer_destroy(consumer); }
    };
    std::unique_ptr<petrel_pull_consumer, Destroy> consumer_;
};

}  // namespace petrel

#endif  // PETREL_PULL_CONSUMER_HPP
