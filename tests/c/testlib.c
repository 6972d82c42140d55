/* The test harness and mock-control client declared in testlib.h. */
#define _POSIX_C_SOURCE 200809L

#include "testlib.h"

#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

/* ---- checks ---------------------------------------------------------------------- */

static atomic_int passed;
static atomic_int failed;
static pthread_mutex_t print_lock = PTHREAD_MUTEX_INITIALIZER;

static void vreport(const char *file, int line, const char *expr, const char *fmt, va_list ap) {
    pthread_mutex_lock(&print_lock);
    fprintf(stdout, "FAIL %s:%d: %s", file, line, expr);
    if (fmt != NULL) {
        fputs(": ", stdout);
        vfprintf(stdout, fmt, ap);
    }
    fputc('\n', stdout);
    fflush(stdout);
    pthread_mutex_unlock(&print_lock);
}

int tl_check(int ok, const char *file, int line, const char *expr, const char *fmt, ...) {
    if (ok) {
        atomic_fetch_add(&passed, 1);
        return 1;
    }
    atomic_fetch_add(&failed, 1);
    va_list ap;
    va_start(ap, fmt);
    vreport(file, line, expr, fmt, ap);
    va_end(ap);
    return 0;
}

int tl_check_status(int got, int want, const char *file, int line, const char *expr) {
    if (got == want) {
        return tl_check(1, file, line, expr, NULL);
    }
    /* The last error's details say why; they are this thread's. */
    return tl_check(0, file, line, expr,
                    "got %s (%d), want %s (%d); last error: \"%s\" api_status=\"%s\" "
                    "request_id=\"%s\" http=%d",
                    av_status_name(got), got, av_status_name(want), want, av_last_error_message(),
                    av_last_error_api_status(), av_last_error_request_id(),
                    (int)av_last_error_http_status());
}

int tl_check_int(long long got, long long want, const char *op, const char *file, int line,
                 const char *expr_got, const char *expr_want) {
    int ok;
    if (strcmp(op, "==") == 0) {
        ok = got == want;
    } else if (strcmp(op, "!=") == 0) {
        ok = got != want;
    } else if (strcmp(op, ">=") == 0) {
        ok = got >= want;
    } else if (strcmp(op, "<=") == 0) {
        ok = got <= want;
    } else {
        ok = got < want;
    }
    return tl_check(ok, file, line, expr_got, "%lld %s %s (%lld) does not hold", got, op,
                    expr_want, want);
}

int tl_check_range(long long got, long long lo, long long hi, const char *file, int line,
                   const char *expr) {
    return tl_check(got >= lo && got <= hi, file, line, expr,
                    "got %lld, want %lld..%lld (off by %lld)", got, lo, hi,
                    got < lo ? got - lo : got - hi);
}

int tl_check_str(const char *got, const char *want, int want_equal, const char *file, int line,
                 const char *expr_got, const char *expr_want) {
    int equal = (got == NULL || want == NULL) ? got == want : strcmp(got, want) == 0;
    return tl_check(equal == want_equal, file, line, expr_got, "\"%s\" %s %s (\"%s\")",
                    got ? got : "(null)", want_equal ? "!=" : "==", expr_want,
                    want ? want : "(null)");
}

int tl_check_contains(const char *hay, const char *needle, int want_contained, const char *file,
                      int line, const char *expr_hay) {
    int contained = hay != NULL && needle != NULL && strstr(hay, needle) != NULL;
    if (hay != NULL && strlen(hay) > 600) {
        return tl_check(contained == want_contained, file, line, expr_hay,
                        "(a %zu-byte text) %s \"%s\"", strlen(hay),
                        want_contained ? "lacks" : "contains", needle);
    }
    return tl_check(contained == want_contained, file, line, expr_hay, "\"%s\" %s \"%s\"",
                    hay ? hay : "(null)", want_contained ? "lacks" : "contains",
                    needle ? needle : "(null)");
}

void tl_section(const char *name) {
    pthread_mutex_lock(&print_lock);
    printf("== %s\n", name);
    fflush(stdout);
    pthread_mutex_unlock(&print_lock);
}

int tl_finish(const char *program) {
    int p = atomic_load(&passed);
    int f = atomic_load(&failed);
    printf("RESULT %s passed=%d failed=%d\n", program, p, f);
    fflush(stdout);
    return f == 0 ? 0 : 1;
}

