/*
 * Failures the server reports and failures of the connection: wrong credentials, a
 * locked account, rejected refresh tokens, an expired access token in every error shape
 * (gateway, reply, numeric), other API errors, unknown methods, and the network and TLS
 * failures. Each checks the status, every av_last_error_* field, that out-pointers were
 * cleared, and that no secret leaks into the message.
 */
#define _POSIX_C_SOURCE 200809L

#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "testlib.h"

static av_client *client;

/* The requestId of the last request the mock saw (top level or in accessInfo). */
static char *last_request_id(void) {
    char *last = mock_last();
    char *rid = tl_json_str(last, "requestId");
    free(last);
    return rid;
}

/* The last error carries `api_status` and `http`, and the request id the library sent. */
static void check_server_error(const char *api_status, int http, const char *file, int line) {
    tl_check(strcmp(av_last_error_api_status(), api_status) == 0, file, line, "api status",
             "\"%s\", want \"%s\"", av_last_error_api_status(), api_status);
    tl_check(av_last_error_http_status() == http, file, line, "http status", "%d, want %d",
             (int)av_last_error_http_status(), http);
    char *sent = last_request_id();
    tl_check(sent != NULL && strcmp(av_last_error_request_id(), sent) == 0, file, line,
             "request id", "\"%s\", the request carried \"%s\"", av_last_error_request_id(),
             sent ? sent : "(none)");
    free(sent);
    tl_check(strlen(av_last_error_message()) > 0, file, line, "message", "empty");
}
#define CHECK_SERVER_ERROR(api, http) check_server_error((api), (http), __FILE__, __LINE__)

/* A TCP port on 127.0.0.1 that nothing listens on (bound, then closed). */
static int closed_port(void) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    int port = 1;
    if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &len) == 0) {
        port = ntohs(a.sin_port);
    }
    if (fd >= 0) {
        close(fd);
    }
    return port;
}

static void test_rejected_credentials(void) {
    av_tokens *t;

    tl_section("wrong password");
    mock_reset();
    t = TL_JUNK;
    CHECK_STATUS(av_login_password(client, "alice", "not-wonderland-42", "c-100", &t), AV_ERR_AUTHENTICATION);
    CHECK_NULL(t);
    CHECK_SERVER_ERROR("AUTHENTICATION_ERROR", 401);
    CHECK_NOT_CONTAINS(av_last_error_message(), "not-wonderland-42");

    tl_section("unknown user");
    t = TL_JUNK;
    CHECK_STATUS(av_login_password(client, "mallory", "wonderland", NULL, &t), AV_ERR_AUTHENTICATION);
    CHECK_NULL(t);
    CHECK_SERVER_ERROR("AUTHENTICATION_ERROR", 401);

    tl_section("a company the user is not in");
    t = TL_JUNK;
    CHECK_STATUS(av_login_password(client, "alice", "wonderland", "c-300", &t), AV_ERR_AUTHENTICATION);
    CHECK_NULL(t);
    CHECK_SERVER_ERROR("AUTHENTICATION_ERROR", 401);

    tl_section("locked account");
    t = TL_JUNK;
    CHECK_STATUS(av_login_password(client, "locked", "locked", NULL, &t), AV_ERR_AUTHENTICATION);
    CHECK_NULL(t);
    CHECK_SERVER_ERROR("ACCOUNT_STATUS_ERROR", 403);

    tl_section("wrong API key secret, wrong company for the key");
    t = TL_JUNK;
    CHECK_STATUS(av_login_api_key(client, "ak-demo", "ak-wrong-secret-77", "c-100", &t), AV_ERR_AUTHENTICATION);
    CHECK_NULL(t);
    CHECK_SERVER_ERROR("AUTHENTICATION_ERROR", 401);
    CHECK_NOT_CONTAINS(av_last_error_message(), "ak-wrong-secret-77");
    t = TL_JUNK;
    CHECK_STATUS(av_login_api_key(client, "ak-demo", "ak-secret", "c-200", &t), AV_ERR_AUTHENTICATION);
    CHECK_NULL(t);
    CHECK_SERVER_ERROR("AUTHENTICATION_ERROR", 401);
    CHECK_INT_EQ(mock_stat("logins"), 0);

    tl_section("rejected refresh tokens");
    const char *unknown = "0badc0de-0000-4000-8000-000000000000";
    t = TL_JUNK;
    CHECK_STATUS(av_client_refresh(client, "c-100", unknown, &t), AV_ERR_AUTHENTICATION);
    CHECK_NULL(t);
    CHECK_SERVER_ERROR("AUTHENTICATION_ERROR", 401);
    CHECK_NOT_CONTAINS(av_last_error_message(), unknown);
    char *rt = mock_mint("c-100");
    t = TL_JUNK;
    CHECK_STATUS(av_client_refresh(client, "c-200", rt, &t), AV_ERR_AUTHENTICATION);
    CHECK_NULL(t);
    CHECK_SERVER_ERROR("AUTHENTICATION_ERROR", 401);
    CHECK_NOT_CONTAINS(av_last_error_message(), rt);
    CHECK_INT_EQ(mock_stat("refreshFailures"), 2);
    /* The same token for its own company still works. */
    t = NULL;
    CHECK_OK(av_client_refresh(client, "c-100", rt, &t));
    av_tokens_free(t);
    free(rt);
}

