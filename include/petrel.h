/*
 * petrel.h: the C API of Petrel's client (producer, push consumer, pull consumer).
 *
 * Exported from Swift as libpetrel.so. C99; also compiles as C++17.
 *
 * Conventions (every function follows them):
 * - Handles are opaque. Each is created by one `*_create` call and released by exactly one `*_destroy`
 *   call; destroy accepts NULL. A handle may be used from several threads at once unless a function
 *   says otherwise.
 * - Every function that can fail returns a petrel_status. On failure, petrel_last_error() returns a
 *   message saying what went wrong; it belongs to the calling thread and stays valid until that thread's
 *   next call into this library. Success does not clear it.
 * - Strings are NUL-terminated UTF-8. Strings passed in are copied before the call returns; the caller
 *   keeps ownership. Strings and buffers handed out point into memory the library owns; the function
 *   that hands them out says how long they stay valid.
 * - Nothing allocated on one side is freed on the other: results the library allocates are released by
 *   the matching petrel_*_destroy function.
 * - Options structs start with `size`: set it with the matching *_options_init function, which fills
 *   the defaults. Later versions append fields; the library reads only the first `size` bytes.
 * - Every callback receives the `user_data` pointer given when it was registered. Callbacks documented
 *   as running "on a library thread" run on threads the library starts for that handle (never on the
 *   threads doing network I/O), so a callback may make blocking calls, sends included. It must not
 *   call *_shutdown or *_destroy on the handle whose thread it runs on: shutdown returns
 *   PETREL_INVALID_STATE there (it would wait for itself) and destroy does nothing. The log callback
 *   (petrel_set_log_handler) is the one exception: it runs on whichever library thread logs.
 * - Blocking calls (start, sends, pulls, shutdown) wait on the calling thread; nothing needs an event
 *   loop of the caller's. Nothing from Swift crosses this boundary: no call aborts the process on bad
 *   input; NULL or unknown handles, NULL out-pointers, bad enum values and calls in the wrong state
 *   return a status. Handles are checked against the live ones, so a destroyed handle is refused
 *   (as long as its address was not reused by a newer handle).
 */
#ifndef PETREL_H
#define PETREL_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------ status */

/** The outcome of a call. Values are stable across versions; new codes are appended. */
typedef enum petrel_status {
    PETREL_OK = 0,
    /** A NULL handle or pointer, an empty or over-long string, a value out of range. */
    PETREL_INVALID_ARGUMENT = 1,
    /** The call is not allowed in the handle's current state (send before start, subscribe after start). */
    PETREL_INVALID_STATE = 2,
    /** No name server or broker could be reached. */
    PETREL_CONNECT_FAILED = 3,
    /** The request got no response in time. */
    PETREL_TIMEOUT = 4,
    /** The name servers know no route for the topic. */
    PETREL_NO_ROUTE = 5,
    /** The broker answered with an error; petrel_last_error() holds its code and remark. */
    PETREL_BROKER_ERROR = 6,
    /** A pull found no new message (not an error for a poll loop). */
    PETREL_NO_MESSAGE = 7,
    /** A caller-provided buffer or array is too small; the needed size is reported. */
    PETREL_BUFFER_TOO_SMALL = 8,
    /** A plugin could not be loaded or misbehaved. */
    PETREL_PLUGIN_ERROR = 9,
    /** The handle was shut down. */
    PETREL_SHUT_DOWN = 10,
    /** A failure inside the library; the message says what. */
    PETREL_INTERNAL_ERROR = 11
} petrel_status;

/** The library's version, "MAJOR.MINOR.PATCH". Static storage; never NULL. */
const char *petrel_version(void);

/** The name of `status` ("PETREL_OK", ...). Static storage; never NULL, "PETREL_UNKNOWN" for other values. */
const char *petrel_status_name(petrel_status status);

/** The calling thread's last error message, or "" when none. Valid until this thread's next call. */
const char *petrel_last_error(void);

/* ----------------------------------------------------------------- logging */

/** Severity of a log record; PETREL_LOG_OFF as a threshold passes nothing. */
typedef enum petrel_log_level {
    PETREL_LOG_TRACE = 0,
    PETREL_LOG_DEBUG = 1,
    PETREL_LOG_INFO = 2,
    PETREL_LOG_NOTICE = 3,
    PETREL_LOG_WARNING = 4,
    PETREL_LOG_ERROR = 5,
    PETREL_LOG_CRITICAL = 6,
    PETREL_LOG_OFF = 7
} petrel_log_level;

