/*
 * Every fault the mock can inject, against sign-in, refresh and calls: delay and hang
 * against a short timeout (AV_ERR_TIMEOUT within the timeout plus slack), HTTP errors
 * with and without an API body, errors on HTTP 200, garbage, truncated and oversized
 * replies (a 50 MiB reply must not be buffered), dropped connections, redirects (never
 * followed) and Retry-After. After each fault the same client must work again.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testlib.h"

#define SHORT_TIMEOUT_MS 600
#define SLACK_MS 2000 /* a loaded machine; a missing timeout would take the full delay */

static av_client *client; /* 10 s timeout */
static av_client *quick;  /* SHORT_TIMEOUT_MS */

static void set_fault(const char *fault_json) {
    char patch[512];
    snprintf(patch, sizeof patch, "{\"fault\":%s}", fault_json);
    mock_config(patch);
}

static char *last_request_id(void) {
    char *last = mock_last();
    char *rid = tl_json_str(last, "requestId");
    free(last);
    return rid;
}

/* The last error's request id is the one the failed request carried. */
static void check_request_id(const char *file, int line) {
    char *sent = last_request_id();
    tl_check(sent != NULL && strcmp(sent, av_last_error_request_id()) == 0, file, line,
             "request id", "\"%s\", the request carried \"%s\"", av_last_error_request_id(),
             sent ? sent : "(none)");
    free(sent);
}
#define CHECK_REQUEST_ID() check_request_id(__FILE__, __LINE__)

/* The three operations, each expecting `want`; out-pointers must come back NULL. */
static int do_login(av_client *c, int want) {
    av_tokens *t = TL_JUNK;
    int ok = CHECK_STATUS(av_login_password(c, "alice", "wonderland", "c-100", &t), want);
    if (want == AV_OK) {
        av_tokens_free(t);
    } else {
        CHECK_NULL(t);
    }
    return ok;
}

static int do_refresh(av_client *c, const char *rt, int want) {
    av_tokens *t = TL_JUNK;
    int ok = CHECK_STATUS(av_client_refresh(c, "c-100", rt, &t), want);
    if (want == AV_OK) {
        av_tokens_free(t);
    } else {
        CHECK_NULL(t);
    }
    return ok;
}

static int do_call(av_client *c, const char *access, const char *method, int want) {
    char *out = TL_JUNK;
    int ok = CHECK_STATUS(av_client_call(c, access, method, "{\"n\":1}", &out), want);
    if (want == AV_OK) {
        av_string_free(out);
    } else {
        CHECK_NULL(out);
    }
    return ok;
}

/* A fresh access token and refresh token (copies) with no fault active. */
static void fresh_tokens(char **access, char **refresh) {
    av_tokens *t = NULL;
    *access = *refresh = NULL;
    if (CHECK_OK(av_login_password(client, "alice", "wonderland", "c-100", &t))) {
        *access = tl_strdup(av_tokens_access_token(t));
        *refresh = tl_strdup(av_tokens_refresh_token(t));
    }
    av_tokens_free(t);
}

