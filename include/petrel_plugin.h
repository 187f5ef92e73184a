/*
 * petrel_plugin.h: the ABI between Petrel and strategy plugins written in C (or anything that can
 * export C symbols). Self-contained C99; include nothing else of Petrel's.
 *
 * GENERATIONS AND VERSIONS
 *   A plugin library exports one entry symbol per ABI generation it supports. Generation 1 is
 *
 *       const petrel_plugin_descriptor *petrel_plugin_describe_v1(uint32_t index);
 *
 *   which returns the library's descriptors one by one (index 0, 1, ...) and NULL past the last one.
 *   A library may hold several plugins. Every descriptor and every function table starts with a
 *   `size` field: the plugin sets it to sizeof() of the struct it was compiled against.
 *
 *   - ABI major (PETREL_PLUGIN_ABI_MAJOR): the host loads only descriptors whose major equals its
 *     own. An incompatible change (a changed signature, a removed or reordered field) gets a new
 *     major AND a new entry symbol (petrel_plugin_describe_v2), so an old library is never
 *     misread as a new one.
 *   - ABI minor (PETREL_PLUGIN_ABI_MINOR): compatible additions. New functions and fields are only
 *     ever APPENDED to the end of a struct. The host reads a field only when the plugin's `size`
 *     covers it; fields beyond the plugin's size count as NULL/0. A plugin built against a newer
 *     minor works with an older host (the host ignores the tail it does not know).
 *
 * WHAT EACH MINOR ADDS
 *   - 1.0: selector, allocator and compressor (compress_bound, compress, decompress) tables.
 *   - 1.1: the compressor table gains prepared dictionaries (prepare_dictionary, release_dictionary,
 *     compress_prepared, decompress_prepared: the dictionary is digested once, not per message) and
 *     dictionary training (train_dictionary). A plugin offers each group or not: the four prepared-
 *     dictionary functions are all set or all NULL (a partial set is refused at load);
 *     train_dictionary may be NULL. A host falls back when a group is absent (1.0 plugins): raw
 *     dictionaries through petrel_compression_options, and no training.
 *
 * MEMORY
 *   Nothing is allocated on one side and freed on the other. Every buffer a function writes to is
 *   owned by the caller and comes with its capacity. Strings and arrays passed to a plugin are valid
 *   only for the duration of the call; copy what you keep. Strings returned by a plugin (a
 *   descriptor's name) are static and live as long as the library is loaded. A prepared
 *   dictionary handle (minor 1) is the one thing a plugin allocates for the host to keep: the host
 *   never looks inside it and hands it back to release_dictionary, which frees it.
 *
 * ERRORS
 *   Fallible functions return PETREL_PLUGIN_OK (0) or a nonzero status. On failure the plugin fills
 *   the caller-owned petrel_plugin_error: a code of its choice and a NUL-terminated message
 *   (truncated to fit). The host treats any nonzero status as a refusal of that one call; the
 *   process keeps running. The host also checks every result (an index out of range, overlapping
 *   allocations, a wrong decompressed size) and refuses bad ones with an error naming the plugin.
 *
 * THREADS (per function)
 *   - petrel_plugin_describe_v1: may be called from any thread, any number of times; returns static
 *     data only.
 *   - init: called once per instance, never concurrently with any other call on that instance.
 *   - destroy: called once per instance, after every other call on it has returned.
 *   - select, allocate, compress_bound, compress, decompress: MAY BE CALLED CONCURRENTLY from several
 *     threads on the same instance. Treat the instance as read-only after init, or lock inside.
 *   - prepare_dictionary, compress_prepared, decompress_prepared, train_dictionary (minor 1): MAY BE
 *     CALLED CONCURRENTLY with each other and with the calls above, on the same instance. One
 *     prepared handle MAY BE USED BY SEVERAL THREADS AT ONCE (compress_prepared and
 *     decompress_prepared treat it as read-only).
 *   - release_dictionary (minor 1): called once per handle, after the last call using that handle
 *     has returned; may run concurrently with calls using OTHER handles. Every handle is released
 *     before destroy.
 *   - host->log: thread-safe; may be called from any thread during any plugin call (init included).
 *     Do not keep the host pointer after destroy.
 */
#ifndef PETREL_PLUGIN_H
#define PETREL_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** The ABI generation this header describes (also the suffix of the entry symbol). */
#define PETREL_PLUGIN_ABI_MAJOR 1
/** Compatible additions within generation 1 (see WHAT EACH MINOR ADDS). */
#define PETREL_PLUGIN_ABI_MINOR 1

/** The entry symbol's name for generation 1, for dlsym. */
#define PETREL_PLUGIN_ENTRY_V1 "petrel_plugin_describe_v1"

/** Success. Any other value is a failure, described by the petrel_plugin_error. */
#define PETREL_PLUGIN_OK 0
/** A generic failure status a plugin may return. */
#define PETREL_PLUGIN_FAILED 1

/** Room for an error message, NUL included. */
#define PETREL_PLUGIN_ERROR_MESSAGE_CAPACITY 256

