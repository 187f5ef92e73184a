/*
 * allocate-consistent-hash: every client owns `virtual-nodes` points on a 64-bit ring (default 10,
 * config "virtual-nodes=N"), and a queue goes to the owner of the first point at or after the
 * queue's hash. A client joining or leaving moves only the queues on the arcs it gains or loses.
 *
 * The hash is FNV-1a 64 with SplitMix64's finaliser over "clientId-node" and "topic@broker#queueId",
 * the same as the client's built-in CONSISTENT_HASH strategy, so both allocate identically.
 */
#include "../include/petrel_plugin.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The configured ring density. */
typedef struct ring_settings {
    uint32_t virtual_nodes;
} ring_settings;

/* Feeds `text` into an FNV-1a state. */
static uint64_t fnv_update(uint64_t state, const char *text) {
    for (const unsigned char *byte = (const unsigned char *)text; *byte != 0; byte++) {
        state ^= *byte;
        state *= UINT64_C(0x00000100000001B3);
    }
    return state;
}

/* SplitMix64's finaliser: FNV alone clusters strings differing only in their last characters. */
static uint64_t finalise(uint64_t value) {
    value = (value ^ (value >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    value = (value ^ (value >> 27)) * UINT64_C(0x94d049bb133111eb);
    return value ^ (value >> 31);
}

static uint64_t node_point(const char *client_id, uint32_t node) {
    char suffix[16];
    snprintf(suffix, sizeof suffix, "-%u", (unsigned)node);
    return finalise(fnv_update(fnv_update(UINT64_C(0xcbf29ce484222325), client_id), suffix));
}

static uint64_t queue_point(const petrel_plugin_queue *queue) {
    char suffix[16];
    snprintf(suffix, sizeof suffix, "#%d", (int)queue->queue_id);
    uint64_t state = fnv_update(UINT64_C(0xcbf29ce484222325), queue->topic);
    state = fnv_update(fnv_update(fnv_update(state, "@"), queue->broker_name), suffix);
    return finalise(state);
}

/* The client owning the first point at or after `point` (wrapping); ties go to the smaller id. */
static uint32_t owner(uint64_t point, const char *const *client_ids, uint32_t client_count, uint32_t nodes) {
    uint32_t best = 0, lowest = 0;
    uint64_t best_point = 0, lowest_point = UINT64_MAX;
    int found = 0;
    for (uint32_t client = 0; client < client_count; client++) {
        for (uint32_t node = 0; node < nodes; node++) {
            uint64_t candidate = node_point(client_ids[client], node);
            if (candidate < lowest_point || (candidate == lowest_point && strcmp(client_ids[client], client_ids[lowest]) < 0)) {
                lowest_point = candidate;
                lowest = client;
            }
            if (candidate < point) continue;
            if (!found || candidate < best_point ||
                (candidate == best_point && strcmp(client_ids[client], client_ids[best]) < 0)) {
                best_point = candidate;
                best = client;
                found = 1;
            }
        }
    }
    return found ? best : lowest;
}

static int32_t ring_allocate(void *instance, const char *group, const char *current_client_id,
                             const char *const *client_ids, uint32_t client_count,
                             const petrel_plugin_queue *queues, uint32_t queue_count,
                             uint32_t *assigned, uint32_t *assigned_count, petrel_plugin_error *error) {
    (void)group;
    (void)error;
    const ring_settings *settings = instance;
    *assigned_count = 0;
    int32_t current = -1;
    for (uint32_t client = 0; client < client_count; client++) {
        if (strcmp(client_ids[client], current_client_id) == 0) current = (int32_t)client;
    }
    if (current < 0) return PETREL_PLUGIN_OK;
    for (uint32_t queue = 0; queue < queue_count; queue++) {
        if (owner(queue_point(&queues[queue]), client_ids, client_count, settings->virtual_nodes) == (uint32_t)current) {
            assigned[(*assigned_count)++] = queue;
        }
    }
    return PETREL_PLUGIN_OK;
}

/* Config: "" or "virtual-nodes=N" with 1 <= N <= 1000. */
static int32_t ring_init(const char *config, const petrel_plugin_host *host, void **instance, petrel_plugin_error *error) {
    unsigned nodes = 10;
    if (config[0] != 0 && (sscanf(config, "virtual-nodes=%u", &nodes) != 1 || nodes < 1 || nodes > 1000)) {
        error->code = 1;
        snprintf(error->message, sizeof error->message, "config '%s' is not 'virtual-nodes=N' with N in 1...1000", config);
        return PETREL_PLUGIN_FAILED;
    }
    ring_settings *settings = malloc(sizeof *settings);
    if (settings == NULL) {
        error->code = 2;
        snprintf(error->message, sizeof error->message, "out of memory");
        return PETREL_PLUGIN_FAILED;
    }
    settings->virtual_nodes = nodes;
    *instance = settings;
    if (host->log != NULL) host->log(host->context, PETREL_PLUGIN_LOG_DEBUG, "consistent-hash ring ready");
    return PETREL_PLUGIN_OK;
}

static void ring_destroy(void *instance) { free(instance); }

static const petrel_allocator_functions functions = {sizeof(petrel_allocator_functions), ring_allocate};

static const petrel_plugin_descriptor descriptor = {
    sizeof(petrel_plugin_descriptor), PETREL_PLUGIN_ABI_MAJOR, PETREL_PLUGIN_ABI_MINOR,
    PETREL_PLUGIN_KIND_ALLOCATOR, "allocate-consistent-hash", ring_init, ring_destroy, &functions,
};

const petrel_plugin_descriptor *petrel_plugin_describe_v1(uint32_t index) {
    return index == 0 ? &descriptor : NULL;
}
