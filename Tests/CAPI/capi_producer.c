/* The producer: options, lifecycle, every send function, and bad arguments. */
#include "capi_support.h"

/* What the asynchronous send callback saw. */
typedef struct async_outcome {
    capi_counter done;
    petrel_status status;
    char message_id[64];
    void *user_data_seen;
    pthread_t thread;
} async_outcome;

static void on_sent(void *user_data, petrel_status status, const petrel_send_result *result, const char *error_message) {
    async_outcome *outcome = (async_outcome *)user_data;
    outcome->status = status;
    outcome->user_data_seen = user_data;
    outcome->thread = pthread_self();
    if (status == PETREL_OK && result != NULL) {
        memcpy(outcome->message_id, result->message_id, sizeof outcome->message_id);
    } else {
        fprintf(stderr, "async send failed: %s\n", error_message);
    }
    capi_counter_add(&outcome->done, 1);
}

/* What the selector saw. */
typedef struct selector_seen {
    int32_t queue_count;
    pthread_t thread;
    const void *argument;
    int32_t answer;
} selector_seen;

static int32_t select_queue(void *user_data, int32_t queue_count, const petrel_message *message, const void *argument) {
    selector_seen *seen = (selector_seen *)user_data;
    seen->queue_count = queue_count;
    seen->thread = pthread_self();
    seen->argument = argument;
    CHECK(message != NULL && strcmp(petrel_message_topic(message), "CapiProduce") == 0);
    return seen->answer < 0 ? seen->answer : queue_count - 1;
}

static petrel_message *new_message(const char *topic, const char *body, const char *tags) {
    petrel_message *message = NULL;
    EXPECT_OK(petrel_message_create(topic, &message));
    EXPECT_OK(petrel_message_set_body(message, body, strlen(body)));
    if (tags != NULL) EXPECT_OK(petrel_message_set_tags(message, tags));
    return message;
}

/* Options and create refuse what they cannot use. */
static void test_producer_options(const char *name_servers) {
    petrel_producer_options options;
    petrel_producer *producer = NULL;
    petrel_producer_options_init(NULL);
    CHECK(petrel_last_error()[0] != '\0');
    EXPECT_STATUS(petrel_producer_create(NULL, &producer), PETREL_INVALID_ARGUMENT);
    memset(&options, 0, sizeof options);
    options.name_servers = name_servers;
    EXPECT_STATUS(petrel_producer_create(&options, &producer), PETREL_INVALID_ARGUMENT); /* size 0 */
    petrel_producer_options_init(&options);
    CHECK(options.size == sizeof options && options.send_timeout_milliseconds == 3000 && options.retry_times == 2);
    EXPECT_STATUS(petrel_producer_create(&options, &producer), PETREL_INVALID_ARGUMENT); /* no name servers */
    options.name_servers = "no-port-here";
    EXPECT_STATUS(petrel_producer_create(&options, &producer), PETREL_INVALID_ARGUMENT);
    options.name_servers = name_servers;
    options.group = "bad group!";
    EXPECT_STATUS(petrel_producer_create(&options, &producer), PETREL_INVALID_ARGUMENT);
    options.group = "CapiGroup";
    options.send_timeout_milliseconds = 0;
    EXPECT_STATUS(petrel_producer_create(&options, &producer), PETREL_INVALID_ARGUMENT);
    options.send_timeout_milliseconds = 3000;
    CHECK(options.compression_level == 5);
    options.compression_level = 0;
    EXPECT_STATUS(petrel_producer_create(&options, &producer), PETREL_INVALID_ARGUMENT);
    options.compression_level = 10;
    EXPECT_STATUS(petrel_producer_create(&options, &producer), PETREL_INVALID_ARGUMENT);
    options.compression_level = 5;
    EXPECT_STATUS(petrel_producer_create(&options, NULL), PETREL_INVALID_ARGUMENT);
    CHECK(producer == NULL);
    EXPECT_STATUS(petrel_producer_start(NULL), PETREL_INVALID_ARGUMENT);
    EXPECT_STATUS(petrel_producer_shutdown(NULL), PETREL_INVALID_ARGUMENT);
    petrel_producer_destroy(NULL);
}

