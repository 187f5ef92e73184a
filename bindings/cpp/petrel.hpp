// petrel.hpp: a header-only C++17 wrapper of Petrel's C API (petrel.h, libpetrel.so).
//
// RAII, move-only handles (Message, Producer, PushConsumer, PullConsumer, PullResult); every failing
// status becomes a petrel::Error carrying it; callbacks are std::function objects the wrapper keeps
// alive as long as the handle. No C++ exception ever crosses into the library: a listener that throws
// asks for redelivery, a transaction callback that throws answers UNKNOWN, a selector that throws fails
// the send and its exception is rethrown to the sender, an async-send callback that throws is reported
// on stderr.
//
// Link with -lpetrel. Only petrel.h and the standard library are included.
#ifndef PETREL_HPP
#define PETREL_HPP

#include <petrel.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace petrel {

/// The outcome of a C API call (petrel_status).
enum class Status : int {
    ok = PETREL_OK,
    invalid_argument = PETREL_INVALID_ARGUMENT,
    invalid_state = PETREL_INVALID_STATE,
    connect_failed = PETREL_CONNECT_FAILED,
    timeout = PETREL_TIMEOUT,
    no_route = PETREL_NO_ROUTE,
    broker_error = PETREL_BROKER_ERROR,
    no_message = PETREL_NO_MESSAGE,
    buffer_too_small = PETREL_BUFFER_TOO_SMALL,
    plugin_error = PETREL_PLUGIN_ERROR,
    shut_down = PETREL_SHUT_DOWN,
    internal_error = PETREL_INTERNAL_ERROR,
};

/// The C name of a status ("PETREL_OK", ...).
inline std::string status_name(Status status) {
    return petrel_status_name(static_cast<petrel_status>(status));
}

/// A failed call: what() is "PETREL_NAME: message"; status() says which kind of failure.
class Error : public std::runtime_error {
public:
    Error(Status status, const std::string &message)
        : std::runtime_error(status_name(status) + ": " + message), status_(status), message_(message) {}
    /// Which kind of failure.
    Status status() const noexcept { return status_; }
    /// The library's message alone.
    const std::string &message() const noexcept { return message_; }

private:
    Status status_;
    std::string message_;
};

/// Throws petrel::Error for a failing status, with the calling thread's last error message.
inline void check(petrel_status status) {
    if (status != PETREL_OK) {
        throw Error(static_cast<Status>(status), petrel_last_error());
    }
}

/// The library's version, "MAJOR.MINOR.PATCH".
inline std::string version() { return petrel_version(); }

namespace detail {
/// A C string argument: NULL for an empty optional.
inline const char *c_string(const std::optional<std::string> &value) { return value ? value->c_str() : nullptr; }
/// A string the library handed out ("" for NULL).
inline std::string text(const char *value) { return value ? value : ""; }
}  // namespace detail

/// A message the library owns (received, or the one a callback is about): valid while the call or the
/// PullResult it came from lives. Copy what you keep.
class MessageView {
public:
    explicit MessageView(const petrel_message *message) noexcept : message_(message) {}
    std::string topic() const { return detail::text(petrel_message_topic(message_)); }
    std::string tags() const { return detail::text(petrel_message_tags(message_)); }
    std::string keys() const { return detail::text(petrel_message_keys(message_)); }
    /// The body bytes.
    std::string body() const {
        size_t length = 0;
        const void *bytes = petrel_message_body(message_, &length);
        return bytes ? std::string(static_cast<const char *>(bytes), length) : std::string();
    }
    /// The property's value; nullopt when the message has none.
    std::optional<std::string> property(const std::string &name) const {
        const char *value = petrel_message_property(message_, name.c_str());
        return value ? std::optional<std::string>(value) : std::nullopt;
    }
    std::string id() const { return detail::text(petrel_message_id(message_)); }
    int32_t queue_id() const { return petrel_message_queue_id(message_); }
    int64_t queue_offset() const { return petrel_message_queue_offset(message_); }
    int32_t reconsume_times() const { return petrel_message_reconsume_times(message_); }
    int64_t born_timestamp() const { return petrel_message_born_timestamp(message_); }
    int64_t store_timestamp() const { return petrel_message_store_timestamp(message_); }
    /// The C message, for calls this wrapper does not cover.
    const petrel_message *native() const noexcept { return message_; }

private:
    const petrel_message *message_;
};

