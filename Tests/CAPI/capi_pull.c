/* The pull consumer: queues, pulls by offset, commits, subscribe-and-poll, pull results, bad arguments. */
#include "capi_support.h"

#define PULL_TOPIC "CapiPull"
#define PULL_MESSAGES 6

static void produce(const char *name_servers) {
    petrel_producer_options options;
    petrel_producer_options_init(&options);
    options.name_servers = name_servers;
    options.group = "CapiPullProducer";
    petrel_producer *producer = NULL;
    EXPECT_OK(petrel_producer_create(&options, &producer));
    EXPECT_OK(petrel_producer_start(producer));
    for (int i = 0; i < PULL_MESSAGES; i++) {
        petrel_message *message = NULL;
        EXPECT_OK(petrel_message_create(PULL_TOPIC, &message));
        EXPECT_OK(petrel_message_set_body(message, "pulled", 6));
        EXPECT_OK(petrel_message_set_tags(message, i % 2 == 0 ? "Even" : "Odd"));
        petrel_send_result result;
        EXPECT_OK(petrel_producer_send(producer, message, &result));
        petrel_message_destroy(message);
    }
    petrel_producer_destroy(producer);
}

static petrel_pull_consumer *new_consumer(const char *name_servers, const char *group) {
    petrel_pull_consumer_options options;
    petrel_pull_consumer_options_init(&options);
    options.name_servers = name_servers;
    options.group = group;
    options.consume_from = PETREL_CONSUME_FROM_FIRST_OFFSET;
    petrel_pull_consumer *consumer = NULL;
    EXPECT_OK(petrel_pull_consumer_create(&options, &consumer));
    return consumer;
}

/* Create and the calls before start refuse bad input. */
static void test_pull_bad_arguments(const char *name_servers) {
    petrel_pull_consumer_options options;
    petrel_pull_consumer *consumer = NULL;
    petrel_pull_consumer_options_init(NULL);
    EXPECT_STATUS(petrel_pull_consumer_create(NULL, &consumer), PETREL_INVALID_ARGUMENT);
    petrel_pull_consumer_options_init(&options);
    CHECK(options.size == sizeof options && options.poll_timeout_milliseconds == 0);
    options.name_servers = name_servers;
    EXPECT_STATUS(petrel_pull_consumer_create(&options, &consumer), PETREL_INVALID_ARGUMENT); /* no group */
    options.group = "CapiPullGroup";
    options.consume_from = (petrel_consume_from)-3;
    EXPECT_STATUS(petrel_pull_consumer_create(&options, &consumer), PETREL_INVALID_ARGUMENT);
    options.consume_from = PETREL_CONSUME_FROM_LAST_OFFSET;
    EXPECT_STATUS(petrel_pull_consumer_create(&options, NULL), PETREL_INVALID_ARGUMENT);
    EXPECT_OK(petrel_pull_consumer_create(&options, &consumer));
    size_t count = 0;
    petrel_pull_result *result = NULL;
    petrel_queue queue;
    memset(&queue, 0, sizeof queue);
    EXPECT_STATUS(petrel_pull_consumer_fetch_queues(consumer, PULL_TOPIC, NULL, 0, &count), PETREL_INVALID_STATE);
    EXPECT_STATUS(petrel_pull_consumer_poll(consumer, 10, &result), PETREL_INVALID_STATE);
    EXPECT_STATUS(petrel_pull_consumer_subscribe(consumer, NULL, "*"), PETREL_INVALID_ARGUMENT);
    EXPECT_STATUS(petrel_pull_consumer_subscribe(consumer, PULL_TOPIC, ""), PETREL_INVALID_ARGUMENT);
    EXPECT_STATUS(petrel_pull_consumer_subscribe(NULL, PULL_TOPIC, "*"), PETREL_INVALID_ARGUMENT);
    EXPECT_STATUS(petrel_pull_consumer_start(NULL), PETREL_INVALID_ARGUMENT);
    EXPECT_STATUS(petrel_pull_consumer_shutdown(NULL), PETREL_INVALID_ARGUMENT);
    EXPECT_STATUS(petrel_pull_consumer_commit(consumer, &queue, 0), PETREL_INVALID_ARGUMENT); /* empty queue */
    EXPECT_OK(petrel_pull_consumer_start(consumer));
    EXPECT_STATUS(petrel_pull_consumer_start(consumer), PETREL_INVALID_STATE);
    EXPECT_STATUS(petrel_pull_consumer_poll(consumer, 10, &result), PETREL_INVALID_STATE); /* no subscription */
    EXPECT_STATUS(petrel_pull_consumer_subscribe(consumer, PULL_TOPIC, "*"), PETREL_INVALID_STATE);
    EXPECT_OK(petrel_pull_consumer_shutdown(consumer));
    EXPECT_STATUS(petrel_pull_consumer_fetch_queues(consumer, PULL_TOPIC, NULL, 0, &count), PETREL_SHUT_DOWN);
    petrel_pull_consumer_destroy(consumer);
    petrel_pull_consumer_destroy(NULL);
}

