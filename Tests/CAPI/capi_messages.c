/* Library functions (version, status names, last error) and every message function, bad arguments included. */
#include "capi_support.h"

/* Every status and its name. */
static void test_status_names(void) {
    static const struct {
        petrel_status status;
        const char *name;
    } names[] = {
        {PETREL_OK, "PETREL_OK"}, {PETREL_INVALID_ARGUMENT, "PETREL_INVALID_ARGUMENT"},
        {PETREL_INVALID_STATE, "PETREL_INVALID_STATE"}, {PETREL_CONNECT_FAILED, "PETREL_CONNECT_FAILED"},
        {PETREL_TIMEOUT, "PETREL_TIMEOUT"}, {PETREL_NO_ROUTE, "PETREL_NO_ROUTE"},
        {PETREL_BROKER_ERROR, "PETREL_BROKER_ERROR"}, {PETREL_NO_MESSAGE, "PETREL_NO_MESSAGE"},
        {PETREL_BUFFER_TOO_SMALL, "PETREL_BUFFER_TOO_SMALL"}, {PETREL_PLUGIN_ERROR, "PETREL_PLUGIN_ERROR"},
        {PETREL_SHUT_DOWN, "PETREL_SHUT_DOWN"}, {PETREL_INTERNAL_ERROR, "PETREL_INTERNAL_ERROR"},
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        CHECK(strcmp(petrel_status_name(names[i].status), names[i].name) == 0);
    }
    CHECK(strcmp(petrel_status_name((petrel_status)999), "PETREL_UNKNOWN") == 0);
}

/* The version is MAJOR.MINOR.PATCH. */
static void test_version(void) {
    int major = -1, minor = -1, patch = -1;
    const char *version = petrel_version();
    CHECK(version != NULL);
    CHECK(sscanf(version, "%d.%d.%d", &major, &minor, &patch) == 3);
    CHECK(major >= 0 && minor >= 0 && patch >= 0);
}

/* A failure sets this thread's last error only. */
static void *other_thread_error(void *unused) {
    (void)unused;
    return (void *)(petrel_last_error()[0] == '\0' ? "empty" : "set");
}

static void test_last_error_is_per_thread(void) {
    petrel_message *message = NULL;
    EXPECT_STATUS(petrel_message_create(NULL, &message), PETREL_INVALID_ARGUMENT);
    CHECK(strstr(petrel_last_error(), "topic") != NULL);
    pthread_t thread;
    void *seen = NULL;
    CHECK(pthread_create(&thread, NULL, other_thread_error, NULL) == 0);
    CHECK(pthread_join(thread, &seen) == 0);
    CHECK(seen != NULL && strcmp((const char *)seen, "empty") == 0);
}

/* Setters and readers of a built message. */
static void test_message_fields(void) {
    petrel_message *message = NULL;
    EXPECT_OK(petrel_message_create("CapiTopic", &message));
    CHECK(message != NULL);
    CHECK(strcmp(petrel_message_topic(message), "CapiTopic") == 0);
    CHECK(strcmp(petrel_message_tags(message), "") == 0);
    CHECK(strcmp(petrel_message_keys(message), "") == 0);
    CHECK(strcmp(petrel_message_id(message), "") == 0);
    EXPECT_OK(petrel_message_set_tags(message, "TagA"));
    EXPECT_OK(petrel_message_set_keys(message, "k1 k2"));
    const char body[] = {'a', 0, 'b', 0, 'c'};
    EXPECT_OK(petrel_message_set_body(message, body, sizeof body));
    EXPECT_OK(petrel_message_set_property(message, "color", "blue"));
    EXPECT_OK(petrel_message_set_property(message, "color", "red"));
    EXPECT_OK(petrel_message_set_delay_level(message, 3));
    EXPECT_OK(petrel_message_set_delay_level(message, 0));
    CHECK(strcmp(petrel_message_tags(message), "TagA") == 0);
    CHECK(strcmp(petrel_message_keys(message), "k1 k2") == 0);
    size_t length = 0;
    const void *read = petrel_message_body(message, &length);
    CHECK(read != NULL && length == sizeof body && memcmp(read, body, sizeof body) == 0);
    CHECK(petrel_message_body(message, NULL) != NULL);
    CHECK(strcmp(petrel_message_property(message, "color"), "red") == 0);
    CHECK(petrel_message_property(message, "missing") == NULL);
    CHECK(petrel_message_queue_id(message) == -1);
    CHECK(petrel_message_queue_offset(message) == -1);
    CHECK(petrel_message_reconsume_times(message) == -1);
    CHECK(petrel_message_born_timestamp(message) == -1);
    CHECK(petrel_message_store_timestamp(message) == -1);
    EXPECT_OK(petrel_message_set_body(message, NULL, 0));
    CHECK(petrel_message_body(message, &length) != NULL && length == 0);
    petrel_message_destroy(message);
}

