/*
 * Plugins through the C API (issue 6): ordered sends through the shipped selector-hash plugin land on
 * orderId % queues; two push consumers of one group with allocate-consistent-hash cover every queue
 * exactly once; compressor plugins load into consumer options; broken fixtures are refused with the
 * plugin's reason and the process keeps running. The plugins come from PETREL_PLUGIN_DIR.
 */
#include "capi_support.h"

#define PLUGIN_TOPIC "CapiPlugins"
#define MAX_QUEUES 64
#define MAX_ROUNDS 64

/* Deliveries per (round, queue): which of the two consumers got the round's message (bit 0, bit 1). */
typedef struct plugin_seen {
    pthread_mutex_t mutex;
    int owners[MAX_ROUNDS][MAX_QUEUES];
    capi_counter delivered;
} plugin_seen;

/* A consumer's listener context. */
typedef struct plugin_listener {
    plugin_seen *seen;
    int bit;
} plugin_listener;

static petrel_consume_result on_plugin_messages(void *user_data, const petrel_message *const *messages, size_t count) {
    plugin_listener *listener = (plugin_listener *)user_data;
    for (size_t i = 0; i < count; i++) {
        int round = -1, queue = -1;
        size_t length = 0;
        const char *body = (const char *)petrel_message_body(messages[i], &length);
        char text[64];
        snprintf(text, sizeof text, "%.*s", (int)(length < 63 ? length : 63), body);
        if (sscanf(text, "round-%d-queue-%d", &round, &queue) != 2 || round < 0 || round >= MAX_ROUNDS || queue < 0 ||
            queue >= MAX_QUEUES) {
            continue;
        }
        CHECK(petrel_message_queue_id(messages[i]) == queue);
        pthread_mutex_lock(&listener->seen->mutex);
        listener->seen->owners[round][queue] |= listener->bit;
        pthread_mutex_unlock(&listener->seen->mutex);
        capi_counter_add(&listener->seen->delivered, 1);
    }
    return PETREL_CONSUME_SUCCESS;
}

/* Remembers the queue count the producer offers. */
static int32_t count_queues(void *user_data, int32_t queue_count, const petrel_message *message, const void *argument) {
    (void)message;
    (void)argument;
    *(int32_t *)user_data = queue_count;
    return 0;
}

/* Sends round `round`: the message for queue q carries order id q + round * queues. */
static void send_round(petrel_producer *producer, petrel_selector_plugin *selector, int round, int32_t queues) {
    for (int32_t queue = 0; queue < queues; queue++) {
        petrel_message *message = NULL;
        char body[64];
        snprintf(body, sizeof body, "round-%d-queue-%d", round, (int)queue);
        EXPECT_OK(petrel_message_create(PLUGIN_TOPIC, &message));
        EXPECT_OK(petrel_message_set_body(message, body, strlen(body)));
        petrel_send_result result;
        EXPECT_OK(petrel_producer_send_plugin_selected(producer, message, selector, queue + (int64_t)round * queues, NULL, &result));
        CHECK(result.queue_id == queue);
        petrel_message_destroy(message);
    }
}

