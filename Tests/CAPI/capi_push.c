/* The push consumer: options, lifecycle, delivery, retry-later redelivery, blocking calls from the listener. */
#include "capi_support.h"

#define PUSH_TOPIC "CapiPush"
#define PUSH_MESSAGES 5

/* What the listener saw. */
typedef struct push_seen {
    capi_counter delivered;  /* first deliveries */
    capi_counter redelivered; /* deliveries with reconsume_times 1 */
    capi_counter listener_checks; /* listeners that checked the rules below */
    petrel_push_consumer *consumer;
    petrel_producer *producer;
    pthread_t main_thread;
} push_seen;

static petrel_consume_result on_messages(void *user_data, const petrel_message *const *messages, size_t count) {
    push_seen *seen = (push_seen *)user_data;
    petrel_consume_result answer = PETREL_CONSUME_SUCCESS;
    CHECK(!pthread_equal(pthread_self(), seen->main_thread));
    for (size_t i = 0; i < count; i++) {
        const petrel_message *message = messages[i];
        CHECK(strcmp(petrel_message_topic(message), PUSH_TOPIC) == 0);
        CHECK(petrel_message_queue_id(message) >= 0 && petrel_message_queue_offset(message) >= 0);
        CHECK(petrel_message_store_timestamp(message) > 0 && petrel_message_born_timestamp(message) > 0);
        CHECK(strlen(petrel_message_id(message)) == 32);
        size_t length = 0;
        const char *body = (const char *)petrel_message_body(message, &length);
        CHECK(body != NULL && length == 4 && memcmp(body, "push", 4) == 0);
        /* Received messages are read-only and belong to the library. */
        CHECK(petrel_message_set_tags((petrel_message *)message, "x") == PETREL_INVALID_STATE);
        petrel_message_destroy((petrel_message *)message);
        CHECK(strcmp(petrel_message_topic(message), PUSH_TOPIC) == 0);
        int32_t times = petrel_message_reconsume_times(message);
        if (strcmp(petrel_message_tags(message), "Retry") == 0 && times == 0) answer = PETREL_CONSUME_RETRY_LATER;
        if (times == 0) capi_counter_add(&seen->delivered, 1);
        if (times == 1) capi_counter_add(&seen->redelivered, 1);
        CHECK(strcmp(petrel_message_property(message, "origin"), "capi") == 0);
        /* A received message enumerates every property it arrived with, RocketMQ's own included. */
        size_t property_count = 0;
        int saw_origin = 0, saw_unique_key = 0;
        CHECK(petrel_message_property_count(message, &property_count) == PETREL_OK && property_count >= 2);
        for (size_t p = 0; p < property_count; p++) {
            const char *name = NULL, *value = NULL;
            CHECK(petrel_message_property_at(message, p, &name, &value) == PETREL_OK);
            if (name != NULL && strcmp(name, "origin") == 0) saw_origin = strcmp(value, "capi") == 0;
            if (name != NULL && strcmp(name, "UNIQ_KEY") == 0) saw_unique_key = strcmp(value, petrel_message_id(message)) == 0;
        }
        CHECK(saw_origin && saw_unique_key);
    }
    /* The rules for callbacks: no shutdown of the own handle; blocking calls to others work. */
    CHECK(petrel_push_consumer_shutdown(seen->consumer) == PETREL_INVALID_STATE);
    petrel_message *echo = NULL;
    CHECK(petrel_message_create("CapiPushEcho", &echo) == PETREL_OK);
    CHECK(petrel_message_set_body(echo, "echo", 4) == PETREL_OK);
    petrel_send_result result;
    CHECK(petrel_producer_send(seen->producer, echo, &result) == PETREL_OK);
    petrel_message_destroy(echo);
    capi_counter_add(&seen->listener_checks, 1);
    return answer;
}

