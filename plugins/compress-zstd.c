/*
 * compress-zstd: zstd (libzstd) compression into caller-owned buffers, with an optional dictionary
 * and a level per call (ABI 1.1: prepared dictionaries and dictionary training too).
 * Config: comma-separated settings, each optional: "level=N" (the default level when a call passes
 * 0; default 3) and "frame=compact" (the default) or "frame=standard", e.g. "level=5,frame=standard".
 *
 * Frames: "compact" writes zstd frames without the 4-byte magic number (ZSTD_f_zstd1_magicless),
 * without the dictionary id and without the content size, and never a checksum. Petrel's store
 * envelope already records the original length and the dictionary id, and the host always passes the
 * exact original size as the decompression capacity and checks the written size, so those fields
 * only repeat it: dropping them saves ~8-10 bytes per message (~7 % of a ~120-byte compressed JSON
 * event). COMPACT FRAMES ARE NOT STANDARD ZSTD: only this plugin reads them (the zstd CLI does not),
 * and nothing in the frame says which dictionary it needs: whoever stores them must record that, as
 * the store's envelope does. "standard" writes ordinary zstd frames (magic, dictionary id, content
 * size). The setting only chooses what is WRITTEN: decompression reads both kinds whatever the
 * setting, telling them apart by the first four bytes. A standard frame starts with the magic number
 * 28 B5 2F FD; a compact one starts with its Frame_Header_Descriptor, and 0x28 has the descriptor's
 * reserved bit 3 set, so no valid compact frame starts like a standard one. A store written under
 * one setting therefore stays readable after the broker or a consumer is configured with the other.
 *
 * Contexts: every thread that calls the plugin gets its own ZSTD_CCtx and ZSTD_DCtx per instance,
 * created on its first call and reused by every later call (a context holds ~100 KiB-1 MiB of tables;
 * making one per message would cost more than compressing a small message). Ownership, so that an
 * exiting thread and destroy never free the same context twice or touch freed memory:
 * - One process-wide pthread key (created once, never deleted) holds each thread's list of entries,
 *   one per instance it called. Only the thread itself adds entries; its key destructor frees the
 *   list at thread exit. (A per-instance key deleted by destroy is not enough: glibc may already have
 *   fetched a thread's value and be about to run the destructor when pthread_key_delete returns, and
 *   destroy would then free contexts the destructor goes on to use.)
 * - Each instance links its entries in a second list. Everything shared (both lists' links, an
 *   entry's owner, the instance list) changes only under the static `registry` mutex.
 * - destroy (after every call of the instance has returned) detaches each of its entries under the
 *   lock: frees the zstd contexts and clears the owner. The entry itself stays in its thread's list,
 *   so a destructor running concurrently, blocked on the lock, finds it detached and frees only the
 *   entry. Detached entries are pruned when the thread registers a new one, or at its exit.
 * - A call finds its entry without the lock: it reads only its own thread's list, whose links only
 *   the thread changes, and the entry's owner, an atomic that destroy clears (a dead entry never
 *   matches, even when a new instance is allocated at the old address).
 * - The key's destructor lives in this library, which the host may dlclose: the first init pins the
 *   library (RTLD_NODELETE) so a thread exiting later never calls unmapped code.
 * Every call resets its context (session and parameters) and then sets the frame format, the level
 * (or the prepared dictionary, whose CDict carries its level) and the dictionary, so no call
 * inherits another's settings or a reference to a dictionary released since.
 *
 * Prepared dictionaries: one zstd_prepared holds a ZSTD_CDict (digested for its level) and a
 * ZSTD_DDict, both copies of the host's bytes; zstd only reads them, so any number of threads may
 * use one handle at once.
 */
/* dladdr and RTLD_NODELETE / RTLD_NOLOAD (pinning the library, see the top comment). */
#define _GNU_SOURCE
#include "../include/petrel_plugin.h"

#include <dlfcn.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zdict.h>
/* For ZSTD_c_format / ZSTD_d_format (magicless frames) and loading a dictionary by reference: the
 * experimental API, stable in libzstd since 1.4 and exported by the shared library. */
#define ZSTD_STATIC_LINKING_ONLY
#include <zstd.h>

struct zstd_settings;

/* One thread's contexts for one instance: in the thread's list (`next_of_thread`, changed only by
 * the thread) and, while attached, in the instance's list (changed under `registry`). */