/* Pulls every queue from offset 0 to the end; returns the messages matching `expression`. */
static int pull_all(petrel_pull_consumer *consumer, petrel_queue *queues, size_t count, const char *expression) {
    int found = 0;
    for (size_t q = 0; q < count; q++) {
        int64_t offset = 0;
        for (int round = 0; round < 100; round++) {
            petrel_pull_result *result = NULL;
            petrel_status status = petrel_pull_consumer_pull(consumer, &queues[q], expression, offset, 2, &result);
            CHECK(status == PETREL_OK || status == PETREL_NO_MESSAGE);
            CHECK(result != NULL);
            if (result == NULL) break;
            int64_t next = petrel_pull_result_next_offset(result);
            size_t messages = petrel_pull_result_count(result);
            for (size_t i = 0; i < messages; i++) {
                const petrel_message *message = petrel_pull_result_message(result, i);
                CHECK(message != NULL && strcmp(petrel_message_topic(message), PULL_TOPIC) == 0);
                CHECK(petrel_message_queue_id(message) == queues[q].queue_id);
            }
            CHECK(petrel_pull_result_message(result, messages) == NULL);
            found += (int)messages;
            petrel_pull_result_destroy(result);
            if (status == PETREL_NO_MESSAGE && next == offset) break;
            CHECK(next >= offset);
            offset = next;
        }
        EXPECT_OK(petrel_pull_consumer_commit(consumer, &queues[q], offset));
    }
    return found;
}

