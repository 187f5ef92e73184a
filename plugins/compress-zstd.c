/*
 * compress-zstd: zstd (libzstd) compression into caller-owned buffers, with an optional dictionary
 * and a level per call. Stateless: every call makes and frees its own zstd context, so concurrent
 * calls need no locking. Config: "" or "level=N" (the default level when a call passes 0).
 */
#include "../include/petrel_plugin.h"

#include <stdio.h>
#include <stdlib.h>
#include <zstd.h>

/* The configured default level. */
typedef struct zstd_settings {
    int level;
} zstd_settings;

static int32_t fail(petrel_plugin_error *error, int32_t code, const char *what, size_t result) {
    error->code = code;
    snprintf(error->message, sizeof error->message, "%s: %s", what, ZSTD_getErrorName(result));
    return PETREL_PLUGIN_FAILED;
}

static size_t zstd_bound(void *instance, size_t source_length) {
    (void)instance;
    return ZSTD_compressBound(source_length);
}

static int32_t zstd_compress(void *instance, const petrel_compression_options *options,
                             const uint8_t *source, size_t source_length,
                             uint8_t *destination, size_t destination_capacity, size_t *written,
                             petrel_plugin_error *error) {
    const zstd_settings *settings = instance;
    int level = options->level != 0 ? options->level : settings->level;
    ZSTD_CCtx *context = ZSTD_createCCtx();
    if (context == NULL) return fail(error, 2, "ZSTD_createCCtx", 0);
    size_t result = ZSTD_compress_usingDict(context, destination, destination_capacity, source, source_length,
                                            options->dictionary, options->dictionary_length, level);
    ZSTD_freeCCtx(context);
    if (ZSTD_isError(result)) return fail(error, 3, "compress", result);
    *written = result;
    return PETREL_PLUGIN_OK;
}

static int32_t zstd_decompress(void *instance, const petrel_compression_options *options,
                               const uint8_t *source, size_t source_length,
                               uint8_t *destination, size_t destination_capacity, size_t *written,
                               petrel_plugin_error *error) {
    (void)instance;
    ZSTD_DCtx *context = ZSTD_createDCtx();
    if (context == NULL) return fail(error, 2, "ZSTD_createDCtx", 0);
    size_t result = ZSTD_decompress_usingDict(context, destination, destination_capacity, source, source_length,
                                              options->dictionary, options->dictionary_length);
    ZSTD_freeDCtx(context);
    if (ZSTD_isError(result)) return fail(error, 4, "decompress", result);
    *written = result;
    return PETREL_PLUGIN_OK;
}

static int32_t zstd_init(const char *config, const petrel_plugin_host *host, void **instance, petrel_plugin_error *error) {
    (void)host;
    int level = ZSTD_CLEVEL_DEFAULT;
    if (config[0] != 0 && (sscanf(config, "level=%d", &level) != 1 || level < ZSTD_minCLevel() || level > ZSTD_maxCLevel())) {
        error->code = 1;
        snprintf(error->message, sizeof error->message, "config '%s' is not 'level=N' with N in %d...%d", config,
                 ZSTD_minCLevel(), ZSTD_maxCLevel());
        return PETREL_PLUGIN_FAILED;
    }
    zstd_settings *settings = malloc(sizeof *settings);
    if (settings == NULL) {
        error->code = 2;
        snprintf(error->message, sizeof error->message, "out of memory");
        return PETREL_PLUGIN_FAILED;
    }
    settings->level = level;
    *instance = settings;
    return PETREL_PLUGIN_OK;
}

static void zstd_destroy(void *instance) { free(instance); }

static const petrel_compressor_functions functions = {
    sizeof(petrel_compressor_functions), zstd_bound, zstd_compress, zstd_decompress,
};

static const petrel_plugin_descriptor descriptor = {
    sizeof(petrel_plugin_descriptor), PETREL_PLUGIN_ABI_MAJOR, PETREL_PLUGIN_ABI_MINOR,
    PETREL_PLUGIN_KIND_COMPRESSOR, "compress-zstd", zstd_init, zstd_destroy, &functions,
};

const petrel_plugin_descriptor *petrel_plugin_describe_v1(uint32_t index) {
    return index == 0 ? &descriptor : NULL;
}
