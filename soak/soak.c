/*
 * soak.c: a soak run of libalfaview_auth under random faults, through the public C API
 * only. Started by soak/run.sh with the port of a running alfaview-mock:
 *
 *     build/soak/soak PORT
 *
 * Environment: SOAK_SECONDS (default 120), SOAK_THREADS (default 8),
 * SOAK_AUTH_DELAYS=1 (also delay authenticate past the client's timeout; see README.md).
 *
 * N worker threads mix session token requests (shared and per-thread sessions), session
 * calls, one-shot av_client_refresh chains, av_refresh with minted tokens, plain calls,
 * sign-ins and refresh-token reads, while a driver thread keeps re-arming the mock's
 * fault switch over a keep-alive control connection. At the end the program checks that
 * every session's refresh token equals the copy its rotation callback persisted and is
 * valid on the mock, prints one block of figures and "soak: PASS" or "soak: FAIL (...)",
 * and exits 0 only on PASS.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include "alfaview_auth.h"

#define MAX_THREADS 64
#define NSTATUS 13 /* AV_OK .. AV_ERR_INTERNAL */
#define CLIENT_TIMEOUT_MS 1000
#define TOKEN_MAX 256
#define RSS_LIMIT_KIB (5 * 1024)
#define MIN_OPS_PER_S 20.0
#define STOP_GRACE_S 60.0

/* ---- small utilities ------------------------------------------------------------------ */

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

typedef struct {
    uint64_t s;
} rng_t;

static uint64_t rng_next(rng_t *r) { /* xorshift64* */
    uint64_t x = r->s;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    r->s = x;
    return x * 2685821657736338717ULL;
}

static unsigned rng_below(rng_t *r, unsigned n) { return (unsigned)(rng_next(r) % n); }

static void rng_seed(rng_t *r, uint64_t salt) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    r->s = ((uint64_t)ts.tv_nsec << 20) ^ (uint64_t)ts.tv_sec ^ (salt * 0x9E3779B97F4A7C15ULL) ^
           (uint64_t)getpid();
    if (r->s == 0) r->s = 88172645463325252ULL;
    (void)rng_next(r);
}

static long rss_kib(void) {
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kib = -1;
    if (!f) return -1;
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "VmRSS:", 6) == 0) {
            kib = strtol(line + 6, NULL, 10);
            break;
        }
    }
    fclose(f);
    return kib;
}

/* Bytes the allocator has handed out and not got back (glibc; -1 elsewhere): tells real
 * growth from fragmentation when RSS creeps. */
static long heap_kib(void) {
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 33))
    struct mallinfo2 mi = mallinfo2();
    return (long)((mi.uordblks + mi.hblkhd) / 1024);
#else
    return -1;
#endif
}

static void copy_str(char *dst, size_t n, const char *src) {
    if (n == 0) return;
    if (!src) src = "";
    size_t l = strlen(src);
    if (l >= n) l = n - 1;
    memcpy(dst, src, l);
    dst[l] = '\0';
}

/* ---- checks: named failure counters, and the first messages -------------------------- */

enum {
    CHK_UNDEFINED_STATUS, /* a status outside 0..12 */
    CHK_INTERNAL,         /* AV_ERR_INTERNAL: a caught panic */
    CHK_UNEXPECTED,       /* a status that no injected fault explains */
    CHK_NO_MESSAGE,       /* a failure without av_last_error_message */
    CHK_SECRET,           /* a refresh token in an error or log message */
    CHK_INTEGRITY,        /* wrong company, stale token, rotation without a new token, ... */
    CHK_LOST,             /* a refresh-token chain lost (not an expected loss) */
    CHK_PERSISTED,        /* the end check: session token != persisted copy, or invalid */
    CHK_FINAL,            /* the end renewal after /_mock/expire failed */
    CHK_CONTROL,          /* the mock's control endpoints misbehaved */
    CHK_DETAILS,          /* error details that contradict the status */
    CHK_COUNT
};
static const char *chk_names[CHK_COUNT] = {
    "undefined status",  "AV_ERR_INTERNAL",        "unexpected status",
    "failure without message", "secret in a message", "integrity",
    "refresh token lost", "persisted/valid check", "final renewal",
    "mock control", "error details",
};
static atomic_ullong g_chk[CHK_COUNT];
static pthread_mutex_t g_note_mu = PTHREAD_MUTEX_INITIALIZER;
#define MAX_NOTES 24
static char g_notes[MAX_NOTES][320];
static unsigned g_notes_n, g_notes_dropped;

static void check_fail(int chk, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void check_fail(int chk, const char *fmt, ...) {
    atomic_fetch_add(&g_chk[chk], 1);
    pthread_mutex_lock(&g_note_mu);
    if (g_notes_n < MAX_NOTES) {
        int k = snprintf(g_notes[g_notes_n], sizeof g_notes[0], "[%s] ", chk_names[chk]);
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(g_notes[g_notes_n] + k, sizeof g_notes[0] - (size_t)k, fmt, ap);
        va_end(ap);
        g_notes_n++;
    } else {
        g_notes_dropped++;
    }
    pthread_mutex_unlock(&g_note_mu);
}

/* ---- a tiny HTTP/1.1 keep-alive client for /_mock/ ------------------------------------ */

static int g_port;

typedef struct {
    int fd;
} ctl_t;

static void ctl_close(ctl_t *c) {
    if (c->fd >= 0) close(c->fd);
    c->fd = -1;
}

static int ctl_connect(ctl_t *c) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    struct timeval tv = {15, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)g_port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        return -1;
    }
    c->fd = fd;
    return 0;
}

static int send_all(int fd, const char *p, size_t n) {
    while (n > 0) {
        ssize_t k = send(fd, p, n, MSG_NOSIGNAL);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) return -1;
        p += k;
        n -= (size_t)k;
    }
    return 0;
}

/* The value of header `name` in the head [h, end), or NULL. */
static const char *find_header(const char *h, const char *end, const char *name, size_t *len) {
    size_t nl = strlen(name);
    const char *p = strstr(h, "\r\n");
    while (p && p + 2 < end) {
        p += 2;
        const char *eol = strstr(p, "\r\n");
        if (!eol || eol > end) break;
        if ((size_t)(eol - p) > nl && strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
            const char *v = p + nl + 1;
            while (v < eol && (*v == ' ' || *v == '\t')) v++;
            *len = (size_t)(eol - v);
            return v;
        }
        p = eol;
    }
    return NULL;
}

/* One request; returns the HTTP status (or -1) and, if `out`, the body (malloc'd, NUL
 * terminated; free it). Retries once on a fresh connection (a keep-alive connection may
 * have been closed). */
