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
 * Contexts: every thread that calls the plugin gets its own ZSTD_CCtx and ZSTD_DCtx, created on
 * its first call and reused by every later call (a context holds ~100 KiB-1 MiB of tables; making
 * one per message would cost more than compressing a small message). They hang off a pthread key
 * of the instance; the key's destructor frees them when the thread exits, and destroy frees those
 * of threads still alive. Concurrent calls need no locking beyond registering a new thread. Every
 * call resets its context (session and parameters) and then sets the frame format, the level (or
 * the prepared dictionary, whose CDict carries its level) and the dictionary, so no call inherits
 * another's settings or a reference to a dictionary released since.
 *
 * Prepared dictionaries: one zstd_prepared holds a ZSTD_CDict (digested for its level) and a
 * ZSTD_DDict, both copies of the host's bytes; zstd only reads them, so any number of threads may
 * use one handle at once.
 */
#include "../include/petrel_plugin.h"

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

/* One thread's contexts, linked into its instance's list so destroy can free them. */
typedef struct thread_contexts {
    ZSTD_CCtx *compress;
    ZSTD_DCtx *decompress;
    struct zstd_settings *owner;
    struct thread_contexts *previous;
    struct thread_contexts *next;
} thread_contexts;

/* The instance: the configured default level and frame format, and the per-thread contexts. */
typedef struct zstd_settings {
    int level;
    /* 1: magicless frames without dictionary id and content size ("frame=compact"); 0: standard. */
    int compact;
    pthread_key_t key;
    thread_contexts *threads;
} zstd_settings;

/* A prepared dictionary: both directions digested once. */
typedef struct zstd_prepared {
    ZSTD_CDict *compress;
    ZSTD_DDict *decompress;
} zstd_prepared;

/* Guards every instance's thread list (registration, thread exit, destroy). Static, so it outlives
 * instances: a thread exiting while its instance is destroyed still finds a valid lock. */
static pthread_mutex_t registry = PTHREAD_MUTEX_INITIALIZER;

static int32_t fail(petrel_plugin_error *error, int32_t code, const char *what, const char *reason) {
    error->code = code;
    snprintf(error->message, sizeof error->message, "%s: %s", what, reason);
    return PETREL_PLUGIN_FAILED;
}

static void free_contexts(thread_contexts *contexts) {
    ZSTD_freeCCtx(contexts->compress);
    ZSTD_freeDCtx(contexts->decompress);
    free(contexts);
}

/* The key's destructor: a thread that called the plugin exits. Its instance is still alive:
 * destroy deletes the key before freeing the instance, and glibc runs no destructor of a deleted
 * key. Unlinks the thread's contexts from the instance's list, then frees them. */
static void thread_exit(void *value) {
    thread_contexts *contexts = value;
    pthread_mutex_lock(&registry);
    if (contexts->previous != NULL) contexts->previous->next = contexts->next;
    else contexts->owner->threads = contexts->next;
    if (contexts->next != NULL) contexts->next->previous = contexts->previous;
    pthread_mutex_unlock(&registry);
    free_contexts(contexts);
}

/* This thread's contexts for `settings`, created on its first call; NULL when out of memory. */
static thread_contexts *contexts_of(zstd_settings *settings) {
    thread_contexts *contexts = pthread_getspecific(settings->key);
    if (contexts != NULL) return contexts;
    contexts = calloc(1, sizeof *contexts);
    if (contexts == NULL) return NULL;
    contexts->owner = settings;
    contexts->compress = ZSTD_createCCtx();
    contexts->decompress = ZSTD_createDCtx();
    if (contexts->compress == NULL || contexts->decompress == NULL) {
        free_contexts(contexts);
        return NULL;
    }
    pthread_mutex_lock(&registry);
    contexts->next = settings->threads;
    if (settings->threads != NULL) settings->threads->previous = contexts;
    settings->threads = contexts;
    pthread_mutex_unlock(&registry);
    if (pthread_setspecific(settings->key, contexts) != 0) {
        thread_exit(contexts);
        return NULL;
    }
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
    zstd_settings *settings = calloc(1, sizeof *settings);
    if (settings == NULL) return fail(error, 2, "init", "out of memory");
    if (pthread_key_create(&settings->key, thread_exit) != 0) {
        free(settings);
        return fail(error, 2, "init", "no pthread key left");
    }
    settings->level = level;
    settings->compact = compact;
    *instance = settings;
    return PETREL_PLUGIN_OK;
}

/* Runs after every call has returned. Deleting the key first stops thread exits from running
 * thread_exit for this instance; then the contexts of threads still alive are freed here. */
static void zstd_destroy(void *instance) {
    zstd_settings *settings = instance;
    pthread_key_delete(settings->key);
    pthread_mutex_lock(&registry);
    thread_contexts *contexts = settings->threads;
    settings->threads = NULL;
    pthread_mutex_unlock(&registry);
    while (contexts != NULL) {
        thread_contexts *next = contexts->next;
        free_contexts(contexts);
        contexts = next;
    }
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