/* Queues, pulls and their bad arguments. */
static void test_pull_by_queue(const char *name_servers) {
    petrel_pull_consumer *consumer = new_consumer(name_servers, "CapiPullByQueue");
    EXPECT_OK(petrel_pull_consumer_start(consumer));
    size_t count = 0;
    petrel_queue queues[64];
    EXPECT_STATUS(petrel_pull_consumer_fetch_queues(consumer, PULL_TOPIC, NULL, 0, &count), PETREL_BUFFER_TOO_SMALL);
    CHECK(count > 0 && count <= 64);
    EXPECT_STATUS(petrel_pull_consumer_fetch_queues(consumer, PULL_TOPIC, queues, 1, &count), count > 1 ? PETREL_BUFFER_TOO_SMALL : PETREL_OK);
    EXPECT_STATUS(petrel_pull_consumer_fetch_queues(consumer, NULL, queues, 64, &count), PETREL_INVALID_ARGUMENT);
    EXPECT_STATUS(petrel_pull_consumer_fetch_queues(consumer, PULL_TOPIC, queues, 64, NULL), PETREL_INVALID_ARGUMENT);
    EXPECT_STATUS(petrel_pull_consumer_fetch_queues(consumer, PULL_TOPIC, NULL, 4, &count), PETREL_INVALID_ARGUMENT);
    EXPECT_STATUS(petrel_pull_consumer_fetch_queues(consumer, "CapiNoSuchTopic", queues, 64, &count), PETREL_NO_ROUTE);
    EXPECT_OK(petrel_pull_consumer_fetch_queues(consumer, PULL_TOPIC, queues, 64, &count));
    CHECK(strcmp(queues[0].topic, PULL_TOPIC) == 0 && queues[0].broker_name[0] != '\0');

    petrel_pull_result *result = NULL;
    petrel_queue bad = queues[0];
    bad.queue_id = -1;
    EXPECT_STATUS(petrel_pull_consumer_pull(consumer, &bad, "*", 0, 4, &result), PETREL_INVALID_ARGUMENT);
    memset(bad.topic, 'x', sizeof bad.topic); /* not NUL-terminated */
    bad.queue_id = 0;
    EXPECT_STATUS(petrel_pull_consumer_pull(consumer, &bad, "*", 0, 4, &result), PETREL_INVALID_ARGUMENT);
    EXPECT_STATUS(petrel_pull_consumer_pull(consumer, NULL, "*", 0, 4, &result), PETREL_INVALID_ARGUMENT);
    EXPECT_STATUS(petrel_pull_consumer_pull(consumer, &queues[0], NULL, 0, 4, &result), PETREL_INVALID_ARGUMENT);
    EXPECT_STATUS(petrel_pull_consumer_pull(consumer, &queues[0], "*", -1, 4, &result), PETREL_INVALID_ARGUMENT);
    EXPECT_STATUS(petrel_pull_consumer_pull(consumer, &queues[0], "*", 0, 0, &result), PETREL_INVALID_ARGUMENT);
    EXPECT_STATUS(petrel_pull_consumer_pull(consumer, &queues[0], "*", 0, 4, NULL), PETREL_INVALID_ARGUMENT);
    EXPECT_STATUS(petrel_pull_consumer_commit(consumer, NULL, 0), PETREL_INVALID_ARGUMENT);
    EXPECT_STATUS(petrel_pull_consumer_commit(consumer, &queues[0], -2), PETREL_INVALID_ARGUMENT);
    CHECK(result == NULL);
    CHECK(petrel_pull_result_count(NULL) == 0 && petrel_pull_result_message(NULL, 0) == NULL);
    CHECK(petrel_pull_result_next_offset(NULL) == -1);
    petrel_pull_result_destroy(NULL);

    /* The broker dispatches to its consume queues asynchronously: pull until all are there. */
    int found = 0;
    double deadline = capi_now() + 30;
    while (found < PULL_MESSAGES && capi_now() < deadline) found = pull_all(consumer, queues, count, "*");
    CHECK(found == PULL_MESSAGES);
    CHECK(pull_all(consumer, queues, count, "Even") == PULL_MESSAGES / 2);
    petrel_pull_consumer_destroy(consumer);
}