/* Calls refused before start, after start, and with NULL or wrong arguments. */
static void test_producer_states(petrel_producer *producer, petrel_message *message) {
    petrel_send_result result;
    petrel_transaction_state state;
    EXPECT_STATUS(petrel_producer_send(producer, message, &result), PETREL_INVALID_STATE);
    EXPECT_STATUS(petrel_producer_send_oneway(producer, message), PETREL_INVALID_STATE);
    EXPECT_STATUS(petrel_producer_send_async(producer, message, on_sent, NULL), PETREL_INVALID_STATE);
    EXPECT_OK(petrel_producer_start(producer));
    EXPECT_STATUS(petrel_producer_start(producer), PETREL_INVALID_STATE);
    EXPECT_STATUS(petrel_producer_set_transaction_checker(producer, NULL, NULL), PETREL_INVALID_ARGUMENT);
    EXPECT_STATUS(petrel_producer_send(NULL, message, &result), PETREL_INVALID_ARGUMENT);
    EXPECT_STATUS(petrel_producer_send(producer, NULL, &result), PETREL_INVALID_ARGUMENT);
    EXPECT_STATUS(petrel_producer_send(producer, message, NULL), PETREL_INVALID_ARGUMENT);
    /* A message handle is not a producer. */
    EXPECT_STATUS(petrel_producer_send((petrel_producer *)message, message, &result), PETREL_INVALID_ARGUMENT);
    EXPECT_STATUS(petrel_producer_send_async(producer, message, NULL, NULL), PETREL_INVALID_ARGUMENT);
    EXPECT_STATUS(petrel_producer_send_oneway(producer, NULL), PETREL_INVALID_ARGUMENT);
    EXPECT_STATUS(petrel_producer_send_batch(producer, NULL, 1, &result), PETREL_INVALID_ARGUMENT);
    EXPECT_STATUS(petrel_producer_send_batch(producer, &message, 0, &result), PETREL_INVALID_ARGUMENT);
    EXPECT_STATUS(petrel_producer_send_selected(producer, message, NULL, NULL, NULL, &result), PETREL_INVALID_ARGUMENT);
    EXPECT_STATUS(petrel_producer_send_ordered(producer, message, "", &result), PETREL_INVALID_ARGUMENT);
    EXPECT_STATUS(petrel_producer_send_ordered(producer, message, NULL, &result), PETREL_INVALID_ARGUMENT);
    /* No checker was registered: transactions are refused. */
    EXPECT_STATUS(petrel_producer_send_transaction(producer, message, NULL, NULL, NULL, &result, &state),
                  PETREL_INVALID_ARGUMENT);
    petrel_message *empty = NULL;
    EXPECT_OK(petrel_message_create("CapiProduce", &empty));
    EXPECT_STATUS(petrel_producer_send(producer, empty, &result), PETREL_INVALID_ARGUMENT); /* empty body */
    petrel_message_destroy(empty);
    petrel_message *reserved = new_message("CapiProduce", "x", NULL);
    EXPECT_OK(petrel_message_set_property(reserved, "UNIQ_KEY", "mine"));
    EXPECT_STATUS(petrel_producer_send(producer, reserved, &result), PETREL_INVALID_ARGUMENT);
    petrel_message_destroy(reserved);
}