/**
 * Receives one log record: its level, the logger's name ("petrel.client", "petrel.remoting.client",
 * ...) and the message (with its context as " key=value" pairs). Both strings are valid during the call
 * only. Unlike every other callback this one runs on whichever library thread logs, network threads
 * included, possibly on several threads at once: it must be quick, must not block and must not call
 * blocking functions of this library. A record logged while the callback runs on the same thread goes
 * to standard error instead of re-entering it.
 */
typedef void (*petrel_log_callback)(void *user_data, petrel_log_level level, const char *logger, const char *message);

/**
 * Sends records at `level` and above to `callback` (NULL: back to the default). The default writes
 * records at PETREL_LOG_WARNING and above to standard error; the library never writes to standard
 * output. Returns once no call of the previous callback is still running, so its user_data may be
 * released then. Called from inside the callback: PETREL_INVALID_STATE. A level outside the
 * enumeration: PETREL_INVALID_ARGUMENT. Process-wide: applies to every handle, existing and future.
 */
petrel_status petrel_set_log_handler(petrel_log_level level, petrel_log_callback callback, void *user_data);
/** Changes only the threshold (default PETREL_LOG_WARNING). */
petrel_status petrel_set_log_level(petrel_log_level level);
/** The current threshold. */
petrel_log_level petrel_get_log_level(void);

/* ----------------------------------------------------------------- message */

/** A message: built by the caller for sending, or received (read-only) from a consumer. */
typedef struct petrel_message petrel_message;

/** A new, empty message for `topic`. */
petrel_status petrel_message_create(const char *topic, petrel_message **out_message);
/** Releases a message the caller created. Received messages are owned by the library: never destroy them. */
void petrel_message_destroy(petrel_message *message);

petrel_status petrel_message_set_tags(petrel_message *message, const char *tags);
/** Keys separated by spaces, as RocketMQ stores them; indexed by the broker. */
petrel_status petrel_message_set_keys(petrel_message *message, const char *keys);
/** Copies `length` bytes of `body` (any bytes, NUL included). */
petrel_status petrel_message_set_body(petrel_message *message, const void *body, size_t length);
/** Sets a user property (replacing one of the same name). Names RocketMQ reserves for itself (TAGS, KEYS,
 *  UNIQ_KEY, DELAY, ...) are refused by the send, with PETREL_INVALID_ARGUMENT. */
petrel_status petrel_message_set_property(petrel_message *message, const char *name, const char *value);
/** Delay level 1 ... 18 (1 s ... 2 h by default); 0 clears it. */
petrel_status petrel_message_set_delay_level(petrel_message *message, int32_t level);
/** Delivery at an absolute time, milliseconds since the Unix epoch (RocketMQ 5's TIMER_DELIVER_MS; the
 *  broker parks the message until then when its timer wheel is on); 0 clears it. */
petrel_status petrel_message_set_deliver_time(petrel_message *message, int64_t epoch_milliseconds);

/* Readers. Returned pointers stay valid while the message lives and the field read is not modified.
 * For a NULL or unknown message they return NULL (numbers: -1) and set petrel_last_error(). */
const char *petrel_message_topic(const petrel_message *message);
/** "" when the message has none. */
const char *petrel_message_tags(const petrel_message *message);
const char *petrel_message_keys(const petrel_message *message);
/** The body and its length in `*out_length` (which may be NULL). Never NULL for a live message. */
const void *petrel_message_body(const petrel_message *message, size_t *out_length);
/** The property's value, or NULL when the message has no such property. */
const char *petrel_message_property(const petrel_message *message, const char *name);
/** The unique message id (UNIQ_KEY); "" before the message is sent. */
const char *petrel_message_id(const petrel_message *message);
/* Received messages only (-1 for messages the caller built). */
int32_t petrel_message_queue_id(const petrel_message *message);
int64_t petrel_message_queue_offset(const petrel_message *message);
int32_t petrel_message_reconsume_times(const petrel_message *message);
int64_t petrel_message_born_timestamp(const petrel_message *message);
int64_t petrel_message_store_timestamp(const petrel_message *message);

/* ------------------------------------------- message properties: enumeration */

/**
 * The number of properties of `message` in `*out_count` (0 on failure). A built message has the user
 * properties set with petrel_message_set_property; a received one has every property it arrived with,
 * RocketMQ's own included (TAGS, KEYS, UNIQ_KEY, ...).
 */
