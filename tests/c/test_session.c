/*
 * Sessions through the C ABI: the cached path makes no request; 32 threads asking at
 * once while a refresh is due cause exactly one; a rotated refresh token reaches the
 * callback once per rotation, before the new access token is handed out, and the old one
 * is rejected afterwards; TOKEN_OUTDATED is renewed and retried once; the log callback
 * hears about renewals and never sees a token; argument checks and out-pointers.
 */
#define _POSIX_C_SOURCE 200809L

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "testlib.h"

#define THREADS 32

static av_client *client;

static void sleep_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* ---- the cached path -------------------------------------------------------------- */

static void test_cached_path(void) {
    tl_section("the cached path makes no request");
    mock_reset();
    char *rt = mock_mint("c-100");
    av_session *s = TL_JUNK;
    if (!CHECK_OK(av_session_new(client, "c-100", rt, &s))) return;
    CHECK_INT_EQ(mock_stat("requests"), 0); /* nothing sent on creation */
    char *first = NULL;
    int64_t expires = 0;
    CHECK_OK(av_session_access_token(s, &first, &expires));
    CHECK_RANGE(expires, (long long)time(NULL) + 3600 - 5, (long long)time(NULL) + 3600 + 5);
    for (int i = 0; i < 500; i++) {
        char *again = NULL;
        CHECK_OK(av_session_access_token(s, &again, NULL));
        if (i == 0) CHECK_STR_EQ(again, first);
        av_string_free(again);
    }
    CHECK_INT_EQ(mock_stat("authenticate"), 1);
    char *kept = NULL;
    CHECK_OK(av_session_refresh_token(s, &kept));
    CHECK_STR_EQ(kept, rt); /* no rotation: the one given */
    av_string_free(kept);
    av_string_free(first);
    av_session_free(s);
    free(rt);
}

/* ---- single flight ---------------------------------------------------------------- */

static av_session *shared;
static pthread_barrier_t start_line;
static char *tokens[THREADS];
static int statuses[THREADS];

static void *ask(void *arg) {
    long i = (long)arg;
    pthread_barrier_wait(&start_line);
    statuses[i] = av_session_access_token(shared, &tokens[i], NULL);
    return NULL;
}

static void run_threads(void) {
    pthread_t tid[THREADS];
    pthread_barrier_init(&start_line, NULL, THREADS);
    for (long i = 0; i < THREADS; i++) pthread_create(&tid[i], NULL, ask, (void *)i);
    for (int i = 0; i < THREADS; i++) pthread_join(tid[i], NULL);
    pthread_barrier_destroy(&start_line);
}

static void test_single_flight(void) {
    tl_section("32 threads, one refresh");
    mock_reset();
    char *rt = mock_mint("c-100");
    if (!CHECK_OK(av_session_new(client, "c-100", rt, &shared))) return;
    /* Slow refreshes, so every thread arrives while the one request is in flight. */
    mock_config("{\"fault\": {\"kind\": \"delay\", \"delayMs\": 300, \"path\": \"authenticate\"}}");
    run_threads();
    CHECK_INT_EQ(mock_stat("authenticate"), 1);
    for (int i = 0; i < THREADS; i++) {
        CHECK_STATUS(statuses[i], AV_OK);
        CHECK_STR_EQ(tokens[i], tokens[0]);
    }
    for (int i = 0; i < THREADS; i++) av_string_free(tokens[i]);

    tl_section("a failed refresh reaches every waiter, and is retried next time");
    av_session_free(shared);
    if (!CHECK_OK(av_session_new(client, "c-100", "not-a-valid-token", &shared))) return;
    long long before = mock_stat("authenticate");
    run_threads();
    CHECK_INT_EQ(mock_stat("authenticate"), before + 1);
    for (int i = 0; i < THREADS; i++) {
        CHECK_STATUS(statuses[i], AV_ERR_AUTHENTICATION);
        CHECK_NULL(tokens[i]);
    }
    char *t = TL_JUNK;
    CHECK_STATUS(av_session_access_token(shared, &t, NULL), AV_ERR_AUTHENTICATION);
    CHECK_NULL(t);
    CHECK_STR_EQ(av_last_error_api_status(), "AUTHENTICATION_ERROR");
    CHECK_INT_EQ(mock_stat("authenticate"), before + 2);
    av_session_free(shared);
    shared = NULL;
    free(rt);
}

/* ---- rotation --------------------------------------------------------------------- */

struct store {
    pthread_mutex_t lock;
    int calls;
    char company[64];
    char token[256];
};

static void persist(void *user_data, const char *company_id, const char *new_refresh_token) {
    struct store *st = user_data;
    pthread_mutex_lock(&st->lock);
    st->calls++;
    snprintf(st->company, sizeof st->company, "%s", company_id);
    snprintf(st->token, sizeof st->token, "%s", new_refresh_token);
    pthread_mutex_unlock(&st->lock);
}