static int ctl_req(ctl_t *c, const char *method, const char *path, const char *body, char **out) {
    if (out) *out = NULL;
    size_t blen = body ? strlen(body) : 0;
    char head[512];
    int hl = snprintf(head, sizeof head,
                      "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                      "Content-Length: %zu\r\n\r\n",
                      method, path, blen);
    for (int attempt = 0; attempt < 2; attempt++) {
        if (c->fd < 0 && ctl_connect(c) != 0) continue;
        if (send_all(c->fd, head, (size_t)hl) != 0 || (blen && send_all(c->fd, body, blen) != 0)) {
            ctl_close(c);
            continue;
        }
        size_t cap = 8192, len = 0;
        char *buf = malloc(cap + 1);
        if (!buf) return -1;
        size_t hoff = 0; /* end of the head (an offset: buf moves on realloc) */
        size_t need = (size_t)-1;
        int status = -1, close_after = 0, until_eof = 0, ok = 0;
        for (;;) {
            if (len == cap) {
                size_t ncap = cap * 2;
                char *nb = realloc(buf, ncap + 1);
                if (!nb) break;
                buf = nb;
                cap = ncap;
            }
            ssize_t k = recv(c->fd, buf + len, cap - len, 0);
            if (k < 0 && errno == EINTR) continue;
            if (k <= 0) {
                if (until_eof && k == 0) {
                    ok = 1;
                    close_after = 1;
                }
                break;
            }
            len += (size_t)k;
            buf[len] = '\0';
            if (!hoff) {
                const char *e = strstr(buf, "\r\n\r\n");
                if (!e) continue;
                hoff = (size_t)(e + 4 - buf);
                const char *hend = buf + hoff;
                if (sscanf(buf, "HTTP/1.%*d %d", &status) != 1) break;
                size_t vl = 0;
                const char *v = find_header(buf, hend, "content-length", &vl);
                if (v) {
                    need = hoff + (size_t)strtoull(v, NULL, 10);
                } else {
                    until_eof = 1;
                }
                v = find_header(buf, hend, "connection", &vl);
                if (v && vl >= 5 && strncasecmp(v, "close", 5) == 0) close_after = 1;
            }
            if (hoff && !until_eof && len >= need) {
                ok = 1;
                break;
            }
        }
        if (!ok) {
            free(buf);
            ctl_close(c);
            continue;
        }
        if (close_after) ctl_close(c);
        size_t bl = (until_eof ? len : need) - hoff;
        memmove(buf, buf + hoff, bl);
        buf[bl] = '\0';
        if (out) {
            *out = buf;
        } else {
            free(buf);
        }
        return status;
    }
    return -1;
}

/* Where the value of "key" starts in `js` (after the colon and blanks), or NULL. */
static const char *json_val(const char *js, const char *key) {
    char pat[96];
    snprintf(pat, sizeof pat, "\"%s\"", key);
    const char *p = js;
    while (js && (p = strstr(p, pat)) != NULL) {
        p += strlen(pat);
        const char *q = p;
        while (*q == ' ' || *q == '\t' || *q == '\r' || *q == '\n') q++;
        if (*q != ':') continue;
        q++;
        while (*q == ' ' || *q == '\t' || *q == '\r' || *q == '\n') q++;
        return q;
    }
    return NULL;
}

static int json_str(const char *js, const char *key, char *out, size_t n) {
    const char *v = json_val(js, key);
    if (!v || *v != '"') return -1;
    v++;
    const char *e = strchr(v, '"');
    if (!e || (size_t)(e - v) >= n) return -1;
    memcpy(out, v, (size_t)(e - v));
    out[e - v] = '\0';
    return 0;
}

static long long json_int(const char *js, const char *key) {
    const char *v = json_val(js, key);
    return v ? strtoll(v, NULL, 10) : -1;
}

/* In a /_mock/tokens reply: 1 if `tok` is listed valid, 0 if listed not valid, -1 if not
 * listed. Key order inside each object is not relied on. */
static int token_state(const char *list, const char *tok) {
    char pat[TOKEN_MAX + 4];
    snprintf(pat, sizeof pat, "\"%s\"", tok);
    const char *p = list ? strstr(list, pat) : NULL;
    if (!p || !*tok) return -1;
    const char *b = p;
    while (b > list && *b != '{') b--;
    const char *e = strchr(p, '}');
    if (!e) return -1;
    for (const char *q = b; q + 7 < e; q++) {
        if (strncmp(q, "\"valid\"", 7) == 0) {
            q += 7;
            while (q < e && (*q == ' ' || *q == ':')) q++;
            return strncmp(q, "true", 4) == 0 ? 1 : 0;
        }
    }
    return -1;
}

static int mint(ctl_t *c, const char *company, char *out, size_t n) {
    char body[128], *reply = NULL;
    snprintf(body, sizeof body, "{\"companyId\": \"%s\"}", company);
    int st = ctl_req(c, "POST", "/_mock/mint", body, &reply);
    int rc = (st == 200 && json_str(reply, "refreshToken", out, n) == 0) ? 0 : -1;
    if (rc != 0) check_fail(CHK_CONTROL, "POST /_mock/mint failed (HTTP %d)", st);
    free(reply);
    return rc;
}

/* ---- operations and their figures ----------------------------------------------------- */

enum {
    OP_TOKEN_SHARED,
    OP_TOKEN_OWN,
    OP_SESSION_CALL,
    OP_CLIENT_REFRESH,
    OP_AV_REFRESH,
    OP_CLIENT_CALL,
    OP_LOGIN,
    OP_SESSION_RT,
    OP_KINDS
};
static const char *op_names[OP_KINDS] = {
    "av_session_access_token (shared)", "av_session_access_token (own)", "av_session_call",
    "av_client_refresh (one-shot chain)", "av_refresh (minted token)", "av_client_call",
    "av_login_password/api_key", "av_session_refresh_token",
};
typedef struct {
    atomic_ullong n, ok;
} opstat_t;
static opstat_t g_ops[OP_KINDS];
static atomic_ullong g_err_by_status[NSTATUS];
static atomic_ullong g_op_err[OP_KINDS][NSTATUS];
static atomic_ullong g_err_undefined;

static atomic_ullong g_rot_session, g_rot_chain;
static atomic_ullong g_lost_expected, g_lost_real, g_spare_discarded;
static atomic_ullong g_log_by_level[6];
static atomic_int g_stop;
static int g_lossy; /* SOAK_AUTH_DELAYS=1 */

/* Counts one result; `secret` (may be NULL) must not appear in the error message. */
static void record(int op, av_status st, const char *secret) {
    atomic_fetch_add(&g_ops[op].n, 1);
    if (st == AV_OK) {
        atomic_fetch_add(&g_ops[op].ok, 1);
        return;
    }
    const char *msg = av_last_error_message();
    if (st < 1 || st >= NSTATUS) {
        atomic_fetch_add(&g_err_undefined, 1);
        check_fail(CHK_UNDEFINED_STATUS, "%s returned %d: %s", op_names[op], (int)st,
                   msg ? msg : "(null)");
        return;
    }
    atomic_fetch_add(&g_err_by_status[st], 1);
    atomic_fetch_add(&g_op_err[op][st], 1);
    /* The details must fit the status. */
    int http = av_last_error_http_status();
    const char *api = av_last_error_api_status();
    if (!api) {
        check_fail(CHK_DETAILS, "%s: av_last_error_api_status() is NULL", op_names[op]);
        api = "";
    }
    if (!av_last_error_request_id())
        check_fail(CHK_DETAILS, "%s: av_last_error_request_id() is NULL", op_names[op]);
    if (st == AV_ERR_TIMEOUT && http != 0 && http != 200)
        check_fail(CHK_DETAILS, "%s: AV_ERR_TIMEOUT with HTTP status %d", op_names[op], http);
    if (st == AV_ERR_HTTP && (http < 300 || http > 599))
        check_fail(CHK_DETAILS, "%s: AV_ERR_HTTP with HTTP status %d", op_names[op], http);
    if (st == AV_ERR_TOKEN_EXPIRED && strcmp(api, "TOKEN_OUTDATED") != 0)
        check_fail(CHK_DETAILS, "%s: AV_ERR_TOKEN_EXPIRED with api status '%s'", op_names[op], api);
    if (st == AV_ERR_API && !*api)
        check_fail(CHK_DETAILS, "%s: AV_ERR_API without an api status", op_names[op]);
    if (strcmp(av_status_name(st), "AV_UNKNOWN_STATUS") == 0)
        check_fail(CHK_UNDEFINED_STATUS, "av_status_name(%d) is unknown", (int)st);
    if (!msg || !*msg)
        check_fail(CHK_NO_MESSAGE, "%s failed with %s and no message", op_names[op],
                   av_status_name(st));
    if (secret && *secret && msg && strstr(msg, secret))
        check_fail(CHK_SECRET, "%s: the error message contains the refresh token", op_names[op]);
    switch (st) {
    case AV_ERR_INTERNAL:
        check_fail(CHK_INTERNAL, "%s: %s", op_names[op], msg ? msg : "");
        break;
    case AV_ERR_INVALID_ARGUMENT:
    case AV_ERR_TLS:
    case AV_ERR_NOT_FOUND:
    case AV_ERR_STORAGE:
        check_fail(CHK_UNEXPECTED, "%s: %s: %s", op_names[op], av_status_name(st), msg ? msg : "");
        break;
    default: /* network, timeout, authentication (judged by the caller), token expired,
                API, HTTP, protocol: all explained by injected faults */
        break;
    }
}

