/*
 * The C API test program: exercises every function of petrel.h against a running petrel-broker whose
 * name server address is in PETREL_NAMESRV (Tests/Interop/test_c_api.py starts the broker, compiles
 * and runs this). Exit status 0 when every check passed.
 */
#include "capi_support.h"

int capi_failures = 0;

void capi_counter_init(capi_counter *counter) {
    pthread_mutex_init(&counter->mutex, NULL);
    pthread_cond_init(&counter->changed, NULL);
    counter->value = 0;
}

void capi_counter_add(capi_counter *counter, int amount) {
    pthread_mutex_lock(&counter->mutex);
    counter->value += amount;
    pthread_cond_broadcast(&counter->changed);
    pthread_mutex_unlock(&counter->mutex);
}

int capi_counter_get(capi_counter *counter) {
    pthread_mutex_lock(&counter->mutex);
    int value = counter->value;
    pthread_mutex_unlock(&counter->mutex);
    return value;
}

int capi_counter_wait(capi_counter *counter, int target, int seconds) {
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += seconds;
    pthread_mutex_lock(&counter->mutex);
    while (counter->value < target) {
        if (pthread_cond_timedwait(&counter->changed, &counter->mutex, &deadline) != 0) break;
    }
    int reached = counter->value >= target;
    pthread_mutex_unlock(&counter->mutex);
    return reached;
}

double capi_now(void) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)now.tv_sec + (double)now.tv_nsec / 1e9;
}

int main(void) {
    const char *name_servers = getenv("PETREL_NAMESRV");
    if (name_servers == NULL || name_servers[0] == '\0') {
        fprintf(stderr, "PETREL_NAMESRV is not set (host:port of a running petrel-broker's name server)\n");
        return 2;
    }
    setvbuf(stdout, NULL, _IONBF, 0);
    printf("petrel %s against %s\n", petrel_version(), name_servers);
    test_library_and_messages();
    printf("library and messages done (%d failures)\n", capi_failures);
    test_producer(name_servers);
    printf("producer done (%d failures)\n", capi_failures);
    test_transactions(name_servers);
    printf("transactions done (%d failures)\n", capi_failures);
    test_push_consumer(name_servers);
    printf("push consumer done (%d failures)\n", capi_failures);
    test_pull_consumer(name_servers);
    printf("pull consumer done (%d failures)\n", capi_failures);
    test_plugins(name_servers);
    printf("plugins done (%d failures)\n", capi_failures);
    test_logging(name_servers);
    printf("logging done (%d failures)\n", capi_failures);
    if (capi_failures != 0) {
        fprintf(stderr, "%d checks failed\n", capi_failures);
        return 1;
    }
    printf("all checks passed\n");
    return 0;
}