typedef struct thread_contexts {
    ZSTD_CCtx *compress;
    ZSTD_DCtx *decompress;
    /* The instance; NULL once destroy detached the entry (then both contexts are freed). Written
     * under `registry`, read without it by the thread's own calls. */
    struct zstd_settings *owner;
    struct thread_contexts *next_of_thread;
    struct thread_contexts *previous_of_owner;
    struct thread_contexts *next_of_owner;
} thread_contexts;

/* The instance: the configured default level and frame format, and the entries of the threads that
 * called it. */
typedef struct zstd_settings {
    int level;
    /* 1: magicless frames without dictionary id and content size ("frame=compact"); 0: standard. */
    int compact;
    thread_contexts *threads;
} zstd_settings;

/* A prepared dictionary: both directions digested once. */
typedef struct zstd_prepared {
    ZSTD_CDict *compress;
    ZSTD_DDict *decompress;
} zstd_prepared;

/* Guards both lists' links and every entry's owner. Static: it outlives every instance. */
static pthread_mutex_t registry = PTHREAD_MUTEX_INITIALIZER;
/* The process-wide key holding each thread's list (created once, never deleted). */
static pthread_key_t thread_key;
/* 0 until the key is created and the library pinned; -1 when that failed. */
static int process_setup_status;
static pthread_once_t process_setup_once = PTHREAD_ONCE_INIT;

static int32_t fail(petrel_plugin_error *error, int32_t code, const char *what, const char *reason) {
    error->code = code;
    snprintf(error->message, sizeof error->message, "%s: %s", what, reason);
    return PETREL_PLUGIN_FAILED;
}

/* The entry's owner, read atomically (destroy may clear it at the same moment on another thread). */
static zstd_settings *owner_of(thread_contexts *contexts) {
    return __atomic_load_n(&contexts->owner, __ATOMIC_ACQUIRE);
}

/* Removes an attached entry from its instance's list and frees its contexts; under `registry`. */
static void detach(thread_contexts *contexts) {
    zstd_settings *owner = contexts->owner;
    if (owner == NULL) return;
    if (contexts->previous_of_owner != NULL) contexts->previous_of_owner->next_of_owner = contexts->next_of_owner;
    else owner->threads = contexts->next_of_owner;
    if (contexts->next_of_owner != NULL) contexts->next_of_owner->previous_of_owner = contexts->previous_of_owner;
    contexts->previous_of_owner = contexts->next_of_owner = NULL;
    ZSTD_freeCCtx(contexts->compress);
    ZSTD_freeDCtx(contexts->decompress);
    contexts->compress = NULL;
    contexts->decompress = NULL;
    __atomic_store_n(&contexts->owner, NULL, __ATOMIC_RELEASE);
}

/* The key's destructor: the thread exits. Detaches its entries still attached and frees them all;
 * under `registry`, so a concurrent destroy either detached an entry before (only the entry is left
 * to free) or finds it gone from its instance's list after. */
static void thread_exit(void *value) {
    pthread_mutex_lock(&registry);
    thread_contexts *contexts = value;
    while (contexts != NULL) {
        thread_contexts *next = contexts->next_of_thread;
        detach(contexts);
        free(contexts);
        contexts = next;
    }
    pthread_mutex_unlock(&registry);
}

/* Creates the key and pins this library, once per process. */
static void process_setup(void) {
    Dl_info info;
    /* The host may dlclose the library after destroy while threads holding entries are alive:
     * their key destructor (thread_exit) must stay mapped. */
    if (dladdr((void *)thread_exit, &info) == 0 || info.dli_fname == NULL ||
        dlopen(info.dli_fname, RTLD_NOW | RTLD_NOLOAD | RTLD_NODELETE) == NULL) {
        process_setup_status = -1;
        return;
    }
    process_setup_status = pthread_key_create(&thread_key, thread_exit) == 0 ? 0 : -1;
}

/* Frees the calling thread's detached entries (instances destroyed since); under `registry`.
 * Returns the list's new head. */
static thread_contexts *prune(thread_contexts *head) {
    thread_contexts **link = &head;
    while (*link != NULL) {
        thread_contexts *contexts = *link;
        if (contexts->owner == NULL) {
            *link = contexts->next_of_thread;
            free(contexts);
        } else {
            link = &contexts->next_of_thread;
        }
    }
    return head;
}

