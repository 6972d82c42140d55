/*
 * The C rows side by side in one process (bench.h's bench_mixed): the libcurl peer
 * (peer_curl.h), av_client_refresh and av_refresh (peer_lib.h), each on its own
 * keep-alive connection, taking turns in slices of BENCH_SLICE_MS (default 2) ms, so
 * that whatever else the machine does falls on all three alike.
 *
 *   refresh_mix PREFIX BASE_URL REFRESH_TOKEN [CA_FILE CA_BUNDLE]
 *
 * CA_FILE (the test CA) is what the library trusts on top of the system's roots;
 * CA_BUNDLE (the system's roots plus the test CA) is what libcurl trusts. Prints RESULT
 * lines PREFIX/lib_oneshot/first (av_refresh's first call: it sets up the default client
 * and connects; made before anything else in the process), then PREFIX/libcurl,
 * PREFIX/lib_client and PREFIX/lib_oneshot. BENCH_SECONDS (default 2) of recorded
 * slices per row, after BENCH_WARMUP (default 0.3) seconds of unrecorded ones.
 */
#include "peer_curl.h"
#include "peer_lib.h"

int main(int argc, char **argv) {
    if (argc != 4 && argc != 6) {
        fprintf(stderr, "usage: %s PREFIX BASE_URL REFRESH_TOKEN [CA_FILE CA_BUNDLE]\n", argv[0]);
        return 2;
    }
    const char *prefix = argv[1], *base = argv[2];
    const char *ca = argc == 6 ? argv[4] : NULL, *bundle = argc == 6 ? argv[5] : NULL;
    refresh_token = argv[3];
    double seconds = bench_env_double("BENCH_SECONDS", 2.0);
    double warmup = bench_env_double("BENCH_WARMUP", 0.3);
    double slice = bench_env_double("BENCH_SLICE_MS", 2.0) / 1e3;
    char labels[4][256];
    snprintf(labels[0], sizeof labels[0], "%s/lib_oneshot/first", prefix);
    snprintf(labels[1], sizeof labels[1], "%s/libcurl", prefix);
    snprintf(labels[2], sizeof labels[2], "%s/lib_client", prefix);
    snprintf(labels[3], sizeof labels[3], "%s/lib_oneshot", prefix);

    /* av_refresh's first call, before the process has done anything else. */
    setenv("ALFAVIEW_API_URL", base, 1);
    if (ca) setenv("ALFAVIEW_CA_FILE", ca, 1);
    uint64_t t0 = bench_now_ns();
    if (oneshot_refresh(NULL)) return 1;
    uint64_t first_ns = bench_now_ns() - t0;
    bench_samples first = {&first_ns, 1, 1};
    bench_report(labels[0], &first, 0);
    printf("\n");

    char url[1024];
    snprintf(url, sizeof url, "%sauthenticationService/authenticate", base);
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) return 1;
    peer curl = {.url = url, .token = refresh_token, .ca = bundle};
    lib_ctx lib = {0};
    if (peer_init(&curl) || make_client(base, ca, &lib.client)) return 1;

    bench_row rows[3] = {
        {.label = labels[1], .fn = curl_refresh, .ctx = &curl},
        {.label = labels[2], .fn = client_refresh, .ctx = &lib},
        {.label = labels[3], .fn = oneshot_refresh, .ctx = NULL},
    };
    int rc = bench_mixed(rows, 3, seconds, warmup, slice);

    av_client_free(lib.client);
    curl_slist_free_all(curl.headers);
    curl_easy_cleanup(curl.easy);
    free(curl.reply.data);
    curl_global_cleanup();
    return rc;
}
