/*
 * TLS checks of alfaview-auth through a real TLS server: nginx terminating TLS in front of
 * the mock server (both started by tests/tls/run.sh). Public C API only.
 *
 *   test_tls MOCK_PORT GOOD_PORT WRONG_PORT EXPIRED_PORT CA_PEM ACCESS_LOG ERROR_LOG
 *
 * MOCK_PORT: the mock's plain-HTTP port (for /_mock/reset and /_mock/stats).
 * GOOD_PORT: nginx with a certificate for localhost and 127.0.0.1 signed by CA_PEM;
 * WRONG_PORT: a certificate for wrong.example, same CA; EXPIRED_PORT: an expired
 * certificate for localhost and 127.0.0.1, same CA. ACCESS_LOG, ERROR_LOG: nginx's logs;
 * access lines read "server_port connection connection_requests status "request" proto".
 *
 * Prints one line per check and ends with "TLS tests: N passed, M failed"; exits 1 if
 * any check failed.
 */
#define _POSIX_C_SOURCE 200809L

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "alfaview_auth.h"

#define USERNAME "alice"
#define PASSWORD "wonderland"
#define COMPANY "c-100"

/* ---- checks ------------------------------------------------------------------------- */

static int passed, failed;

static int check(int ok, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fputs(ok ? "ok   " : "FAIL ", stdout);
    vprintf(fmt, ap);
    fputc('\n', stdout);
    va_end(ap);
    fflush(stdout);
    if (ok) {
        passed++;
    } else {
        failed++;
    }
    return ok;
}

static void section(const char *name) {
    printf("== %s\n", name);
    fflush(stdout);
}

/* Whether hay contains needle, ignoring ASCII case (NULL hay: no). */
static int contains_ci(const char *hay, const char *needle) {
    size_t n = strlen(needle);
    if (hay == NULL) {
        return 0;
    }
    for (; *hay != '\0'; hay++) {
        size_t i = 0;
        while (i < n && hay[i] != '\0' &&
               tolower((unsigned char)hay[i]) == tolower((unsigned char)needle[i])) {
            i++;
        }
        if (i == n) {
            return 1;
        }
    }
    return 0;
}

static int starts_with_ci(const char *s, const char *prefix) {
    for (; *prefix != '\0'; s++, prefix++) {
        if (tolower((unsigned char)*s) != tolower((unsigned char)*prefix)) {
            return 0;
        }
    }
    return 1;
}

static long long now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A whole file, malloc'd and NUL-terminated; NULL if it cannot be read. */
static char *read_file(const char *path) {
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        return NULL;
    }
    size_t cap = 4096, used = 0;
    char *buf = malloc(cap);
    while (buf != NULL) {
        if (used + 1 >= cap) {
            char *bigger = realloc(buf, cap * 2);
            if (bigger == NULL) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = bigger;
            cap *= 2;
        }
        size_t n = fread(buf + used, 1, cap - used - 1, f);
        if (n == 0) {
            buf[used] = '\0';
            break;
        }
        used += n;
    }
    fclose(f);
    return buf;
}

/* ---- the mock's control endpoints, over a plain loopback socket --------------------- */

static int mock_port;

/* Sends METHOD PATH (empty body) to the mock and returns the body of a 200 reply,
 * malloc'd; NULL on any failure. Reads up to Content-Length, or to the end. */