petrel_status petrel_message_property_count(const petrel_message *message, size_t *out_count);
/**
 * The name and value of the property at `index` (0 ... count - 1) in `*out_name` and `*out_value`.
 * Properties are ordered by name (bytewise ascending), so an index names the same property while the
 * message's properties do not change; setting a property may move the others. Both strings stay valid
 * while the message lives and that property is not set again (the value is the pointer
 * petrel_message_property returns). An index out of range gives PETREL_INVALID_ARGUMENT; on any
 * failure both out-pointers are set to NULL (when they are not NULL themselves).
 */
petrel_status petrel_message_property_at(const petrel_message *message, size_t index, const char **out_name,
                                         const char **out_value);

/* ---------------------------------------------------------------- producer */

typedef struct petrel_producer petrel_producer;

/** Producer settings. Fill with petrel_producer_options_init, then change what you need. */
typedef struct petrel_producer_options {
    /** sizeof(petrel_producer_options), set by petrel_producer_options_init. */
    uint32_t size;
    /** Name servers, "host:port;host:port". Required. */
    const char *name_servers;
    /** Producer group. Required for transactions; defaults to "DEFAULT_PRODUCER". */
    const char *group;
    /** Instance name, part of the client id; NULL or "" gives a name unique to this handle. */
    const char *instance_name;
    /** Time one send may take, retries included (default 3000). */
    uint32_t send_timeout_milliseconds;
    /** Extra attempts on another queue or broker after a failed synchronous send (default 2). */
    uint32_t retry_times;
    /** Bodies larger than this are compressed (default 4096; 0 disables compression). */
    uint32_t compress_over_bytes;
    /** Largest body accepted (default 4 MiB). */
    uint32_t max_message_bytes;
    /** Deflate level of compressed bodies, 1 (fastest) to 9 (smallest); default 5. Higher levels search
     *  harder for repeats: slower, and smaller for repetitive bodies. Other values fail
     *  petrel_producer_create with PETREL_INVALID_ARGUMENT. Appended last, so a caller built against an
     *  older header (smaller `size`) gets the default. */
    int32_t compression_level;
} petrel_producer_options;

/** Fills `options` with the defaults and its `size`. */
void petrel_producer_options_init(petrel_producer_options *options);

/** Where a message was stored. For a batch: the first message's ids and offset (each message of the
 *  batch gets its own id, read with petrel_message_id). */
typedef struct petrel_send_result {
    /** 0 SEND_OK, 1 FLUSH_DISK_TIMEOUT, 2 FLUSH_SLAVE_TIMEOUT, 3 SLAVE_NOT_AVAILABLE. */
    int32_t send_status;
    int32_t queue_id;
    int64_t queue_offset;
    /** The unique message id (UNIQ_KEY). */
    char message_id[64];
    /** The id encoding the broker address and commit-log offset. */
    char offset_message_id[64];
    char broker_name[128];
} petrel_send_result;

petrel_status petrel_producer_create(const petrel_producer_options *options, petrel_producer **out_producer);
/** Connects lazily: start checks the options and starts the background tasks (route refresh, heartbeat). */
petrel_status petrel_producer_start(petrel_producer *producer);
/** Waits for in-flight asynchronous sends, unregisters from the brokers. Idempotent. */
petrel_status petrel_producer_shutdown(petrel_producer *producer);
/** Shuts down if needed and releases the producer. NULL is ignored. */
void petrel_producer_destroy(petrel_producer *producer);

/** Sends and waits for the broker's answer. Sets the message's id. */
petrel_status petrel_producer_send(petrel_producer *producer, petrel_message *message, petrel_send_result *out_result);

/**
 * Called once per petrel_producer_send_async call, on a library thread, with the outcome; `result` is
 * NULL unless status is PETREL_OK, and valid during the call only. `error_message` is "" on success.
 */
typedef void (*petrel_send_callback)(void *user_data, petrel_status status, const petrel_send_result *result,
                                     const char *error_message);

/** Sends without waiting. The message may be destroyed as soon as this returns. Everything that can be
 *  checked before sending is checked here and returned as a status, with the callback never called:
 *  NULL or unknown handles, a NULL callback, the producer's state (PETREL_INVALID_STATE before start,
 *  PETREL_SHUT_DOWN after shutdown) and the message (an invalid or system topic, an empty or oversized
 *  body, a reserved property name: PETREL_INVALID_ARGUMENT). On PETREL_OK the callback is called exactly
 *  once, with the outcome of the send itself (route, connection, timeout, broker answer). */
