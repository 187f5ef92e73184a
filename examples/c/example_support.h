/* Small helpers the C examples share: the name server address, failing loudly, and waiting for a counter. */
#ifndef PETREL_EXAMPLE_SUPPORT_H
#define PETREL_EXAMPLE_SUPPORT_H

#include <petrel.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

/** The name servers: the first argument, else $PETREL_NAMESRV, else 127.0.0.1:9876. */
static const char *example_name_servers(int argc, char **argv) {
    const char *configured = getenv("PETREL_NAMESRV");
    return argc > 1 ? argv[1] : configured ? configured : "127.0.0.1:9876";
}

/** Exits with the library's message when a call failed. */
static void example_check(petrel_status status, const char *what) {
    if (status != PETREL_OK) {
        fprintf(stderr, "%s failed: %s: %s\n", what, petrel_status_name(status), petrel_last_error());
        exit(1);
    }
}

/** A counter listeners raise and main waits on. */
typedef struct example_counter {
    pthread_mutex_t lock;
    pthread_cond_t changed;
    int value;
} example_counter;

static void example_counter_add(example_counter *counter, int amount) {
    pthread_mutex_lock(&counter->lock);
    counter->value += amount;
    pthread_cond_broadcast(&counter->changed);
    pthread_mutex_unlock(&counter->lock);
}

/** Waits until the counter reaches `target` or `seconds` pass; returns whether it did. */
static int example_counter_wait(example_counter *counter, int target, int seconds) {
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += seconds;
    pthread_mutex_lock(&counter->lock);
    int waited = 0;
    while (counter->value < target && waited == 0) {
        waited = pthread_cond_timedwait(&counter->changed, &counter->lock, &deadline);
    }
    int reached = counter->value >= target;
    pthread_mutex_unlock(&counter->lock);
    return reached;
}

#endif