static char *mock_request(const char *method, const char *path) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) {
        return NULL;
    }
    struct timeval tv = {5, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = htons((unsigned short)mock_port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
        close(fd);
        return NULL;
    }
    char req[512];
    int len = snprintf(req, sizeof req,
                       "%s %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nContent-Length: 0\r\n"
                       "Connection: close\r\n\r\n",
                       method, path, mock_port);
    for (int sent = 0; sent < len;) {
        ssize_t n = send(fd, req + sent, (size_t)(len - sent), 0);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            close(fd);
            return NULL;
        }
        sent += (int)n;
    }

    size_t cap = 8192, used = 0, body_at = 0;
    long long content_length = -1;
    char *buf = malloc(cap);
    while (buf != NULL) {
        if (used + 1 >= cap) {
            char *bigger = realloc(buf, cap * 2);
            if (bigger == NULL) {
                break;
            }
            buf = bigger;
            cap *= 2;
        }
        ssize_t n = recv(fd, buf + used, cap - used - 1, 0);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            break;
        }
        used += (size_t)n;
        buf[used] = '\0';
        if (body_at == 0) {
            char *end = strstr(buf, "\r\n\r\n");
            if (end == NULL) {
                continue;
            }
            body_at = (size_t)(end - buf) + 4;
            for (char *line = strstr(buf, "\r\n"); line != NULL && line < end;
                 line = strstr(line + 2, "\r\n")) {
                if (starts_with_ci(line + 2, "content-length:")) {
                    content_length = strtoll(line + 2 + strlen("content-length:"), NULL, 10);
                }
            }
        }
        if (content_length >= 0 && used - body_at >= (size_t)content_length) {
            break;
        }
    }
    close(fd);
    if (buf == NULL || body_at == 0 || strncmp(buf, "HTTP/1.1 200", 12) != 0) {
        free(buf);
        return NULL;
    }
    memmove(buf, buf + body_at, used - body_at + 1);
    return buf;
}

/* The integer value of "key": N in a flat JSON object; -1 if absent. */
static long long json_int(const char *json, const char *key) {
    char quoted[64];
    snprintf(quoted, sizeof quoted, "\"%s\"", key);
    const char *p = json != NULL ? strstr(json, quoted) : NULL;
    if (p == NULL) {
        return -1;
    }
    p += strlen(quoted);
    while (*p == ' ' || *p == ':') {
        p++;
    }
    char *end;
    long long v = strtoll(p, &end, 10);
    return end == p ? -1 : v;
}

/* ---- the library ---------------------------------------------------------------------- */

static const char *ca_file;
static char good_localhost[128], good_ip[128], wrong_localhost[128], wrong_ip[128],
    expired_localhost[128];

/* A client for base_url, trusting ca (NULL: only the system's roots). NULL on failure. */
static av_client *make_client(const char *base_url, const char *ca) {
    av_client_builder *b = av_client_builder_new();
    av_client *c = NULL;
    int ok = b != NULL && av_client_builder_set_base_url(b, base_url) == AV_OK &&
             av_client_builder_set_timeout_ms(b, 10000) == AV_OK &&
             (ca == NULL || av_client_builder_set_ca_file(b, ca) == AV_OK) &&
             av_client_build(b, &c) == AV_OK;
    if (!ok) {
        printf("     (client for %s: %s)\n", base_url, av_last_error_message());
        c = NULL;
    }
    av_client_builder_free(b);
    return c;
}

/* Signs in and refreshes on c; both must succeed. Returns the login's tokens (to be
 * freed) so a caller can reuse its refresh token, or NULL. */
static av_tokens *login_and_refresh(av_client *c, const char *what) {
    av_tokens *login = NULL, *fresh = NULL;
    av_status st = av_login_password(c, USERNAME, PASSWORD, COMPANY, &login);
    if (!check(st == AV_OK, "%s: password login -> %s (%s)", what, av_status_name(st),
               st == AV_OK ? "" : av_last_error_message())) {
        return NULL;
    }
    check(strcmp(av_tokens_company_id(login), COMPANY) == 0 &&
              av_tokens_access_token(login)[0] != '\0' &&
              av_tokens_refresh_token(login)[0] != '\0',
          "%s: login gave company %s, an access token and a refresh token", what,
          av_tokens_company_id(login));
    st = av_client_refresh(c, COMPANY, av_tokens_refresh_token(login), &fresh);
    if (check(st == AV_OK, "%s: refresh -> %s (%s)", what, av_status_name(st),
              st == AV_OK ? "" : av_last_error_message())) {
        check(av_tokens_access_token(fresh)[0] != '\0' &&
                  strcmp(av_tokens_access_token(fresh), av_tokens_access_token(login)) != 0,
              "%s: the refresh gave a new access token", what);
    }
    av_tokens_free(fresh);
    return login;
}