/* Selector plugins: by name and by path, integer and string arguments, broken ones refused. */
static int32_t test_selector_plugins(petrel_producer *producer, const char *directory) {
    petrel_selector_plugin *by_name = NULL, *by_path = NULL, *broken = NULL;
    char path[4096];
    snprintf(path, sizeof path, "%s/selector-hash.so", directory);
    EXPECT_OK(petrel_selector_plugin_load("selector-hash", NULL, directory, &by_name));
    EXPECT_OK(petrel_selector_plugin_load(path, "", NULL, &by_path));
    EXPECT_STATUS(petrel_selector_plugin_load("selector-hash", NULL, NULL, &broken), PETREL_PLUGIN_ERROR);
    EXPECT_STATUS(petrel_selector_plugin_load("broken-init-failure", "no-thanks", directory, &broken), PETREL_PLUGIN_ERROR);
    CHECK(strstr(petrel_last_error(), "cannot start with config 'no-thanks'") != NULL);
    EXPECT_STATUS(petrel_selector_plugin_load("broken-abi-major", NULL, directory, &broken), PETREL_PLUGIN_ERROR);
    CHECK(strstr(petrel_last_error(), "broken-abi-major") != NULL);
    EXPECT_STATUS(petrel_selector_plugin_load("no-such-plugin", NULL, directory, &broken), PETREL_PLUGIN_ERROR);
    CHECK(broken == NULL);
    EXPECT_STATUS(petrel_selector_plugin_load(NULL, NULL, directory, &broken), PETREL_INVALID_ARGUMENT);

    int32_t queues = 0;
    petrel_message *message = NULL;
    EXPECT_OK(petrel_message_create(PLUGIN_TOPIC, &message));
    EXPECT_OK(petrel_message_set_body(message, "probe", 5));
    petrel_send_result result;
    EXPECT_OK(petrel_producer_send_selected(producer, message, count_queues, NULL, &queues, &result));
    CHECK(queues > 0 && queues <= MAX_QUEUES);
    for (int64_t order_id = 0; order_id < 3 * (int64_t)queues + 1; order_id += 1) {
        EXPECT_OK(petrel_producer_send_plugin_selected(producer, message, order_id % 2 ? by_name : by_path, order_id, NULL, &result));
        CHECK(result.queue_id == (int32_t)(order_id % queues));
    }
    petrel_send_result first, second;
    EXPECT_OK(petrel_producer_send_plugin_selected(producer, message, by_name, 0, "customer-7", &first));
    EXPECT_OK(petrel_producer_send_plugin_selected(producer, message, by_path, 0, "customer-7", &second));
    CHECK(first.queue_id == second.queue_id && second.queue_offset > first.queue_offset);
    /* A plugin answering a queue past the end fails the send with its name; the producer keeps working. */
    snprintf(path, sizeof path, "%s/broken-results.so", directory);
    EXPECT_OK(petrel_selector_plugin_load(path, NULL, NULL, &broken));
    EXPECT_STATUS(petrel_producer_send_plugin_selected(producer, message, broken, 1, NULL, &result), PETREL_PLUGIN_ERROR);
    CHECK(strstr(petrel_last_error(), "broken-selector-range") != NULL);
    petrel_selector_plugin_destroy(broken);
    EXPECT_OK(petrel_producer_send_plugin_selected(producer, message, by_name, 1, NULL, &result));
    EXPECT_STATUS(petrel_producer_send_plugin_selected(producer, message, NULL, 0, NULL, &result), PETREL_INVALID_ARGUMENT);
    EXPECT_STATUS(petrel_producer_send_plugin_selected(producer, message, (petrel_selector_plugin *)message, 0, NULL, &result),
                  PETREL_INVALID_ARGUMENT);
    petrel_message_destroy(message);
    petrel_selector_plugin_destroy(by_path);
    petrel_selector_plugin_destroy(NULL);
    petrel_selector_plugin_destroy(by_name);
    return queues;
}

/* Waits until every queue's message of `round` was delivered; returns whether it was in time. */
static int wait_round(plugin_seen *seen, int round, int32_t queues, int seconds) {
    double deadline = capi_now() + seconds;
    while (1) {
        int delivered = capi_counter_get(&seen->delivered), complete = 1;
        pthread_mutex_lock(&seen->mutex);
        for (int32_t queue = 0; queue < queues; queue++) complete &= seen->owners[round][queue] != 0;
        pthread_mutex_unlock(&seen->mutex);
        if (complete) return 1;
        int left = (int)(deadline - capi_now()) + 1;
        if (capi_now() >= deadline) return 0;
        capi_counter_wait(&seen->delivered, delivered + 1, left);
    }
}

/* Consumer options naming plugins: broken or missing ones are refused at create with the reason. */
static void test_consumer_plugin_options(const char *name_servers, const char *directory) {
    petrel_push_consumer_options push;
    petrel_push_consumer_options_init(&push);
    CHECK(push.allocation_plugin == NULL && push.compressor_plugin == NULL && push.plugin_directory == NULL);
    push.name_servers = name_servers;
    push.group = "CapiPluginOptions";
    push.plugin_directory = directory;
    petrel_push_consumer *consumer = NULL;
    push.allocation_plugin = "broken-init-failure";
    push.allocation_plugin_config = "refused";
    EXPECT_STATUS(petrel_push_consumer_create(&push, &consumer), PETREL_PLUGIN_ERROR);
    CHECK(strstr(petrel_last_error(), "broken-init-failure") != NULL);
    push.allocation_plugin = "allocate-consistent-hash";
    push.allocation_plugin_config = "virtual-nodes=oops";
    EXPECT_STATUS(petrel_push_consumer_create(&push, &consumer), PETREL_PLUGIN_ERROR);
    CHECK(strstr(petrel_last_error(), "virtual-nodes") != NULL);
    push.allocation_plugin_config = NULL;
    push.compressor_plugin = "broken-abi-major";
    EXPECT_STATUS(petrel_push_consumer_create(&push, &consumer), PETREL_PLUGIN_ERROR);
    CHECK(strstr(petrel_last_error(), "broken-abi-major") != NULL && consumer == NULL);
    push.compressor_plugin = "compress-zstd";
    EXPECT_OK(petrel_push_consumer_create(&push, &consumer));
    petrel_push_consumer_destroy(consumer);

    petrel_pull_consumer_options pull;
    petrel_pull_consumer_options_init(&pull);
    CHECK(pull.compressor_plugin == NULL && pull.plugin_directory == NULL);
    pull.name_servers = name_servers;
    pull.group = "CapiPluginOptions";
    pull.compressor_plugin = "compress-zstd";
    petrel_pull_consumer *puller = NULL;
    EXPECT_STATUS(petrel_pull_consumer_create(&pull, &puller), PETREL_PLUGIN_ERROR); /* a name needs a directory */
    pull.plugin_directory = directory;
    EXPECT_OK(petrel_pull_consumer_create(&pull, &puller));
    petrel_pull_consumer_destroy(puller);
}

