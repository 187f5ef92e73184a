/*
 * Helpers of the C API test: checks that report the failing line, statuses with petrel_last_error(),
 * and bounded waiting on conditions set by callbacks (no sleeps where a condition can be awaited).
 */
#ifndef CAPI_SUPPORT_H
#define CAPI_SUPPORT_H

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "petrel.h"

/* Number of failed checks; main exits non-zero when it is not 0. */
extern int capi_failures;

/* Records a failed check with its place. */
#define CHECK(condition)                                                                      \
    do {                                                                                      \
        if (!(condition)) {                                                                   \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #condition);     \
            capi_failures++;                                                                  \
        }                                                                                     \
    } while (0)

/* Checks that `call` returns `expected`; a failure status must come with a non-empty last error. */
#define EXPECT_STATUS(call, expected)                                                              \
    do {                                                                                           \
        petrel_status status_ = (call);                                                            \
        if (status_ != (expected)) {                                                               \
            fprintf(stderr, "%s:%d: %s returned %s, expected %s (last error: %s)\n", __FILE__,      \
                    __LINE__, #call, petrel_status_name(status_), petrel_status_name(expected),    \
                    petrel_last_error());                                                          \
            capi_failures++;                                                                       \
        } else if (status_ != PETREL_OK && status_ != PETREL_NO_MESSAGE &&                          \
                   petrel_last_error()[0] == '\0') {                                               \
            fprintf(stderr, "%s:%d: %s failed without a last error\n", __FILE__, __LINE__, #call);  \
            capi_failures++;                                                                       \
        }                                                                                          \
    } while (0)

#define EXPECT_OK(call) EXPECT_STATUS(call, PETREL_OK)

/* A counter callbacks raise and the test thread waits on. */
typedef struct capi_counter {
    pthread_mutex_t mutex;
    pthread_cond_t changed;
    int value;
} capi_counter;

void capi_counter_init(capi_counter *counter);
void capi_counter_add(capi_counter *counter, int amount);
int capi_counter_get(capi_counter *counter);
/* Waits until the counter reaches `target` or `seconds` pass; returns whether it did. */
int capi_counter_wait(capi_counter *counter, int target, int seconds);

/* Seconds since an arbitrary start (CLOCK_MONOTONIC). */
double capi_now(void);

/* The tests, one function per area (each file's own). */
void test_library_and_messages(void);
void test_producer(const char *name_servers);
void test_transactions(const char *name_servers);
void test_push_consumer(const char *name_servers);
void test_pull_consumer(const char *name_servers);
void test_plugins(const char *name_servers);
void test_logging(const char *name_servers);

#endif