/* The alert a client sends when it rejects a certificate, as nginx (OpenSSL) logs it,
 * and how many handshakes the client should have rejected with it. */
enum { UNKNOWN_CA, BAD_NAME, EXPIRED, N_ALERTS };
static const char *const alert_text[N_ALERTS] = {
    "alert unknown ca", "alert bad certificate", "alert certificate expired"};
static int alerts_expected[N_ALERTS];

/* Occurrences of needle in hay. */
static int count_of(const char *hay, const char *needle) {
    int n = 0;
    for (const char *p = hay; p != NULL && (p = strstr(p, needle)) != NULL; p++) {
        n++;
    }
    return n;
}

/* A sign-in (refresh_token NULL) or a refresh on c must fail with AV_ERR_TLS quickly,
 * leave *out NULL, report no server reply, and name the problem: the message must
 * contain one of the |-separated words in `any_of` (ignoring case). The server should
 * then see the client's `alert`. */
static void expect_tls_failure(av_client *c, const char *refresh_token, const char *what,
                               const char *any_of, int alert) {
    alerts_expected[alert]++;
    av_tokens *out = (av_tokens *)(void *)&out; /* junk: must be cleared */
    long long t0 = now_ms();
    av_status st = refresh_token == NULL
                       ? av_login_password(c, USERNAME, PASSWORD, COMPANY, &out)
                       : av_client_refresh(c, COMPANY, refresh_token, &out);
    long long took = now_ms() - t0;
    const char *msg = av_last_error_message();
    check(st == AV_ERR_TLS, "%s -> %s: \"%s\"", what, av_status_name(st),
          st == AV_OK ? "" : msg);
    if (st == AV_OK) {
        av_tokens_free(out);
        return;
    }
    check(out == NULL, "%s: the out-pointer is NULL", what);

    char words[256];
    snprintf(words, sizeof words, "%s", any_of);
    int named = 0;
    for (char *save = NULL, *w = strtok_r(words, "|", &save); w != NULL;
         w = strtok_r(NULL, "|", &save)) {
        named |= contains_ci(msg, w);
    }
    check(named, "%s: the message names the problem (one of %s)", what, any_of);
    check(av_last_error_http_status() == 0 && av_last_error_api_status()[0] == '\0',
          "%s: no HTTP or API status (the server never answered)", what);
    check(!contains_ci(msg, "attempts"), "%s: not retried", what);
    if (refresh_token != NULL) {
        check(strstr(msg, refresh_token) == NULL, "%s: the message holds no refresh token",
              what);
    }
    check(took < 5000, "%s: failed within 5 s (%lld ms)", what, took);
}

/* nginx writes a log line when a request ends, possibly just after the reply went out:
 * reads `path` until it has `want` lines of access log (or 2 s pass). */
static char *read_log_lines(const char *path, int want) {
    char *text = NULL;
    for (int i = 0; i < 40; i++) {
        free(text);
        text = read_file(path);
        int lines = 0;
        for (const char *p = text; p != NULL && *p != '\0'; p++) {
            lines += *p == '\n';
        }
        if (lines >= want) {
            break;
        }
        struct timespec pause = {0, 50 * 1000 * 1000};
        nanosleep(&pause, NULL);
    }
    return text;
}

