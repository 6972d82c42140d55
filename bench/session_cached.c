/*
 * The session's cached path from C: nanoseconds per av_session_access_token call (with
 * the av_string_free of its result), on one thread and on two threads at once.
 *
 * Usage: session_cached BASE_URL [CALLS_PER_THREAD [ROUNDS]]   (BASE_URL: the mock
 * server's; the bench signs in as the mock's user alice to get a refresh token.) ROUNDS
 * (default 1) repeats the pair of runs (1 thread, then 2), alternating.
 * Prints one line per run: "cached_path threads=N ns_per_call=X calls_per_s=Y
 * cpu_ns_per_call=Z": X is wall time per call on each thread, Z the CPU time each thread
 * spent per call (CLOCK_THREAD_CPUTIME_ID, averaged over the threads). When Z stays flat
 * from 1 to 2 threads but X grows, the threads did not get a CPU each (other load on the
 * machine), rather than slowing each other down.
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "alfaview_auth.h"

static av_session *session;
static long calls_per_thread = 2000000;

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

typedef struct {
    long failures;
    double cpu_s;
} worker_result;

static double thread_cpu_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *worker(void *arg) {
    worker_result *result = arg;
    double cpu0 = thread_cpu_s();
    for (long i = 0; i < calls_per_thread; i++) {
        char *token = NULL;
        if (av_session_access_token(session, &token, NULL) != AV_OK) {
            result->failures++;
        }
        av_string_free(token);
    }
    result->cpu_s = thread_cpu_s() - cpu0;
    return NULL;
}

static int run(int threads) {
    pthread_t tid[2];
    worker_result results[2] = {{0, 0}, {0, 0}};
    double start = now_s();
    for (int i = 0; i < threads; i++) {
        pthread_create(&tid[i], NULL, worker, &results[i]);
    }
    for (int i = 0; i < threads; i++) {
        pthread_join(tid[i], NULL);
    }
    double elapsed = now_s() - start;
    long total = calls_per_thread * threads;
    long failures = results[0].failures + results[1].failures;
    if (failures > 0) {
        fprintf(stderr, "cached path: %ld calls failed: %s\n", failures, av_last_error_message());
        return 1;
    }
    printf("cached_path threads=%d ns_per_call=%.1f calls_per_s=%.0f cpu_ns_per_call=%.1f\n",
           threads, elapsed * 1e9 / (double)calls_per_thread, (double)total / elapsed,
           (results[0].cpu_s + results[1].cpu_s) * 1e9 / (double)total);
    fflush(stdout);
    return 0;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s BASE_URL [CALLS_PER_THREAD]\n", argv[0]);
        return 2;
    }
    if (argc > 2) {
        calls_per_thread = atol(argv[2]);
    }
    int rounds = argc > 3 ? atoi(argv[3]) : 1;
    av_client_builder *b = av_client_builder_new();
    av_client *client = NULL;
    av_tokens *login = NULL;
    if (av_client_builder_set_base_url(b, argv[1]) != AV_OK || av_client_build(b, &client) != AV_OK ||
        av_login_password(client, "alice", "wonderland", "c-100", &login) != AV_OK ||
        av_session_new(client, "c-100", av_tokens_refresh_token(login), &session) != AV_OK) {
        fprintf(stderr, "setup failed: %s\n", av_last_error_message());
        return 1;
    }
    char *token = NULL;
    if (av_session_access_token(session, &token, NULL) != AV_OK) {
        fprintf(stderr, "first token failed: %s\n", av_last_error_message());
        return 1;
    }
    av_string_free(token);
    int rc = 0;
    for (int r = 0; r < rounds && !rc; r++) {
        rc = run(1) || run(2);
    }
    av_session_free(session);
    av_tokens_free(login);
    av_client_free(client);
    av_client_builder_free(b);
    return rc;
}