/* TOKEN_OUTDATED and sign-in errors in each of the server's error shapes. */
static void test_error_shapes(void) {
    static const struct {
        const char *shape;
        int http; /* the HTTP status an API error arrives with */
    } shapes[] = {{"gateway", 0}, {"reply", 200}, {"numeric", 200}};
    for (size_t i = 0; i < 3; i++) {
        char name[64];
        snprintf(name, sizeof name, "error shape %s", shapes[i].shape);
        tl_section(name);
        mock_reset();
        char patch[64];
        snprintf(patch, sizeof patch, "{\"errorShape\":\"%s\"}", shapes[i].shape);
        mock_config(patch);
        int gateway = shapes[i].http == 0;

        av_tokens *t = NULL;
        if (!CHECK_OK(av_login_password(client, "alice", "wonderland", "c-100", &t))) {
            continue;
        }
        char *out = NULL;
        CHECK_OK(av_client_call(client, av_tokens_access_token(t), "roomService/list", NULL, &out));
        av_string_free(out);

        /* An expired access token. */
        mock_expire();
        out = TL_JUNK;
        CHECK_STATUS(av_client_call(client, av_tokens_access_token(t), "roomService/list", "{\"x\":1}", &out), AV_ERR_TOKEN_EXPIRED);
        CHECK_NULL(out);
        CHECK_SERVER_ERROR("TOKEN_OUTDATED", gateway ? 401 : 200);
        CHECK_NOT_CONTAINS(av_last_error_message(), av_tokens_access_token(t));
        out = TL_JUNK;
        CHECK_STATUS(av_client_call(client, av_tokens_access_token(t), "authenticationService/isAuthenticated", NULL, &out), AV_ERR_TOKEN_EXPIRED);
        CHECK_NULL(out);

        /* A refresh brings a working token again. */
        av_tokens *r = NULL;
        if (CHECK_OK(av_client_refresh(client, "c-100", av_tokens_refresh_token(t), &r))) {
            out = NULL;
            CHECK_OK(av_client_call(client, av_tokens_access_token(r), "roomService/list", NULL, &out));
            av_string_free(out);
            av_tokens_free(r);
        }
        av_tokens_free(t);

        /* Sign-in errors in this shape. */
        t = TL_JUNK;
        CHECK_STATUS(av_login_password(client, "alice", "wrong", NULL, &t), AV_ERR_AUTHENTICATION);
        CHECK_NULL(t);
        CHECK_SERVER_ERROR("AUTHENTICATION_ERROR", gateway ? 401 : 200);
        t = TL_JUNK;
        CHECK_STATUS(av_login_password(client, "locked", "locked", NULL, &t), AV_ERR_AUTHENTICATION);
        CHECK_NULL(t);
        CHECK_SERVER_ERROR("ACCOUNT_STATUS_ERROR", gateway ? 403 : 200);
        t = TL_JUNK;
        CHECK_STATUS(av_client_refresh(client, "c-100", "no-such-token", &t), AV_ERR_AUTHENTICATION);
        CHECK_NULL(t);
        CHECK_SERVER_ERROR("AUTHENTICATION_ERROR", gateway ? 401 : 200);
        /* A server-side check the library does not make itself: an empty password. */
    }
}

