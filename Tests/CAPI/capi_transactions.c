/* Transactions: the local transaction on the calling thread, commit/rollback/unknown, and the broker's check-back. */
#include "capi_support.h"

/* What the local transaction saw and what it answers. */
typedef struct local_step {
    petrel_transaction_state answer;
    pthread_t thread;
    void *argument;
    char message_id[64];
    int calls;
} local_step;

static petrel_transaction_state run_local(void *user_data, const petrel_message *message, void *argument) {
    local_step *step = (local_step *)user_data;
    step->thread = pthread_self();
    step->argument = argument;
    step->calls++;
    snprintf(step->message_id, sizeof step->message_id, "%s", petrel_message_id(message));
    return step->answer;
}

/* What the checker saw: the ids it was asked about. */
typedef struct checks_seen {
    capi_counter count;
    pthread_mutex_t mutex;
    char message_id[64];
    char tags[32];
} checks_seen;

static petrel_transaction_state check_back(void *user_data, const petrel_message *message) {
    checks_seen *seen = (checks_seen *)user_data;
    pthread_mutex_lock(&seen->mutex);
    snprintf(seen->message_id, sizeof seen->message_id, "%s", petrel_message_id(message));
    snprintf(seen->tags, sizeof seen->tags, "%s", petrel_message_tags(message));
    pthread_mutex_unlock(&seen->mutex);
    capi_counter_add(&seen->count, 1);
    return PETREL_TRANSACTION_COMMIT;
}

static petrel_message *transaction_message(const char *tags) {
    petrel_message *message = NULL;
    EXPECT_OK(petrel_message_create("CapiTransactions", &message));
    EXPECT_OK(petrel_message_set_body(message, "half", 4));
    EXPECT_OK(petrel_message_set_tags(message, tags));
    return message;
}

/* One transactional send answered `answer`. */
static void send_one(petrel_producer *producer, petrel_transaction_state answer, const char *tags, char *id_out) {
    local_step step;
    memset(&step, 0, sizeof step);
    step.answer = answer;
    int argument = 7;
    petrel_send_result result;
    petrel_transaction_state state = (petrel_transaction_state)-1;
    petrel_message *message = transaction_message(tags);
    EXPECT_OK(petrel_producer_send_transaction(producer, message, run_local, &argument, &step, &result, &state));
    CHECK(step.calls == 1 && pthread_equal(step.thread, pthread_self()) && step.argument == &argument);
    CHECK(strcmp(step.message_id, result.message_id) == 0 && strlen(result.message_id) == 32);
    CHECK(state == answer);
    if (id_out != NULL) snprintf(id_out, 64, "%s", result.message_id);
    petrel_message_destroy(message);
}

/* A producer without a checker refuses transactions; the checker is set before start only. */
static void test_transaction_states(const char *name_servers) {
    petrel_producer_options options;
    petrel_producer_options_init(&options);
    options.name_servers = name_servers;
    options.group = "CapiPlainGroup";
    petrel_producer *producer = NULL;
    EXPECT_OK(petrel_producer_create(&options, &producer));
    EXPECT_OK(petrel_producer_start(producer));
    local_step step;
    memset(&step, 0, sizeof step);
    petrel_send_result result;
    petrel_transaction_state state;
    petrel_message *message = transaction_message("TagT");
    EXPECT_STATUS(petrel_producer_send_transaction(producer, message, run_local, NULL, &step, &result, &state),
                  PETREL_INVALID_STATE);
    EXPECT_STATUS(petrel_producer_set_transaction_checker(producer, check_back, NULL), PETREL_INVALID_STATE);
    CHECK(step.calls == 0);
    petrel_message_destroy(message);
    petrel_producer_destroy(producer);
}

void test_transactions(const char *name_servers) {
    test_transaction_states(name_servers);
    petrel_producer_options options;
    petrel_producer_options_init(&options);
    options.name_servers = name_servers;
    options.group = "CapiTransactionGroup";
    petrel_producer *producer = NULL;
    EXPECT_OK(petrel_producer_create(&options, &producer));
    checks_seen seen;
    memset(&seen, 0, sizeof seen);
    capi_counter_init(&seen.count);
    pthread_mutex_init(&seen.mutex, NULL);
    EXPECT_STATUS(petrel_producer_set_transaction_checker(NULL, check_back, &seen), PETREL_INVALID_ARGUMENT);
    EXPECT_OK(petrel_producer_set_transaction_checker(producer, check_back, &seen));
    EXPECT_OK(petrel_producer_start(producer));

    petrel_send_result result;
    petrel_transaction_state state;
    petrel_message *message = transaction_message("TagT");
    EXPECT_STATUS(petrel_producer_send_transaction(producer, message, NULL, NULL, NULL, &result, &state), PETREL_INVALID_ARGUMENT);
    EXPECT_STATUS(petrel_producer_send_transaction(producer, message, run_local, NULL, NULL, NULL, &state), PETREL_INVALID_ARGUMENT);
    EXPECT_STATUS(petrel_producer_send_transaction(producer, message, run_local, NULL, NULL, &result, NULL), PETREL_INVALID_ARGUMENT);
    petrel_message_destroy(message);

    send_one(producer, PETREL_TRANSACTION_COMMIT, "Committed", NULL);
    send_one(producer, PETREL_TRANSACTION_ROLLBACK, "RolledBack", NULL);
    char unknown_id[64];
    send_one(producer, PETREL_TRANSACTION_UNKNOWN, "Unknown", unknown_id);
    /* The broker (started with a short check interval) asks the checker about the unknown one. */
    CHECK(capi_counter_wait(&seen.count, 1, 60));
    pthread_mutex_lock(&seen.mutex);
    CHECK(strcmp(seen.message_id, unknown_id) == 0 && strcmp(seen.tags, "Unknown") == 0);
    pthread_mutex_unlock(&seen.mutex);
    petrel_producer_destroy(producer);
}
