/*
 * The library's refresh through the public C ABI, shared by refresh_lib.c and
 * refresh_mix.c: client_refresh (av_client_refresh on one client, reading the access
 * token and its expiry, then av_tokens_free) and oneshot_refresh (av_refresh on the
 * default client, then av_string_free).
 */
#ifndef AV_BENCH_PEER_LIB_H
#define AV_BENCH_PEER_LIB_H

#include "bench.h"

#include "alfaview_auth.h"

static const char *company = "c-100";
static const char *refresh_token;

typedef struct {
    av_client *client;
} lib_ctx;

static inline int check_token(const char *token, int64_t expires_at) {
    if (!token || strlen(token) < 8 || expires_at <= 0) {
        fprintf(stderr, "refresh_lib: bad reply (token %s, expiresAt %lld)\n",
                token ? "short" : "missing", (long long)expires_at);
        return 1;
    }
    return 0;
}

static inline int fail(const char *what, av_status st) {
    fprintf(stderr, "refresh_lib: %s failed: %s: %s\n", what, av_status_name(st),
            av_last_error_message());
    return 1;
}

static inline int client_refresh(void *arg) {
    lib_ctx *ctx = arg;
    av_tokens *t = NULL;
    av_status st = av_client_refresh(ctx->client, company, refresh_token, &t);
    if (st != AV_OK) return fail("av_client_refresh", st);
    int rc = check_token(av_tokens_access_token(t), av_tokens_expires_at(t));
    av_tokens_free(t);
    return rc;
}

static inline int oneshot_refresh(void *arg) {
    (void)arg;
    char *token = NULL;
    int64_t expires_at = 0;
    av_status st = av_refresh(company, refresh_token, &token, &expires_at);
    if (st != AV_OK) return fail("av_refresh", st);
    int rc = check_token(token, expires_at);
    av_string_free(token);
    return rc;
}

static inline int make_client(const char *base, const char *ca, av_client **out) {
    av_client_builder *b = av_client_builder_new();
    av_status st = av_client_builder_set_base_url(b, base);
    if (st == AV_OK && ca) st = av_client_builder_set_ca_file(b, ca);
    if (st == AV_OK) st = av_client_build(b, out);
    av_client_builder_free(b);
    return st == AV_OK ? 0 : fail("building the client", st);
}

#endif