petrel_status petrel_producer_send_async(petrel_producer *producer, petrel_message *message,
                                         petrel_send_callback callback, void *user_data);
/** Sends without any answer from the broker (no retry, no result). */
petrel_status petrel_producer_send_oneway(petrel_producer *producer, petrel_message *message);
/** Sends `count` (1 ... 65536) messages of one topic as one batch to one queue; none may have a delay level. */
petrel_status petrel_producer_send_batch(petrel_producer *producer, petrel_message *const *messages, size_t count,
                                         petrel_send_result *out_result);

/**
 * Chooses a queue index in [0, queue_count) for `message`; called on the calling thread during
 * petrel_producer_send_selected. A result out of range fails the send with PETREL_INVALID_ARGUMENT.
 */
typedef int32_t (*petrel_queue_selector)(void *user_data, int32_t queue_count, const petrel_message *message,
                                         const void *argument);

/** Sends to the queue `selector` picks (ordered messages: the same argument, the same queue). */
petrel_status petrel_producer_send_selected(petrel_producer *producer, petrel_message *message,
                                            petrel_queue_selector selector, const void *argument, void *user_data,
                                            petrel_send_result *out_result);
/** Sends to queue `hash(sharding_key) % queue_count`: the built-in hash selector. */
petrel_status petrel_producer_send_ordered(petrel_producer *producer, petrel_message *message,
                                           const char *sharding_key, petrel_send_result *out_result);

/* ------------------------------------------------------------ transactions */

typedef enum petrel_transaction_state {
    PETREL_TRANSACTION_COMMIT = 0,
    PETREL_TRANSACTION_ROLLBACK = 1,
    PETREL_TRANSACTION_UNKNOWN = 2
} petrel_transaction_state;

/** Runs the local transaction for a half message just stored; called on the thread that called
 *  petrel_producer_send_transaction, during that call (the message's id is set by then). A value
 *  outside the enumeration counts as PETREL_TRANSACTION_UNKNOWN. */
typedef petrel_transaction_state (*petrel_local_transaction)(void *user_data, const petrel_message *message,
                                                             void *argument);
/**
 * Answers the broker's check-back for a transaction left unknown; called on a library thread, possibly
 * long after the send and after a restart of this process. `message` is valid during the call only.
 */
typedef petrel_transaction_state (*petrel_transaction_checker)(void *user_data, const petrel_message *message);

/** Registers the check-back callback. Before start only; required for petrel_producer_send_transaction. */
petrel_status petrel_producer_set_transaction_checker(petrel_producer *producer, petrel_transaction_checker checker,
                                                      void *user_data);
/** Stores a half message, runs `local_transaction`, then commits or rolls back as it answers. */
petrel_status petrel_producer_send_transaction(petrel_producer *producer, petrel_message *message,
                                               petrel_local_transaction local_transaction, void *argument,
                                               void *user_data, petrel_send_result *out_result,
                                               petrel_transaction_state *out_state);

/* ----------------------------------------------------------- push consumer */

typedef struct petrel_push_consumer petrel_push_consumer;

typedef enum petrel_message_model { PETREL_CLUSTERING = 0, PETREL_BROADCASTING = 1 } petrel_message_model;
typedef enum petrel_consume_from {
    PETREL_CONSUME_FROM_LAST_OFFSET = 0,
    PETREL_CONSUME_FROM_FIRST_OFFSET = 1,
    PETREL_CONSUME_FROM_TIMESTAMP = 2
} petrel_consume_from;
typedef enum petrel_consume_result { PETREL_CONSUME_SUCCESS = 0, PETREL_CONSUME_RETRY_LATER = 1 } petrel_consume_result;

