/* Send three messages, then consume them with a push consumer.
 *   ./send_and_consume [NAME_SERVERS]     (default: $PETREL_NAMESRV or 127.0.0.1:9876) */
#include "example_support.h"

#include <string.h>
#include <unistd.h>

static example_counter received = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0};

/* Runs on a library thread; the messages are valid during the call only. */
static petrel_consume_result on_messages(void *user_data, const petrel_message *const *messages, size_t count) {
    (void)user_data;
    for (size_t index = 0; index < count; ++index) {
        size_t length = 0;
        const char *body = petrel_message_body(messages[index], &length);
        const char *language = petrel_message_property(messages[index], "language");
        printf("received %.*s tags=%s keys=%s language=%s\n", (int)length, body, petrel_message_tags(messages[index]),
               petrel_message_keys(messages[index]), language ? language : "?");
        fflush(stdout);
    }
    example_counter_add(&received, (int)count);
    return PETREL_CONSUME_SUCCESS;
}

int main(int argc, char **argv) {
    const char *name_servers = example_name_servers(argc, argv);
    char topic[64], group[64], body[32], keys[32];
    snprintf(topic, sizeof topic, "ExampleGreetings_%d", (int)getpid()); /* a fresh topic per run */
    snprintf(group, sizeof group, "example-consumer-%d", (int)getpid());

    petrel_producer_options producer_options;
    petrel_producer_options_init(&producer_options);
    producer_options.name_servers = name_servers;
    producer_options.group = "example-producer";
    petrel_producer *producer = NULL;
    example_check(petrel_producer_create(&producer_options, &producer), "petrel_producer_create");
    example_check(petrel_producer_start(producer), "petrel_producer_start");
    for (int index = 0; index < 3; ++index) {
        petrel_message *message = NULL;
        example_check(petrel_message_create(topic, &message), "petrel_message_create");
        snprintf(body, sizeof body, "hello %d", index);
        snprintf(keys, sizeof keys, "order-%d", index);
        petrel_message_set_body(message, body, strlen(body));
        petrel_message_set_tags(message, "greeting");
        petrel_message_set_keys(message, keys);
        petrel_message_set_property(message, "language", "c");
        petrel_send_result result;
        example_check(petrel_producer_send(producer, message, &result), "petrel_producer_send");
        printf("sent %s as %s to queue %d\n", body, result.message_id, (int)result.queue_id);
        petrel_message_destroy(message);
    }
    petrel_producer_destroy(producer);

    petrel_push_consumer_options consumer_options;
    petrel_push_consumer_options_init(&consumer_options);
    consumer_options.name_servers = name_servers;
    consumer_options.group = group;
    consumer_options.consume_from = PETREL_CONSUME_FROM_FIRST_OFFSET;
    petrel_push_consumer *consumer = NULL;
    example_check(petrel_push_consumer_create(&consumer_options, &consumer), "petrel_push_consumer_create");
    example_check(petrel_push_consumer_subscribe(consumer, topic, "greeting"), "petrel_push_consumer_subscribe");
    example_check(petrel_push_consumer_set_listener(consumer, on_messages, NULL), "petrel_push_consumer_set_listener");
    example_check(petrel_push_consumer_start(consumer), "petrel_push_consumer_start");
    int all_received = example_counter_wait(&received, 3, 60);
    petrel_push_consumer_destroy(consumer);
    if (!all_received) {
        fprintf(stderr, "send_and_consume: timed out\n");
        return 1;
    }
    printf("send_and_consume: OK\n");
    return 0;
}