static void test_rotation(void) {
    tl_section("rotation: the callback persists each new refresh token once");
    mock_reset();
    mock_config("{\"rotate\": true, \"tokenLifetimeS\": 2}");
    char *original = mock_mint("c-200");
    av_session *s = NULL;
    if (!CHECK_OK(av_session_new(client, "c-200", original, &s))) return;
    struct store st = {PTHREAD_MUTEX_INITIALIZER, 0, "", ""};
    CHECK_OK(av_session_on_refresh_token(s, persist, &st));
    for (int round = 1; round <= 3; round++) {
        char *access = NULL;
        CHECK_OK(av_session_access_token(s, &access, NULL));
        av_string_free(access);
        CHECK_INT_EQ(st.calls, round);
        CHECK_STR_EQ(st.company, "c-200");
        char *current = NULL;
        CHECK_OK(av_session_refresh_token(s, &current));
        CHECK_STR_EQ(current, st.token);
        CHECK_STR_NE(current, original);
        av_string_free(current);
        sleep_ms(1100); /* a 2 s token is renewed half-way */
    }
    /* The persisted token is the one the server now accepts; the original is not. */
    av_tokens *t = TL_JUNK;
    CHECK_STATUS(av_client_refresh(client, "c-200", original, &t), AV_ERR_AUTHENTICATION);
    CHECK_NULL(t);
    /* Removing the callback: rotations go on, nobody is called. */
    CHECK_OK(av_session_on_refresh_token(s, NULL, NULL));
    sleep_ms(1100);
    char *access = NULL;
    CHECK_OK(av_session_access_token(s, &access, NULL));
    av_string_free(access);
    CHECK_INT_EQ(st.calls, 3);
    char *tokens_json = mock_tokens();
    char *current = NULL;
    CHECK_OK(av_session_refresh_token(s, &current));
    CHECK_CONTAINS(tokens_json, current);
    av_string_free(current);
    free(tokens_json);
    av_session_free(s);
    free(original);
}

/* ---- calls ------------------------------------------------------------------------ */

static void test_calls(void) {
    tl_section("av_session_call renews on TOKEN_OUTDATED and retries once");
    mock_reset();
    char *rt = mock_mint("c-100");
    av_session *s = NULL;
    if (!CHECK_OK(av_session_new(client, "c-100", rt, &s))) return;
    char *reply = NULL;
    CHECK_OK(av_session_call(s, "roomService/create", "{\"room\": {\"name\": \"Standup\"}}", &reply));
    CHECK_CONTAINS(reply, "Standup");
    av_string_free(reply);
    const char *shapes[] = {"{\"errorShape\": \"gateway\"}", "{\"errorShape\": \"reply\"}"};
    for (int i = 0; i < 2; i++) {
        mock_config(shapes[i]);
        mock_expire();
        long long refreshes = mock_stat("refreshes"), calls = mock_stat("calls");
        reply = NULL;
        CHECK_OK(av_session_call(s, "roomService/list", NULL, &reply));
        CHECK_NOT_NULL(reply);
        av_string_free(reply);
        CHECK_INT_EQ(mock_stat("refreshes"), refreshes + 1);
        CHECK_INT_EQ(mock_stat("calls"), calls + 2);
    }
    mock_config("{\"fault\": {\"kind\": \"error200\", \"apiStatus\": \"TOKEN_OUTDATED\", \"path\": \"roomService\", \"count\": 2}}");
    long long calls = mock_stat("calls");
    reply = TL_JUNK;
    CHECK_STATUS(av_session_call(s, "roomService/list", NULL, &reply), AV_ERR_TOKEN_EXPIRED);
    CHECK_NULL(reply);
    CHECK_STR_EQ(av_last_error_api_status(), "TOKEN_OUTDATED");
    CHECK_INT_EQ(mock_stat("calls"), calls + 2);
    av_session_free(s);
    free(rt);
}

/* ---- the default client and the client's lifetime --------------------------------- */

static void test_lifetimes(void) {
    tl_section("a session keeps its client alive; NULL client = the default client");
    mock_reset();
    char *rt = mock_mint("c-100");
    av_client *own = tl_client(5000);
    av_session *s = NULL;
    CHECK_OK(av_session_new(own, "c-100", rt, &s));
    av_client_free(own);
    char *t = NULL;
    CHECK_OK(av_session_access_token(s, &t, NULL));
    av_string_free(t);
    av_session_free(s);

    /* The default client reads ALFAVIEW_API_URL when first used. */
    setenv("ALFAVIEW_API_URL", mock_url(), 1);
    s = NULL;
    CHECK_OK(av_session_new(NULL, "c-100", rt, &s));
    t = NULL;
    CHECK_OK(av_session_access_token(s, &t, NULL));
    CHECK_NOT_NULL(t);
    av_string_free(t);
    av_session_free(s);
    free(rt);
}