/* Every message function refuses NULL and bad values with a status (or NULL / -1 for readers). */
static void test_message_bad_arguments(void) {
    petrel_message *message = NULL;
    EXPECT_STATUS(petrel_message_create("", &message), PETREL_INVALID_ARGUMENT);
    EXPECT_STATUS(petrel_message_create("T", NULL), PETREL_INVALID_ARGUMENT);
    EXPECT_STATUS(petrel_message_create("\xff\xfe", &message), PETREL_INVALID_ARGUMENT);
    CHECK(message == NULL);
    EXPECT_STATUS(petrel_message_set_tags(NULL, "x"), PETREL_INVALID_ARGUMENT);
    EXPECT_STATUS(petrel_message_set_keys(NULL, "x"), PETREL_INVALID_ARGUMENT);
    EXPECT_STATUS(petrel_message_set_body(NULL, "x", 1), PETREL_INVALID_ARGUMENT);
    EXPECT_STATUS(petrel_message_set_property(NULL, "a", "b"), PETREL_INVALID_ARGUMENT);
    EXPECT_STATUS(petrel_message_set_delay_level(NULL, 1), PETREL_INVALID_ARGUMENT);
    EXPECT_STATUS(petrel_message_set_deliver_time(NULL, 1), PETREL_INVALID_ARGUMENT);
    EXPECT_OK(petrel_message_create("T", &message));
    EXPECT_STATUS(petrel_message_set_tags(message, NULL), PETREL_INVALID_ARGUMENT);
    EXPECT_STATUS(petrel_message_set_keys(message, NULL), PETREL_INVALID_ARGUMENT);
    EXPECT_STATUS(petrel_message_set_body(message, NULL, 4), PETREL_INVALID_ARGUMENT);
    EXPECT_STATUS(petrel_message_set_body(message, "x", (size_t)-1), PETREL_INVALID_ARGUMENT);
    EXPECT_STATUS(petrel_message_set_property(message, "", "b"), PETREL_INVALID_ARGUMENT);
    EXPECT_STATUS(petrel_message_set_property(message, "a", NULL), PETREL_INVALID_ARGUMENT);
    EXPECT_STATUS(petrel_message_set_property(message, "a\x01", "b"), PETREL_INVALID_ARGUMENT);
    EXPECT_STATUS(petrel_message_set_delay_level(message, 19), PETREL_INVALID_ARGUMENT);
    EXPECT_STATUS(petrel_message_set_delay_level(message, -1), PETREL_INVALID_ARGUMENT);
    EXPECT_STATUS(petrel_message_set_deliver_time(message, -5), PETREL_INVALID_ARGUMENT);
    CHECK(petrel_message_topic(NULL) == NULL && petrel_last_error()[0] != '\0');
    CHECK(petrel_message_tags(NULL) == NULL);
    CHECK(petrel_message_keys(NULL) == NULL);
    CHECK(petrel_message_id(NULL) == NULL);
    size_t length = 7;
    CHECK(petrel_message_body(NULL, &length) == NULL && length == 0);
    CHECK(petrel_message_property(NULL, "a") == NULL);
    CHECK(petrel_message_property(message, NULL) == NULL);
    CHECK(petrel_message_queue_id(NULL) == -1);
    CHECK(petrel_message_queue_offset(NULL) == -1);
    CHECK(petrel_message_reconsume_times(NULL) == -1);
    CHECK(petrel_message_born_timestamp(NULL) == -1);
    CHECK(petrel_message_store_timestamp(NULL) == -1);
    petrel_message_destroy(message);
    /* A destroyed handle is refused, not dereferenced. */
    EXPECT_STATUS(petrel_message_set_tags(message, "x"), PETREL_INVALID_ARGUMENT);
    petrel_message_destroy(NULL);
}