/* This thread's contexts for `settings`, created on its first call; NULL when out of memory. */
static thread_contexts *contexts_of(zstd_settings *settings) {
    thread_contexts *head = pthread_getspecific(thread_key);
    for (thread_contexts *contexts = head; contexts != NULL; contexts = contexts->next_of_thread) {
        if (owner_of(contexts) == settings) return contexts;
    }
    thread_contexts *contexts = calloc(1, sizeof *contexts);
    if (contexts == NULL) return NULL;
    contexts->compress = ZSTD_createCCtx();
    contexts->decompress = ZSTD_createDCtx();
    if (contexts->compress == NULL || contexts->decompress == NULL) {
        ZSTD_freeCCtx(contexts->compress);
        ZSTD_freeDCtx(contexts->decompress);
        free(contexts);
        return NULL;
    }
    pthread_mutex_lock(&registry);
    contexts->next_of_thread = head;
    if (pthread_setspecific(thread_key, contexts) != 0) {
        /* The key still holds the old list, untouched. */
        pthread_mutex_unlock(&registry);
        ZSTD_freeCCtx(contexts->compress);
        ZSTD_freeDCtx(contexts->decompress);
        free(contexts);
        return NULL;
    }
    contexts->next_of_thread = prune(head);
    contexts->owner = settings;
    contexts->next_of_owner = settings->threads;
    if (settings->threads != NULL) settings->threads->previous_of_owner = contexts;
    settings->threads = contexts;
    pthread_mutex_unlock(&registry);
    return contexts;
}

static size_t zstd_bound(void *instance, size_t source_length) {
    (void)instance;
    return ZSTD_compressBound(source_length);
}

/* Turns a zstd result into a plugin status. */
static int32_t finish(size_t result, size_t *written, petrel_plugin_error *error, int32_t code, const char *what) {
    if (ZSTD_isError(result)) return fail(error, code, what, ZSTD_getErrorName(result));
    *written = result;
    return PETREL_PLUGIN_OK;
}

/* Starts a new frame on this thread's reused compression context: drops the previous call's
 * parameters and dictionary reference (a released CDict is never touched again), then sets the
 * instance's frame format. */
static size_t begin_compression(const zstd_settings *settings, ZSTD_CCtx *context) {
    size_t result = ZSTD_CCtx_reset(context, ZSTD_reset_session_and_parameters);
    if (ZSTD_isError(result) || !settings->compact) return result;
    result = ZSTD_CCtx_setParameter(context, ZSTD_c_format, ZSTD_f_zstd1_magicless);
    if (!ZSTD_isError(result)) result = ZSTD_CCtx_setParameter(context, ZSTD_c_dictIDFlag, 0);
    if (!ZSTD_isError(result)) result = ZSTD_CCtx_setParameter(context, ZSTD_c_contentSizeFlag, 0);
    if (!ZSTD_isError(result)) result = ZSTD_CCtx_setParameter(context, ZSTD_c_checksumFlag, 0);
    return result;
}

/* True when `source` starts with the zstd magic number (a standard frame; see the top comment). */
static int is_standard_frame(const uint8_t *source, size_t source_length) {
    static const uint8_t magic[4] = {0x28, 0xB5, 0x2F, 0xFD}; /* ZSTD_MAGICNUMBER, little-endian */
    return source_length >= sizeof magic && memcmp(source, magic, sizeof magic) == 0;
}

/* The decompression counterpart: a new session, no dictionary, and the frame format the frame
 * itself shows, whatever this instance writes. */
static size_t begin_decompression(ZSTD_DCtx *context, const uint8_t *source, size_t source_length) {
    size_t result = ZSTD_DCtx_reset(context, ZSTD_reset_session_and_parameters);
    if (ZSTD_isError(result) || is_standard_frame(source, source_length)) return result;
    return ZSTD_DCtx_setParameter(context, ZSTD_d_format, ZSTD_f_zstd1_magicless);
}

