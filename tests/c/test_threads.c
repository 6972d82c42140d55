/*
 * Threads: av_last_error_* are per thread (a failure on one thread leaves another's
 * untouched), and one av_client (and the default client behind av_refresh, first used
 * by several threads at once) serves many threads at the same time, with successes,
 * failures and rotating refresh tokens mixed.
 */
#define _POSIX_C_SOURCE 200809L

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testlib.h"

#define THREADS 8
#define ROUNDS 20

static av_client *client;
static pthread_barrier_t start_line;

/* ---- the last error is thread-local --------------------------------------------- */

static pthread_barrier_t step; /* main and thread A take turns */
static char a_request_id[128];

static void *thread_a(void *arg) {
    (void)arg;
    /* A new thread starts with no error, whatever the main thread did. */
    CHECK_STR_EQ(av_last_error_message(), "");
    CHECK_STR_EQ(av_last_error_api_status(), "");
    CHECK_STR_EQ(av_last_error_request_id(), "");
    CHECK_INT_EQ(av_last_error_http_status(), 0);

    av_tokens *t = TL_JUNK;
    CHECK_STATUS(av_login_password(client, "alice", "not-the-password", "c-100", &t), AV_ERR_AUTHENTICATION);
    CHECK_NULL(t);
    CHECK_STR_EQ(av_last_error_api_status(), "AUTHENTICATION_ERROR");
    snprintf(a_request_id, sizeof a_request_id, "%s", av_last_error_request_id());
    CHECK_INT_GE(strlen(a_request_id), 8);
    char *message = tl_strdup(av_last_error_message());

    pthread_barrier_wait(&step); /* 1: A has failed */
    pthread_barrier_wait(&step); /* 2: main has failed differently */

    /* Main's failure did not touch A's error. */
    CHECK_STR_EQ(av_last_error_message(), message);
    CHECK_STR_EQ(av_last_error_api_status(), "AUTHENTICATION_ERROR");
    CHECK_STR_EQ(av_last_error_request_id(), a_request_id);
    CHECK_INT_EQ(av_last_error_http_status(), 401);
    free(message);
    return NULL;
}

static void test_thread_local_errors(void) {
    tl_section("av_last_error_* are per thread");
    mock_reset();
    av_client_builder *b = av_client_builder_new();
    CHECK_STATUS(av_client_builder_set_timeout_ms(b, 0), AV_ERR_INVALID_ARGUMENT);
    char *main_message = tl_strdup(av_last_error_message());
    CHECK_CONTAINS(main_message, "ms");

    pthread_barrier_init(&step, NULL, 2);
    pthread_t a;
    pthread_create(&a, NULL, thread_a, NULL);
    pthread_barrier_wait(&step); /* 1 */

    /* A's failure did not touch main's error. */
    CHECK_STR_EQ(av_last_error_message(), main_message);
    CHECK_STR_EQ(av_last_error_api_status(), "");
    CHECK_STR_EQ(av_last_error_request_id(), "");
    CHECK_INT_EQ(av_last_error_http_status(), 0);

    /* Now main fails with a server error of its own. */
    av_tokens *t = TL_JUNK;
    CHECK_STATUS(av_login_password(client, "locked", "locked", NULL, &t), AV_ERR_AUTHENTICATION);
    CHECK_STR_EQ(av_last_error_api_status(), "ACCOUNT_STATUS_ERROR");
    CHECK_STR_NE(av_last_error_request_id(), a_request_id);
    pthread_barrier_wait(&step); /* 2 */
    pthread_join(a, NULL);

    /* A has exited; main's error is still main's. */
    CHECK_STR_EQ(av_last_error_api_status(), "ACCOUNT_STATUS_ERROR");
    CHECK_INT_EQ(av_last_error_http_status(), 403);
    pthread_barrier_destroy(&step);
    av_client_builder_free(b);
    free(main_message);
}

/* ---- one client, many threads ---------------------------------------------------- */

struct worker {
    int index;
    char *refresh_token; /* owned */
    int expect_ok;       /* 0: the token is unknown and every refresh must fail */
    int rotate;          /* the server rotates: keep the newest token */
    int rounds;
    int one_shot;        /* use av_refresh instead of av_client_refresh */
    atomic_int *successes;
};

