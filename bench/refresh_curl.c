/*
 * The hand-written peer in C (bench/peer_curl.h): the refresh with libcurl, and the curl
 * command spawned per refresh.
 *
 *   refresh_curl warm LABEL URL REFRESH_TOKEN [CA_BUNDLE]
 *       one easy handle reused for every request (libcurl keeps the connection alive).
 *   refresh_curl cli  LABEL URL REFRESH_TOKEN [CA_BUNDLE]
 *       spawns `curl` for every refresh (new process, new connection, new handshake)
 *       and reads its output through a pipe.
 *   refresh_curl cold LABEL URL REFRESH_TOKEN [CA_BUNDLE]
 *       one request in a fresh process, then exit (for hyperfine).
 *   refresh_curl rss  LABEL URL REFRESH_TOKEN [CA_BUNDLE]
 *       VmRSS/VmHWM after the first request and after BENCH_RSS_REFRESHES more.
 *
 * URL is the full authenticate URL (BASE_URL + "authenticationService/authenticate").
 * BENCH_SECONDS (default 2) and BENCH_WARMUP (default 0.3) set the timed runs.
 */
#include "peer_curl.h"

int main(int argc, char **argv) {
    if (argc < 5) {
        fprintf(stderr, "usage: %s warm|cli|cold|rss LABEL URL REFRESH_TOKEN [CA_BUNDLE]\n", argv[0]);
        return 2;
    }
    const char *mode = argv[1], *label = argv[2];
    peer p = {.url = argv[3], .token = argv[4], .ca = argc > 5 ? argv[5] : NULL};
    double seconds = bench_env_double("BENCH_SECONDS", 2.0), warmup = bench_env_double("BENCH_WARMUP", 0.3);
    int rc = 0;
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) return 1;

    if (strcmp(mode, "cli") == 0) {
        snprintf(p.cookie_header, sizeof p.cookie_header, "Cookie: auth=%s", p.token);
        rc = bench_timed(label, seconds, warmup, cli_refresh, &p);
        if (!rc) printf("\n");
    } else {
        if (peer_init(&p)) return 1;
        if (strcmp(mode, "warm") == 0) {
            rc = bench_timed(label, seconds, warmup, curl_refresh, &p);
            if (!rc) printf("\n");
        } else if (strcmp(mode, "cold") == 0) {
            rc = curl_refresh(&p);
        } else if (strcmp(mode, "rss") == 0) {
            rc = bench_rss(label, curl_refresh, &p);
        } else {
            fprintf(stderr, "refresh_curl: unknown mode %s\n", mode);
            return 2;
        }
        curl_slist_free_all(p.headers);
        curl_easy_cleanup(p.easy);
    }
    free(p.reply.data);
    curl_global_cleanup();
    return rc;
}
