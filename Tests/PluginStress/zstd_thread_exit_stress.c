/*
 * Stress for compress-zstd's per-thread contexts: threads that called an instance exit while the
 * instance is destroyed, threads outliving many instances (new instances may reuse a destroyed one's
 * address), and the library unloaded while a thread that used it is still alive. Built and run under
 * AddressSanitizer (plugin and program) by PluginStressTests: a context freed twice or used after
 * free aborts with a report; a clean run exits 0.
 *
 * The interleaving that matters is forced, not hoped for: this program defines pthread_mutex_lock
 * (linked with -rdynamic, so the plugin's calls resolve to it). A lock taken by the plugin on a thread
 * that has finished its work, i.e. in the plugin's thread-exit path, waits while `hold` is set. Each
 * round waits until every exiting thread is there (its key destructor already called), destroys the
 * instances, and only then lets the threads go on: exactly the window where a destroy that frees
 * the contexts of exiting threads would leave their destructors with freed memory.
 *
 * Usage: zstd_thread_exit_stress <path of compress-zstd.so> [rounds]
 */
#define _GNU_SOURCE
#include "../../include/petrel_plugin.h"

#include <dlfcn.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { THREADS = 8, INSTANCES = 2 };

static const petrel_plugin_descriptor *plugin;
static const petrel_compressor_functions *functions;
/* The plugin's load address (dladdr's dli_fbase), to tell its lock calls from others. */
static void *plugin_base;
/* libc's pthread_mutex_lock. */
static int (*real_lock)(pthread_mutex_t *);
/* Set on a worker thread once its work is done: its next plugin lock is on the exit path. */
static __thread int exiting;
/* While set, plugin locks on exiting threads wait. */
static int hold;
/* How many exiting threads wait in a plugin lock. */
static int waiting;

/* The interposed lock (see the top comment). */
int pthread_mutex_lock(pthread_mutex_t *mutex) {
    Dl_info caller;
    if (exiting && plugin_base != NULL && dladdr(__builtin_return_address(0), &caller) != 0 &&
        caller.dli_fbase == plugin_base) {
        __atomic_add_fetch(&waiting, 1, __ATOMIC_SEQ_CST);
        while (__atomic_load_n(&hold, __ATOMIC_ACQUIRE)) sched_yield();
    }
    return real_lock(mutex);
}

/* A gate the main thread opens for every waiting thread at once. */
typedef struct gate {
    pthread_mutex_t lock;
    pthread_cond_t changed;
    int used;
    int open;
} gate;

typedef struct worker {
    void **instances;
    int count;
    gate *gate;
} worker;

static void check(int condition, const char *what) {
    if (!condition) {
        fprintf(stderr, "stress: %s\n", what);
        exit(2);
    }
}

/* Compresses and decompresses one body with `instance`, checking the round trip. */
static void round_trip(void *instance) {
    char body[512];
    for (size_t index = 0; index < sizeof body; index++) body[index] = (char)('a' + index % 7);
    uint8_t compressed[1024], plain[512];
    size_t written = 0, restored = 0;
    petrel_compression_options options = {0, NULL, 0};
    petrel_plugin_error error;
    check(functions->compress(instance, &options, (const uint8_t *)body, sizeof body, compressed, sizeof compressed,
                              &written, &error) == PETREL_PLUGIN_OK, "compress failed");
    check(functions->decompress(instance, &options, compressed, written, plain, sizeof plain, &restored, &error) ==
              PETREL_PLUGIN_OK, "decompress failed");
    check(restored == sizeof body && memcmp(plain, body, sizeof body) == 0, "round trip differs");
}

/* Uses every instance, reports it, waits for the gate, then exits (racing the destroys). */
static void *use_then_exit(void *argument) {
    worker *work = argument;
    for (int index = 0; index < work->count; index++) round_trip(work->instances[index]);
    pthread_mutex_lock(&work->gate->lock);
    work->gate->used++;
    pthread_cond_broadcast(&work->gate->changed);
    while (!work->gate->open) pthread_cond_wait(&work->gate->changed, &work->gate->lock);
    pthread_mutex_unlock(&work->gate->lock);
    exiting = 1;
    return NULL;
}