/* Enumeration of properties: name order, pointers equal to petrel_message_property's, bad arguments. */
static void test_message_property_enumeration(void) {
    petrel_message *message = NULL;
    size_t count = 99;
    const char *name = "unset";
    const char *value = "unset";
    EXPECT_OK(petrel_message_create("T", &message));
    EXPECT_OK(petrel_message_property_count(message, &count));
    CHECK(count == 0);
    EXPECT_STATUS(petrel_message_property_at(message, 0, &name, &value), PETREL_INVALID_ARGUMENT);
    CHECK(name == NULL && value == NULL);
    EXPECT_OK(petrel_message_set_property(message, "zeta", "last"));
    EXPECT_OK(petrel_message_set_property(message, "alpha", "first"));
    EXPECT_OK(petrel_message_set_property(message, "Mid", "upper case sorts first"));
    EXPECT_OK(petrel_message_property_count(message, &count));
    CHECK(count == 3);
    static const char *const names[] = {"Mid", "alpha", "zeta"};
    static const char *const values[] = {"upper case sorts first", "first", "last"};
    for (size_t i = 0; i < 3; i++) {
        EXPECT_OK(petrel_message_property_at(message, i, &name, &value));
        CHECK(name != NULL && strcmp(name, names[i]) == 0);
        CHECK(value != NULL && strcmp(value, values[i]) == 0);
        CHECK(value == petrel_message_property(message, names[i]));
    }
    /* Replacing a value keeps the count and shows the new value. */
    EXPECT_OK(petrel_message_set_property(message, "alpha", "again"));
    EXPECT_OK(petrel_message_property_at(message, 1, &name, &value));
    CHECK(strcmp(name, "alpha") == 0 && strcmp(value, "again") == 0);
    EXPECT_STATUS(petrel_message_property_at(message, 3, &name, &value), PETREL_INVALID_ARGUMENT);
    CHECK(strstr(petrel_last_error(), "out of range") != NULL && name == NULL && value == NULL);
    EXPECT_STATUS(petrel_message_property_at(message, (size_t)-1, &name, &value), PETREL_INVALID_ARGUMENT);
    EXPECT_STATUS(petrel_message_property_at(message, 0, NULL, &value), PETREL_INVALID_ARGUMENT);
    EXPECT_STATUS(petrel_message_property_at(message, 0, &name, NULL), PETREL_INVALID_ARGUMENT);
    EXPECT_STATUS(petrel_message_property_at(NULL, 0, &name, &value), PETREL_INVALID_ARGUMENT);
    CHECK(name == NULL && value == NULL);
    EXPECT_STATUS(petrel_message_property_count(message, NULL), PETREL_INVALID_ARGUMENT);
    count = 5;
    EXPECT_STATUS(petrel_message_property_count(NULL, &count), PETREL_INVALID_ARGUMENT);
    CHECK(count == 0);
    petrel_message_destroy(message);
    /* A destroyed message is refused, not read. */
    EXPECT_STATUS(petrel_message_property_count(message, &count), PETREL_INVALID_ARGUMENT);
    EXPECT_STATUS(petrel_message_property_at(message, 0, &name, &value), PETREL_INVALID_ARGUMENT);
}

void test_library_and_messages(void) {
    CHECK(strcmp(petrel_last_error(), "") == 0);
    test_version();
    test_status_names();
    test_last_error_is_per_thread();
    test_message_fields();
    test_message_bad_arguments();
    test_message_property_enumeration();
}