static void test_delay_and_hang(void) {
    char *access, *refresh;
    long long t0, elapsed;

    tl_section("delay shorter than the timeout: fine, just slower");
    mock_reset();
    fresh_tokens(&access, &refresh);
    set_fault("{\"kind\":\"delay\",\"delayMs\":300,\"count\":1}");
    t0 = tl_now_ms();
    do_login(client, AV_OK);
    CHECK_INT_GE(tl_now_ms() - t0, 290);

    tl_section("delay longer than the timeout: AV_ERR_TIMEOUT");
    set_fault("{\"kind\":\"delay\",\"delayMs\":5000,\"count\":1}");
    t0 = tl_now_ms();
    do_login(quick, AV_ERR_TIMEOUT);
    elapsed = tl_now_ms() - t0;
    CHECK_RANGE(elapsed, SHORT_TIMEOUT_MS - 50, SHORT_TIMEOUT_MS + SLACK_MS);
    CHECK_INT_EQ(av_last_error_http_status(), 0);
    CHECK_STR_EQ(av_last_error_api_status(), "");
    CHECK_REQUEST_ID();
    do_login(quick, AV_OK); /* the fault was used up; the client recovers */

    set_fault("{\"kind\":\"delay\",\"delayMs\":5000,\"count\":1}");
    t0 = tl_now_ms();
    do_refresh(quick, refresh, AV_ERR_TIMEOUT);
    CHECK_RANGE(tl_now_ms() - t0, SHORT_TIMEOUT_MS - 50, SHORT_TIMEOUT_MS + SLACK_MS);

    set_fault("{\"kind\":\"delay\",\"delayMs\":5000,\"count\":1,\"path\":\"roomService\"}");
    do_login(quick, AV_OK); /* the path filter spares the sign-in */
    t0 = tl_now_ms();
    do_call(quick, access, "roomService/create", AV_ERR_TIMEOUT);
    CHECK_RANGE(tl_now_ms() - t0, SHORT_TIMEOUT_MS - 50, SHORT_TIMEOUT_MS + SLACK_MS);
    CHECK_REQUEST_ID();
    do_call(quick, access, "roomService/create", AV_OK);

    tl_section("hang: AV_ERR_TIMEOUT");
    set_fault("{\"kind\":\"hang\",\"count\":2}");
    t0 = tl_now_ms();
    do_login(quick, AV_ERR_TIMEOUT);
    CHECK_RANGE(tl_now_ms() - t0, SHORT_TIMEOUT_MS - 50, SHORT_TIMEOUT_MS + SLACK_MS);
    t0 = tl_now_ms();
    do_call(quick, access, "meetingService/list", AV_ERR_TIMEOUT);
    CHECK_RANGE(tl_now_ms() - t0, SHORT_TIMEOUT_MS - 50, SHORT_TIMEOUT_MS + SLACK_MS);
    do_login(quick, AV_OK);

    tl_section("hang with the timeout from ALFAVIEW_TIMEOUT_MS");
    setenv("ALFAVIEW_TIMEOUT_MS", "400", 1);
    av_client_builder *b = av_client_builder_new();
    unsetenv("ALFAVIEW_TIMEOUT_MS");
    av_client *env_client = NULL;
    CHECK_OK(av_client_builder_set_base_url(b, mock_url()));
    CHECK_OK(av_client_builder_set_max_retries(b, 0));
    if (CHECK_OK(av_client_build(b, &env_client))) {
        set_fault("{\"kind\":\"hang\",\"count\":1}");
        t0 = tl_now_ms();
        do_login(env_client, AV_ERR_TIMEOUT);
        CHECK_RANGE(tl_now_ms() - t0, 400 - 50, 400 + SLACK_MS);
        av_client_free(env_client);
    }
    av_client_builder_free(b);
    CHECK_INT_EQ(mock_stat("faults"), 7);
    free(access);
    free(refresh);
}