/// A message to send (move-only; destroyed with the object). Setters chain.
class Message {
public:
    explicit Message(const std::string &topic) {
        petrel_message *message = nullptr;
        check(petrel_message_create(topic.c_str(), &message));
        message_.reset(message);
    }
    Message(const std::string &topic, std::string_view body) : Message(topic) { set_body(body); }
    Message &set_tags(const std::string &tags) { check(petrel_message_set_tags(native(), tags.c_str())); return *this; }
    /// Keys separated by spaces.
    Message &set_keys(const std::string &keys) { check(petrel_message_set_keys(native(), keys.c_str())); return *this; }
    Message &set_body(std::string_view body) {
        check(petrel_message_set_body(native(), body.data(), body.size()));
        return *this;
    }
    Message &set_property(const std::string &name, const std::string &value) {
        check(petrel_message_set_property(native(), name.c_str(), value.c_str()));
        return *this;
    }
    /// 1 ... 18; 0 clears it.
    Message &set_delay_level(int32_t level) { check(petrel_message_set_delay_level(native(), level)); return *this; }
    /// Readers of the same fields (and the id once sent).
    MessageView view() const noexcept { return MessageView(message_.get()); }
    petrel_message *native() const noexcept { return message_.get(); }

private:
    struct Destroy {
        void operator()(petrel_message *message) const noexcept { petrel_message_destroy(message); }
    };
    std::unique_ptr<petrel_message, Destroy> message_;
};

/// Where a message was stored.
struct SendResult {
    /// 0 SEND_OK, 1 FLUSH_DISK_TIMEOUT, 2 FLUSH_SLAVE_TIMEOUT, 3 SLAVE_NOT_AVAILABLE.
    int32_t send_status = 0;
    int32_t queue_id = -1;
    int64_t queue_offset = -1;
    std::string message_id;
    std::string offset_message_id;
    std::string broker_name;

    static SendResult from(const petrel_send_result &result) {
        return SendResult{result.send_status, result.queue_id, result.queue_offset, result.message_id,
                          result.offset_message_id, result.broker_name};
    }
};

enum class TransactionState : int {
    commit = PETREL_TRANSACTION_COMMIT,
    rollback = PETREL_TRANSACTION_ROLLBACK,
    unknown = PETREL_TRANSACTION_UNKNOWN,
};

enum class ConsumeResult : int { success = PETREL_CONSUME_SUCCESS, retry_later = PETREL_CONSUME_RETRY_LATER };
enum class MessageModel : int { clustering = PETREL_CLUSTERING, broadcasting = PETREL_BROADCASTING };
enum class ConsumeFrom : int {
    last_offset = PETREL_CONSUME_FROM_LAST_OFFSET,
    first_offset = PETREL_CONSUME_FROM_FIRST_OFFSET,
    timestamp = PETREL_CONSUME_FROM_TIMESTAMP,
};

/// send_async's callback: the status, the result (only for Status::ok) and the error message.
using SendCallback = std::function<void(Status, const SendResult *, const std::string &)>;
/// send_selected's selector: a queue index in [0, queue_count).
using QueueSelector = std::function<int32_t(int32_t queue_count, const MessageView &)>;
/// A local transaction or check-back.
using TransactionCallback = std::function<TransactionState(const MessageView &)>;
/// A push consumer's listener for the messages of one delivery.
using BatchListener = std::function<ConsumeResult(const std::vector<MessageView> &)>;
/// A push consumer's listener called once per message.
using Listener = std::function<ConsumeResult(const MessageView &)>;

/// Producer settings; unset optionals keep the library's defaults.
struct ProducerOptions {
    std::string name_servers;
    std::optional<std::string> group;
    std::optional<std::string> instance_name;
    std::optional<std::chrono::milliseconds> send_timeout;
    std::optional<uint32_t> retry_times;
    std::optional<uint32_t> compress_over_bytes;
    std::optional<uint32_t> max_message_bytes;
};

namespace detail {
/// Runs a transaction callback for the library: exceptions become UNKNOWN.
inline petrel_transaction_state answer(TransactionCallback *callback, const petrel_message *message) noexcept {
    try {
        return static_cast<petrel_transaction_state>((*callback)(MessageView(message)));
    } catch (const std::exception &error) {
        std::fprintf(stderr, "petrel: transaction callback threw: %s; state UNKNOWN\n", error.what());
    } catch (...) {
        std::fprintf(stderr, "petrel: transaction callback threw; state UNKNOWN\n");
    }
    return PETREL_TRANSACTION_UNKNOWN;
}

/// A selector call: the user's selector and the exception it threw, if any.
struct Selection {
    const QueueSelector *selector;
    std::exception_ptr error;
};
}  // namespace detail

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

#endif  // PETREL_HPP
