/*
 * Retries through the C ABI: 502/503/504 and 429 are retried (the latter after its
 * Retry-After) within the timeout, with the attempt count in the final message; nothing
 * else is retried; 0 turns retries off. And the settable limit on call replies.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testlib.h"

static av_status login(av_client *c) {
    av_tokens *t = NULL;
    av_status st = av_login_password(c, "bob", "builder", NULL, &t);
    av_tokens_free(t);
    return st;
}

static void test_retries(void) {
    av_client *c = tl_client_with(mock_url(), 10000, 2);
    av_client *none = tl_client_with(mock_url(), 10000, 0);
    if (!c || !none) return;

    tl_section("502, 503 and 504 are retried");
    const char *faults[] = {"{\"fault\": {\"kind\": \"status\", \"status\": 502, \"count\": 2}}",
                            "{\"fault\": {\"kind\": \"status\", \"status\": 503, \"count\": 2}}",
                            "{\"fault\": {\"kind\": \"status\", \"status\": 504, \"count\": 2}}"};
    for (int i = 0; i < 3; i++) {
        mock_reset();
        mock_config(faults[i]);
        CHECK_OK(login(c));
        CHECK_INT_EQ(mock_stat("authenticate"), 3);
    }

    tl_section("the last error after the retries, with the attempt count");
    mock_reset();
    mock_config("{\"fault\": {\"kind\": \"status\", \"status\": 503, \"count\": 3}}");
    CHECK_STATUS(login(c), AV_ERR_HTTP);
    CHECK_INT_EQ(av_last_error_http_status(), 503);
    CHECK_CONTAINS(av_last_error_message(), "after 3 attempts");
    CHECK_INT_EQ(mock_stat("authenticate"), 3);

    tl_section("0 turns retries off");
    mock_reset();
    mock_config("{\"fault\": {\"kind\": \"status\", \"status\": 503, \"count\": 1}}");
    CHECK_STATUS(login(none), AV_ERR_HTTP);
    CHECK_INT_EQ(mock_stat("authenticate"), 1);

    tl_section("429 waits for Retry-After");
    mock_reset();
    mock_config("{\"fault\": {\"kind\": \"retryAfter\", \"retryAfterS\": 1, \"count\": 1}}");
    long long t0 = tl_now_ms();
    CHECK_OK(login(c));
    CHECK_RANGE(tl_now_ms() - t0, 950, 3000);

    tl_section("final answers are not retried");
    mock_reset();
    av_tokens *t = NULL;
    CHECK_STATUS(av_client_refresh(c, "c-100", "unknown-token", &t), AV_ERR_AUTHENTICATION);
    mock_config("{\"fault\": {\"kind\": \"status\", \"status\": 500}}");
    CHECK_STATUS(login(c), AV_ERR_HTTP);
    mock_config("{\"fault\": {\"kind\": \"close\"}}");
    CHECK_STATUS(login(c), AV_ERR_NETWORK);
    CHECK_INT_EQ(mock_stat("authenticate"), 3);

    av_client_free(c);
    av_client_free(none);
}

static void test_reply_limit(void) {
    tl_section("the limit on call replies is settable");
    mock_reset();
    av_client_builder *b = av_client_builder_new();
    CHECK_STATUS(av_client_builder_set_max_reply_bytes(b, 0), AV_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(av_last_error_message(), "bytes");
    CHECK_STATUS(av_client_builder_set_max_reply_bytes(NULL, 10), AV_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(av_client_builder_set_max_retries(NULL, 1), AV_ERR_INVALID_ARGUMENT);
    CHECK_OK(av_client_builder_set_base_url(b, mock_url()));
    CHECK_OK(av_client_builder_set_max_reply_bytes(b, 150));
    av_client *c = NULL;
    av_tokens *t = NULL;
    if (CHECK_OK(av_client_build(b, &c)) && CHECK_OK(av_login_password(c, "bob", "builder", NULL, &t))) {
        char *out = TL_JUNK;
        CHECK_STATUS(av_client_call(c, av_tokens_access_token(t), "roomService/create",
                                    "{\"room\": {\"name\": \"long enough to make the echoed reply pass 150 bytes, surely, with this extra text\"}}",
                                    &out),
                     AV_ERR_PROTOCOL);
        CHECK_NULL(out);
        CHECK_CONTAINS(av_last_error_message(), "limit of 150 bytes");
        out = NULL;
        CHECK_OK(av_client_call(c, av_tokens_access_token(t), "authenticationService/isAuthenticated", NULL, &out));
        av_string_free(out);
    }
    av_tokens_free(t);
    av_client_free(c);
    av_client_builder_free(b);
}

int main(void) {
    test_retries();
    test_reply_limit();
    return tl_finish("test_retries");
}