/* Two consumers of one group using allocate-consistent-hash: once their assignment settles, every
 * round's messages (one per queue) are delivered, each queue's to exactly one consumer. */
static void test_allocation_plugin(const char *name_servers, const char *directory, petrel_producer *producer, int32_t queues) {
    static plugin_seen seen;
    memset(&seen, 0, sizeof seen);
    pthread_mutex_init(&seen.mutex, NULL);
    capi_counter_init(&seen.delivered);
    plugin_listener listeners[2] = {{&seen, 1}, {&seen, 2}};
    petrel_push_consumer *consumers[2] = {NULL, NULL};
    for (int i = 0; i < 2; i++) {
        petrel_push_consumer_options options;
        petrel_push_consumer_options_init(&options);
        options.name_servers = name_servers;
        options.group = "CapiPluginAllocation";
        options.consume_from = PETREL_CONSUME_FROM_FIRST_OFFSET;
        options.plugin_directory = directory;
        options.allocation_plugin = "allocate-consistent-hash";
        EXPECT_OK(petrel_push_consumer_create(&options, &consumers[i]));
        EXPECT_OK(petrel_push_consumer_subscribe(consumers[i], PLUGIN_TOPIC, "*"));
        EXPECT_OK(petrel_push_consumer_set_listener(consumers[i], on_plugin_messages, &listeners[i]));
        EXPECT_OK(petrel_push_consumer_start(consumers[i]));
    }
    petrel_selector_plugin *selector = NULL;
    EXPECT_OK(petrel_selector_plugin_load("selector-hash", NULL, directory, &selector));
    /* Settled: two rounds in a row deliver every queue's message to exactly one consumer, the same one.
     * (Which consumer gets which queue depends on the client ids; one may get them all.) */
    int settled = 0, previous[MAX_QUEUES] = {0};
    double deadline = capi_now() + 90;
    for (int round = 1; round < MAX_ROUNDS && !settled && capi_now() < deadline; round++) {
        send_round(producer, selector, round, queues);
        if (!wait_round(&seen, round, queues, 20)) continue;
        int exact = 1, same = 1;
        pthread_mutex_lock(&seen.mutex);
        for (int32_t queue = 0; queue < queues; queue++) {
            int owner = seen.owners[round][queue];
            if (owner != 1 && owner != 2) exact = 0;
            if (owner != previous[queue]) same = 0;
            previous[queue] = owner;
        }
        pthread_mutex_unlock(&seen.mutex);
        settled = exact && same;
    }
    CHECK(settled);
    petrel_selector_plugin_destroy(selector);
    for (int i = 0; i < 2; i++) {
        EXPECT_OK(petrel_push_consumer_shutdown(consumers[i]));
        petrel_push_consumer_destroy(consumers[i]);
    }
}

void test_plugins(const char *name_servers) {
    const char *directory = getenv("PETREL_PLUGIN_DIR");
    if (directory == NULL || directory[0] == '\0') {
        fprintf(stderr, "PETREL_PLUGIN_DIR is not set (the directory of the built plugins)\n");
        capi_failures++;
        return;
    }
    petrel_producer_options options;
    petrel_producer_options_init(&options);
    options.name_servers = name_servers;
    options.group = "CapiPluginProducer";
    petrel_producer *producer = NULL;
    EXPECT_OK(petrel_producer_create(&options, &producer));
    EXPECT_OK(petrel_producer_start(producer));
    int32_t queues = test_selector_plugins(producer, directory);
    test_consumer_plugin_options(name_servers, directory);
    if (queues > 0) test_allocation_plugin(name_servers, directory, producer, queues);
    EXPECT_OK(petrel_producer_shutdown(producer));
    petrel_producer_destroy(producer);
}