/* ---- logging ---------------------------------------------------------------------- */

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static char log_text[8192];
static int log_count;

static void on_log(void *user_data, int32_t level, const char *message) {
    (void)user_data;
    pthread_mutex_lock(&log_lock);
    log_count++;
    size_t used = strlen(log_text);
    snprintf(log_text + used, sizeof log_text - used, "[%d] %s\n", (int)level, message);
    pthread_mutex_unlock(&log_lock);
}

static void test_logging(void) {
    tl_section("the log callback hears about renewals and never sees a token");
    mock_reset();
    mock_config("{\"rotate\": true}");
    char *rt = mock_mint("c-100");
    av_set_log_callback(on_log, NULL, 5);
    av_session *s = NULL;
    CHECK_OK(av_session_new(client, "c-100", rt, &s));
    char *access = NULL;
    CHECK_OK(av_session_access_token(s, &access, NULL));
    char *current = NULL;
    CHECK_OK(av_session_refresh_token(s, &current));
    av_set_log_callback(NULL, NULL, 0);
    CHECK_INT_GE(log_count, 2);
    CHECK_CONTAINS(log_text, "c-100");
    CHECK_CONTAINS(log_text, "rotated");
    CHECK_NOT_CONTAINS(log_text, rt);
    if (access && current) {
        CHECK_NOT_CONTAINS(log_text, access);
        CHECK_NOT_CONTAINS(log_text, current);
        char prefix[6];
        snprintf(prefix, sizeof prefix, "%s", current);
        CHECK_NOT_CONTAINS(log_text, prefix);
    }
    /* Turned off: nothing more arrives. */
    int count = log_count;
    av_session_free(s);
    s = NULL;
    CHECK_OK(av_session_new(client, "c-100", current, &s));
    char *again = NULL;
    CHECK_OK(av_session_access_token(s, &again, NULL));
    CHECK_INT_EQ(log_count, count);
    av_string_free(again);
    av_string_free(access);
    av_string_free(current);
    av_session_free(s);
    free(rt);
}

/* ---- arguments -------------------------------------------------------------------- */

static void test_arguments(void) {
    tl_section("session arguments and out-pointers");
    av_session *s = TL_JUNK;
    CHECK_STATUS(av_session_new(client, NULL, "tok", &s), AV_ERR_INVALID_ARGUMENT);
    CHECK_NULL(s);
    CHECK_CONTAINS(av_last_error_message(), "company_id");
    s = TL_JUNK;
    CHECK_STATUS(av_session_new(client, "c-100", "", &s), AV_ERR_INVALID_ARGUMENT);
    CHECK_NULL(s);
    CHECK_CONTAINS(av_last_error_message(), "refresh_token");
    s = TL_JUNK;
    CHECK_STATUS(av_session_new(client, "c-100", "a;b", &s), AV_ERR_INVALID_ARGUMENT);
    CHECK_NULL(s);
    s = TL_JUNK;
    CHECK_STATUS(av_session_new(client, "c\xff", "tok", &s), AV_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(av_last_error_message(), "UTF-8");
    CHECK_STATUS(av_session_new(client, "c-100", "tok", NULL), AV_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(av_last_error_message(), "out");

    char *t = TL_JUNK;
    int64_t e = TL_JUNK_I64;
    CHECK_STATUS(av_session_access_token(NULL, &t, &e), AV_ERR_INVALID_ARGUMENT);
    CHECK_NULL(t);
    CHECK_INT_EQ(e, 0);
    CHECK_STATUS(av_session_refresh_token(NULL, &t), AV_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(av_session_set_refresh_margin_s(NULL, 5), AV_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(av_session_on_refresh_token(NULL, persist, NULL), AV_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(av_session_call(NULL, "a/b", NULL, &t), AV_ERR_INVALID_ARGUMENT);

    s = NULL;
    if (!CHECK_OK(av_session_new(client, "c-100", "tok", &s))) return;
    CHECK_STATUS(av_session_access_token(s, NULL, NULL), AV_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(av_session_refresh_token(s, NULL), AV_ERR_INVALID_ARGUMENT);
    CHECK_OK(av_session_set_refresh_margin_s(s, 0));
    char *reply = TL_JUNK;
    CHECK_STATUS(av_session_call(s, "../etc/passwd", NULL, &reply), AV_ERR_INVALID_ARGUMENT);
    CHECK_NULL(reply);
    CHECK_CONTAINS(av_last_error_message(), "service_method");
    av_session_free(s);
    av_session_free(NULL);
}

int main(void) {
    client = tl_client(5000);
    if (!client) return tl_finish("test_session");
    test_arguments();
    test_cached_path();
    test_single_flight();
    test_rotation();
    test_calls();
    test_lifetimes();
    test_logging();
    av_client_free(client);
    return tl_finish("test_session");
}
