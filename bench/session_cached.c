/*
 * The session's cached path from C: nanoseconds per av_session_access_token call (with
 * the av_string_free of its result), on one thread and on two threads at once.
 *
 * Usage: session_cached BASE_URL [CALLS_PER_THREAD]   (BASE_URL: the mock server's; the
 * bench signs in as the mock's user alice to get a refresh token.)
 * Prints one line per run: "cached_path threads=N ns_per_call=X calls_per_s=Y".
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

static void *worker(void *arg) {
    long *failures = arg;
    for (long i = 0; i < calls_per_thread; i++) {
        char *token = NULL;
        if (av_session_access_token(session, &token, NULL) != AV_OK) {
            (*failures)++;
        }
        av_string_free(token);
    }
    return NULL;
}

static int run(int threads) {
    pthread_t tid[2];
    long failures[2] = {0, 0};
    double start = now_s();
    for (int i = 0; i < threads; i++) {
        pthread_create(&tid[i], NULL, worker, &failures[i]);
    }
    for (int i = 0; i < threads; i++) {
        pthread_join(tid[i], NULL);
    }
    double elapsed = now_s() - start;
    long total = calls_per_thread * threads;
    if (failures[0] + failures[1] > 0) {
        fprintf(stderr, "cached path: %ld calls failed: %s\n", failures[0] + failures[1],
                av_last_error_message());
        return 1;
    }
    printf("cached_path threads=%d ns_per_call=%.1f calls_per_s=%.0f\n", threads,
           elapsed * 1e9 / (double)calls_per_thread, (double)total / elapsed);
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
    int rc = run(1) || run(2);
    av_session_free(session);
    av_tokens_free(login);
    av_client_free(client);
    av_client_builder_free(b);
    return rc;
}