/* send_async returns argument and state errors at once and never calls the callback for them. */
static void test_async_validation(petrel_producer *producer) {
    async_outcome outcome;
    memset(&outcome, 0, sizeof outcome);
    capi_counter_init(&outcome.done);
    petrel_message *empty = NULL;
    EXPECT_OK(petrel_message_create("CapiProduce", &empty));
    EXPECT_STATUS(petrel_producer_send_async(producer, empty, on_sent, &outcome), PETREL_INVALID_ARGUMENT);
    CHECK(strstr(petrel_last_error(), "body is empty") != NULL);
    petrel_message_destroy(empty);
    petrel_message *bad_topic = new_message("bad topic!", "x", NULL);
    EXPECT_STATUS(petrel_producer_send_async(producer, bad_topic, on_sent, &outcome), PETREL_INVALID_ARGUMENT);
    CHECK(strstr(petrel_last_error(), "topic") != NULL);
    petrel_message_destroy(bad_topic);
    petrel_message *system_topic = new_message("TBW102", "x", NULL);
    EXPECT_STATUS(petrel_producer_send_async(producer, system_topic, on_sent, &outcome), PETREL_INVALID_ARGUMENT);
    petrel_message_destroy(system_topic);
    petrel_message *reserved = new_message("CapiProduce", "x", NULL);
    EXPECT_OK(petrel_message_set_property(reserved, "UNIQ_KEY", "mine"));
    EXPECT_STATUS(petrel_producer_send_async(producer, reserved, on_sent, &outcome), PETREL_INVALID_ARGUMENT);
    petrel_message_destroy(reserved);
    EXPECT_STATUS(petrel_producer_send_async(producer, NULL, on_sent, &outcome), PETREL_INVALID_ARGUMENT);
    EXPECT_STATUS(petrel_producer_send_async(NULL, NULL, on_sent, &outcome), PETREL_INVALID_ARGUMENT);
    /* One good send: its callback is the only one (callbacks run in order on one thread). */
    petrel_message *good = new_message("CapiProduce", "after refusals", NULL);
    EXPECT_OK(petrel_producer_send_async(producer, good, on_sent, &outcome));
    petrel_message_destroy(good);
    CHECK(capi_counter_wait(&outcome.done, 1, 30));
    CHECK(outcome.status == PETREL_OK && capi_counter_get(&outcome.done) == 1);
}

/* Synchronous, asynchronous, oneway and batch sends. */
static void test_plain_sends(petrel_producer *producer, petrel_message *message) {
    petrel_send_result result;
    memset(&result, 0, sizeof result);
    EXPECT_OK(petrel_producer_send(producer, message, &result));
    CHECK(result.send_status == 0 && result.queue_id >= 0 && result.queue_offset >= 0);
    CHECK(strlen(result.message_id) == 32 && strlen(result.offset_message_id) == 32);
    CHECK(strcmp(petrel_message_id(message), result.message_id) == 0);
    CHECK(result.broker_name[0] != '\0');

    async_outcome outcome;
    memset(&outcome, 0, sizeof outcome);
    capi_counter_init(&outcome.done);
    EXPECT_OK(petrel_producer_send_async(producer, message, on_sent, &outcome));
    CHECK(capi_counter_wait(&outcome.done, 1, 30));
    CHECK(outcome.status == PETREL_OK && outcome.user_data_seen == &outcome);
    CHECK(strlen(outcome.message_id) == 32 && !pthread_equal(outcome.thread, pthread_self()));

    EXPECT_OK(petrel_producer_send_oneway(producer, message));

    petrel_message *batch[3];
    for (int i = 0; i < 3; i++) batch[i] = new_message("CapiProduce", "batched", "TagB");
    EXPECT_OK(petrel_producer_send_batch(producer, batch, 3, &result));
    CHECK(strcmp(petrel_message_id(batch[0]), result.message_id) == 0);
    CHECK(strlen(petrel_message_id(batch[2])) == 32 && strcmp(petrel_message_id(batch[1]), petrel_message_id(batch[2])) != 0);
    for (int i = 0; i < 3; i++) petrel_message_destroy(batch[i]);
}

/* A selector picks the queue on the calling thread; the hash selector is stable per key. */
static void test_selected_sends(petrel_producer *producer, petrel_message *message) {
    petrel_send_result result;
    selector_seen seen;
    memset(&seen, 0, sizeof seen);
    int argument = 42;
    EXPECT_OK(petrel_producer_send_selected(producer, message, select_queue, &argument, &seen, &result));
    CHECK(seen.queue_count > 0 && pthread_equal(seen.thread, pthread_self()) && seen.argument == &argument);
    CHECK(result.queue_id == seen.queue_count - 1);
    seen.answer = -5;
    EXPECT_STATUS(petrel_producer_send_selected(producer, message, select_queue, NULL, &seen, &result), PETREL_INVALID_ARGUMENT);
    petrel_send_result first, second;
    EXPECT_OK(petrel_producer_send_ordered(producer, message, "order-17", &first));
    EXPECT_OK(petrel_producer_send_ordered(producer, message, "order-17", &second));
    CHECK(first.queue_id == second.queue_id && second.queue_offset > first.queue_offset);
}