/* ---- utilities ------------------------------------------------------------------- */

long long tl_now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static long long proc_status_kib(const char *field) {
    FILE *f = fopen("/proc/self/status", "r");
    if (f == NULL) {
        return -1;
    }
    char line[256];
    long long value = -1;
    size_t n = strlen(field);
    while (fgets(line, sizeof line, f) != NULL) {
        if (strncmp(line, field, n) == 0 && line[n] == ':') {
            value = strtoll(line + n + 1, NULL, 10);
            break;
        }
    }
    fclose(f);
    return value;
}

long long tl_rss_kib(void) { return proc_status_kib("VmRSS"); }
long long tl_hwm_kib(void) { return proc_status_kib("VmHWM"); }

int tl_starts_with(const char *s, const char *prefix) {
    return s != NULL && prefix != NULL && strncmp(s, prefix, strlen(prefix)) == 0;
}

char *tl_strdup(const char *s) { return s == NULL ? NULL : strdup(s); }

/* Where the value of "key" starts (after the colon and blanks), or NULL. */
static const char *json_value(const char *json, const char *key) {
    if (json == NULL) {
        return NULL;
    }
    size_t klen = strlen(key);
    for (const char *p = json; (p = strchr(p, '"')) != NULL; p++) {
        if (strncmp(p + 1, key, klen) != 0 || p[1 + klen] != '"') {
            continue;
        }
        const char *q = p + 2 + klen;
        while (*q == ' ' || *q == '\t' || *q == '\n' || *q == '\r') {
            q++;
        }
        if (*q != ':') {
            continue; /* the key's text appeared as a value */
        }
        q++;
        while (*q == ' ' || *q == '\t' || *q == '\n' || *q == '\r') {
            q++;
        }
        return q;
    }
    return NULL;
}

char *tl_json_str(const char *json, const char *key) {
    const char *v = json_value(json, key);
    if (v == NULL || *v != '"') {
        return NULL;
    }
    v++;
    char *out = malloc(strlen(v) + 1);
    if (out == NULL) {
        return NULL;
    }
    size_t n = 0;
    for (; *v != '\0' && *v != '"'; v++) {
        if (*v == '\\' && v[1] != '\0') {
            v++;
            switch (*v) {
            case 'n': out[n++] = '\n'; break;
            case 't': out[n++] = '\t'; break;
            case 'r': out[n++] = '\r'; break;
            case 'b': out[n++] = '\b'; break;
            case 'f': out[n++] = '\f'; break;
            case 'u': out[n++] = '?'; v += strlen(v) >= 5 ? 4 : strlen(v) - 1; break;
            default: out[n++] = *v; break; /* \" \\ \/ */
            }
        } else {
            out[n++] = *v;
        }
    }
    if (*v != '"') {
        free(out);
        return NULL; /* unterminated */
    }
    out[n] = '\0';
    return out;
}

int tl_json_int(const char *json, const char *key, long long *out) {
    const char *v = json_value(json, key);
    if (v == NULL || (*v != '-' && (*v < '0' || *v > '9'))) {
        return 0;
    }
    *out = strtoll(v, NULL, 10);
    return 1;
}

/* ---- the mock server ------------------------------------------------------------- */

static char host_buf[256];
static char port_buf[16];
static int parsed;
static pthread_mutex_t parse_lock = PTHREAD_MUTEX_INITIALIZER;

const char *mock_url(void) {
    const char *url = getenv("ALFAVIEW_MOCK_URL");
    if (url == NULL || *url == '\0') {
        fprintf(stderr, "ALFAVIEW_MOCK_URL is not set: run these tests through tests/c/run.sh\n");
        exit(2);
    }
    return url;
}

static void parse_url(void) {
    pthread_mutex_lock(&parse_lock);
    if (!parsed) {
        const char *url = mock_url();
        const char *p = strstr(url, "://");
        p = p ? p + 3 : url;
        const char *end;
        if (*p == '[') { /* [v6]:port */
            end = strchr(p, ']');
            if (end == NULL) {
                fprintf(stderr, "bad ALFAVIEW_MOCK_URL %s\n", url);
                exit(2);
            }
            snprintf(host_buf, sizeof host_buf, "%.*s", (int)(end - p - 1), p + 1);
            end++;
        } else {
            end = p + strcspn(p, ":/");
            snprintf(host_buf, sizeof host_buf, "%.*s", (int)(end - p), p);
        }
        if (*end == ':') {
            snprintf(port_buf, sizeof port_buf, "%.*s", (int)strcspn(end + 1, "/"), end + 1);
        } else {
            snprintf(port_buf, sizeof port_buf, "80");
        }
        parsed = 1;
    }
    pthread_mutex_unlock(&parse_lock);
}