static int32_t zstd_compress(void *instance, const petrel_compression_options *options,
                             const uint8_t *source, size_t source_length,
                             uint8_t *destination, size_t destination_capacity, size_t *written,
                             petrel_plugin_error *error) {
    zstd_settings *settings = instance;
    thread_contexts *contexts = contexts_of(settings);
    if (contexts == NULL) return fail(error, 2, "compress", "out of memory for a zstd context");
    int level = options->level != 0 ? options->level : settings->level;
    size_t result = begin_compression(settings, contexts->compress);
    if (!ZSTD_isError(result)) result = ZSTD_CCtx_setParameter(contexts->compress, ZSTD_c_compressionLevel, level);
    /* By reference: the bytes stay valid for this call, and the next call resets the reference. */
    if (!ZSTD_isError(result) && options->dictionary != NULL && options->dictionary_length > 0)
        result = ZSTD_CCtx_loadDictionary_byReference(contexts->compress, options->dictionary, options->dictionary_length);
    if (!ZSTD_isError(result))
        result = ZSTD_compress2(contexts->compress, destination, destination_capacity, source, source_length);
    return finish(result, written, error, 3, "compress");
}

static int32_t zstd_decompress(void *instance, const petrel_compression_options *options,
                               const uint8_t *source, size_t source_length,
                               uint8_t *destination, size_t destination_capacity, size_t *written,
                               petrel_plugin_error *error) {
    zstd_settings *settings = instance;
    thread_contexts *contexts = contexts_of(settings);
    if (contexts == NULL) return fail(error, 2, "decompress", "out of memory for a zstd context");
    size_t result = begin_decompression(contexts->decompress, source, source_length);
    if (!ZSTD_isError(result) && options->dictionary != NULL && options->dictionary_length > 0)
        result = ZSTD_DCtx_loadDictionary_byReference(contexts->decompress, options->dictionary,
                                                      options->dictionary_length);
    if (!ZSTD_isError(result))
        result = ZSTD_decompressDCtx(contexts->decompress, destination, destination_capacity, source, source_length);
    return finish(result, written, error, 4, "decompress");
}

static void zstd_release_dictionary(void *instance, void *prepared) {
    (void)instance;
    zstd_prepared *dictionary = prepared;
    if (dictionary == NULL) return;
    ZSTD_freeCDict(dictionary->compress);
    ZSTD_freeDDict(dictionary->decompress);
    free(dictionary);
}

static int32_t zstd_prepare_dictionary(void *instance, const uint8_t *bytes, size_t length, int32_t level,
                                       void **prepared, petrel_plugin_error *error) {
    const zstd_settings *settings = instance;
    zstd_prepared *dictionary = calloc(1, sizeof *dictionary);
    if (dictionary == NULL) return fail(error, 2, "prepare_dictionary", "out of memory");
    /* Copies, not by reference: the host's bytes are valid only during this call. */
    dictionary->compress = ZSTD_createCDict(bytes, length, level != 0 ? level : settings->level);
    dictionary->decompress = ZSTD_createDDict(bytes, length);
    if (dictionary->compress == NULL || dictionary->decompress == NULL) {
        zstd_release_dictionary(instance, dictionary);
        return fail(error, 5, "prepare_dictionary", "zstd could not digest the dictionary");
    }
    *prepared = dictionary;
    return PETREL_PLUGIN_OK;
}

/* The level is the one the CDict was digested for: with a referenced CDict, zstd takes the CDict's
 * level over the context's (unset after the reset) one. */
static int32_t zstd_compress_prepared(void *instance, void *prepared, const uint8_t *source, size_t source_length,
                                      uint8_t *destination, size_t destination_capacity, size_t *written,
                                      petrel_plugin_error *error) {
    zstd_settings *settings = instance;
    thread_contexts *contexts = contexts_of(settings);
    if (contexts == NULL) return fail(error, 2, "compress_prepared", "out of memory for a zstd context");
    const zstd_prepared *dictionary = prepared;
    size_t result = begin_compression(settings, contexts->compress);
    if (!ZSTD_isError(result)) result = ZSTD_CCtx_refCDict(contexts->compress, dictionary->compress);
    if (!ZSTD_isError(result))
        result = ZSTD_compress2(contexts->compress, destination, destination_capacity, source, source_length);
    return finish(result, written, error, 3, "compress_prepared");
}

static int32_t zstd_decompress_prepared(void *instance, void *prepared, const uint8_t *source, size_t source_length,
                                        uint8_t *destination, size_t destination_capacity, size_t *written,
                                        petrel_plugin_error *error) {
    zstd_settings *settings = instance;
    thread_contexts *contexts = contexts_of(settings);
    if (contexts == NULL) return fail(error, 2, "decompress_prepared", "out of memory for a zstd context");
    const zstd_prepared *dictionary = prepared;
    size_t result = begin_decompression(contexts->decompress, source, source_length);
    if (!ZSTD_isError(result)) result = ZSTD_DCtx_refDDict(contexts->decompress, dictionary->decompress);
    if (!ZSTD_isError(result))
        result = ZSTD_decompressDCtx(contexts->decompress, destination, destination_capacity, source, source_length);
    return finish(result, written, error, 4, "decompress_prepared");
}