static void test_http_status(void) {
    char *access, *refresh;
    mock_reset();
    fresh_tokens(&access, &refresh);

    tl_section("HTTP error without an API body: AV_ERR_HTTP");
    set_fault("{\"kind\":\"status\",\"status\":503,\"count\":1}");
    do_login(client, AV_ERR_HTTP);
    CHECK_INT_EQ(av_last_error_http_status(), 503);
    CHECK_STR_EQ(av_last_error_api_status(), "");
    CHECK_REQUEST_ID();
    set_fault("{\"kind\":\"status\",\"status\":502,\"count\":1}");
    do_call(client, access, "roomService/list", AV_ERR_HTTP);
    CHECK_INT_EQ(av_last_error_http_status(), 502);
    CHECK_REQUEST_ID();
    set_fault("{\"kind\":\"status\",\"status\":500,\"count\":1}");
    do_refresh(client, refresh, AV_ERR_HTTP);
    CHECK_INT_EQ(av_last_error_http_status(), 500);
    /* A call answered 401 without a body is not a verdict on credentials ... */
    set_fault("{\"kind\":\"status\",\"status\":401,\"count\":1}");
    do_call(client, access, "roomService/list", AV_ERR_HTTP);
    CHECK_INT_EQ(av_last_error_http_status(), 401);
    /* ... but the sign-in endpoint answering 401/403 is. */
    set_fault("{\"kind\":\"status\",\"status\":401,\"count\":1}");
    do_login(client, AV_ERR_AUTHENTICATION);
    CHECK_INT_EQ(av_last_error_http_status(), 401);
    set_fault("{\"kind\":\"status\",\"status\":403,\"count\":1}");
    do_refresh(client, refresh, AV_ERR_AUTHENTICATION);
    CHECK_INT_EQ(av_last_error_http_status(), 403);

    tl_section("HTTP error with an API body");
    set_fault("{\"kind\":\"status\",\"status\":429,\"apiStatus\":\"QUOTA_EXCEEDED\",\"count\":1}");
    do_call(client, access, "roomService/list", AV_ERR_API);
    CHECK_STR_EQ(av_last_error_api_status(), "QUOTA_EXCEEDED");
    CHECK_INT_EQ(av_last_error_http_status(), 429);
    CHECK_REQUEST_ID();
    set_fault("{\"kind\":\"status\",\"status\":401,\"apiStatus\":\"TOKEN_OUTDATED\",\"count\":1}");
    do_call(client, access, "roomService/list", AV_ERR_TOKEN_EXPIRED);
    CHECK_STR_EQ(av_last_error_api_status(), "TOKEN_OUTDATED");
    set_fault("{\"kind\":\"status\",\"status\":401,\"apiStatus\":\"AUTHENTICATION_ERROR\",\"count\":1}");
    do_refresh(client, refresh, AV_ERR_AUTHENTICATION);
    CHECK_STR_EQ(av_last_error_api_status(), "AUTHENTICATION_ERROR");
    set_fault("{\"kind\":\"status\",\"status\":503,\"apiStatus\":1047,\"count\":1}");
    do_login(client, AV_ERR_API);
    CHECK_STR_EQ(av_last_error_api_status(), "TIMEOUT");
    CHECK_INT_EQ(av_last_error_http_status(), 503);

    tl_section("Retry-After (429 QUOTA_EXCEEDED)");
    set_fault("{\"kind\":\"retryAfter\",\"retryAfterS\":1,\"count\":1}");
    do_call(client, access, "roomService/list", AV_ERR_API);
    CHECK_STR_EQ(av_last_error_api_status(), "QUOTA_EXCEEDED");
    CHECK_INT_EQ(av_last_error_http_status(), 429);

    tl_section("API error on HTTP 200 (error200)");
    set_fault("{\"kind\":\"error200\",\"count\":1}");
    do_login(client, AV_ERR_API);
    CHECK_STR_EQ(av_last_error_api_status(), "INTERNAL_ERROR");
    CHECK_INT_EQ(av_last_error_http_status(), 200);
    CHECK_REQUEST_ID();
    set_fault("{\"kind\":\"error200\",\"apiStatus\":\"TOKEN_OUTDATED\",\"count\":1}");
    do_call(client, access, "roomService/list", AV_ERR_TOKEN_EXPIRED);
    set_fault("{\"kind\":\"error200\",\"apiStatus\":\"AUTHENTICATION_ERROR\",\"count\":1}");
    do_refresh(client, refresh, AV_ERR_AUTHENTICATION);

    CHECK_INT_EQ(mock_stat("faults"), 14);
    do_login(client, AV_OK);
    do_call(client, access, "roomService/list", AV_OK);
    free(access);
    free(refresh);
}

static void test_broken_replies(void) {
    char *access, *refresh;
    mock_reset();
    fresh_tokens(&access, &refresh);

    tl_section("garbage: AV_ERR_PROTOCOL");
    set_fault("{\"kind\":\"garbage\",\"count\":3}");
    do_login(client, AV_ERR_PROTOCOL);
    CHECK_INT_EQ(av_last_error_http_status(), 200);
    CHECK_REQUEST_ID();
    do_refresh(client, refresh, AV_ERR_PROTOCOL);
    do_call(client, access, "roomService/list", AV_ERR_PROTOCOL);
    CHECK_REQUEST_ID();
    do_login(client, AV_OK);

    tl_section("truncated: AV_ERR_NETWORK");
    set_fault("{\"kind\":\"truncated\",\"count\":3}");
    do_login(client, AV_ERR_NETWORK);
    CHECK_REQUEST_ID();
    do_refresh(client, refresh, AV_ERR_NETWORK);
    do_call(client, access, "roomService/list", AV_ERR_NETWORK);
    do_login(client, AV_OK);

    tl_section("connection closed without a reply: AV_ERR_NETWORK");
    long long before_close = mock_stat("requests");
    set_fault("{\"kind\":\"close\",\"count\":3}");
    do_login(client, AV_ERR_NETWORK);
    CHECK_INT_EQ(av_last_error_http_status(), 0);
    CHECK_REQUEST_ID();
    do_refresh(client, refresh, AV_ERR_NETWORK);
    do_call(client, access, "roomService/list", AV_ERR_NETWORK);
    /* A POST is not silently sent twice: one request each. */
    CHECK_INT_EQ(mock_stat("requests"), before_close + 3);
    do_login(client, AV_OK);

    tl_section("redirect: AV_ERR_HTTP, not followed");
    long long requests = mock_stat("requests");
    set_fault("{\"kind\":\"redirect\",\"count\":3}");
    do_login(client, AV_ERR_HTTP);
    CHECK_INT_EQ(av_last_error_http_status(), 302);
    CHECK_REQUEST_ID();
    do_refresh(client, refresh, AV_ERR_HTTP);
    CHECK_INT_EQ(av_last_error_http_status(), 302);
    do_call(client, access, "roomService/list", AV_ERR_HTTP);
    CHECK_INT_EQ(av_last_error_http_status(), 302);
    CHECK_INT_EQ(mock_stat("requests"), requests + 3); /* one each, no second hop */
    do_login(client, AV_OK);

    tl_section("a fault for several requests");
    set_fault("{\"kind\":\"garbage\",\"count\":2,\"path\":\"authenticate\"}");
    do_call(client, access, "roomService/list", AV_OK);
    do_login(client, AV_ERR_PROTOCOL);
    do_login(client, AV_ERR_PROTOCOL);
    do_login(client, AV_OK);
    CHECK_INT_EQ(mock_stat("faults"), 14);
    free(access);
    free(refresh);
}

