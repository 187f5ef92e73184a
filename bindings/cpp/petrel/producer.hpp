// petrel::Producer: sends of every kind and transactions.
// Part of petrel.hpp (bindings/cpp), the header-only C++17 wrapper of petrel.h; include petrel.hpp.
#ifndef PETREL_PRODUCER_HPP
#define PETREL_PRODUCER_HPP

#include "core.hpp"
#include "plugins.hpp"

namespace petrel {

/// A producer (move-only). The destructor shuts it down and releases it.
class Producer {
public:
    explicit Producer(const ProducerOptions &settings) : checker_(std::make_unique<TransactionCallback>()) {
        petrel_producer_options options;
        petrel_producer_options_init(&options);
        options.name_servers = settings.name_servers.c_str();
        options.group = detail::c_string(settings.group);
        options.instance_name = detail::c_string(settings.instance_name);
        if (settings.send_timeout) options.send_timeout_milliseconds = static_cast<uint32_t>(settings.send_timeout->count());
        if (settings.retry_times) options.retry_times = *settings.retry_times;
        if (settings.compress_over_bytes) options.compress_over_bytes = *settings.compress_over_bytes;
        if (settings.max_message_bytes) options.max_message_bytes = *settings.max_message_bytes;
        if (settings.compression_level) options.compression_level = *settings.compression_level;
        petrel_producer *producer = nullptr;
        check(petrel_producer_create(&options, &producer));
        producer_.reset(producer);
    }

    void start() { check(petrel_producer_start(native())); }
    /// Waits for in-flight async sends; idempotent.
    void shutdown() { check(petrel_producer_shutdown(native())); }

    SendResult send(Message &message) {
        petrel_send_result result{};
        check(petrel_producer_send(native(), message.native(), &result));
        return SendResult::from(result);
    }

    /// Sends without waiting; `callback` runs once on a library thread.
    void send_async(Message &message, SendCallback callback) {
        auto owned = std::make_unique<SendCallback>(std::move(callback));
        check(petrel_producer_send_async(native(), message.native(), &Producer::on_send, owned.get()));
        owned.release();  // the trampoline deletes it
    }

    void send_oneway(Message &message) { check(petrel_producer_send_oneway(native(), message.native())); }

    /// One batch to one queue; each message's id is readable through message.view().id() afterwards.
    SendResult send_batch(std::vector<Message> &messages) {
        std::vector<petrel_message *> natives;
        natives.reserve(messages.size());
        for (auto &message : messages) natives.push_back(message.native());
        petrel_send_result result{};
        check(petrel_producer_send_batch(native(), natives.data(), natives.size(), &result));
        return SendResult::from(result);
    }

    /// Sends to the queue `hash(sharding_key) % queue_count`.
    SendResult send_ordered(Message &message, const std::string &sharding_key) {
        petrel_send_result result{};
        check(petrel_producer_send_ordered(native(), message.native(), sharding_key.c_str(), &result));
        return SendResult::from(result);
    }

    /// Sends to the queue `selector` picks; an exception the selector throws is rethrown here.
    SendResult send_selected(Message &message, const QueueSelector &selector) {
        detail::Selection selection{&selector, nullptr};
        petrel_send_result result{};
        petrel_status status = petrel_producer_send_selected(native(), message.native(), &Producer::on_select,
                                                             nullptr, &selection, &result);
        if (selection.error) std::rethrow_exception(selection.error);
        check(status);
        return SendResult::from(result);
    }

    /// Sends to the queue the selector plugin picks for the message and an integer argument (an order
    /// id: selector-hash picks order_id % queue_count). A plugin failure throws Status::plugin_error.
    SendResult send_plugin_selected(Message &message, const SelectorPlugin &selector, int64_t argument) {
        petrel_send_result result{};
        check(petrel_producer_send_plugin_selected(native(), message.native(), selector.native(), argument, nullptr,
                                                   &result));
        return SendResult::from(result);
    }
    /// The same with a string argument (e.g. a customer id).
    SendResult send_plugin_selected(Message &message, const SelectorPlugin &selector, const std::string &argument) {
        petrel_send_result result{};
        check(petrel_producer_send_plugin_selected(native(), message.native(), selector.native(), 0, argument.c_str(),
                                                   &result));
        return SendResult::from(result);
    }

    /// Registers the check-back for transactions left UNKNOWN. Before start.
    void set_transaction_checker(TransactionCallback checker) {
        auto replacement = std::make_unique<TransactionCallback>(std::move(checker));
        check(petrel_producer_set_transaction_checker(native(), &Producer::on_check, replacement.get()));
        checker_.swap(replacement);
    }

    /// Stores a half message, runs `local_transaction` on this thread, commits or rolls back as it answers.
    std::pair<SendResult, TransactionState> send_transaction(Message &message, TransactionCallback local_transaction) {
        petrel_send_result result{};
        petrel_transaction_state state = PETREL_TRANSACTION_UNKNOWN;
        check(petrel_producer_send_transaction(native(), message.native(), &Producer::on_local, nullptr,
                                               &local_transaction, &result, &state));
        return {SendResult::from(result), static_cast<TransactionState>(state)};
    }

    petrel_producer *native() const {
        if (!producer_) throw Error(Status::invalid_state, "the producer was moved from");
        return producer_.get();
    }

private:
    static void on_send(void *user_data, petrel_status status, const petrel_send_result *result,
                        const char *error_message) noexcept {
        std::unique_ptr<SendCallback> callback(static_cast<SendCallback *>(user_data));
        try {
            SendResult copy = result ? SendResult::from(*result) : SendResult{};
            (*callback)(static_cast<Status>(status), result ? &copy : nullptr, detail::text(error_message));
        } catch (const std::exception &error) {
            std::fprintf(stderr, "petrel: send_async callback threw: %s\n", error.what());
        } catch (...) {
            std::fprintf(stderr, "petrel: send_async callback threw\n");
        }
    }
    static int32_t on_select(void *user_data, int32_t queue_count, const petrel_message *message,
                             const void *) noexcept {
        auto *selection = static_cast<detail::Selection *>(user_data);
        try {
            return (*selection->selector)(queue_count, MessageView(message));
        } catch (...) {
            selection->error = std::current_exception();
            return -1;
        }
    }
    static petrel_transaction_state on_check(void *user_data, const petrel_message *message) noexcept {
        return detail::answer(static_cast<TransactionCallback *>(user_data), message);
    }
    static petrel_transaction_state on_local(void *user_data, const petrel_message *message, void *) noexcept {
        return detail::answer(static_cast<TransactionCallback *>(user_data), message);
    }

    struct Destroy {
        void operator()(petrel_producer *producer) const noexcept { petrel_producer_destroy(producer); }
    };
    // Declared first so it is destroyed last: the library may call the checker until the producer is gone.
    std::unique_ptr<TransactionCallback> checker_;
    std::unique_ptr<petrel_producer, Destroy> producer_;
};

}  // namespace petrel

#endif  // PETREL_PRODUCER_HPP
