/* Logging: the default (warnings and up to standard error), levels, a callback and its rules. */
#include "capi_support.h"

/* What the log callback saw. */
typedef struct log_seen {
    pthread_mutex_t mutex;
    capi_counter records;
    int started_records;          /* "client instance started" at INFO from petrel.client */
    int below_threshold;          /* records under the threshold set (must stay 0) */
    petrel_log_level threshold;
    petrel_status nested_set;     /* petrel_set_log_handler called from inside the callback */
    int tried_nested;
} log_seen;

/* Records what arrives; the first call also tries to change the handler from inside the callback. */
static void on_log(void *user_data, petrel_log_level level, const char *logger, const char *message) {
    log_seen *seen = (log_seen *)user_data;
    pthread_mutex_lock(&seen->mutex);
    if (level < seen->threshold) seen->below_threshold++;
    if (level == PETREL_LOG_INFO && strcmp(logger, "petrel.client") == 0 &&
        strstr(message, "client instance started") != NULL && strstr(message, "clientId=") != NULL) {
        seen->started_records++;
    }
    int try_nested = !seen->tried_nested;
    seen->tried_nested = 1;
    pthread_mutex_unlock(&seen->mutex);
    if (try_nested) seen->nested_set = petrel_set_log_handler(PETREL_LOG_TRACE, NULL, NULL);
    capi_counter_add(&seen->records, 1);
}

/* Starts and stops a producer, which logs "client instance started" at INFO. */
static void start_and_stop_producer(const char *name_servers) {
    petrel_producer_options options;
    petrel_producer_options_init(&options);
    options.name_servers = name_servers;
    petrel_producer *producer = NULL;
    EXPECT_OK(petrel_producer_create(&options, &producer));
    EXPECT_OK(petrel_producer_start(producer));
    EXPECT_OK(petrel_producer_shutdown(producer));
    petrel_producer_destroy(producer);
}

/* The default threshold, the setters, and levels outside the enumeration. */
static void test_log_levels_and_bad_arguments(void) {
    CHECK(petrel_get_log_level() == PETREL_LOG_WARNING);
    EXPECT_STATUS(petrel_set_log_level((petrel_log_level)8), PETREL_INVALID_ARGUMENT);
    EXPECT_STATUS(petrel_set_log_handler((petrel_log_level)99, NULL, NULL), PETREL_INVALID_ARGUMENT);
    CHECK(petrel_get_log_level() == PETREL_LOG_WARNING);
    EXPECT_OK(petrel_set_log_level(PETREL_LOG_OFF));
    CHECK(petrel_get_log_level() == PETREL_LOG_OFF);
    EXPECT_OK(petrel_set_log_level(PETREL_LOG_WARNING));
}

/* A callback receives INFO records once the threshold allows them, and nothing after the default returns. */
void test_logging(const char *name_servers) {
    test_log_levels_and_bad_arguments();
    log_seen seen;
    memset(&seen, 0, sizeof seen);
    pthread_mutex_init(&seen.mutex, NULL);
    capi_counter_init(&seen.records);
    seen.threshold = PETREL_LOG_INFO;
    seen.nested_set = PETREL_OK;
    EXPECT_OK(petrel_set_log_handler(PETREL_LOG_INFO, on_log, &seen));
    CHECK(petrel_get_log_level() == PETREL_LOG_INFO);
    start_and_stop_producer(name_servers);
    CHECK(capi_counter_wait(&seen.records, 1, 30));
    /* Back to the default; when it returns no call of on_log is running, so `seen` may be read. */
    EXPECT_OK(petrel_set_log_handler(PETREL_LOG_WARNING, NULL, NULL));
    pthread_mutex_lock(&seen.mutex);
    CHECK(seen.started_records >= 1);
    CHECK(seen.below_threshold == 0);
    CHECK(seen.tried_nested && seen.nested_set == PETREL_INVALID_STATE);
    pthread_mutex_unlock(&seen.mutex);
    /* With the default handler the callback is never called again. */
    int before = capi_counter_get(&seen.records);
    EXPECT_OK(petrel_set_log_level(PETREL_LOG_INFO));
    start_and_stop_producer(name_servers);
    EXPECT_OK(petrel_set_log_level(PETREL_LOG_WARNING));
    CHECK(capi_counter_get(&seen.records) == before);
}
