/*
 * The library's refresh, from C, through the public ABI.
 *
 *   refresh_lib client  LABEL BASE_URL REFRESH_TOKEN [CA_FILE]
 *       av_client_refresh on one client (keep-alive), reading the access token and its
 *       expiry from the result, then av_tokens_free.
 *   refresh_lib oneshot LABEL BASE_URL REFRESH_TOKEN [CA_FILE]
 *       av_refresh on the default client (set up from ALFAVIEW_API_URL/ALFAVIEW_CA_FILE,
 *       which this sets): the first call (it creates the default client and connects)
 *       as LABEL/first, then the later calls as LABEL.
 *   refresh_lib cold    LABEL BASE_URL REFRESH_TOKEN [CA_FILE]
 *       one client, one refresh, exit: what a fresh process pays (for hyperfine).
 *   refresh_lib rss     LABEL BASE_URL REFRESH_TOKEN [CA_FILE]
 *       VmRSS/VmHWM after the first refresh and after BENCH_RSS_REFRESHES more
 *       (default 100000) on the same client.
 *
 * BENCH_SECONDS (default 2) and BENCH_WARMUP (default 0.3) set the timed runs.
 * Prints RESULT lines (see bench.h); exits non-zero when a refresh fails.
 */
#include "peer_lib.h"

int main(int argc, char **argv) {
    if (argc < 5) {
        fprintf(stderr, "usage: %s client|oneshot|cold|rss LABEL BASE_URL REFRESH_TOKEN [CA_FILE]\n",
                argv[0]);
        return 2;
    }
    const char *mode = argv[1], *label = argv[2], *base = argv[3];
    const char *ca = argc > 5 ? argv[5] : NULL;
    refresh_token = argv[4];
    double seconds = bench_env_double("BENCH_SECONDS", 2.0), warmup = bench_env_double("BENCH_WARMUP", 0.3);
    lib_ctx ctx = {0};
    int rc = 0;

    if (strcmp(mode, "client") == 0) {
        if (make_client(base, ca, &ctx.client)) return 1;
        rc = bench_timed(label, seconds, warmup, client_refresh, &ctx);
        if (!rc) printf("\n");
    } else if (strcmp(mode, "oneshot") == 0) {
        setenv("ALFAVIEW_API_URL", base, 1);
        if (ca) setenv("ALFAVIEW_CA_FILE", ca, 1);
        uint64_t t0 = bench_now_ns();
        if (oneshot_refresh(NULL)) return 1;
        uint64_t first_ns = bench_now_ns() - t0;
        char first_label[256];
        snprintf(first_label, sizeof first_label, "%s/first", label);
        bench_samples first = {&first_ns, 1, 1};
        bench_report(first_label, &first, 0);
        printf("\n");
        rc = bench_timed(label, seconds, warmup, oneshot_refresh, NULL);
        if (!rc) printf("\n");
    } else if (strcmp(mode, "cold") == 0) {
        if (make_client(base, ca, &ctx.client)) return 1;
        rc = client_refresh(&ctx);
    } else if (strcmp(mode, "rss") == 0) {
        if (make_client(base, ca, &ctx.client)) return 1;
        rc = bench_rss(label, client_refresh, &ctx);
    } else {
        fprintf(stderr, "refresh_lib: unknown mode %s\n", mode);
        return 2;
    }
    av_client_free(ctx.client);
    return rc;
}
