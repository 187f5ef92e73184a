/*
 * Per-message zstd cost and size on JSON events, in-process, no broker: what the plugin ABI 1.1's
 * prepared dictionaries and training buy. Same events as `petrel-bench produce --payload json-events`.
 *
 *   .build/release/petrel-bench payload --payload json-events --count 1000 --payload-seed 7 > /tmp/train.jsonl
 *   .build/release/petrel-bench payload --payload json-events --count 20000 > /tmp/events.jsonl
 *   cc -O2 -o /tmp/zstd-micro bench/zstd-dictionary-micro.c -lzstd && /tmp/zstd-micro /tmp/train.jsonl /tmp/events.jsonl
 *
 * Modes (level 3, one reused context unless said otherwise):
 *   plain              no dictionary
 *   raw-per-call       a raw-content dictionary (the newest samples, 16 KiB) digested on every call
 *   raw-prepared       the same dictionary digested once (ZSTD_CDict)
 *   trained-per-call   a ZDICT-trained 16 KiB dictionary digested on every call
 *   trained-prepared   the trained dictionary digested once: what prepare_dictionary/compress_prepared do
 *   context-per-call   plain, with a new ZSTD_CCtx per message (compress-zstd before ABI 1.1)
 *   plain-compact      plain, as compress-zstd's frame=compact: magicless, no dictionary id, no content
 *                      size, through ZSTD_compress2 on a context reset per message
 *   trained-compact    trained-prepared the same compact way (ZSTD_CCtx_refCDict): what the plugin does
 * The other modes write standard frames (compress-zstd's frame=standard, or before compact frames).
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zdict.h>
#define ZSTD_STATIC_LINKING_ONLY /* ZSTD_c_format */
#include <zstd.h>

typedef struct event { char *bytes; size_t length; } event;

/* The lines of `path` (without their newline). */
static event *load(const char *path, size_t *count) {
    FILE *file = fopen(path, "r");
    if (file == NULL) { perror(path); exit(1); }
    size_t capacity = 1024, used = 0;
    event *events = malloc(capacity * sizeof *events);
    char *line = NULL;
    size_t line_capacity = 0;
    ssize_t length;
    while ((length = getline(&line, &line_capacity, file)) > 0) {
        if (line[length - 1] == '\n') length--;
        if (used == capacity) events = realloc(events, (capacity *= 2) * sizeof *events);
        events[used].bytes = malloc((size_t)length);
        memcpy(events[used].bytes, line, (size_t)length);
        events[used].length = (size_t)length;
        used++;
    }
    free(line);
    fclose(file);
    *count = used;
    return events;
}

static double seconds(void) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)now.tv_sec + (double)now.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
    if (argc != 3) { fprintf(stderr, "usage: %s TRAIN.jsonl EVENTS.jsonl\n", argv[0]); return 2; }
    size_t sample_count, event_count;
    event *samples = load(argv[1], &sample_count);
    event *events = load(argv[2], &event_count);
    size_t total = 0;
    for (size_t index = 0; index < sample_count; index++) total += samples[index].length;
    char *joined = malloc(total);
    size_t *lengths = malloc(sample_count * sizeof *lengths);
    for (size_t index = 0, offset = 0; index < sample_count; offset += samples[index].length, index++) {
        memcpy(joined + offset, samples[index].bytes, samples[index].length);
        lengths[index] = samples[index].length;
    }
    static char trained[16384], raw[16384];
    size_t trained_length = ZDICT_trainFromBuffer(trained, sizeof trained, joined, lengths, (unsigned)sample_count);
    if (ZDICT_isError(trained_length)) { fprintf(stderr, "training: %s\n", ZDICT_getErrorName(trained_length)); return 1; }
    /* The newest samples that fit, oldest first. */
    size_t first = sample_count, raw_length = 0;
    while (first > 0 && raw_length + samples[first - 1].length <= sizeof raw) raw_length += samples[--first].length;
    for (size_t index = first, offset = 0; index < sample_count; offset += samples[index].length, index++)
        memcpy(raw + offset, samples[index].bytes, samples[index].length);

    size_t capacity = ZSTD_compressBound(1000);
    char *destination = malloc(capacity);
    ZSTD_CCtx *context = ZSTD_createCCtx();
    const char *names[] = {"plain", "raw-per-call", "raw-prepared", "trained-per-call", "trained-prepared", "context-per-call",
                           "plain-compact", "trained-compact"};
    for (int mode = 0; mode < 8; mode++) {
        const char *dictionary = mode <= 2 ? raw : trained;
        size_t dictionary_length = mode == 0 || mode == 5 || mode == 6 ? 0 : mode <= 2 ? raw_length : trained_length;
        ZSTD_CDict *prepared = mode == 2 || mode == 4 || mode == 7 ? ZSTD_createCDict(dictionary, dictionary_length, 3) : NULL;
        size_t in = 0, out = 0;
        double start = seconds();
        for (size_t index = 0; index < event_count; index++) {
            size_t result;
            if (mode >= 6) {
                ZSTD_CCtx_reset(context, ZSTD_reset_session_and_parameters);
                ZSTD_CCtx_setParameter(context, ZSTD_c_format, ZSTD_f_zstd1_magicless);
                ZSTD_CCtx_setParameter(context, ZSTD_c_dictIDFlag, 0);
                ZSTD_CCtx_setParameter(context, ZSTD_c_contentSizeFlag, 0);
                ZSTD_CCtx_setParameter(context, ZSTD_c_checksumFlag, 0);
                if (prepared != NULL) ZSTD_CCtx_refCDict(context, prepared);
                else ZSTD_CCtx_setParameter(context, ZSTD_c_compressionLevel, 3);
                result = ZSTD_compress2(context, destination, capacity, events[index].bytes, events[index].length);
            } else if (mode == 5) {
                ZSTD_CCtx *fresh = ZSTD_createCCtx();
                result = ZSTD_compressCCtx(fresh, destination, capacity, events[index].bytes, events[index].length, 3);
                ZSTD_freeCCtx(fresh);
            } else if (prepared != NULL) {
                result = ZSTD_compress_usingCDict(context, destination, capacity, events[index].bytes, events[index].length, prepared);
            } else {
                result = ZSTD_compress_usingDict(context, destination, capacity, events[index].bytes, events[index].length,
                                                 dictionary_length ? dictionary : NULL, dictionary_length, 3);
            }
            if (ZSTD_isError(result)) { fprintf(stderr, "%s: %s\n", names[mode], ZSTD_getErrorName(result)); return 1; }
            in += events[index].length;
            out += result;
        }
        double elapsed = seconds() - start;
        printf("Z1 mode=%s dictionary_bytes=%zu original_per_msg=%.1f frame_per_msg=%.1f ratio=%.2f us_per_msg=%.2f\n", names[mode],
               dictionary_length, (double)in / (double)event_count, (double)out / (double)event_count, (double)in / (double)out,
               elapsed / (double)event_count * 1e6);
        ZSTD_freeCDict(prepared);
    }
    return 0;
}