static void test_oversized(void) {
    char *access, *refresh;
    mock_reset();
    fresh_tokens(&access, &refresh);
    const long long size = 50LL * 1024 * 1024;
    char fault[160];
    snprintf(fault, sizeof fault, "{\"kind\":\"oversized\",\"sizeBytes\":%lld,\"count\":1}", size);

    tl_section("a 50 MiB sign-in reply: AV_ERR_PROTOCOL, not buffered");
    long long hwm_before = tl_hwm_kib();
    CHECK(hwm_before > 0);
    set_fault(fault);
    long long t0 = tl_now_ms();
    do_login(client, AV_ERR_PROTOCOL);
    CHECK_INT_LT(tl_now_ms() - t0, 8000);
    /* A reply did arrive (HTTP 200, refused for its size): the ABI keeps 0 for "no reply". */
    CHECK_INT_EQ(av_last_error_http_status(), 200);
    CHECK_REQUEST_ID();
    long long grown = tl_hwm_kib() - hwm_before;
    CHECK_MSG(grown < 8 * 1024, "peak RSS grew by %lld KiB while refusing a 50 MiB reply", grown);

    tl_section("a 50 MiB refresh reply");
    hwm_before = tl_hwm_kib();
    set_fault(fault);
    do_refresh(client, refresh, AV_ERR_PROTOCOL);
    grown = tl_hwm_kib() - hwm_before;
    CHECK_MSG(grown < 8 * 1024, "peak RSS grew by %lld KiB", grown);

    tl_section("a 50 MiB call reply");
    hwm_before = tl_hwm_kib();
    set_fault(fault);
    do_call(client, access, "roomService/list", AV_ERR_PROTOCOL);
    grown = tl_hwm_kib() - hwm_before;
    CHECK_MSG(grown < 25 * 1024, "peak RSS grew by %lld KiB", grown);

    tl_section("just over 1 MiB on sign-in is refused; 2 MiB on a call is fine");
    set_fault("{\"kind\":\"oversized\",\"sizeBytes\":1049000,\"count\":1}");
    do_login(client, AV_ERR_PROTOCOL);
    set_fault("{\"kind\":\"oversized\",\"sizeBytes\":2097152,\"count\":1,\"path\":\"roomService\"}");
    char *out = NULL;
    if (CHECK_OK(av_client_call(client, access, "roomService/list", NULL, &out))) {
        CHECK_INT_EQ(strlen(out), 2097152);
        CHECK(tl_starts_with(out, "{\"replyInfo\":"));
        av_string_free(out);
    }
    do_login(client, AV_OK);
    free(access);
    free(refresh);
}

int main(void) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    /* No retries: each fault's own error is checked (test_retries has the retries). */
    client = tl_client_with(mock_url(), 10000, 0);
    quick = tl_client_with(mock_url(), SHORT_TIMEOUT_MS, 0);
    if (client == NULL || quick == NULL) {
        return tl_finish("test_faults");
    }
    test_oversized(); /* first, while the heap is small and quiet */
    test_delay_and_hang();
    test_http_status();
    test_broken_replies();
    av_client_free(client);
    av_client_free(quick);
    mock_reset();
    return tl_finish("test_faults");
}