/* Options and calls refused in the wrong state or with bad arguments. */
static void test_push_bad_arguments(const char *name_servers) {
    petrel_push_consumer_options options;
    petrel_push_consumer *consumer = NULL;
    petrel_push_consumer_options_init(NULL);
    EXPECT_STATUS(petrel_push_consumer_create(NULL, &consumer), PETREL_INVALID_ARGUMENT);
    petrel_push_consumer_options_init(&options);
    CHECK(options.size == sizeof options && options.thread_count == 4 && options.batch_max_size == 1);
    options.name_servers = name_servers;
    EXPECT_STATUS(petrel_push_consumer_create(&options, &consumer), PETREL_INVALID_ARGUMENT); /* no group */
    options.group = "CapiPushGroup";
    options.message_model = (petrel_message_model)7;
    EXPECT_STATUS(petrel_push_consumer_create(&options, &consumer), PETREL_INVALID_ARGUMENT);
    options.message_model = PETREL_CLUSTERING;
    options.consume_from = (petrel_consume_from)9;
    EXPECT_STATUS(petrel_push_consumer_create(&options, &consumer), PETREL_INVALID_ARGUMENT);
    options.consume_from = PETREL_CONSUME_FROM_FIRST_OFFSET;
    options.thread_count = 0;
    EXPECT_STATUS(petrel_push_consumer_create(&options, &consumer), PETREL_INVALID_ARGUMENT);
    options.thread_count = 2;
    options.allocation = "bogus";
    EXPECT_STATUS(petrel_push_consumer_create(&options, &consumer), PETREL_INVALID_ARGUMENT);
    options.allocation = "circle";
    EXPECT_STATUS(petrel_push_consumer_create(&options, NULL), PETREL_INVALID_ARGUMENT);
    EXPECT_OK(petrel_push_consumer_create(&options, &consumer));
    EXPECT_STATUS(petrel_push_consumer_start(consumer), PETREL_INVALID_STATE); /* no listener, no subscription */
    EXPECT_STATUS(petrel_push_consumer_subscribe(consumer, NULL, "*"), PETREL_INVALID_ARGUMENT);
    EXPECT_STATUS(petrel_push_consumer_subscribe(consumer, "", "*"), PETREL_INVALID_ARGUMENT);
    EXPECT_STATUS(petrel_push_consumer_subscribe(consumer, PUSH_TOPIC, NULL), PETREL_INVALID_ARGUMENT);
    EXPECT_STATUS(petrel_push_consumer_subscribe(NULL, PUSH_TOPIC, "*"), PETREL_INVALID_ARGUMENT);
    EXPECT_STATUS(petrel_push_consumer_set_listener(consumer, NULL, NULL), PETREL_INVALID_ARGUMENT);
    EXPECT_STATUS(petrel_push_consumer_set_listener(NULL, on_messages, NULL), PETREL_INVALID_ARGUMENT);
    EXPECT_OK(petrel_push_consumer_subscribe(consumer, PUSH_TOPIC, "*"));
    EXPECT_STATUS(petrel_push_consumer_start(consumer), PETREL_INVALID_STATE); /* still no listener */
    EXPECT_STATUS(petrel_push_consumer_start(NULL), PETREL_INVALID_ARGUMENT);
    EXPECT_STATUS(petrel_push_consumer_shutdown(NULL), PETREL_INVALID_ARGUMENT);
    EXPECT_OK(petrel_push_consumer_shutdown(consumer));
    EXPECT_STATUS(petrel_push_consumer_start(consumer), PETREL_INVALID_STATE);
    petrel_push_consumer_destroy(consumer);
    petrel_push_consumer_destroy(NULL);
}

/* Sends the messages the consumer expects; one is tagged to be retried. */
static void produce(petrel_producer *producer) {
    for (int i = 0; i < PUSH_MESSAGES; i++) {
        petrel_message *message = NULL;
        EXPECT_OK(petrel_message_create(PUSH_TOPIC, &message));
        EXPECT_OK(petrel_message_set_body(message, "push", 4));
        EXPECT_OK(petrel_message_set_tags(message, i == 0 ? "Retry" : "Plain"));
        EXPECT_OK(petrel_message_set_property(message, "origin", "capi"));
        petrel_send_result result;
        EXPECT_OK(petrel_producer_send(producer, message, &result));
        petrel_message_destroy(message);
    }
}

void test_push_consumer(const char *name_servers) {
    test_push_bad_arguments(name_servers);
    petrel_producer_options producer_options;
    petrel_producer_options_init(&producer_options);
    producer_options.name_servers = name_servers;
    producer_options.group = "CapiPushProducer";
    push_seen seen;
    memset(&seen, 0, sizeof seen);
    capi_counter_init(&seen.delivered);
    capi_counter_init(&seen.redelivered);
    capi_counter_init(&seen.listener_checks);
    seen.main_thread = pthread_self();
    EXPECT_OK(petrel_producer_create(&producer_options, &seen.producer));
    EXPECT_OK(petrel_producer_start(seen.producer));
    produce(seen.producer); /* the topic exists before the consumer subscribes */

    petrel_push_consumer_options options;
    petrel_push_consumer_options_init(&options);
    options.name_servers = name_servers;
    options.group = "CapiPushGroup";
    options.consume_from = PETREL_CONSUME_FROM_FIRST_OFFSET;
    options.thread_count = 2;
    EXPECT_OK(petrel_push_consumer_create(&options, &seen.consumer));
    EXPECT_OK(petrel_push_consumer_subscribe(seen.consumer, PUSH_TOPIC, "Retry || Plain"));
    EXPECT_OK(petrel_push_consumer_set_listener(seen.consumer, on_messages, &seen));
    EXPECT_OK(petrel_push_consumer_start(seen.consumer));
    EXPECT_STATUS(petrel_push_consumer_subscribe(seen.consumer, "Other", "*"), PETREL_INVALID_STATE);
    EXPECT_STATUS(petrel_push_consumer_set_listener(seen.consumer, on_messages, &seen), PETREL_INVALID_STATE);
    EXPECT_STATUS(petrel_push_consumer_start(seen.consumer), PETREL_INVALID_STATE);
    CHECK(capi_counter_wait(&seen.delivered, PUSH_MESSAGES, 60));
    /* The message answered RETRY_LATER comes back through the retry topic with reconsume_times 1. */
    CHECK(capi_counter_wait(&seen.redelivered, 1, 90));
    CHECK(capi_counter_wait(&seen.listener_checks, PUSH_MESSAGES + 1, 30));
    EXPECT_OK(petrel_push_consumer_shutdown(seen.consumer));
    EXPECT_OK(petrel_push_consumer_shutdown(seen.consumer));
    petrel_push_consumer_destroy(seen.consumer);
    petrel_producer_destroy(seen.producer);
}