/* Subscribe-and-poll gets every message once, within a deadline. */
static void test_subscribe_and_poll(const char *name_servers) {
    petrel_pull_consumer *consumer = new_consumer(name_servers, "CapiPollGroup");
    EXPECT_OK(petrel_pull_consumer_subscribe(consumer, PULL_TOPIC, "*"));
    EXPECT_OK(petrel_pull_consumer_start(consumer));
    petrel_pull_result *result = NULL;
    EXPECT_STATUS(petrel_pull_consumer_poll(consumer, 10, NULL), PETREL_INVALID_ARGUMENT);
    EXPECT_STATUS(petrel_pull_consumer_poll(NULL, 10, &result), PETREL_INVALID_ARGUMENT);
    int received = 0;
    double deadline = capi_now() + 60;
    while (received < PULL_MESSAGES && capi_now() < deadline) {
        petrel_status status = petrel_pull_consumer_poll(consumer, 1000, &result);
        CHECK(status == PETREL_OK || status == PETREL_NO_MESSAGE);
        if (result == NULL) continue;
        CHECK((status == PETREL_OK) == (petrel_pull_result_count(result) > 0));
        CHECK(petrel_pull_result_next_offset(result) == -1);
        received += (int)petrel_pull_result_count(result);
        petrel_pull_result_destroy(result);
        result = NULL;
    }
    CHECK(received == PULL_MESSAGES);
    EXPECT_STATUS(petrel_pull_consumer_poll(consumer, 300, &result), PETREL_NO_MESSAGE);
    CHECK(result != NULL && petrel_pull_result_count(result) == 0);
    petrel_pull_result_destroy(result);
    EXPECT_OK(petrel_pull_consumer_shutdown(consumer));
    EXPECT_STATUS(petrel_pull_consumer_poll(consumer, 10, &result), PETREL_SHUT_DOWN);
    petrel_pull_consumer_destroy(consumer);
}

/* Milliseconds since the Unix epoch. */
static int64_t epoch_milliseconds(void) {
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    return (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

/* Messages now readable in every queue of `topic`, from offset 0. */
static int count_readable(petrel_pull_consumer *consumer, const char *topic) {
    petrel_queue queues[64];
    size_t count = 0;
    if (petrel_pull_consumer_fetch_queues(consumer, topic, queues, 64, &count) != PETREL_OK) return -1;
    int found = 0;
    for (size_t q = 0; q < count; q++) {
        petrel_pull_result *result = NULL;
        petrel_status status = petrel_pull_consumer_pull(consumer, &queues[q], "*", 0, 32, &result);
        CHECK(status == PETREL_OK || status == PETREL_NO_MESSAGE);
        found += (int)petrel_pull_result_count(result);
        petrel_pull_result_destroy(result);
    }
    return found;
}

/* A message with a deliver time becomes readable at that time, not before. */
static void test_deliver_time(const char *name_servers) {
    petrel_producer_options options;
    petrel_producer_options_init(&options);
    options.name_servers = name_servers;
    options.group = "CapiTimedProducer";
    petrel_producer *producer = NULL;
    EXPECT_OK(petrel_producer_create(&options, &producer));
    EXPECT_OK(petrel_producer_start(producer));
    petrel_message *message = NULL;
    petrel_send_result result;
    EXPECT_OK(petrel_message_create("CapiTimed", &message));
    EXPECT_OK(petrel_message_set_body(message, "now", 3));
    EXPECT_OK(petrel_producer_send(producer, message, &result)); /* creates the topic */
    int64_t deliver_at = epoch_milliseconds() + 2000;
    EXPECT_OK(petrel_message_set_deliver_time(message, deliver_at));
    EXPECT_OK(petrel_message_set_body(message, "later", 5));
    EXPECT_OK(petrel_producer_send(producer, message, &result));
    petrel_message_destroy(message);
    petrel_producer_destroy(producer);

    petrel_pull_consumer *consumer = new_consumer(name_servers, "CapiTimedGroup");
    EXPECT_OK(petrel_pull_consumer_start(consumer));
    double deadline = capi_now() + 30;
    int found = 0;
    while (found < 2 && capi_now() < deadline) {
        int64_t before = epoch_milliseconds();
        found = count_readable(consumer, "CapiTimed");
        if (found >= 2) CHECK(epoch_milliseconds() >= deliver_at - 50); /* not early */
        else CHECK(found >= 0 && before < deliver_at + 15000);
    }
    CHECK(found == 2);
    petrel_pull_consumer_destroy(consumer);
}

void test_pull_consumer(const char *name_servers) {
    test_deliver_time(name_servers);
    test_pull_bad_arguments(name_servers);
    produce(name_servers);
    test_pull_by_queue(name_servers);
    test_subscribe_and_poll(name_servers);
}