/** What a plugin does. */
typedef enum petrel_plugin_kind {
    /** Chooses the queue of an ordered send: petrel_selector_functions. */
    PETREL_PLUGIN_KIND_SELECTOR = 1,
    /** Chooses a consumer's share of a group's queues: petrel_allocator_functions. */
    PETREL_PLUGIN_KIND_ALLOCATOR = 2,
    /** Compresses and decompresses bytes: petrel_compressor_functions. */
    PETREL_PLUGIN_KIND_COMPRESSOR = 3
} petrel_plugin_kind;

/** A failure, filled by the plugin into the caller's struct. */
typedef struct petrel_plugin_error {
    /** The plugin's own code (nonzero). */
    int32_t code;
    /** What went wrong, NUL-terminated UTF-8. */
    char message[PETREL_PLUGIN_ERROR_MESSAGE_CAPACITY];
} petrel_plugin_error;

/** Log levels for petrel_plugin_host.log. */
typedef enum petrel_plugin_log_level {
    PETREL_PLUGIN_LOG_DEBUG = 0,
    PETREL_PLUGIN_LOG_INFO = 1,
    PETREL_PLUGIN_LOG_WARNING = 2,
    PETREL_PLUGIN_LOG_ERROR = 3
} petrel_plugin_log_level;

/** What the host offers a plugin; passed to init, valid until destroy returns. */
typedef struct petrel_plugin_host {
    /** sizeof(petrel_plugin_host) as the host was compiled. */
    uint32_t size;
    /** The host's ABI version. */
    uint16_t abi_major;
    uint16_t abi_minor;
    /** Pass back as the first argument of the host's functions. */
    void *context;
    /** Writes `message` (NUL-terminated) to the host's log under the plugin's name. Thread-safe. */
    void (*log)(void *context, int32_t level, const char *message);
} petrel_plugin_host;

/** An ordered send's message, as a selector sees it. */
typedef struct petrel_plugin_message {
    /** The topic, NUL-terminated. */
    const char *topic;
    /** The tag, NUL-terminated, or NULL for none. */
    const char *tags;
    /** The business keys, `key_count` NUL-terminated strings. */
    const char *const *keys;
    uint32_t key_count;
    /** The body bytes. */
    const uint8_t *body;
    size_t body_length;
} petrel_plugin_message;

/** Which member of petrel_selector_argument is set. */
typedef enum petrel_selector_argument_type {
    PETREL_SELECTOR_ARGUMENT_INTEGER = 1,
    PETREL_SELECTOR_ARGUMENT_STRING = 2
} petrel_selector_argument_type;

/** The argument of an ordered send (e.g. an order id). */
typedef struct petrel_selector_argument {
    /** A petrel_selector_argument_type. */
    int32_t type;
    /** Java's hashCode() of the argument (Integer/Long/String rules), what the built-in hash selector uses. */
    int32_t java_hash_code;
    /** The value when type is INTEGER. */
    int64_t integer;
    /** The value when type is STRING: NUL-terminated UTF-8; NULL otherwise. */
    const char *string;
} petrel_selector_argument;

/** A selector's functions. */
typedef struct petrel_selector_functions {
    /** sizeof(petrel_selector_functions) as the plugin was compiled. */
    uint32_t size;
    /**
     * Writes to *queue_index the queue (0 ..< queue_count) for the message; queue_count >= 1. The
     * queues are the topic's writable queues in the host's stable order. Concurrent calls allowed.
     */
    int32_t (*select)(void *instance, const petrel_plugin_message *message, const petrel_selector_argument *argument,
                      uint32_t queue_count, uint32_t *queue_index, petrel_plugin_error *error);
} petrel_selector_functions;

/** One queue, as an allocator sees it. */
typedef struct petrel_plugin_queue {
    const char *topic;
    const char *broker_name;
    int32_t queue_id;
} petrel_plugin_queue;

/** An allocator's functions. */
typedef struct petrel_allocator_functions {
    /** sizeof(petrel_allocator_functions) as the plugin was compiled. */
    uint32_t size;
    /**
     * This client's queues. `client_ids` are every client of `group`, sorted; `queues` every queue,
     * sorted (topic, broker name, queue id). Write indexes into `queues` to `assigned` (capacity
     * queue_count, caller-owned) and their number to *assigned_count. Every client runs the same
     * function over the same inputs, so it must be deterministic; the host checks that no queue is
     * given to two clients. Concurrent calls allowed.
     */
    int32_t (*allocate)(void *instance, const char *group, const char *current_client_id,
                        const char *const *client_ids, uint32_t client_count,
                        const petrel_plugin_queue *queues, uint32_t queue_count,
                        uint32_t *assigned, uint32_t *assigned_count, petrel_plugin_error *error);
} petrel_allocator_functions;

/** Per-call compression settings. */
typedef struct petrel_compression_options {
    /** The compression level; 0 means the plugin's default. Ignored by decompress. */
    int32_t level;
    /** A dictionary both sides must use, or NULL. */
    const uint8_t *dictionary;
    size_t dictionary_length;
} petrel_compression_options;

