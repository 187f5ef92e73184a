/* Transactional messages: a committed one, a rolled-back one, and one whose local transaction answered
 * UNKNOWN (as if the process had crashed); the broker checks that one back and the checker commits it.
 * Only the committed messages reach the consumer.
 *   ./transaction_checkback [NAME_SERVERS]     (default: $PETREL_NAMESRV or 127.0.0.1:9876) */
#include "example_support.h"

#include <string.h>
#include <unistd.h>

#define PAYMENTS 3
static const char *payments[PAYMENTS] = {"pay-1", "pay-2", "pay-3"};
/* The "database" the local transaction writes: whether each payment went through. */
static const int paid[PAYMENTS] = {1, 1, 0};
static const char *state_names[] = {"COMMIT", "ROLLBACK", "UNKNOWN"};
/* Which payments the consumer saw; the counter counts the distinct ones. pay-2 can only arrive after
 * the check-back committed it. */
static int consumed[PAYMENTS];
static example_counter progress = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0};

static int payment_index(const char *keys) {
    for (int index = 0; index < PAYMENTS; ++index) {
        if (strcmp(keys, payments[index]) == 0) return index;
    }
    return -1;
}

static petrel_transaction_state local_transaction(void *user_data, const petrel_message *message, void *argument) {
    (void)user_data;
    (void)message;
    int index = *(const int *)argument;
    if (index == 1) return PETREL_TRANSACTION_UNKNOWN; /* no answer now: the broker will ask the checker */
    return paid[index] ? PETREL_TRANSACTION_COMMIT : PETREL_TRANSACTION_ROLLBACK;
}

/* Runs on a library thread when the broker asks about a transaction left UNKNOWN. */
static petrel_transaction_state checker(void *user_data, const petrel_message *message) {
    (void)user_data;
    int index = payment_index(petrel_message_keys(message));
    if (index < 0) return PETREL_TRANSACTION_ROLLBACK;
    printf("check-back for %s: %s\n", payments[index], paid[index] ? "commit" : "rollback");
    fflush(stdout);
    return paid[index] ? PETREL_TRANSACTION_COMMIT : PETREL_TRANSACTION_ROLLBACK;
}

static petrel_consume_result on_messages(void *user_data, const petrel_message *const *messages, size_t count) {
    (void)user_data;
    for (size_t index = 0; index < count; ++index) {
        int payment = payment_index(petrel_message_keys(messages[index]));
        if (payment >= 0 && !consumed[payment]++) example_counter_add(&progress, 1);
    }
    return PETREL_CONSUME_SUCCESS;
}

int main(int argc, char **argv) {
    const char *name_servers = example_name_servers(argc, argv);
    char topic[64], producer_group[64], consumer_group[64], body[32];
    snprintf(topic, sizeof topic, "ExamplePayments_%d", (int)getpid());
    snprintf(producer_group, sizeof producer_group, "example-tx-%d", (int)getpid());
    snprintf(consumer_group, sizeof consumer_group, "example-payments-%d", (int)getpid());

    petrel_producer_options producer_options;
    petrel_producer_options_init(&producer_options);
    producer_options.name_servers = name_servers;
    producer_options.group = producer_group;
    petrel_producer *producer = NULL;
    example_check(petrel_producer_create(&producer_options, &producer), "petrel_producer_create");
    example_check(petrel_producer_set_transaction_checker(producer, checker, NULL), "petrel_producer_set_transaction_checker");
    example_check(petrel_producer_start(producer), "petrel_producer_start");
    for (int index = 0; index < PAYMENTS; ++index) {
        petrel_message *message = NULL;
        example_check(petrel_message_create(topic, &message), "petrel_message_create");
        snprintf(body, sizeof body, "payment %s", payments[index]);
        petrel_message_set_body(message, body, strlen(body));
        petrel_message_set_keys(message, payments[index]);
        petrel_send_result result;
        petrel_transaction_state state;
        example_check(petrel_producer_send_transaction(producer, message, local_transaction, &index, NULL, &result, &state),
                      "petrel_producer_send_transaction");
        printf("%s: local transaction %s\n", payments[index], state_names[state]);
        petrel_message_destroy(message);
    }

    /* The producer stays up: the broker's check-back for pay-2 comes to it. */
    petrel_push_consumer_options consumer_options;
    petrel_push_consumer_options_init(&consumer_options);
    consumer_options.name_servers = name_servers;
    consumer_options.group = consumer_group;
    consumer_options.consume_from = PETREL_CONSUME_FROM_FIRST_OFFSET;
    consumer_options.thread_count = 1; /* on_messages then needs no lock for `consumed` */
    petrel_push_consumer *consumer = NULL;
    example_check(petrel_push_consumer_create(&consumer_options, &consumer), "petrel_push_consumer_create");
    example_check(petrel_push_consumer_subscribe(consumer, topic, "*"), "petrel_push_consumer_subscribe");
    example_check(petrel_push_consumer_set_listener(consumer, on_messages, NULL), "petrel_push_consumer_set_listener");
    example_check(petrel_push_consumer_start(consumer), "petrel_push_consumer_start");
    int finished = example_counter_wait(&progress, 2, 120); /* pay-1 and pay-2 */
    petrel_push_consumer_destroy(consumer);
    petrel_producer_destroy(producer);
    if (!finished) {
        fprintf(stderr, "transaction_checkback: timed out\n");
        return 1;
    }
    printf("consumed:%s%s%s\n", consumed[0] ? " pay-1" : "", consumed[1] ? " pay-2" : "", consumed[2] ? " pay-3" : "");
    if (consumed[2] || !consumed[0] || !consumed[1]) {
        fprintf(stderr, "transaction_checkback: wrong payments consumed\n");
        return 1;
    }
    printf("transaction_checkback: OK\n");
    return 0;
}