static void *worker_main(void *arg) {
    struct worker *w = arg;
    char previous_rid[128] = "";
    pthread_barrier_wait(&start_line);
    for (int i = 0; i < w->rounds; i++) {
        if (w->one_shot) {
            char *at = TL_JUNK;
            int64_t exp = TL_JUNK_I64;
            if (CHECK_OK(av_refresh("c-100", w->refresh_token, &at, &exp))) {
                CHECK_INT_GE(strlen(at), 16);
                CHECK(exp > 0);
                atomic_fetch_add(w->successes, 1);
                av_string_free(at);
            }
            continue;
        }
        av_tokens *t = TL_JUNK;
        int st = av_client_refresh(client, "c-100", w->refresh_token, &t);
        if (!w->expect_ok) {
            CHECK_STATUS(st, AV_ERR_AUTHENTICATION);
            CHECK_NULL(t);
            CHECK_STR_EQ(av_last_error_api_status(), "AUTHENTICATION_ERROR");
            CHECK_INT_EQ(av_last_error_http_status(), 401);
            /* Every request has its own id, and this thread sees its own. */
            CHECK_INT_GE(strlen(av_last_error_request_id()), 8);
            CHECK_STR_NE(av_last_error_request_id(), previous_rid);
            snprintf(previous_rid, sizeof previous_rid, "%s", av_last_error_request_id());
            continue;
        }
        if (!CHECK_OK(st)) {
            continue;
        }
        const char *next = av_tokens_refresh_token(t);
        if (w->rotate) {
            CHECK_STR_NE(next, w->refresh_token);
        } else {
            CHECK_STR_EQ(next, w->refresh_token);
        }
        free(w->refresh_token);
        w->refresh_token = tl_strdup(next);
        if (i % 5 == 0) {
            char *reply = NULL;
            if (CHECK_OK(av_client_call(client, av_tokens_access_token(t), "roomService/list", NULL, &reply))) {
                CHECK_CONTAINS(reply, "\"companyId\":\"c-100\"");
                av_string_free(reply);
            }
        }
        atomic_fetch_add(w->successes, 1);
        av_tokens_free(t);
    }
    if (w->expect_ok && !w->one_shot) {
        /* This thread never failed: its last error is still empty. */
        CHECK_STR_EQ(av_last_error_message(), "");
    }
    return NULL;
}

/* Runs `n` workers at once (all released together) and returns the successes. */
static int run_workers(struct worker *w, int n) {
    atomic_int successes = 0;
    pthread_t th[THREADS];
    pthread_barrier_init(&start_line, NULL, (unsigned)n);
    for (int i = 0; i < n; i++) {
        w[i].successes = &successes;
        pthread_create(&th[i], NULL, worker_main, &w[i]);
    }
    for (int i = 0; i < n; i++) {
        pthread_join(th[i], NULL);
    }
    pthread_barrier_destroy(&start_line);
    return atomic_load(&successes);
}

static void free_workers(struct worker *w, int n) {
    for (int i = 0; i < n; i++) {
        free(w[i].refresh_token);
    }
}

static void test_many_threads(void) {
    struct worker w[THREADS];

    tl_section("8 threads x 20 refreshes on one client");
    mock_reset();
    for (int i = 0; i < THREADS; i++) {
        w[i] = (struct worker){.index = i, .refresh_token = mock_mint("c-100"), .expect_ok = 1, .rounds = ROUNDS};
    }
    CHECK_INT_EQ(run_workers(w, THREADS), THREADS * ROUNDS);
    CHECK_INT_EQ(mock_stat("refreshes"), THREADS * ROUNDS);
    CHECK_INT_EQ(mock_stat("refreshFailures"), 0);
    CHECK_INT_EQ(mock_stat("calls"), THREADS * (ROUNDS / 5));
    free_workers(w, THREADS);

    tl_section("successes and failures at once, errors kept apart");
    mock_reset();
    for (int i = 0; i < THREADS; i++) {
        int good = i % 2 == 0;
        char unknown[64];
        snprintf(unknown, sizeof unknown, "unknown-token-%d", i);
        w[i] = (struct worker){.index = i, .refresh_token = good ? mock_mint("c-100") : tl_strdup(unknown),
                               .expect_ok = good, .rounds = ROUNDS / 2};
    }
    CHECK_INT_EQ(run_workers(w, THREADS), (THREADS / 2) * (ROUNDS / 2));
    CHECK_INT_EQ(mock_stat("refreshes"), (THREADS / 2) * (ROUNDS / 2));
    CHECK_INT_EQ(mock_stat("refreshFailures"), (THREADS / 2) * (ROUNDS / 2));
    free_workers(w, THREADS);

    tl_section("rotating refresh tokens, one chain per thread");
    mock_reset();
    mock_config("{\"rotate\":true}");
    for (int i = 0; i < THREADS; i++) {
        w[i] = (struct worker){.index = i, .refresh_token = mock_mint("c-100"), .expect_ok = 1, .rotate = 1, .rounds = 10};
    }
    CHECK_INT_EQ(run_workers(w, THREADS), THREADS * 10);
    CHECK_INT_EQ(mock_stat("refreshFailures"), 0);
    /* Every chain's newest token is the one that still works. */
    for (int i = 0; i < THREADS; i++) {
        av_tokens *t = NULL;
        CHECK_OK(av_client_refresh(client, "c-100", w[i].refresh_token, &t));
        av_tokens_free(t);
    }
    free_workers(w, THREADS);

    tl_section("av_refresh from 4 threads, the default client created by whichever comes first");
    mock_reset();
    char *shared = mock_mint("c-100");
    for (int i = 0; i < 4; i++) {
        w[i] = (struct worker){.index = i, .refresh_token = tl_strdup(shared), .expect_ok = 1, .rounds = 10, .one_shot = 1};
    }
    CHECK_INT_EQ(run_workers(w, 4), 40);
    CHECK_INT_EQ(mock_stat("refreshes"), 40);
    free_workers(w, 4);
    free(shared);
}

int main(void) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    setenv("ALFAVIEW_API_URL", mock_url(), 1); /* for av_refresh's default client */
    client = tl_client(20000);
    if (client == NULL) {
        return tl_finish("test_threads");
    }
    test_thread_local_errors();
    test_many_threads();
    av_client_free(client);
    mock_reset();
    return tl_finish("test_threads");
}
