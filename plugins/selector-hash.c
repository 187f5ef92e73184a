/*
 * selector-hash: the queue of an ordered send is the order id modulo the queue count, so every
 * message of one order lands in one queue. Integer arguments are the order id itself (negative ids
 * are folded into range); string arguments use Java's String.hashCode(), as the built-in selector.
 */
#include "../include/petrel_plugin.h"

/* The non-negative remainder of value / count. */
static uint32_t floor_modulo(int64_t value, uint32_t count) {
    int64_t remainder = value % (int64_t)count;
    return (uint32_t)(remainder < 0 ? remainder + (int64_t)count : remainder);
}

static int32_t hash_select(void *instance, const petrel_plugin_message *message, const petrel_selector_argument *argument,
                           uint32_t queue_count, uint32_t *queue_index, petrel_plugin_error *error) {
    (void)instance;
    (void)message;
    (void)error;
    int64_t order_id = argument->type == PETREL_SELECTOR_ARGUMENT_INTEGER ? argument->integer : argument->java_hash_code;
    *queue_index = floor_modulo(order_id, queue_count);
    return PETREL_PLUGIN_OK;
}

/* Stateless: no instance. */
static int32_t hash_init(const char *config, const petrel_plugin_host *host, void **instance, petrel_plugin_error *error) {
    (void)config;
    (void)host;
    (void)error;
    *instance = NULL;
    return PETREL_PLUGIN_OK;
}

static void hash_destroy(void *instance) { (void)instance; }

static const petrel_selector_functions functions = {sizeof(petrel_selector_functions), hash_select};

static const petrel_plugin_descriptor descriptor = {
    sizeof(petrel_plugin_descriptor), PETREL_PLUGIN_ABI_MAJOR, PETREL_PLUGIN_ABI_MINOR,
    PETREL_PLUGIN_KIND_SELECTOR, "selector-hash", hash_init, hash_destroy, &functions,
};

const petrel_plugin_descriptor *petrel_plugin_describe_v1(uint32_t index) {
    return index == 0 ? &descriptor : NULL;
}