/* ---- sessions ------------------------------------------------------------------------- */

typedef struct {
    pthread_rwlock_t lk; /* read: using `s`; write: replacing it after a lost chain */
    av_session *s;
    const av_client *client; /* NULL: the default client */
    const char *client_name;
    char company[48];
    uint32_t margin_s; /* 0: the default */
    unsigned gen;
    pthread_mutex_t pm; /* guards `persisted` */
    char persisted[TOKEN_MAX];
    atomic_ullong rotations;
    int shared;
} slot_t;

static slot_t g_slots[3 + MAX_THREADS];
static int g_nslots;

static void on_rotate(void *user_data, const char *company_id, const char *new_refresh_token) {
    slot_t *sl = user_data;
    atomic_fetch_add(&g_rot_session, 1);
    atomic_fetch_add(&sl->rotations, 1);
    if (!company_id || strcmp(company_id, sl->company) != 0)
        check_fail(CHK_INTEGRITY, "rotation callback of session %s told company %s", sl->company,
                   company_id ? company_id : "(null)");
    if (!new_refresh_token || !*new_refresh_token || strlen(new_refresh_token) >= TOKEN_MAX) {
        check_fail(CHK_INTEGRITY, "rotation callback of session %s got an empty/long token",
                   sl->company);
        return;
    }
    pthread_mutex_lock(&sl->pm);
    if (strcmp(sl->persisted, new_refresh_token) == 0)
        check_fail(CHK_INTEGRITY, "rotation callback of session %s got the same token again",
                   sl->company);
    copy_str(sl->persisted, sizeof sl->persisted, new_refresh_token);
    pthread_mutex_unlock(&sl->pm);
}

static void persisted_copy(slot_t *sl, char *out) {
    pthread_mutex_lock(&sl->pm);
    copy_str(out, TOKEN_MAX, sl->persisted);
    pthread_mutex_unlock(&sl->pm);
}

/* Creates the slot's session on `token` (the caller holds the write lock or is alone). */
static int slot_open(slot_t *sl, const char *token) {
    av_session *s = NULL;
    av_status st = av_session_new(sl->client, sl->company, token, &s);
    if (st != AV_OK) {
        check_fail(CHK_UNEXPECTED, "av_session_new(%s): %s: %s", sl->company, av_status_name(st),
                   av_last_error_message());
        return -1;
    }
    pthread_mutex_lock(&sl->pm);
    copy_str(sl->persisted, sizeof sl->persisted, token);
    pthread_mutex_unlock(&sl->pm);
    if (av_session_on_refresh_token(s, on_rotate, sl) != AV_OK ||
        (sl->margin_s && av_session_set_refresh_margin_s(s, sl->margin_s) != AV_OK)) {
        check_fail(CHK_UNEXPECTED, "configuring session %s failed: %s", sl->company,
                   av_last_error_message());
    }
    sl->s = s;
    return 0;
}

/* The log callback: counts messages, and no message may hold a session's refresh token. */
static void on_log(void *user_data, int32_t level, const char *message) {
    (void)user_data;
    if (level >= 1 && level <= 5) atomic_fetch_add(&g_log_by_level[level], 1);
    if (!message) return;
    for (int i = 0; i < g_nslots; i++) {
        char tok[TOKEN_MAX];
        persisted_copy(&g_slots[i], tok);
        if (*tok && strstr(message, tok))
            check_fail(CHK_SECRET, "a log message holds the refresh token of session %s",
                       g_slots[i].company);
    }
}

/* A chain's refresh token was rejected (AV_ERR_AUTHENTICATION): judge the loss. `state` is
 * the token's state on the mock (token_state). */
static void judge_loss(const char *what, int state) {
    if (state == 1) {
        check_fail(CHK_LOST, "%s: refresh token rejected although the mock lists it valid", what);
        atomic_fetch_add(&g_lost_real, 1);
    } else if (g_lossy) {
        atomic_fetch_add(&g_lost_expected, 1); /* bounded at the end by the auth delays */
    } else {
        check_fail(CHK_LOST, "%s: refresh token %s on the mock: the chain is lost", what,
                   state == 0 ? "revoked/expired" : "not listed");
        atomic_fetch_add(&g_lost_real, 1);
    }
}

static int remote_token_state(ctl_t *c, const char *tok) {
    char *list = NULL;
    int st = ctl_req(c, "GET", "/_mock/tokens", NULL, &list);
    int r = -2;
    if (st == 200) r = token_state(list, tok);
    else check_fail(CHK_CONTROL, "GET /_mock/tokens failed (HTTP %d)", st);
    free(list);
    return r;
}

/* After AV_ERR_AUTHENTICATION from slot `sl` (generation `gen`): judge the loss and replace
 * the session by one on a freshly minted token, so the soak goes on. */
static void recover_slot(ctl_t *c, slot_t *sl, unsigned gen) {
    pthread_rwlock_wrlock(&sl->lk);
    if (sl->gen != gen) { /* another thread did it already */
        pthread_rwlock_unlock(&sl->lk);
        return;
    }
    char *cur = NULL, persisted[TOKEN_MAX], what[96];
    av_session_refresh_token(sl->s, &cur);
    persisted_copy(sl, persisted);
    if (!cur || strcmp(cur, persisted) != 0)
        check_fail(CHK_PERSISTED, "session %s: at the loss the session's token differs from the "
                                  "persisted copy", sl->company);
    snprintf(what, sizeof what, "session %s", sl->company);
    judge_loss(what, cur ? remote_token_state(c, cur) : -1);
    av_string_free(cur);
    char fresh[TOKEN_MAX];
    if (mint(c, sl->company, fresh, sizeof fresh) == 0) {
        av_session *old = sl->s;
        if (slot_open(sl, fresh) == 0) {
            av_session_free(old);
            sl->gen++;
        } else {
            sl->s = old;
        }
    }
    pthread_rwlock_unlock(&sl->lk);
}

/* ---- workers -------------------------------------------------------------------------- */

static av_client *g_client_a, *g_client_b; /* A: 2 retries; B: no retries */