/* Text with many near-repeats: words from a small vocabulary picked by a fixed linear congruential
 * generator, so the compressed sizes compared by test_c_api.py are deterministic. */
static char *word_soup(size_t *out_length) {
    static const char *const words[] = {"broker", "queue", "offset", "message", "topic", "consumer", "producer",
                                        "commit", "log", "index", "tag", "key", "retry", "delay", "order",
                                        "batch", "flush", "store", "route", "group"};
    char *text = malloc(40000 * 12);
    size_t length = 0;
    uint64_t state = 0x2545F4914F6CDD1DULL;
    for (int index = 0; index < 40000; index++) {
        state = state * 6364136223846793005ULL + 1442695040888963407ULL;
        length += (size_t)sprintf(text + length, "%s%s", words[(state >> 33) % 20], (state & 0x100) == 0 ? " " : ", ");
    }
    *out_length = length;
    return text;
}

/* Sends the same compressible body with compression levels 1 and 9 and prints both offset message ids
 * on one line, "compression-level-ids <level 1> <level 9>": test_c_api.py reads the stored records
 * (VIEW_MESSAGE_BY_ID) and checks the level-9 body is the smaller. */
static void test_compression_levels(const char *name_servers) {
    size_t length = 0;
    char *body = word_soup(&length);
    char ids[2][64] = {"", ""};
    const int32_t levels[2] = {1, 9};
    for (int index = 0; index < 2; index++) {
        petrel_producer_options options;
        petrel_producer_options_init(&options);
        options.name_servers = name_servers;
        options.group = "CapiCompressionGroup";
        options.compression_level = levels[index];
        petrel_producer *producer = NULL;
        EXPECT_OK(petrel_producer_create(&options, &producer));
        EXPECT_OK(petrel_producer_start(producer));
        petrel_message *message = NULL;
        EXPECT_OK(petrel_message_create("CapiCompression", &message));
        EXPECT_OK(petrel_message_set_body(message, body, length));
        petrel_send_result result;
        EXPECT_OK(petrel_producer_send(producer, message, &result));
        memcpy(ids[index], result.offset_message_id, sizeof ids[index]);
        petrel_message_destroy(message);
        petrel_producer_destroy(producer);
    }
    printf("compression-level-ids %s %s\n", ids[0], ids[1]);
    free(body);
}

void test_producer(const char *name_servers) {
    test_producer_options(name_servers);
    test_compression_levels(name_servers);
    petrel_producer_options options;
    petrel_producer_options_init(&options);
    options.name_servers = name_servers;
    options.group = "CapiProducerGroup";
    petrel_producer *producer = NULL;
    EXPECT_OK(petrel_producer_create(&options, &producer));
    petrel_message *message = new_message("CapiProduce", "hello from C", "TagA");
    EXPECT_OK(petrel_message_set_keys(message, "key-1"));
    test_producer_states(producer, message);
    test_async_validation(producer);
    test_plain_sends(producer, message);
    test_selected_sends(producer, message);
    petrel_send_result result;
    EXPECT_OK(petrel_producer_shutdown(producer));
    EXPECT_OK(petrel_producer_shutdown(producer));
    EXPECT_STATUS(petrel_producer_send(producer, message, &result), PETREL_SHUT_DOWN);
    EXPECT_STATUS(petrel_producer_send_async(producer, message, on_sent, NULL), PETREL_SHUT_DOWN);
    EXPECT_STATUS(petrel_producer_start(producer), PETREL_INVALID_STATE);
    petrel_producer_destroy(producer);
    EXPECT_STATUS(petrel_producer_send(producer, message, &result), PETREL_INVALID_ARGUMENT);
    petrel_message_destroy(message);
}