static void *create(void) {
    void *instance = NULL;
    petrel_plugin_error error;
    check(plugin->init("", NULL, &instance, &error) == PETREL_PLUGIN_OK, "init failed");
    return instance;
}

/* One round: THREADS threads use INSTANCES instances (and the long-lived main thread too); the
 * gate opens and the instances are destroyed while the threads exit. */
static void race_round(void) {
    void *instances[INSTANCES];
    for (int index = 0; index < INSTANCES; index++) instances[index] = create();
    for (int index = 0; index < INSTANCES; index++) round_trip(instances[index]);
    gate exits = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0};
    worker work = {instances, INSTANCES, &exits};
    pthread_t threads[THREADS];
    for (int index = 0; index < THREADS; index++)
        check(pthread_create(&threads[index], NULL, use_then_exit, &work) == 0, "pthread_create failed");
    pthread_mutex_lock(&exits.lock);
    while (exits.used < THREADS) pthread_cond_wait(&exits.changed, &exits.lock);
    __atomic_store_n(&waiting, 0, __ATOMIC_SEQ_CST);
    __atomic_store_n(&hold, 1, __ATOMIC_RELEASE);
    exits.open = 1;
    pthread_cond_broadcast(&exits.changed);
    pthread_mutex_unlock(&exits.lock);
    /* Every thread is inside its exit path, in the plugin, before the plugin's lock. */
    time_t deadline = time(NULL) + 10;
    while (__atomic_load_n(&waiting, __ATOMIC_SEQ_CST) < THREADS) {
        check(time(NULL) < deadline, "the exiting threads never reached a lock in the plugin's thread-exit path");
        sched_yield();
    }
    for (int index = 0; index < INSTANCES; index++) plugin->destroy(instances[index]);
    __atomic_store_n(&hold, 0, __ATOMIC_RELEASE);
    for (int index = 0; index < THREADS; index++) pthread_join(threads[index], NULL);
}

int main(int count, char **arguments) {
    check(count >= 2, "usage: zstd_thread_exit_stress <compress-zstd.so> [rounds]");
    int rounds = count >= 3 ? atoi(arguments[2]) : 300;
    real_lock = (int (*)(pthread_mutex_t *))dlsym(RTLD_NEXT, "pthread_mutex_lock");
    check(real_lock != NULL, "no pthread_mutex_lock after this program");
    void *library = dlopen(arguments[1], RTLD_NOW | RTLD_LOCAL);
    check(library != NULL, dlerror());
    const petrel_plugin_descriptor *(*describe)(uint32_t) =
        (const petrel_plugin_descriptor *(*)(uint32_t))dlsym(library, "petrel_plugin_describe_v1");
    check(describe != NULL, "no petrel_plugin_describe_v1");
    plugin = describe(0);
    Dl_info info;
    check(dladdr((void *)describe, &info) != 0, "dladdr of the plugin failed");
    plugin_base = info.dli_fbase;
    functions = plugin->functions;
    for (int round = 0; round < rounds; round++) race_round();

    /* Unloaded while a thread that used it is alive: that thread's exit must not call unmapped code. */
    void *last = create();
    gate exits = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0};
    worker work = {&last, 1, &exits};
    pthread_t survivor;
    check(pthread_create(&survivor, NULL, use_then_exit, &work) == 0, "pthread_create failed");
    pthread_mutex_lock(&exits.lock);
    while (exits.used < 1) pthread_cond_wait(&exits.changed, &exits.lock);
    pthread_mutex_unlock(&exits.lock);
    plugin->destroy(last);
    dlclose(library);
    pthread_mutex_lock(&exits.lock);
    exits.open = 1;
    pthread_cond_broadcast(&exits.changed);
    pthread_mutex_unlock(&exits.lock);
    pthread_join(survivor, NULL);
    printf("stress: %d rounds of %d threads x %d instances, then an unload: clean\n", rounds, THREADS, INSTANCES);
    return 0;
}
