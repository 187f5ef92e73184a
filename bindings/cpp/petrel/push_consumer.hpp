// petrel::PushConsumer: the library pulls and calls std::function listeners.
// Part of petrel.hpp (bindings/cpp), the header-only C++17 wrapper of petrel.h; include petrel.hpp.
#ifndef PETREL_PUSH_CONSUMER_HPP
#define PETREL_PUSH_CONSUMER_HPP

#include "core.hpp"

namespace petrel {

/// Push consumer settings; unset optionals keep the library's defaults.
struct PushConsumerOptions {
    std::string name_servers;
    std::string group;
    std::optional<std::string> instance_name;
    MessageModel message_model = MessageModel::clustering;
    ConsumeFrom consume_from = ConsumeFrom::last_offset;
    int64_t consume_timestamp = 0;
    bool orderly = false;
    std::optional<uint32_t> thread_count;
    std::optional<uint32_t> batch_max_size;
    std::optional<int32_t> max_reconsume_times;
    /// "average", "circle" or "consistent-hash".
    std::optional<std::string> allocation;
    /// Where plugin names are looked up (<plugin_directory>/<name>.so); unset: paths only.
    std::optional<std::string> plugin_directory;
    /// An allocation plugin (name or path, e.g. "allocate-consistent-hash"); replaces `allocation`.
    std::optional<std::string> allocation_plugin;
    std::optional<std::string> allocation_plugin_config;
    /// A compressor plugin (name or path, e.g. "compress-zstd"): the broker sends zstd bodies, decompressed here.
    std::optional<std::string> compressor_plugin;
    std::optional<std::string> compressor_plugin_config;
};

/// A push consumer (move-only): subscribe, set a listener, start. The destructor shuts it down.
class PushConsumer {
public:
    explicit PushConsumer(const PushConsumerOptions &settings) : listener_(std::make_unique<BatchListener>()) {
        petrel_push_consumer_options options;
        petrel_push_consumer_options_init(&options);
        options.name_servers = settings.name_servers.c_str();
        options.group = settings.group.c_str();
        options.instance_name = detail::c_string(settings.instance_name);
        options.message_model = static_cast<petrel_message_model>(settings.message_model);
        options.consume_from = static_cast<petrel_consume_from>(settings.consume_from);
        options.consume_timestamp = settings.consume_timestamp;
        options.orderly = settings.orderly ? 1 : 0;
        if (settings.thread_count) options.thread_count = *settings.thread_count;
        if (settings.batch_max_size) options.batch_max_size = *settings.batch_max_size;
        if (settings.max_reconsume_times) options.max_reconsume_times = *settings.max_reconsume_times;
        options.allocation = detail::c_string(settings.allocation);
        options.plugin_directory = detail::c_string(settings.plugin_directory);
        options.allocation_plugin = detail::c_string(settings.allocation_plugin);
        options.allocation_plugin_config = detail::c_string(settings.allocation_plugin_config);
        options.compressor_plugin = detail::c_string(settings.compressor_plugin);
        options.compressor_plugin_config = detail::c_string(settings.compressor_plugin_config);
        petrel_push_consumer *consumer = nullptr;
        check(petrel_push_consumer_create(&options, &consumer));
        consumer_.reset(consumer);
    }

    /// Before start: "*" or "tagA || tagB".
    void subscribe(const std::string &topic, const std::string &expression = "*") {
        check(petrel_push_consumer_subscribe(native(), topic.c_str(), expression.c_str()));
    }
    /// Before start. A listener that throws gets the messages redelivered.
    void set_batch_listener(BatchListener listener) {
        auto replacement = std::make_unique<BatchListener>(std::move(listener));
        check(petrel_push_consumer_set_listener(native(), &PushConsumer::on_messages, replacement.get()));
        listener_.swap(replacement);
    }
    /// Before start: `listener` per message; one failure redelivers the whole delivery.
    void set_listener(Listener listener) {
        set_batch_listener([listener = std::move(listener)](const std::vector<MessageView> &messages) {
            for (const auto &message : messages) {
                if (listener(message) != ConsumeResult::success) return ConsumeResult::retry_later;
            }
            return ConsumeResult::success;
        });
    }
    void start() { check(petrel_push_consumer_start(native())); }
    void shutdown() { check(petrel_push_consumer_shutdown(native())); }

    petrel_push_consumer *native() const {
        if (!consumer_) throw Error(Status::invalid_state, "the push consumer was moved from");
        return consumer_.get();
    }

private:
    static petrel_consume_result on_messages(void *user_data, const petrel_message *const *messages,
                                             size_t count) noexcept {
        try {
            std::vector<MessageView> views;
            views.reserve(count);
            for (size_t index = 0; index < count; ++index) views.emplace_back(messages[index]);
            return static_cast<petrel_consume_result>((*static_cast<BatchListener *>(user_data))(views));
        } catch (const std::exception &error) {
            std::fprintf(stderr, "petrel: listener threw: %s; messages will be retried\n", error.what());
        } catch (...) {
            std::fprintf(stderr, "petrel: listener threw; messages will be retried\n");
        }
        return PETREL_CONSUME_RETRY_LATER;
    }

    struct Destroy {
        void operator()(petrel_push_consumer *consumer) const noexcept { petrel_push_consumer_destroy(consumer); }
    };
    // Declared first so it is destroyed after the consumer, whose threads call it.
    std::unique_ptr<BatchListener> listener_;
    std::unique_ptr<petrel_push_consumer, Destroy> consumer_;
};

}  // namespace petrel

#endif  // PETREL_PUSH_CONSUMER_HPP