typedef struct petrel_push_consumer_options {
    uint32_t size;
    const char *name_servers;
    /** Consumer group. Required. */
    const char *group;
    /** As in petrel_producer_options. */
    const char *instance_name;
    petrel_message_model message_model;
    petrel_consume_from consume_from;
    /** With PETREL_CONSUME_FROM_TIMESTAMP: milliseconds since the Unix epoch. */
    int64_t consume_timestamp;
    /** Non-zero: one queue is consumed by one thread at a time, in order (queue locks on the broker). */
    int32_t orderly;
    /** Threads running the callback (default 4). */
    uint32_t thread_count;
    /** Messages per callback invocation (default 1). */
    uint32_t batch_max_size;
    /** Failures before a message goes to the dead-letter queue (default 16). */
    int32_t max_reconsume_times;
    /** Queue allocation among the group's consumers: "average" (NULL: the default), "circle" or
     *  "consistent-hash". */
    const char *allocation;
    /* Plugins (issue 6), see the "plugins" section below. */
    /** Directory where plugin names are looked up as <plugin_directory>/<name>.so; NULL: names are
     *  refused, only paths load. */
    const char *plugin_directory;
    /** An allocation plugin: a name, or a path (anything with '/'). Replaces `allocation` when not NULL or "". */
    const char *allocation_plugin;
    /** The allocation plugin's configuration string (NULL: ""). */
    const char *allocation_plugin_config;
    /** A compressor plugin (name or path), e.g. "compress-zstd": pulls accept zstd bodies and the
     *  consumer decompresses them (NULL or "": the broker sends plain bodies). */
    const char *compressor_plugin;
    /** The compressor plugin's configuration string (NULL: ""). */
    const char *compressor_plugin_config;
} petrel_push_consumer_options;

void petrel_push_consumer_options_init(petrel_push_consumer_options *options);

/**
 * Handles `count` received messages. Called on one of the consumer's library threads
 * (options.thread_count of them; with orderly, one call per queue at a time, in queue order). The
 * messages are valid during the call only. PETREL_CONSUME_RETRY_LATER (or any value other than
 * PETREL_CONSUME_SUCCESS) redelivers the messages later (through the group's retry topic, or for
 * orderly consumers by suspending the queue a moment).
 */
typedef petrel_consume_result (*petrel_message_listener)(void *user_data, const petrel_message *const *messages,
                                                         size_t count);

petrel_status petrel_push_consumer_create(const petrel_push_consumer_options *options,
                                          petrel_push_consumer **out_consumer);
/** Before start: `expression` is "*" or "tagA || tagB". */
petrel_status petrel_push_consumer_subscribe(petrel_push_consumer *consumer, const char *topic, const char *expression);
/** Before start; required. */
petrel_status petrel_push_consumer_set_listener(petrel_push_consumer *consumer, petrel_message_listener listener,
                                                void *user_data);
petrel_status petrel_push_consumer_start(petrel_push_consumer *consumer);
/** Lets running callbacks finish, commits offsets, releases queue locks, unregisters. Idempotent. */
petrel_status petrel_push_consumer_shutdown(petrel_push_consumer *consumer);
void petrel_push_consumer_destroy(petrel_push_consumer *consumer);

/* ----------------------------------------------------------- pull consumer */

typedef struct petrel_pull_consumer petrel_pull_consumer;
typedef struct petrel_pull_result petrel_pull_result;

/** One queue of a topic. */
typedef struct petrel_queue {
    char topic[256];
    char broker_name[128];
    int32_t queue_id;
} petrel_queue;

typedef struct petrel_pull_consumer_options {
    uint32_t size;
    const char *name_servers;
    /** Consumer group. Required. */
    const char *group;
    /** As in petrel_producer_options. */
    const char *instance_name;
    /** Longest petrel_pull_consumer_pull waits on the broker for new messages (default 0: answer at once). */
    uint32_t poll_timeout_milliseconds;
    /** Subscribe-and-poll: where a queue without a committed offset starts (default LAST_OFFSET). */
    petrel_consume_from consume_from;
    /** With PETREL_CONSUME_FROM_TIMESTAMP: milliseconds since the Unix epoch. */
    int64_t consume_timestamp;
    /* Plugins (issue 6), see the "plugins" section below. */
    /** As in petrel_push_consumer_options. */
    const char *plugin_directory;
    /** As in petrel_push_consumer_options. */
    const char *compressor_plugin;
    /** As in petrel_push_consumer_options. */
    const char *compressor_plugin_config;
} petrel_pull_consumer_options;

void petrel_pull_consumer_options_init(petrel_pull_consumer_options *options);

petrel_status petrel_pull_consumer_create(const petrel_pull_consumer_options *options,
                                          petrel_pull_consumer **out_consumer);