typedef struct {
    int id;
    pthread_t th;
    rng_t rng;
    ctl_t ctl;
    slot_t *shared[2];
    slot_t *own;
    const av_client *chain_client;
    char chain_company[48];
    char chain_token[TOKEN_MAX];
    char spare[TOKEN_MAX]; /* a minted token for av_refresh */
    unsigned long long ops;
    atomic_int done;
} worker_t;

static worker_t g_workers[MAX_THREADS];
static int g_nthreads;

static int has_company(const char *reply, const char *company) {
    char got[64];
    return json_str(reply, "companyId", got, sizeof got) == 0 && strcmp(got, company) == 0;
}

static void op_session_token(worker_t *w, slot_t *sl, int op) {
    char *tok = NULL, secret[TOKEN_MAX];
    int64_t exp = 0;
    pthread_rwlock_rdlock(&sl->lk);
    unsigned gen = sl->gen;
    av_status st = av_session_access_token(sl->s, &tok, &exp);
    pthread_rwlock_unlock(&sl->lk);
    if (st == AV_OK) {
        if (!tok || !*tok) check_fail(CHK_INTEGRITY, "session %s: empty access token", sl->company);
        if (exp + 2 < (int64_t)time(NULL))
            check_fail(CHK_INTEGRITY, "session %s: served a token that expired at %lld (now %lld)",
                       sl->company, (long long)exp, (long long)time(NULL));
    } else if (tok != NULL) {
        check_fail(CHK_INTEGRITY, "session %s: out-pointer not NULL on failure", sl->company);
    }
    av_string_free(tok);
    persisted_copy(sl, secret);
    record(op, st, secret);
    if (st == AV_ERR_AUTHENTICATION) recover_slot(&w->ctl, sl, gen);
}

static const char *METHODS[3] = {"roomService/create", "userService/get",
                                 "authenticationService/isAuthenticated"};

static void check_reply(const char *who, const char *company, int m, const char *reply) {
    if (!reply || !strstr(reply, "\"OK\"")) {
        check_fail(CHK_INTEGRITY, "%s %s: success without an OK reply", who, METHODS[m]);
    } else if (m < 2 && !has_company(reply, company)) {
        check_fail(CHK_INTEGRITY, "%s %s: reply is for another company (want %s)", who, METHODS[m],
                   company);
    }
}

static void op_session_call(worker_t *w, slot_t *sl) {
    int m = (int)rng_below(&w->rng, 3);
    const char *body = m == 0 ? "{\"room\": {\"name\": \"soak\"}}" : NULL;
    char *reply = NULL, secret[TOKEN_MAX];
    pthread_rwlock_rdlock(&sl->lk);
    unsigned gen = sl->gen;
    av_status st = av_session_call(sl->s, METHODS[m], body, &reply);
    pthread_rwlock_unlock(&sl->lk);
    if (st == AV_OK) check_reply("session", sl->company, m, reply);
    av_string_free(reply);
    persisted_copy(sl, secret);
    record(OP_SESSION_CALL, st, secret);
    if (st == AV_ERR_AUTHENTICATION) recover_slot(&w->ctl, sl, gen);
}

static void op_client_call(worker_t *w, slot_t *sl) {
    char *tok = NULL, *reply = NULL;
    pthread_rwlock_rdlock(&sl->lk);
    unsigned gen = sl->gen;
    av_status st = av_session_access_token(sl->s, &tok, NULL);
    pthread_rwlock_unlock(&sl->lk);
    record(sl->shared ? OP_TOKEN_SHARED : OP_TOKEN_OWN, st, NULL);
    if (st == AV_ERR_AUTHENTICATION) recover_slot(&w->ctl, sl, gen);
    if (st != AV_OK) return;
    const av_client *c = (w->id & 1) ? g_client_b : g_client_a;
    st = av_client_call(c, tok, "roomService/create", "{\"room\": {\"name\": \"direct\"}}", &reply);
    if (st == AV_OK) check_reply("client", sl->company, 0, reply);
    record(OP_CLIENT_CALL, st, NULL);
    av_string_free(reply);
    av_string_free(tok);
}

static void op_chain_refresh(worker_t *w) {
    av_tokens *t = NULL;
    av_status st = av_client_refresh(w->chain_client, w->chain_company, w->chain_token, &t);
    record(OP_CLIENT_REFRESH, st, w->chain_token);
    if (st == AV_OK) {
        const char *rt = av_tokens_refresh_token(t);
        if (!*av_tokens_access_token(t))
            check_fail(CHK_INTEGRITY, "chain %d: empty access token", w->id);
        if (strcmp(av_tokens_company_id(t), w->chain_company) != 0)
            check_fail(CHK_INTEGRITY, "chain %d: tokens for company %s", w->id,
                       av_tokens_company_id(t));
        if (av_tokens_refresh_expires_at(t) <= (int64_t)time(NULL))
            check_fail(CHK_INTEGRITY, "chain %d: refresh token expiry %lld is not in the future",
                       w->id, (long long)av_tokens_refresh_expires_at(t));
        if (!*rt || strlen(rt) >= TOKEN_MAX || strcmp(rt, w->chain_token) == 0) {
            check_fail(CHK_INTEGRITY, "chain %d: the server rotates but no new refresh token came "
                                      "back", w->id);
        } else {
            copy_str(w->chain_token, sizeof w->chain_token, rt);
            atomic_fetch_add(&g_rot_chain, 1);
        }
    } else if (t != NULL) {
        check_fail(CHK_INTEGRITY, "chain %d: out-pointer not NULL on failure", w->id);
        t = NULL;
    } else if (st == AV_ERR_AUTHENTICATION) {
        char what[64];
        snprintf(what, sizeof what, "one-shot chain %d", w->id);
        judge_loss(what, remote_token_state(&w->ctl, w->chain_token));
        mint(&w->ctl, w->chain_company, w->chain_token, sizeof w->chain_token);
    }
    av_tokens_free(t);
}

static void op_av_refresh(worker_t *w) {
    if (!*w->spare && mint(&w->ctl, "c-oneshot", w->spare, sizeof w->spare) != 0) return;
    char *tok = NULL;
    int64_t exp = 0;
    av_status st = av_refresh("c-oneshot", w->spare, &tok, &exp);
    record(OP_AV_REFRESH, st, w->spare);
    if (st == AV_OK) {
        if (!tok || !*tok) check_fail(CHK_INTEGRITY, "av_refresh: empty access token");
        if (exp < (int64_t)time(NULL))
            check_fail(CHK_INTEGRITY, "av_refresh: expiry %lld in the past", (long long)exp);
        w->spare[0] = '\0'; /* rotated away: av_refresh cannot hand the new one back */
    } else if (st == AV_ERR_TIMEOUT) {
        /* The mock may or may not have rotated it: do not reuse it. */
        w->spare[0] = '\0';
        atomic_fetch_add(&g_spare_discarded, 1);
    } else if (st == AV_ERR_AUTHENTICATION) {
        /* Earlier failures of this token were all answered before the server acted on
           them, and timeouts discard it: a rejection means the library lost it. */
        check_fail(CHK_LOST, "av_refresh: a minted token that only failed before was rejected");
        atomic_fetch_add(&g_lost_real, 1);
        w->spare[0] = '\0';
    }
    av_string_free(tok);
}