int main(int argc, char **argv) {
    if (argc != 8) {
        fprintf(stderr,
                "usage: %s MOCK_PORT GOOD_PORT WRONG_PORT EXPIRED_PORT CA_PEM ACCESS_LOG "
                "ERROR_LOG\n",
                argv[0]);
        return 2;
    }
    mock_port = atoi(argv[1]);
    const char *good = argv[2], *wrong = argv[3], *expired = argv[4];
    ca_file = argv[5];
    const char *access_log = argv[6], *error_log = argv[7];
    snprintf(good_localhost, sizeof good_localhost, "https://localhost:%s/json/v1/", good);
    snprintf(good_ip, sizeof good_ip, "https://127.0.0.1:%s/json/v1/", good);
    snprintf(wrong_localhost, sizeof wrong_localhost, "https://localhost:%s/json/v1/", wrong);
    snprintf(wrong_ip, sizeof wrong_ip, "https://127.0.0.1:%s/json/v1/", wrong);
    snprintf(expired_localhost, sizeof expired_localhost, "https://localhost:%s/json/v1/",
             expired);

    /* Only what this test sets may steer the library (a proxy from the environment is
     * used even for loopback https://; SSL_CERT_FILE/DIR change the system's roots). */
    const char *unset[] = {"ALFAVIEW_API_URL", "ALFAVIEW_CA_FILE", "ALFAVIEW_TIMEOUT_MS",
                           "https_proxy",      "HTTPS_PROXY",      "http_proxy",
                           "HTTP_PROXY",       "all_proxy",        "ALL_PROXY",
                           "SSL_CERT_FILE",    "SSL_CERT_DIR"};
    for (size_t i = 0; i < sizeof unset / sizeof unset[0]; i++) {
        unsetenv(unset[i]);
    }
    printf("alfaview-auth %s through nginx: good %s, wrong host %s, expired %s\n",
           av_version(), good, wrong, expired);

    char *reply = mock_request("POST", "/_mock/reset");
    if (!check(reply != NULL, "the mock answers POST /_mock/reset on port %d", mock_port)) {
        printf("TLS tests: %d passed, %d failed\n", passed, failed);
        return 1;
    }
    free(reply);

    /* What the mock should have counted at the end: successful exchanges only. */
    int logins = 0, refreshes = 0, calls = 0;

    /* ---- 1. the right CA (set_ca_file): sign-in, refresh, a call -------------------- */
    section("1. right CA via av_client_builder_set_ca_file");
    av_tokens *kept = NULL; /* a real refresh token, offered to the failing servers */
    const char *good_urls[] = {good_localhost, good_ip};
    for (int i = 0; i < 2; i++) {
        av_client *c = make_client(good_urls[i], ca_file);
        if (!check(c != NULL, "client for %s with the test CA", good_urls[i])) {
            continue;
        }
        av_tokens *login = login_and_refresh(c, good_urls[i]);
        if (login != NULL) {
            logins++;
            refreshes++;
            char *json = NULL;
            av_status st = av_client_call(c, av_tokens_access_token(login),
                                          "authenticationService/isAuthenticated", NULL, &json);
            check(st == AV_OK, "%s: isAuthenticated call -> %s", good_urls[i],
                  av_status_name(st));
            if (st == AV_OK) {
                calls++;
            }
            av_string_free(json);
            if (kept == NULL) {
                kept = login;
            } else {
                av_tokens_free(login);
            }
        }
        av_client_free(c);
    }
    const char *rt = kept != NULL ? av_tokens_refresh_token(kept) : "no-token-from-login";

    /* ---- 2. no CA file: the test CA is no system root ------------------------------ */
    section("2. no CA file");
    av_client *c = make_client(good_localhost, NULL);
    if (check(c != NULL, "client for %s with the system's roots only", good_localhost)) {
        expect_tls_failure(c, NULL, "no CA: login", "issuer|unknown ca|not trusted",
                           UNKNOWN_CA);
        expect_tls_failure(c, rt, "no CA: refresh", "issuer|unknown ca|not trusted",
                           UNKNOWN_CA);
        av_client_free(c);
    }

    /* ---- 3. a certificate for another host name ------------------------------------- */
    section("3. certificate for wrong.example");
    c = make_client(wrong_localhost, ca_file);
    if (check(c != NULL, "client for %s with the test CA", wrong_localhost)) {
        expect_tls_failure(c, NULL, "wrong host (localhost): login", "name", BAD_NAME);
        expect_tls_failure(c, rt, "wrong host (localhost): refresh", "name", BAD_NAME);
        av_client_free(c);
    }
    c = make_client(wrong_ip, ca_file);
    if (check(c != NULL, "client for %s with the test CA", wrong_ip)) {
        expect_tls_failure(c, rt, "wrong host (127.0.0.1): refresh", "name", BAD_NAME);
        av_client_free(c);
    }

    /* ---- 4. an expired certificate ------------------------------------------------ */
    section("4. expired certificate");
    c = make_client(expired_localhost, ca_file);
    if (check(c != NULL, "client for %s with the test CA", expired_localhost)) {
        expect_tls_failure(c, NULL, "expired: login", "expired", EXPIRED);
        expect_tls_failure(c, rt, "expired: refresh", "expired", EXPIRED);
        av_client_free(c);
    }

    /* ---- 5. ALFAVIEW_CA_FILE (and ALFAVIEW_API_URL) from the environment ----------- */
    section("5. ALFAVIEW_CA_FILE in the environment");
    setenv("ALFAVIEW_CA_FILE", ca_file, 1);
    setenv("ALFAVIEW_API_URL", good_localhost, 1);
    av_client_builder *b = av_client_builder_new();
    c = NULL;
    av_status st = b != NULL ? av_client_build(b, &c) : AV_ERR_INTERNAL;
    av_client_builder_free(b);
    if (check(st == AV_OK, "client from the environment -> %s", av_status_name(st))) {
        av_tokens *login = login_and_refresh(c, "env CA, good");
        if (login != NULL) {
            logins++;
            refreshes++;
        }
        av_tokens_free(login);
        av_client_free(c);
    }
    /* The default client behind av_refresh reads the same variables (made once, now). */
    char *token = NULL;
    int64_t expires_at = 0;
    st = av_refresh(COMPANY, rt, &token, &expires_at);
    if (check(st == AV_OK, "av_refresh on the default client (env CA) -> %s %s",
              av_status_name(st), st == AV_OK ? "" : av_last_error_message())) {
        refreshes++;
        check(token != NULL && token[0] != '\0' && expires_at > 0,
              "av_refresh gave an access token and its expiry");
    }
    av_string_free(token);

    setenv("ALFAVIEW_API_URL", expired_localhost, 1);
    b = av_client_builder_new();
    c = NULL;
    st = b != NULL ? av_client_build(b, &c) : AV_ERR_INTERNAL;
    av_client_builder_free(b);
    if (check(st == AV_OK, "client from the environment, expired server -> %s",
              av_status_name(st))) {
        expect_tls_failure(c, rt, "env CA, expired: refresh", "expired", EXPIRED);
        av_client_free(c);
    }

    setenv("ALFAVIEW_API_URL", good_localhost, 1);
    unsetenv("ALFAVIEW_CA_FILE");
    b = av_client_builder_new();
    c = NULL;
    st = b != NULL ? av_client_build(b, &c) : AV_ERR_INTERNAL;
    av_client_builder_free(b);
    if (check(st == AV_OK, "client from the environment without ALFAVIEW_CA_FILE -> %s",
              av_status_name(st))) {
        expect_tls_failure(c, rt, "env without CA: refresh", "issuer|unknown ca|not trusted",
                           UNKNOWN_CA);
        av_client_free(c);
    }

    setenv("ALFAVIEW_CA_FILE", "/nonexistent/alfaview-tls-test-ca.pem", 1);
    b = av_client_builder_new();
    c = NULL;
    st = b != NULL ? av_client_build(b, &c) : AV_ERR_INTERNAL;
    av_client_builder_free(b);
    check(st == AV_ERR_INVALID_ARGUMENT && c == NULL &&
              strstr(av_last_error_message(), "ALFAVIEW_CA_FILE") != NULL,
          "an unreadable ALFAVIEW_CA_FILE -> %s naming the variable: \"%s\"",
          av_status_name(st), st == AV_OK ? "" : av_last_error_message());
    av_client_free(c);
    unsetenv("ALFAVIEW_CA_FILE");
    unsetenv("ALFAVIEW_API_URL");
    av_tokens_free(kept);

    /* ---- 6. what reached the server -------------------------------------------------- */
    section("6. only the successful exchanges reached the mock");
    reply = mock_request("GET", "/_mock/stats");
    if (check(reply != NULL, "GET /_mock/stats")) {
        printf("     stats: %s\n", reply);
        long long got_logins = json_int(reply, "logins");
        long long got_refreshes = json_int(reply, "refreshes");
        long long got_failures = json_int(reply, "refreshFailures");
        long long got_auth = json_int(reply, "authenticate");
        long long got_calls = json_int(reply, "calls");
        long long got_requests = json_int(reply, "requests");
        check(got_logins == logins, "logins: %lld, expected %d", got_logins, logins);
        check(got_refreshes == refreshes, "refreshes: %lld, expected %d", got_refreshes,
              refreshes);
        check(got_failures == 0, "refreshFailures: %lld, expected 0", got_failures);
        check(got_auth == logins + refreshes, "authenticate: %lld, expected %d", got_auth,
              logins + refreshes);
        check(got_calls == calls, "calls: %lld, expected %d", got_calls, calls);
        check(got_requests == logins + refreshes + calls, "requests: %lld, expected %d",
              got_requests, logins + refreshes + calls);
    }
    free(reply);

    /* nginx's view: one access line per successful request (a failed handshake never
     * becomes a request), requests sharing kept-alive connections, and the client's alert
     * for each rejected certificate. */
    int want = logins + refreshes + calls;
    char *log = read_log_lines(access_log, want);
    if (check(log != NULL, "nginx access log readable")) {
        int lines = 0, good_lines = 0, reused = 0;
        for (char *save = NULL, *line = strtok_r(log, "\n", &save); line != NULL;
             line = strtok_r(NULL, "\n", &save)) {
            char port[16];
            long long conn = 0, nreq = 0;
            int status = 0;
            lines++;
            if (sscanf(line, "%15s %lld %lld %d", port, &conn, &nreq, &status) == 4 &&
                strcmp(port, good) == 0 && status == 200) {
                good_lines++;
                reused += nreq > 1;
            }
        }
        check(lines == want && good_lines == want,
              "nginx logged %d requests, all 200 on the good port (%d); expected %d", lines,
              good_lines, want);
        check(reused > 0, "keep-alive: %d requests reused a TLS connection", reused);
    }
    free(log);
    /* nginx logs an alert when it reads it, maybe after the client has moved on. */
    log = NULL;
    for (int i = 0; i < 40; i++) {
        free(log);
        log = read_file(error_log);
        int all = log != NULL;
        for (int a = 0; all && a < N_ALERTS; a++) {
            all = count_of(log, alert_text[a]) >= alerts_expected[a];
        }
        if (all) {
            break;
        }
        struct timespec pause = {0, 50 * 1000 * 1000};
        nanosleep(&pause, NULL);
    }
    if (check(log != NULL, "nginx error log readable")) {
        /* One alert per rejected handshake: the client itself refused each certificate,
         * once (no retry), with the alert that says why. */
        for (int a = 0; a < N_ALERTS; a++) {
            int seen = count_of(log, alert_text[a]);
            check(seen == alerts_expected[a], "nginx logged \"%s\" %d times, expected %d",
                  alert_text[a], seen, alerts_expected[a]);
        }
    }
    free(log);

    printf("TLS tests: %d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