petrel_status petrel_pull_consumer_start(petrel_pull_consumer *consumer);
petrel_status petrel_pull_consumer_shutdown(petrel_pull_consumer *consumer);
void petrel_pull_consumer_destroy(petrel_pull_consumer *consumer);

/**
 * Writes up to `capacity` of the topic's readable queues into `queues` and their number into `*out_count`.
 * With too small a capacity, returns PETREL_BUFFER_TOO_SMALL and the needed count.
 */
petrel_status petrel_pull_consumer_fetch_queues(petrel_pull_consumer *consumer, const char *topic,
                                                petrel_queue *queues, size_t capacity, size_t *out_count);
/**
 * Pulls up to `max_messages` (1 ... 1024) from `queue` at `offset` matching `expression`. On PETREL_OK and
 * on PETREL_NO_MESSAGE (nothing new, or nothing matching) `*out_result` is set and must be destroyed;
 * its next offset says where to continue either way.
 */
petrel_status petrel_pull_consumer_pull(petrel_pull_consumer *consumer, const petrel_queue *queue,
                                        const char *expression, int64_t offset, int32_t max_messages,
                                        petrel_pull_result **out_result);
/** Subscribe-and-poll: before start. Queues are assigned among the group's consumers automatically. */
petrel_status petrel_pull_consumer_subscribe(petrel_pull_consumer *consumer, const char *topic, const char *expression);
/**
 * Next messages from the assigned queues, waiting up to `timeout_milliseconds`. PETREL_NO_MESSAGE when
 * none arrived in time; `*out_result` is set (and must be destroyed) on PETREL_OK and PETREL_NO_MESSAGE.
 * Offsets of polled messages are committed automatically (every 5 s and at shutdown).
 */
petrel_status petrel_pull_consumer_poll(petrel_pull_consumer *consumer, uint32_t timeout_milliseconds,
                                        petrel_pull_result **out_result);
/** Stores the group's offset for `queue` on the broker. */
petrel_status petrel_pull_consumer_commit(petrel_pull_consumer *consumer, const petrel_queue *queue, int64_t offset);

/** Messages in the result; each stays valid until petrel_pull_result_destroy. NULL result: 0 / NULL. */
size_t petrel_pull_result_count(const petrel_pull_result *result);
const petrel_message *petrel_pull_result_message(const petrel_pull_result *result, size_t index);
/** The offset to pull from next; -1 for poll results. */
int64_t petrel_pull_result_next_offset(const petrel_pull_result *result);
void petrel_pull_result_destroy(petrel_pull_result *result);

/* ----------------------------------------------------------------- plugins */
/*
 * C plugins (include/petrel_plugin.h; Petrel ships build/plugins/selector-hash.so,
 * allocate-consistent-hash.so, compress-zstd.so). A plugin is named by a path (any string containing
 * '/') or by a name looked up as <plugin_directory>/<name>.so. A plugin that cannot be loaded, has
 * the wrong ABI or kind, or refuses its configuration makes the call return PETREL_PLUGIN_ERROR with
 * the plugin's reason in petrel_last_error(); the process keeps running. Allocation and compressor
 * plugins are set in the consumer options (allocation_plugin, compressor_plugin) and checked by
 * petrel_*_consumer_create.
 */

/** A loaded selector plugin: picks a queue for each ordered send. */
typedef struct petrel_selector_plugin petrel_selector_plugin;

/** Loads the selector plugin `plugin` (name or path) and initialises it with `config` (NULL: "");
 *  `plugin_directory` resolves names (NULL: paths only). */
petrel_status petrel_selector_plugin_load(const char *plugin, const char *config, const char *plugin_directory,
                                          petrel_selector_plugin **out_plugin);
/** Releases the plugin handle (a send in progress keeps it alive). NULL is ignored. */
void petrel_selector_plugin_destroy(petrel_selector_plugin *plugin);

/**
 * Sends to the queue `selector` picks: the plugin sees the message's topic, tags, keys and body, the
 * argument (`string_argument` when not NULL, else `integer_argument`, e.g. an order id) and the queue
 * count. A plugin failure or an index out of range fails the send with PETREL_PLUGIN_ERROR.
 */
petrel_status petrel_producer_send_plugin_selected(petrel_producer *producer, petrel_message *message,
                                                   petrel_selector_plugin *selector, int64_t integer_argument,
                                                   const char *string_argument, petrel_send_result *out_result);

#ifdef __cplusplus
}
#endif

#endif /* PETREL_H */