const char *mock_host(void) {
    parse_url();
    return host_buf;
}

int mock_port(void) {
    parse_url();
    return atoi(port_buf);
}

static int connect_mock(void) {
    parse_url();
    struct addrinfo hints = {0}, *res = NULL;
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    if (getaddrinfo(host_buf, port_buf, &hints, &res) != 0) {
        return -1;
    }
    int fd = -1;
    for (struct addrinfo *a = res; a != NULL; a = a->ai_next) {
        fd = socket(a->ai_family, a->ai_socktype, a->ai_protocol);
        if (fd < 0) {
            continue;
        }
        struct timeval tv = {10, 0}; /* a control request never takes this long */
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
        if (connect(fd, a->ai_addr, a->ai_addrlen) == 0) {
            break;
        }
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    return fd;
}

static int send_all(int fd, const char *buf, size_t len) {
    while (len > 0) {
        ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return -1;
        }
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Decodes a chunked body in place; returns its length, or -1 if malformed. */
static long dechunk(char *body) {
    char *in = body, *out = body;
    for (;;) {
        char *end;
        long size = strtol(in, &end, 16);
        if (end == in || size < 0) {
            return -1;
        }
        char *data = strstr(end, "\r\n");
        if (data == NULL) {
            return -1;
        }
        data += 2;
        if (size == 0) {
            break;
        }
        memmove(out, data, (size_t)size);
        out += size;
        in = data + size;
        if (strncmp(in, "\r\n", 2) != 0) {
            return -1;
        }
        in += 2;
    }
    *out = '\0';
    return out - body;
}

int mock_http(const char *method, const char *path, const char *body, char **out_body) {
    if (out_body != NULL) {
        *out_body = NULL;
    }
    int fd = connect_mock();
    if (fd < 0) {
        return -1;
    }
    size_t blen = body ? strlen(body) : 0;
    char head[512];
    int hlen = snprintf(head, sizeof head,
                        "%s %s HTTP/1.1\r\nHost: %s:%s\r\nContent-Type: application/json\r\n"
                        "Content-Length: %zu\r\nConnection: close\r\n\r\n",
                        method, path, host_buf, port_buf, blen);
    if (hlen < 0 || (size_t)hlen >= sizeof head || send_all(fd, head, (size_t)hlen) != 0 ||
        (blen > 0 && send_all(fd, body, blen) != 0)) {
        close(fd);
        return -1;
    }
    size_t cap = 8192, len = 0;
    char *buf = malloc(cap);
    for (;;) {
        if (buf == NULL) {
            close(fd);
            return -1;
        }
        if (len + 4096 + 1 > cap) {
            cap *= 2;
            char *bigger = realloc(buf, cap);
            if (bigger == NULL) {
                free(buf);
                close(fd);
                return -1;
            }
            buf = bigger;
        }
        ssize_t n = recv(fd, buf + len, cap - len - 1, 0);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            free(buf);
            close(fd);
            return -1;
        }
        if (n == 0) {
            break;
        }
        len += (size_t)n;
    }
    close(fd);
    buf[len] = '\0';
    int status = -1;
    if (sscanf(buf, "HTTP/1.%*d %d", &status) != 1) {
        free(buf);
        return -1;
    }
    char *sep = strstr(buf, "\r\n\r\n");
    if (sep == NULL) {
        free(buf);
        return -1;
    }
    *sep = '\0';
    char *payload = sep + 4;
    /* Header names are case-insensitive: compare on a lower-cased copy of the head. */
    for (char *h = buf; *h; h++) {
        if (*h >= 'A' && *h <= 'Z') {
            *h = (char)(*h - 'A' + 'a');
        }
    }
    if (strstr(buf, "transfer-encoding: chunked") != NULL && dechunk(payload) < 0) {
        free(buf);
        return -1;
    }
    if (out_body != NULL) {
        *out_body = strdup(payload);
    }
    free(buf);
    return status;
}

/* A control request that must answer 200; the body, malloc'd, or NULL. */
static char *control(const char *method, const char *path, const char *body, const char *what) {
    char *reply = NULL;
    int status = mock_http(method, path, body, &reply);
    if (status != 200) {
        /* Harness problems count as failures; successful set-up is not a check. */
        tl_check(0, __FILE__, __LINE__, what, "%s %s answered %d: %s", method, path, status,
                 reply ? reply : "(no reply)");
        free(reply);
        return NULL;
    }
    return reply;
}

void mock_reset(void) { free(control("POST", "/_mock/reset", "", "mock reset")); }

int mock_config(const char *json_patch) {
    char *reply = NULL;
    int status = mock_http("POST", "/_mock/config", json_patch, &reply);
    if (status != 200) {
        tl_check(0, __FILE__, __LINE__, "mock config", "patch %s answered %d: %s", json_patch,
                 status, reply ? reply : "(no reply)");
    }
    free(reply);
    return status;
}

long long mock_stat(const char *name) {
    char *reply = control("GET", "/_mock/stats", NULL, "mock stats");
    long long v = -1;
    if (reply != NULL && !tl_json_int(reply, name, &v)) {
        tl_check(0, __FILE__, __LINE__, "mock stats", "no counter \"%s\" in %s", name, reply);
        v = -1;
    }
    free(reply);
    return v;
}

char *mock_last(void) {
    char *reply = NULL;
    int status = mock_http("GET", "/_mock/last", NULL, &reply);
    if (status != 200) {
        free(reply);
        return NULL;
    }
    return reply;
}

char *mock_last_header(const char *lower_name) {
    char *last = mock_last();
    if (last == NULL) {
        return NULL;
    }
    /* Headers sit in "headers":{...}; the body comes after it. Search inside only. */
    char *headers = strstr(last, "\"headers\":{");
    char *value = NULL;
    if (headers != NULL) {
        char *end = strchr(headers, '}');
        if (end != NULL) {
            *end = '\0';
            value = tl_json_str(headers + strlen("\"headers\":"), lower_name);
        }
    }
    free(last);
    return value;
}

char *mock_mint(const char *company_id) {
    char body[256];
    snprintf(body, sizeof body, "{\"companyId\":\"%s\"}", company_id);
    char *reply = control("POST", "/_mock/mint", body, "mock mint");
    char *token = tl_json_str(reply, "refreshToken");
    free(reply);
    if (token == NULL || *token == '\0') {
        tl_check(0, __FILE__, __LINE__, "mock mint", "no token");
    }
    return token;
}

void mock_expire(void) { free(control("POST", "/_mock/expire", "", "mock expire")); }

char *mock_tokens(void) { return control("GET", "/_mock/tokens", NULL, "mock tokens"); }

av_client *tl_client_for(const char *base_url, uint32_t timeout_ms) {
    return tl_client_with(base_url, timeout_ms, -1);
}

av_client *tl_client_with(const char *base_url, uint32_t timeout_ms, int max_retries) {
    av_client_builder *b = av_client_builder_new();
    if (!tl_check(b != NULL, __FILE__, __LINE__, "av_client_builder_new()", NULL)) {
        return NULL;
    }
    av_client *c = NULL;
    int ok = tl_check_status(av_client_builder_set_base_url(b, base_url), AV_OK, __FILE__,
                             __LINE__, "tl_client: set_base_url");
    if (ok && timeout_ms > 0) {
        ok = tl_check_status(av_client_builder_set_timeout_ms(b, timeout_ms), AV_OK, __FILE__,
                             __LINE__, "tl_client: set_timeout_ms");
    }
    if (ok && max_retries >= 0) {
        ok = tl_check_status(av_client_builder_set_max_retries(b, (uint32_t)max_retries), AV_OK, __FILE__,
                             __LINE__, "tl_client: set_max_retries");
    }
    if (ok) {
        tl_check_status(av_client_build(b, &c), AV_OK, __FILE__, __LINE__, "tl_client: build");
    }
    av_client_builder_free(b);
    return c;
}

av_client *tl_client(uint32_t timeout_ms) { return tl_client_for(mock_url(), timeout_ms); }