static int32_t zstd_train_dictionary(void *instance, const uint8_t *samples, const size_t *sample_lengths, size_t sample_count,
                                     uint8_t *dictionary, size_t capacity, size_t *written, petrel_plugin_error *error) {
    (void)instance;
    if (sample_count > UINT_MAX) return fail(error, 6, "train_dictionary", "more samples than zstd accepts");
    size_t result = ZDICT_trainFromBuffer(dictionary, capacity, samples, sample_lengths, (unsigned)sample_count);
    if (ZDICT_isError(result)) return fail(error, 6, "train_dictionary", ZDICT_getErrorName(result));
    *written = result;
    return PETREL_PLUGIN_OK;
}

/* Parses "level=N" and "frame=compact|standard", comma-separated, each at most once; 0 when valid. */
static int parse_config(const char *config, int *level, int *compact, petrel_plugin_error *error) {
    int seen_level = 0, seen_frame = 0;
    const char *setting = config;
    while (*setting != 0) {
        size_t length = strcspn(setting, ",");
        int consumed = 0, valid = 0;
        if (!seen_level && sscanf(setting, "level=%d%n", level, &consumed) == 1 && (size_t)consumed == length) {
            valid = seen_level = *level >= ZSTD_minCLevel() && *level <= ZSTD_maxCLevel();
        } else if (!seen_frame && length == strlen("frame=compact") && strncmp(setting, "frame=compact", length) == 0) {
            valid = seen_frame = *compact = 1;
        } else if (!seen_frame && length == strlen("frame=standard") && strncmp(setting, "frame=standard", length) == 0) {
            valid = seen_frame = 1;
            *compact = 0;
        }
        if (!valid) {
            error->code = 1;
            snprintf(error->message, sizeof error->message,
                     "config '%s': '%.*s' is not 'level=N' (N in %d...%d) or 'frame=compact|standard', each at most once",
                     config, (int)length, setting, ZSTD_minCLevel(), ZSTD_maxCLevel());
            return -1;
        }
        setting += length;
        if (*setting == ',') setting++;
    }
    return 0;
}

static int32_t zstd_init(const char *config, const petrel_plugin_host *host, void **instance, petrel_plugin_error *error) {
    (void)host;
    int level = ZSTD_CLEVEL_DEFAULT, compact = 1;
    if (parse_config(config, &level, &compact, error) != 0) return PETREL_PLUGIN_FAILED;
    pthread_once(&process_setup_once, process_setup);
    if (process_setup_status != 0) return fail(error, 2, "init", "cannot create the per-thread context key or pin the library");
    zstd_settings *settings = calloc(1, sizeof *settings);
    if (settings == NULL) return fail(error, 2, "init", "out of memory");
    settings->level = level;
    settings->compact = compact;
    *instance = settings;
    return PETREL_PLUGIN_OK;
}

/* Runs after every call has returned. Detaches every entry of the instance under the lock (see the
 * top comment): the threads free the entries themselves, at their next registration or exit. */
static void zstd_destroy(void *instance) {
    zstd_settings *settings = instance;
    pthread_mutex_lock(&registry);
    while (settings->threads != NULL) detach(settings->threads);
    pthread_mutex_unlock(&registry);
    free(settings);
}

static const petrel_compressor_functions functions = {
    sizeof(petrel_compressor_functions), zstd_bound, zstd_compress, zstd_decompress,
    zstd_prepare_dictionary, zstd_release_dictionary, zstd_compress_prepared, zstd_decompress_prepared,
    zstd_train_dictionary,
};

static const petrel_plugin_descriptor descriptor = {
    sizeof(petrel_plugin_descriptor), PETREL_PLUGIN_ABI_MAJOR, PETREL_PLUGIN_ABI_MINOR,
    PETREL_PLUGIN_KIND_COMPRESSOR, "compress-zstd", zstd_init, zstd_destroy, &functions,
};

const petrel_plugin_descriptor *petrel_plugin_describe_v1(uint32_t index) {
    return index == 0 ? &descriptor : NULL;
}
