// Statuses and errors, messages, send results, enums and callback types.
// Part of petrel.hpp (bindings/cpp), the header-only C++17 wrapper of petrel.h; include petrel.hpp.
#ifndef PETREL_CORE_HPP
#define PETREL_CORE_HPP

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
    /// Every property as (name, value) pairs in name order (a received message's include RocketMQ's own).
    std::vector<std::pair<std::string, std::string>> properties() const {
        size_t count = 0;
        check(petrel_message_property_count(message_, &count));
        std::vector<std::pair<std::string, std::string>> entries;
        entries.reserve(count);
        for (size_t index = 0; index < count; index++) {
            const char *name = nullptr;
            const char *value = nullptr;
            check(petrel_message_property_at(message_, index, &name, &value));
            entries.emplace_back(name, value);
        }
        return entries;
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
    /// Delivery at an absolute time, milliseconds since the Unix epoch; 0 clears it.
    Message &set_deliver_time(int64_t epoch_milliseconds) {
        check(petrel_message_set_deliver_time(native(), epoch_milliseconds));
        return *this;
    }
    /// Delivery at `time`.
    Message &set_deliver_time(std::chrono::system_clock::time_point time) {
        return set_deliver_time(
            std::chrono::duration_cast<std::chrono::milliseconds>(time.time_since_epoch()).count());
    }
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
    /// Deflate level of compressed bodies, 1 (fastest) to 9 (smallest); the library's default is 5.
    std::optional<int32_t> compression_level;
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

}  // namespace petrel

#endif  // PETREL_CORE_HPP
