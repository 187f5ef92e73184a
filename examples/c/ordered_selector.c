/* Ordered messages: every step of an order goes to the queue a selector picks from the order id, and an
 * orderly push consumer sees each order's steps in the order they were sent.
 *   ./ordered_selector [NAME_SERVERS]     (default: $PETREL_NAMESRV or 127.0.0.1:9876) */
#include "example_support.h"

#include <string.h>
#include <unistd.h>

#define ORDERS 3
#define STEPS 4
static const int order_ids[ORDERS] = {101, 102, 103};
static const char *steps[STEPS] = {"created", "paid", "shipped", "delivered"};
/* Per order: how many steps arrived, and whether each arrived in sequence. */
static int next_step[ORDERS];
static int out_of_order;
static example_counter received = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0};

/* The same order id, the same queue: that keeps one order's steps in sequence. */
static int32_t by_order_id(void *user_data, int32_t queue_count, const petrel_message *message, const void *argument) {
    (void)user_data;
    (void)message;
    return *(const int *)argument % queue_count;
}

static petrel_consume_result on_messages(void *user_data, const petrel_message *const *messages, size_t count) {
    (void)user_data;
    for (size_t index = 0; index < count; ++index) {
        size_t length = 0;
        const char *bytes = petrel_message_body(messages[index], &length);
        char body[64] = "";
        memcpy(body, bytes, length < sizeof body - 1 ? length : sizeof body - 1); /* "101:paid" */
        const char *colon = strchr(body, ':');
        int order_id = atoi(body);
        for (int order = 0; order < ORDERS; ++order) {
            if (order_ids[order] != order_id) continue;
            int expected = next_step[order]++;
            if (colon == NULL || expected >= STEPS || strcmp(colon + 1, steps[expected]) != 0) out_of_order = 1;
        }
    }
    example_counter_add(&received, (int)count);
    return PETREL_CONSUME_SUCCESS;
}

int main(int argc, char **argv) {
    const char *name_servers = example_name_servers(argc, argv);
    char topic[64], group[64], body[64], keys[16];
    snprintf(topic, sizeof topic, "ExampleOrders_%d", (int)getpid());
    snprintf(group, sizeof group, "example-ordered-consumer-%d", (int)getpid());

    petrel_producer_options producer_options;
    petrel_producer_options_init(&producer_options);
    producer_options.name_servers = name_servers;
    producer_options.group = "example-ordered-producer";
    petrel_producer *producer = NULL;
    example_check(petrel_producer_create(&producer_options, &producer), "petrel_producer_create");
    example_check(petrel_producer_start(producer), "petrel_producer_start");
    for (int step = 0; step < STEPS; ++step) {
        for (int order = 0; order < ORDERS; ++order) {
            petrel_message *message = NULL;
            example_check(petrel_message_create(topic, &message), "petrel_message_create");
            snprintf(body, sizeof body, "%d:%s", order_ids[order], steps[step]);
            snprintf(keys, sizeof keys, "%d", order_ids[order]);
            petrel_message_set_body(message, body, strlen(body));
            petrel_message_set_keys(message, keys);
            petrel_send_result result;
            example_check(petrel_producer_send_selected(producer, message, by_order_id, &order_ids[order], NULL, &result),
                          "petrel_producer_send_selected");
            printf("sent order %d %s to queue %d\n", order_ids[order], steps[step], (int)result.queue_id);
            petrel_message_destroy(message);
        }
    }
    petrel_producer_destroy(producer);

    petrel_push_consumer_options consumer_options;
    petrel_push_consumer_options_init(&consumer_options);
    consumer_options.name_servers = name_servers;
    consumer_options.group = group;
    consumer_options.consume_from = PETREL_CONSUME_FROM_FIRST_OFFSET;
    consumer_options.orderly = 1;
    petrel_push_consumer *consumer = NULL;
    example_check(petrel_push_consumer_create(&consumer_options, &consumer), "petrel_push_consumer_create");
    example_check(petrel_push_consumer_subscribe(consumer, topic, "*"), "petrel_push_consumer_subscribe");
    example_check(petrel_push_consumer_set_listener(consumer, on_messages, NULL), "petrel_push_consumer_set_listener");
    example_check(petrel_push_consumer_start(consumer), "petrel_push_consumer_start");
    int finished = example_counter_wait(&received, ORDERS * STEPS, 60);
    petrel_push_consumer_destroy(consumer);
    if (!finished || out_of_order) {
        fprintf(stderr, "ordered_selector: %s\n", finished ? "steps out of order" : "timed out");
        return 1;
    }
    for (int order = 0; order < ORDERS; ++order) {
        printf("order %d: created -> paid -> shipped -> delivered (%d steps in sequence)\n", order_ids[order], next_step[order]);
    }
    printf("ordered_selector: OK\n");
    return 0;
}