/** A compressor's functions. All but release_dictionary may be called concurrently (see THREADS). */
typedef struct petrel_compressor_functions {
    /** sizeof(petrel_compressor_functions) as the plugin was compiled. */
    uint32_t size;
    /** The largest compressed size of `source_length` bytes: the capacity compress needs. */
    size_t (*compress_bound)(void *instance, size_t source_length);
    /** Compresses into `destination` (capacity given); writes the compressed length to *written. */
    int32_t (*compress)(void *instance, const petrel_compression_options *options,
                        const uint8_t *source, size_t source_length,
                        uint8_t *destination, size_t destination_capacity, size_t *written,
                        petrel_plugin_error *error);
    /**
     * Decompresses into `destination`, whose capacity is the original size the host recorded;
     * writes the decompressed length to *written. The host refuses any length but the original.
     */
    int32_t (*decompress)(void *instance, const petrel_compression_options *options,
                          const uint8_t *source, size_t source_length,
                          uint8_t *destination, size_t destination_capacity, size_t *written,
                          petrel_plugin_error *error);

    /* ---- ABI 1.1: prepared dictionaries (all four set, or all four NULL) ---- */

    /**
     * Digests `dictionary` (`length` bytes, valid only during the call: copy what you keep) once for
     * compressing at `level` (0: the plugin's default) and decompressing, and sets *prepared to a
     * plugin-owned handle. The host keeps it, passes it to compress_prepared/decompress_prepared
     * from any number of threads at once, and finally to release_dictionary. Concurrent calls allowed.
     */
    int32_t (*prepare_dictionary)(void *instance, const uint8_t *dictionary, size_t length, int32_t level,
                                  void **prepared, petrel_plugin_error *error);
    /** Frees a handle from prepare_dictionary. Called once, after the handle's last use. */
    void (*release_dictionary)(void *instance, void *prepared);
    /**
     * compress with a prepared dictionary at the level it was prepared for; same buffers and result
     * rules as compress (destination capacity at least compress_bound). Concurrent calls allowed,
     * also with the same handle.
     */
    int32_t (*compress_prepared)(void *instance, void *prepared, const uint8_t *source, size_t source_length,
                                 uint8_t *destination, size_t destination_capacity, size_t *written,
                                 petrel_plugin_error *error);
    /**
     * decompress with a prepared dictionary; same rules as decompress (the host refuses any length
     * but the original). Concurrent calls allowed, also with the same handle.
     */
    int32_t (*decompress_prepared)(void *instance, void *prepared, const uint8_t *source, size_t source_length,
                                   uint8_t *destination, size_t destination_capacity, size_t *written,
                                   petrel_plugin_error *error);

    /* ---- ABI 1.1: dictionary training (may be NULL) ---- */

    /**
     * Trains a dictionary from `sample_count` samples laid end to end in `samples`, sample i being
     * `sample_lengths[i]` bytes. Writes at most `capacity` bytes to `dictionary` (caller-owned) and
     * their number to *written; the host refuses 0 or more than `capacity`. Concurrent calls allowed.
     */
    int32_t (*train_dictionary)(void *instance, const uint8_t *samples, const size_t *sample_lengths, size_t sample_count,
                                uint8_t *dictionary, size_t capacity, size_t *written, petrel_plugin_error *error);
} petrel_compressor_functions;

/** One plugin of a library. Static data: the host never frees or writes it. */
typedef struct petrel_plugin_descriptor {
    /** sizeof(petrel_plugin_descriptor) as the plugin was compiled. */
    uint32_t size;
    /** PETREL_PLUGIN_ABI_MAJOR / _MINOR as the plugin was compiled. */
    uint16_t abi_major;
    uint16_t abi_minor;
    /** A petrel_plugin_kind. */
    int32_t kind;
    /** The plugin's name, NUL-terminated: [a-z0-9-]; what users load it by. */
    const char *name;
    /**
     * Creates an instance from `config` (NUL-terminated text, never NULL; "" when none). Returns
     * PETREL_PLUGIN_OK and sets *instance (may be NULL if the plugin is stateless), or fails and
     * fills `error`. `host` stays valid until destroy returns.
     */
    int32_t (*init)(const char *config, const petrel_plugin_host *host, void **instance, petrel_plugin_error *error);
    /** Releases what init created. Required even if it does nothing. */
    void (*destroy)(void *instance);
    /**
     * The kind's function table: a petrel_selector_functions, petrel_allocator_functions or
     * petrel_compressor_functions, static, starting with its own size field.
     */
    const void *functions;
} petrel_plugin_descriptor;

/** The generation-1 entry point's type. */
typedef const petrel_plugin_descriptor *(*petrel_plugin_describe_v1_function)(uint32_t index);

/** Declaration for plugins; define it with external visibility. */
const petrel_plugin_descriptor *petrel_plugin_describe_v1(uint32_t index);

#ifdef __cplusplus
}
#endif

#endif /* PETREL_PLUGIN_H */