/* Errors that are neither authentication nor expiry: AV_ERR_API with the server's name. */
static void test_api_errors(void) {
    tl_section("other API errors");
    mock_reset();
    av_tokens *t = NULL;
    if (!CHECK_OK(av_login_password(client, "alice", "wonderland", "c-100", &t))) {
        return;
    }
    const char *access = av_tokens_access_token(t);
    char *out;

    /* An error with a ReplyInfo on HTTP 200. */
    mock_config("{\"fault\":{\"kind\":\"error200\",\"apiStatus\":\"INSUFFICIENT_PERMISSIONS\",\"count\":1}}");
    out = TL_JUNK;
    CHECK_STATUS(av_client_call(client, access, "roomService/delete", "{\"id\":1}", &out), AV_ERR_API);
    CHECK_NULL(out);
    CHECK_SERVER_ERROR("INSUFFICIENT_PERMISSIONS", 200);

    /* ... and in the numeric shape (1060 is QUOTA_EXCEEDED). */
    mock_config("{\"errorShape\":\"numeric\",\"fault\":{\"kind\":\"error200\",\"apiStatus\":1060,\"count\":1}}");
    out = TL_JUNK;
    CHECK_STATUS(av_client_call(client, access, "roomService/create", NULL, &out), AV_ERR_API);
    CHECK_NULL(out);
    CHECK_SERVER_ERROR("QUOTA_EXCEEDED", 200);
    mock_config("{\"errorShape\":null}");

    /* A gateway error body with a ReplyInfo detail. */
    mock_config("{\"fault\":{\"kind\":\"status\",\"status\":404,\"apiStatus\":\"NOT_FOUND\",\"count\":1}}");
    out = TL_JUNK;
    CHECK_STATUS(av_client_call(client, access, "roomService/get", "{\"id\":\"nope\"}", &out), AV_ERR_API);
    CHECK_NULL(out);
    CHECK_SERVER_ERROR("NOT_FOUND", 404);

    /* A gateway error body without details (a route the server does not know). */
    out = TL_JUNK;
    CHECK_STATUS(av_client_call(client, access, "no/such/route", NULL, &out), AV_ERR_API);
    CHECK_NULL(out);
    CHECK_STR_EQ(av_last_error_api_status(), "");
    CHECK_INT_EQ(av_last_error_http_status(), 404);
    CHECK_INT_GE(strlen(av_last_error_request_id()), 8);

    /* Sign-in errors that are not about credentials are AV_ERR_API too. */
    mock_config("{\"fault\":{\"kind\":\"error200\",\"count\":1}}"); /* INTERNAL_ERROR */
    av_tokens *t2 = TL_JUNK;
    CHECK_STATUS(av_login_password(client, "alice", "wonderland", "c-100", &t2), AV_ERR_API);
    CHECK_NULL(t2);
    CHECK_SERVER_ERROR("INTERNAL_ERROR", 200);
    mock_config("{\"fault\":{\"kind\":\"status\",\"status\":500,\"apiStatus\":\"INTERNAL_ERROR\",\"count\":1}}");
    char *rt = mock_mint("c-100");
    t2 = TL_JUNK;
    CHECK_STATUS(av_client_refresh(client, "c-100", rt, &t2), AV_ERR_API);
    CHECK_NULL(t2);
    CHECK_SERVER_ERROR("INTERNAL_ERROR", 500);
    free(rt);
    av_tokens_free(t);
}

static void test_network_and_tls(void) {
    char url[128];
    av_tokens *t;

    tl_section("nothing listening: AV_ERR_NETWORK");
    int port = closed_port();
    snprintf(url, sizeof url, "http://127.0.0.1:%d/json/v1/", port);
    av_client *c = tl_client_for(url, 5000);
    if (c != NULL) {
        t = TL_JUNK;
        CHECK_STATUS(av_login_password(c, "alice", "wonderland", "c-100", &t), AV_ERR_NETWORK);
        CHECK_NULL(t);
        CHECK_INT_EQ(av_last_error_http_status(), 0);
        CHECK_STR_EQ(av_last_error_api_status(), "");
        char port_text[16];
        snprintf(port_text, sizeof port_text, "%d", port);
        CHECK_CONTAINS(av_last_error_message(), port_text); /* it says where */
        char *out = TL_JUNK;
        CHECK_STATUS(av_client_call(c, "dG9rZW4=", "roomService/list", NULL, &out), AV_ERR_NETWORK);
        CHECK_NULL(out);
        av_client_free(c);
    }

    tl_section("https:// to a plain-HTTP server: AV_ERR_TLS");
    snprintf(url, sizeof url, "https://127.0.0.1:%d/json/v1/", mock_port());
    c = tl_client_for(url, 5000);
    if (c != NULL) {
        long long before = mock_stat("requests");
        t = TL_JUNK;
        CHECK_STATUS(av_login_password(c, "alice", "wonderland", "c-100", &t), AV_ERR_TLS);
        CHECK_NULL(t);
        CHECK_INT_EQ(av_last_error_http_status(), 0);
        CHECK_NOT_CONTAINS(av_last_error_message(), "wonderland");
        t = TL_JUNK;
        CHECK_STATUS(av_client_refresh(c, "c-100", "abc-def", &t), AV_ERR_TLS);
        CHECK_NULL(t);
        /* Nothing reached the API: the credentials never left in plaintext. */
        CHECK_INT_EQ(mock_stat("requests"), before);
        av_client_free(c);
    }
}

int main(void) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    client = tl_client(10000);
    if (client == NULL) {
        return tl_finish("test_errors");
    }
    test_rejected_credentials();
    test_error_shapes();
    test_api_errors();
    test_network_and_tls();
    av_client_free(client);
    mock_reset();
    return tl_finish("test_errors");
}