static void op_login(worker_t *w) {
    av_tokens *t = NULL;
    av_status st;
    if (rng_below(&w->rng, 2))
        st = av_login_password(g_client_a, "alice", "wonderland", "c-100", &t);
    else
        st = av_login_api_key(g_client_a, "ak-demo", "ak-secret", "c-100", &t);
    record(OP_LOGIN, st, NULL);
    if (st == AV_OK && (!*av_tokens_refresh_token(t) || strcmp(av_tokens_company_id(t), "c-100")))
        check_fail(CHK_INTEGRITY, "sign-in: no refresh token or wrong company");
    av_tokens_free(t);
}

static void op_session_rt(slot_t *sl) {
    char *rt = NULL;
    pthread_rwlock_rdlock(&sl->lk);
    av_status st = av_session_refresh_token(sl->s, &rt);
    pthread_rwlock_unlock(&sl->lk);
    if (st == AV_OK && (!rt || !*rt))
        check_fail(CHK_INTEGRITY, "session %s: empty refresh token", sl->company);
    av_string_free(rt);
    record(OP_SESSION_RT, st, NULL);
}

static void *worker_main(void *arg) {
    worker_t *w = arg;
    while (!atomic_load(&g_stop)) {
        unsigned r = rng_below(&w->rng, 100);
        slot_t *sh = w->shared[rng_below(&w->rng, 2)];
        slot_t *any = rng_below(&w->rng, 2) ? sh : w->own;
        if (r < 30) op_session_token(w, sh, OP_TOKEN_SHARED);
        else if (r < 45) op_session_token(w, w->own, OP_TOKEN_OWN);
        else if (r < 68) op_session_call(w, any);
        else if (r < 78) op_chain_refresh(w);
        else if (r < 83) op_av_refresh(w);
        else if (r < 89) op_client_call(w, any);
        else if (r < 91) op_login(w);
        else op_session_rt(any);
        w->ops++;
    }
    atomic_store(&w->done, 1);
    return NULL;
}

/* ---- the fault driver ----------------------------------------------------------------- */

enum { F503, FCLOSE, FDELAY, FGARBAGE, FTRUNC, FERR200, FOUTDATED, FOVERSIZED, F429, FHANG, FKINDS };
typedef struct {
    const char *name;
    double rate; /* target share of API requests */
    unsigned long long injected;
} fkind_t;
static fkind_t g_fk[FKINDS] = {
    {"HTTP 503 (plain text)", 0.05, 0},
    {"close (dropped connection)", 0.01, 0},
    {"delay past the client timeout", 0.01, 0},
    {"garbage body", 0.004, 0},
    {"truncated body", 0.004, 0},
    {"HTTP 200 INTERNAL_ERROR", 0.002, 0},
    {"HTTP 401 TOKEN_OUTDATED (calls)", 0.002, 0},
    {"oversized reply (authenticate, 2 MiB)", 0.001, 0},
    {"HTTP 429 Retry-After 1 s", 0.001, 0},
    {"hang (no answer ever)", 0.001, 0},
};
static unsigned long long g_auth_delays; /* delays that could hit authenticate */
static unsigned long long g_expire_storms, g_lifetime_changes, g_driver_ticks;
static char g_final_stats[1024];

static const char *PATHS_ANY[5] = {NULL, "Service/authenticate", "roomService/", "userService/",
                                   "isAuthenticated"};
static const char *PATHS_CALLS[3] = {"roomService/", "userService/", "isAuthenticated"};

/* How many requests in a row to fault: 1 .. min(deficit, cap). */
static unsigned burst(rng_t *rng, double deficit, unsigned cap) {
    unsigned most = deficit >= (double)cap ? cap : deficit >= 1.0 ? (unsigned)deficit : 1;
    return 1 + rng_below(rng, most);
}

static void *driver_main(void *arg) {
    (void)arg;
    ctl_t c = {-1};
    rng_t rng;
    rng_seed(&rng, 999);
    unsigned long long last_faults = 0;
    int cur = -1, cur_auth_delay = 0;
    double next_lifetime = now_s() + 3.0, next_expire = now_s() + 7.0 + rng_below(&rng, 6);
    for (int final = 0; final < 2; final++) {
        while (final || !atomic_load(&g_stop)) {
            char patch[512], *stats = NULL;
            int n = snprintf(patch, sizeof patch, "{\"fault\": null");
            if (!final && now_s() >= next_lifetime) {
                n += snprintf(patch + n, sizeof patch - (size_t)n, ", \"tokenLifetimeS\": %u",
                              2 + rng_below(&rng, 3));
                next_lifetime = now_s() + 2.0 + rng_below(&rng, 4);
                g_lifetime_changes++;
            }
            snprintf(patch + n, sizeof patch - (size_t)n, "}");
            if (ctl_req(&c, "POST", "/_mock/config", patch, NULL) != 200)
                check_fail(CHK_CONTROL, "POST /_mock/config (clear) failed");
            int st = ctl_req(&c, "GET", "/_mock/stats", NULL, &stats);
            if (st != 200) {
                check_fail(CHK_CONTROL, "GET /_mock/stats failed (HTTP %d)", st);
                free(stats);
                sleep_ms(50);
                continue;
            }
            long long req = json_int(stats, "requests"), faults = json_int(stats, "faults");
            if (faults >= 0 && (unsigned long long)faults >= last_faults) {
                unsigned long long d = (unsigned long long)faults - last_faults;
                if (cur >= 0) g_fk[cur].injected += d;
                if (cur_auth_delay) g_auth_delays += d;
                last_faults = (unsigned long long)faults;
            }
            if (final) {
                copy_str(g_final_stats, sizeof g_final_stats, stats);
                free(stats);
                break;
            }
            free(stats);
            if (now_s() >= next_expire) {
                if (ctl_req(&c, "POST", "/_mock/expire", "", NULL) == 200) g_expire_storms++;
                next_expire = now_s() + 10.0 + rng_below(&rng, 10);
            }
            /* The next fault: a kind drawn by how far each lags behind its target. */
            double deficit[FKINDS], total = 0;
            for (int k = 0; k < FKINDS; k++) {
                deficit[k] = g_fk[k].rate * (double)req - (double)g_fk[k].injected;
                if (deficit[k] < 1.0) deficit[k] = 0;
                total += deficit[k];
            }
            cur = -1;
            cur_auth_delay = 0;
            if (total > 0) {
                double pick = (double)(rng_next(&rng) >> 11) / 9007199254740992.0 * total;
                for (int k = 0; k < FKINDS && cur < 0; k++) {
                    if (pick < deficit[k] && deficit[k] > 0) cur = k;
                    pick -= deficit[k];
                }
                if (cur < 0) cur = F503;
                const char *path;
                char extra[96] = "";
                unsigned count = burst(&rng, deficit[cur], 3);
                switch (cur) {
                case F503:
                    path = PATHS_ANY[rng_below(&rng, 5)];
                    /* bursts of up to 8: spread over the threads, mostly absorbed by the
                       library's retries */
                    count = burst(&rng, deficit[cur], 8);
                    snprintf(extra, sizeof extra, "\"kind\": \"status\", \"status\": 503");
                    break;
                case FCLOSE:
                    path = PATHS_ANY[rng_below(&rng, 5)];
                    snprintf(extra, sizeof extra, "\"kind\": \"close\"");
                    break;
                case FDELAY:
                    if (g_lossy) {
                        path = PATHS_ANY[rng_below(&rng, 5)];
                        cur_auth_delay = path == NULL || strstr(path, "authenticate") != NULL;
                    } else {
                        path = PATHS_CALLS[rng_below(&rng, 3)];
                    }
                    /* Past the timeout. The mock drops a delayed request whose client has
                       gone, so a delay on authenticate loses a rotation only when the mock
                       wakes about when the client gives up: in lossy mode such delays are
                       aimed at that window (timeout -30 .. +30 ms; a retried request has
                       less time left, so these time out too). */
                    snprintf(extra, sizeof extra, "\"kind\": \"delay\", \"delayMs\": %u",
                             cur_auth_delay ? CLIENT_TIMEOUT_MS - 3 + rng_below(&rng, 5)
                                            : CLIENT_TIMEOUT_MS + 200 + rng_below(&rng, 800));
                    break;
                case FGARBAGE:
                    path = PATHS_ANY[rng_below(&rng, 5)];
                    snprintf(extra, sizeof extra, "\"kind\": \"garbage\"");
                    break;
                case FTRUNC:
                    path = PATHS_ANY[rng_below(&rng, 5)];
                    snprintf(extra, sizeof extra, "\"kind\": \"truncated\"");
                    break;
                case FERR200:
                    path = PATHS_ANY[rng_below(&rng, 5)];
                    snprintf(extra, sizeof extra,
                             "\"kind\": \"error200\", \"apiStatus\": \"INTERNAL_ERROR\"");
                    break;
                case FOUTDATED:
                    path = PATHS_CALLS[rng_below(&rng, 2)];
                    snprintf(extra, sizeof extra,
                             "\"kind\": \"status\", \"status\": 401, \"apiStatus\": "
                             "\"TOKEN_OUTDATED\"");
                    break;
                case FOVERSIZED:
                    path = "Service/authenticate";
                    snprintf(extra, sizeof extra, "\"kind\": \"oversized\", \"sizeBytes\": 2097152");
                    break;
                case F429:
                    path = PATHS_ANY[rng_below(&rng, 5)];
                    snprintf(extra, sizeof extra, "\"kind\": \"retryAfter\", \"retryAfterS\": 1");
                    break;
                default: /* FHANG: never acted on, so safe on authenticate too */
                    path = PATHS_ANY[rng_below(&rng, 5)];
                    count = 1;
                    snprintf(extra, sizeof extra, "\"kind\": \"hang\"");
                    break;
                }
                char pathkv[64] = "";
                if (path) snprintf(pathkv, sizeof pathkv, ", \"path\": \"%s\"", path);
                snprintf(patch, sizeof patch, "{\"fault\": {%s, \"count\": %u%s}}", extra, count,
                         pathkv);
                if (ctl_req(&c, "POST", "/_mock/config", patch, NULL) != 200) {
                    check_fail(CHK_CONTROL, "POST /_mock/config %s refused", patch);
                    cur = -1;
                    cur_auth_delay = 0;
                }
            }
            g_driver_ticks++;
            sleep_ms(2 + rng_below(&rng, 7));
        }
    }
    ctl_close(&c);
    return NULL;
}

/* ---- main ----------------------------------------------------------------------------- */

static long env_long(const char *name, long def, long lo, long hi) {
    const char *v = getenv(name);
    if (!v || !*v) return def;
    char *end;
    long x = strtol(v, &end, 10);
    if (*end || x < lo || x > hi) {
        fprintf(stderr, "soak: %s must be an integer from %ld to %ld\n", name, lo, hi);
        exit(2);
    }
    return x;
}

static void setup_slot(slot_t *sl, ctl_t *c, const av_client *client, const char *cname,
                       const char *company, uint32_t margin, int shared, const char *token) {
    pthread_rwlockattr_t ra;
    pthread_rwlockattr_init(&ra);
    /* a recovering writer must not starve behind 8 readers */
    pthread_rwlockattr_setkind_np(&ra, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    pthread_rwlock_init(&sl->lk, &ra);
    pthread_rwlockattr_destroy(&ra);
    pthread_mutex_init(&sl->pm, NULL);
    sl->client = client;
    sl->client_name = cname;
    copy_str(sl->company, sizeof sl->company, company);
    sl->margin_s = margin;
    sl->shared = shared;
    char tok[TOKEN_MAX];
    if (!token) {
        if (mint(c, company, tok, sizeof tok) != 0) {
            printf("soak: FAIL (setup: POST /_mock/mint failed)\n");
            exit(1);
        }
        token = tok;
    }
    if (slot_open(sl, token) != 0) {
        printf("soak: FAIL (setup: av_session_new failed: %s)\n", av_last_error_message());
        exit(1);
    }
}

int main(int argc, char **argv) {
    if (argc != 2 || atoi(argv[1]) <= 0 || atoi(argv[1]) > 65535) {
        fprintf(stderr, "usage: %s MOCK_PORT  (see soak/run.sh)\n", argv[0]);
        return 2;
    }
    g_port = atoi(argv[1]);
    long seconds = env_long("SOAK_SECONDS", 120, 5, 86400);
    g_nthreads = (int)env_long("SOAK_THREADS", 8, 2, MAX_THREADS);
    g_lossy = (int)env_long("SOAK_AUTH_DELAYS", 0, 0, 1);
    double warmup = seconds >= 20 ? 10.0 : (double)seconds / 2.0;

    /* The default client (av_refresh, sessions on NULL) reads these once, lazily. */
    char base[96], tms[16];
    snprintf(base, sizeof base, "http://127.0.0.1:%d/json/v1/", g_port);
    snprintf(tms, sizeof tms, "%d", CLIENT_TIMEOUT_MS);
    setenv("ALFAVIEW_API_URL", base, 1);
    setenv("ALFAVIEW_TIMEOUT_MS", tms, 1);
    unsetenv("ALFAVIEW_CA_FILE");

    ctl_t mc = {-1};
    if (ctl_req(&mc, "POST", "/_mock/reset", "", NULL) != 200 ||
        ctl_req(&mc, "POST", "/_mock/config",
                "{\"rotate\": true, \"tokenLifetimeS\": 3, \"fault\": null}", NULL) != 200) {
        fprintf(stderr, "soak: the mock at port %d does not answer\nsoak: FAIL (no mock)\n", g_port);
        return 1;
    }
    av_set_log_callback(on_log, NULL, 3);

    /* Clients: A retries transient failures twice, B not at all; plus the default one. */
    av_client_builder *b = av_client_builder_new();
    if (!b || av_client_builder_set_base_url(b, base) != AV_OK ||
        av_client_builder_set_timeout_ms(b, CLIENT_TIMEOUT_MS) != AV_OK ||
        av_client_build(b, &g_client_a) != AV_OK || av_client_builder_set_max_retries(b, 0) ||
        av_client_build(b, &g_client_b) != AV_OK) {
        fprintf(stderr, "soak: building clients failed: %s\nsoak: FAIL (setup)\n",
                av_last_error_message());
        return 1;
    }
    av_client_builder_free(b);

    /* Sessions: 0 shared by all threads, 1 by the first half, 2 by the second half, then
       one per thread. Each has its own company, so a reply for a wrong session shows. */
    av_tokens *login = NULL;
    if (av_login_password(g_client_a, "alice", "wonderland", "c-200", &login) != AV_OK) {
        fprintf(stderr, "soak: sign-in failed: %s\nsoak: FAIL (setup)\n", av_last_error_message());
        return 1;
    }
    setup_slot(&g_slots[0], &mc, g_client_a, "A", "c-200", 0, 1, av_tokens_refresh_token(login));
    av_tokens_free(login);
    setup_slot(&g_slots[1], &mc, NULL, "default", "c-soak-shared-1", 1, 1, NULL);
    setup_slot(&g_slots[2], &mc, g_client_b, "B", "c-soak-shared-2", 0, 1, NULL);
    for (int t = 0; t < g_nthreads; t++) {
        char company[48];
        snprintf(company, sizeof company, "c-soak-own-%d", t);
        const av_client *cl = t % 3 == 0 ? g_client_a : t % 3 == 1 ? g_client_b : NULL;
        setup_slot(&g_slots[3 + t], &mc, cl, t % 3 == 0 ? "A" : t % 3 == 1 ? "B" : "default",
                   company, (t & 1) ? 1 : 0, 0, NULL);
    }
    g_nslots = 3 + g_nthreads;

    for (int t = 0; t < g_nthreads; t++) {
        worker_t *w = &g_workers[t];
        w->id = t;
        w->ctl.fd = -1;
        rng_seed(&w->rng, (uint64_t)t + 1);
        w->shared[0] = &g_slots[0];
        w->shared[1] = &g_slots[t < g_nthreads / 2 ? 1 : 2];
        w->own = &g_slots[3 + t];
        w->chain_client = (t & 1) ? g_client_b : g_client_a;
        snprintf(w->chain_company, sizeof w->chain_company, "c-chain-%d", t);
        if (mint(&mc, w->chain_company, w->chain_token, sizeof w->chain_token) != 0) return 1;
    }

    double t0 = now_s();
    pthread_t driver;
    pthread_create(&driver, NULL, driver_main, NULL);
    for (int t = 0; t < g_nthreads; t++) pthread_create(&g_workers[t].th, NULL, worker_main, &g_workers[t]);

    long rss_start = -1, heap_start = -1;
    double next_report = t0 + 10.0;
    while (now_s() - t0 < (double)seconds) {
        sleep_ms(100);
        if (rss_start < 0 && now_s() - t0 >= warmup) {
            rss_start = rss_kib();
            heap_start = heap_kib();
        }
        if (now_s() >= next_report) {
            unsigned long long n = 0;
            for (int k = 0; k < OP_KINDS; k++) n += atomic_load(&g_ops[k].n);
            fprintf(stderr, "soak: t=%3.0f s  requests %llu  rotations %llu  RSS %ld KiB  heap in use %ld KiB\n",
                    now_s() - t0, n, (unsigned long long)atomic_load(&g_rot_session) +
                                         atomic_load(&g_rot_chain), rss_kib(), heap_kib());
            next_report += 10.0;
        }
    }
    long heap_end = heap_kib(); /* while the workers still run, like heap_start */
    atomic_store(&g_stop, 1);
    double t_stop = now_s();
    int stuck = 0;
    for (;;) {
        int all = 1;
        for (int t = 0; t < g_nthreads; t++) all &= atomic_load(&g_workers[t].done);
        if (all) break;
        if (now_s() - t_stop > STOP_GRACE_S) {
            stuck = 1;
            break;
        }
        sleep_ms(20);
    }
    if (stuck) {
        fflush(stdout);
        printf("soak: FAIL (workers still busy %.0f s after the stop: a hang)\n", STOP_GRACE_S);
        fflush(stdout);
        _exit(1);
    }
    double elapsed = now_s() - t0;
    for (int t = 0; t < g_nthreads; t++) pthread_join(g_workers[t].th, NULL);
    pthread_join(driver, NULL); /* it clears the fault and takes the final stats */
    long rss_end = rss_kib();
    unsigned long long rot_during = atomic_load(&g_rot_session);

    /* ---- end checks: persisted == session token, valid on the mock -------------------- */
    char *list = NULL;
    int persisted_ok = 0, chains_ok = 0, final_ok = 0;
    if (ctl_req(&mc, "GET", "/_mock/tokens", NULL, &list) != 200)
        check_fail(CHK_CONTROL, "GET /_mock/tokens failed");
    for (int i = 0; i < g_nslots; i++) {
        slot_t *sl = &g_slots[i];
        char *cur = NULL, per[TOKEN_MAX];
        av_status st = av_session_refresh_token(sl->s, &cur);
        persisted_copy(sl, per);
        int state = st == AV_OK ? token_state(list, cur) : -1;
        if (st != AV_OK || strcmp(cur, per) != 0)
            check_fail(CHK_PERSISTED, "session %s: its refresh token differs from the copy the "
                                      "callback persisted", sl->company);
        else if (state != 1)
            check_fail(CHK_PERSISTED, "session %s: its refresh token is %s on the mock", sl->company,
                       state == 0 ? "not valid" : "not listed");
        else
            persisted_ok++;
        av_string_free(cur);
    }
    for (int t = 0; t < g_nthreads; t++) {
        int state = token_state(list, g_workers[t].chain_token);
        if (state == 1) chains_ok++;
        else check_fail(CHK_PERSISTED, "one-shot chain %d: its refresh token is %s on the mock", t,
                        state == 0 ? "not valid" : "not listed");
    }
    free(list);
    list = NULL;

    /* ---- then every session must renew once more (and rotate) with no faults --------- */
    ctl_req(&mc, "POST", "/_mock/expire", "", NULL);
    for (int i = 0; i < g_nslots; i++) {
        slot_t *sl = &g_slots[i];
        char before[TOKEN_MAX], after[TOKEN_MAX], *reply = NULL, *cur = NULL;
        persisted_copy(sl, before);
        av_status st = av_session_call(sl->s, "userService/get", NULL, &reply);
        persisted_copy(sl, after);
        av_status st2 = av_session_refresh_token(sl->s, &cur);
        if (st != AV_OK)
            check_fail(CHK_FINAL, "session %s: %s: %s", sl->company, av_status_name(st),
                       av_last_error_message());
        else if (!has_company(reply, sl->company))
            check_fail(CHK_FINAL, "session %s: reply for another company", sl->company);
        else if (strcmp(before, after) == 0)
            check_fail(CHK_FINAL, "session %s: renewed without the rotation callback", sl->company);
        else if (st2 != AV_OK || strcmp(cur, after) != 0)
            check_fail(CHK_FINAL, "session %s: token differs from the persisted copy", sl->company);
        else
            final_ok++;
        av_string_free(reply);
        av_string_free(cur);
    }
    if (ctl_req(&mc, "GET", "/_mock/tokens", NULL, &list) == 200) {
        for (int i = 0; i < g_nslots; i++) {
            char per[TOKEN_MAX];
            persisted_copy(&g_slots[i], per);
            if (token_state(list, per) != 1) {
                check_fail(CHK_FINAL, "session %s: the rotated token is not valid on the mock",
                           g_slots[i].company);
                final_ok--;
            }
        }
    }
    free(list);
    for (int t = 0; t < g_nthreads; t++) {
        av_tokens *tk = NULL;
        worker_t *w = &g_workers[t];
        if (av_client_refresh(w->chain_client, w->chain_company, w->chain_token, &tk) != AV_OK)
            check_fail(CHK_FINAL, "one-shot chain %d: %s", t, av_last_error_message());
        av_tokens_free(tk);
    }

    /* ---- tear down -------------------------------------------------------------------- */
    for (int i = 0; i < g_nslots; i++) av_session_on_refresh_token(g_slots[i].s, NULL, NULL);
    av_set_log_callback(NULL, NULL, 0);
    for (int i = 0; i < g_nslots; i++) av_session_free(g_slots[i].s);
    av_client_free(g_client_a);
    av_client_free(g_client_b);
    for (int t = 0; t < g_nthreads; t++) ctl_close(&g_workers[t].ctl);
    ctl_close(&mc);

    /* ---- figures ---------------------------------------------------------------------- */
    unsigned long long total = 0, ok = 0, errs = 0;
    for (int k = 0; k < OP_KINDS; k++) {
        total += atomic_load(&g_ops[k].n);
        ok += atomic_load(&g_ops[k].ok);
    }
    errs = total - ok;
    double rps = (double)total / elapsed;
    unsigned long long finj = 0;
    for (int k = 0; k < FKINDS; k++) finj += g_fk[k].injected;
    const char *fs = g_final_stats;
    long long m_req = json_int(fs, "requests"), m_faults = json_int(fs, "faults");
    long long m_refail = json_int(fs, "refreshFailures");
    int rss_known = rss_start >= 0 && rss_end >= 0;
    long growth = rss_known ? rss_end - rss_start : 0;

    printf("==== alfaview-auth soak (library %s) ====\n", av_version());
    printf("duration            %.1f s (warm-up %.0f s), mode: %s\n", elapsed, warmup,
           g_lossy ? "SOAK_AUTH_DELAYS=1 (delays past the timeout on every path)"
                   : "strict (delays past the timeout only on non-authenticate paths)");
    printf("threads             %d workers + 1 fault driver\n", g_nthreads);
    printf("sessions            %d (3 shared: all threads / first half / second half; %d per "
           "thread) on clients A (2 retries), B (no retries), default\n",
           g_nslots, g_nthreads);
    printf("config              rotate on, tokenLifetimeS 2-4 (changed %llu times), client "
           "timeout %d ms, expire storms %llu\n",
           g_lifetime_changes, CLIENT_TIMEOUT_MS, g_expire_storms);
    printf("requests by kind    %-38s %10s %10s %10s\n", "", "requests", "ok", "failed");
    for (int k = 0; k < OP_KINDS; k++) {
        unsigned long long n = atomic_load(&g_ops[k].n), o = atomic_load(&g_ops[k].ok);
        printf("                    %-38s %10llu %10llu %10llu", op_names[k], n, o, n - o);
        const char *sep = "  (";
        for (int s = 1; s < NSTATUS; s++) {
            unsigned long long e = atomic_load(&g_op_err[k][s]);
            if (e) {
                printf("%s%s %llu", sep, av_status_name(s) + 7, e); /* without "AV_ERR_" */
                sep = ", ";
            }
        }
        printf("%s\n", *sep == ',' ? ")" : "");
    }
    printf("                    %-38s %10llu %10llu %10llu  (%.0f/s)\n", "total", total, ok, errs,
           rps);
    printf("mock stats          %s\n", fs);
    printf("faults injected     %llu (mock stats \"faults\": %lld = %.2f%% of %lld API requests)\n",
           finj, m_faults, m_req > 0 ? 100.0 * (double)m_faults / (double)m_req : 0.0, m_req);
    for (int k = 0; k < FKINDS; k++)
        printf("                    %-40s %8llu  (%.2f%%)\n", g_fk[k].name, g_fk[k].injected,
               m_req > 0 ? 100.0 * (double)g_fk[k].injected / (double)m_req : 0.0);
    printf("                    delays that could hit authenticate: %llu\n", g_auth_delays);
    printf("errors by status   ");
    int any = 0;
    for (int s = 1; s < NSTATUS; s++) {
        unsigned long long n = atomic_load(&g_err_by_status[s]);
        if (n) {
            printf(" %s %llu", av_status_name(s), n);
            any = 1;
        }
    }
    if (atomic_load(&g_err_undefined))
        printf(" UNDEFINED %llu", (unsigned long long)atomic_load(&g_err_undefined)), any = 1;
    printf("%s\n", any ? "" : " none");
    printf("rotations seen      %llu by session callbacks (+%llu at the end check), %llu by "
           "one-shot av_client_refresh\n",
           rot_during, (unsigned long long)atomic_load(&g_rot_session) - rot_during,
           (unsigned long long)atomic_load(&g_rot_chain));
    printf("chains lost         %llu unexpected; %llu expected (delayed rotation); mock "
           "refreshFailures %lld; av_refresh tokens discarded after a timeout %llu\n",
           (unsigned long long)atomic_load(&g_lost_real),
           (unsigned long long)atomic_load(&g_lost_expected), m_refail,
           (unsigned long long)atomic_load(&g_spare_discarded));
    printf("token check         %d/%d sessions: refresh token == persisted copy and valid; "
           "%d/%d one-shot chains valid; final renewal after /_mock/expire %d/%d\n",
           persisted_ok, g_nslots, chains_ok, g_nthreads, final_ok, g_nslots);
    printf("library log         error %llu, warn %llu, info %llu\n",
           (unsigned long long)atomic_load(&g_log_by_level[1]),
           (unsigned long long)atomic_load(&g_log_by_level[2]),
           (unsigned long long)atomic_load(&g_log_by_level[3]));
    printf("RSS                 start %ld KiB (at %.0f s), end %ld KiB, growth %ld KiB (limit %d "
           "KiB)\n",
           rss_start, warmup, rss_end, growth, RSS_LIMIT_KIB);
    printf("heap in use         start %ld KiB, at the stop %ld KiB (malloc's own count: tells a "
           "leak from fragmentation)\n", heap_start, heap_end);
    printf("progress            %.0f requests/s (floor %.0f); per thread:", rps, MIN_OPS_PER_S);
    int idle = 0;
    for (int t = 0; t < g_nthreads; t++) {
        printf(" %llu", g_workers[t].ops);
        if (g_workers[t].ops == 0) idle++;
    }
    printf("\n");

    /* ---- verdict ---------------------------------------------------------------------- */
    char why[1024] = "";
    size_t wl = 0;
#define WHY(...) (wl += (size_t)snprintf(why + wl, wl < sizeof why ? sizeof why - wl : 0, __VA_ARGS__))
    for (int c = 0; c < CHK_COUNT; c++)
        if (atomic_load(&g_chk[c])) WHY("%s%s: %llu", wl ? "; " : "", chk_names[c],
                                        (unsigned long long)atomic_load(&g_chk[c]));
    if (!rss_known) WHY("%sVmRSS unreadable", wl ? "; " : "");
    else if (growth >= RSS_LIMIT_KIB) WHY("%sRSS growth %ld KiB", wl ? "; " : "", growth);
    if (rps < MIN_OPS_PER_S || idle) WHY("%sno progress (%.0f/s, %d idle threads)", wl ? "; " : "", rps, idle);
    if (!g_lossy && m_refail != 0)
        WHY("%smock saw %lld rejected refreshes", wl ? "; " : "", m_refail);
    if (g_lossy && atomic_load(&g_lost_expected) > g_auth_delays)
        WHY("%smore expected losses (%llu) than delays on authenticate (%llu)", wl ? "; " : "",
            (unsigned long long)atomic_load(&g_lost_expected), g_auth_delays);
    if (m_faults <= 0) WHY("%sno faults injected", wl ? "; " : "");
    if (g_notes_n) {
        printf("findings (first %u%s):\n", g_notes_n, g_notes_dropped ? ", more dropped" : "");
        for (unsigned i = 0; i < g_notes_n; i++) printf("  %s\n", g_notes[i]);
    }
    if (wl == 0) {
        printf("soak: PASS\n");
        return 0;
    }
    printf("soak: FAIL (%s)\n", why);
    return 1;
}
