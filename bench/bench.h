/*
 * Shared by the C benchmarks: a monotonic clock, per-request latency samples, and the
 * one output line every benchmark prints for bench/report.py:
 *
 *   RESULT <label> n=<samples> median_us=<x> p99_us=<y> rps=<z> elapsed_s=<s> [...]
 *
 * A timed run first calls the request function for `warmup_s` seconds without
 * recording, then for `seconds` seconds, timing each call on its own with
 * clock_gettime(CLOCK_MONOTONIC); requests/s is the number of recorded calls divided by
 * the whole recorded stretch (so it includes the loop's own cost).
 */
#ifndef AV_BENCH_H
#define AV_BENCH_H

#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Built with -DBENCH_CALLGRIND (bench/profile.sh): under valgrind --tool=callgrind the
 * recorded stretch of a timed run is dumped on its own (the warm-up and the set-up are
 * left out), so its cost divided by the RESULT's n is the cost of one request. */
#ifdef BENCH_CALLGRIND
#include <valgrind/callgrind.h>
#define BENCH_PROFILE_START() CALLGRIND_ZERO_STATS
#define BENCH_PROFILE_STOP() CALLGRIND_DUMP_STATS_AT("recorded")
#else
#define BENCH_PROFILE_START() ((void)0)
#define BENCH_PROFILE_STOP() ((void)0)
#endif

static inline uint64_t bench_now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

typedef struct {
    uint64_t *ns;
    size_t n, cap;
} bench_samples;

static inline void bench_push(bench_samples *s, uint64_t ns) {
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 65536;
        s->ns = realloc(s->ns, s->cap * sizeof *s->ns);
        if (!s->ns) {
            fputs("bench: out of memory\n", stderr);
            exit(1);
        }
    }
    s->ns[s->n++] = ns;
}

static int bench_cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* The q-quantile (0..1) of the samples, nearest rank; sorts them. */
static inline double bench_quantile_us(bench_samples *s, double q) {
    if (s->n == 0) return 0.0;
    qsort(s->ns, s->n, sizeof *s->ns, bench_cmp_u64);
    size_t rank = (size_t)(q * (double)s->n + 0.999999);
    if (rank < 1) rank = 1;
    if (rank > s->n) rank = s->n;
    return (double)s->ns[rank - 1] / 1e3;
}

/* Appends the samples (nanoseconds, one a line, in the order taken) to
 * $BENCH_SAMPLES_DIR/<label with '/' as '_'>.ns, so that report.py can pool the rounds of
 * a row; nothing without BENCH_SAMPLES_DIR. */
static inline void bench_save_samples(const char *label, const bench_samples *s) {
    const char *dir = getenv("BENCH_SAMPLES_DIR");
    if (!dir || !*dir) return;
    char path[4096];
    int len = snprintf(path, sizeof path, "%s/", dir);
    for (const char *c = label; *c && len < (int)sizeof path - 4; c++) path[len++] = *c == '/' ? '_' : *c;
    snprintf(path + len, sizeof path - (size_t)len, ".ns");
    FILE *f = fopen(path, "a");
    if (!f) {
        perror(path);
        exit(1);
    }
    for (size_t i = 0; i < s->n; i++) fprintf(f, "%llu\n", (unsigned long long)s->ns[i]);
    fclose(f);
}

/* Saves the samples and prints the RESULT line (without a newline: the caller may append
 * fields). Sorts the samples. */
static inline void bench_report(const char *label, bench_samples *s, double elapsed_s) {
    bench_save_samples(label, s);
    double median = bench_quantile_us(s, 0.5), p99 = bench_quantile_us(s, 0.99);
    printf("RESULT %s n=%zu median_us=%.2f p99_us=%.2f rps=%.0f elapsed_s=%.4f", label, s->n,
           median, p99, elapsed_s > 0 ? (double)s->n / elapsed_s : 0.0, elapsed_s);
}

/* One request; returns 0 on success. */
typedef int (*bench_fn)(void *ctx);

/* Runs `fn` for warmup_s unrecorded, then `seconds` recorded, and reports (bench_report).
 * Returns 0, or 1 if a call failed. */
static inline int bench_timed(const char *label, double seconds, double warmup_s, bench_fn fn,
                              void *ctx) {
    uint64_t start = bench_now_ns(), stop = start + (uint64_t)(warmup_s * 1e9);
    while (bench_now_ns() < stop) {
        if (fn(ctx) != 0) return 1;
    }
    bench_samples s = {0};
    BENCH_PROFILE_START();
    uint64_t begin = bench_now_ns(), end = begin + (uint64_t)(seconds * 1e9), t0 = begin, t1;
    do {
        if (fn(ctx) != 0) return 1;
        t1 = bench_now_ns();
        bench_push(&s, t1 - t0);
        t0 = bench_now_ns();
    } while (t1 < end);
    BENCH_PROFILE_STOP();
    bench_report(label, &s, (double)(t1 - begin) / 1e9);
    free(s.ns);
    return 0;
}

/* One row of a mixed run: a request function and what it recorded. */
typedef struct {
    const char *label;
    bench_fn fn;
    void *ctx;
    bench_samples s;
    uint64_t busy_ns; /* the recorded slices' wall time */
} bench_row;

/*
 * Runs several rows side by side in one process: each row in turn for a slice of
 * `slice_s` seconds (as many whole requests as fit), round and round, first for
 * `warmup_s` seconds unrecorded, then until every row has had `seconds` of recorded
 * slices. Load from elsewhere on the machine (a burst lasts milliseconds to seconds)
 * thus falls on every row alike. Each row is reported as by bench_timed (requests/s over
 * its own slices). Returns 0, or 1 if a call failed.
 */
static inline int bench_mixed(bench_row *rows, int nrows, double seconds, double warmup_s,
                              double slice_s) {
    uint64_t slice = (uint64_t)(slice_s * 1e9), stop = bench_now_ns() + (uint64_t)(warmup_s * 1e9);
    while (bench_now_ns() < stop) {
        for (int r = 0; r < nrows; r++) {
            uint64_t end = bench_now_ns() + slice;
            if (end > stop) end = stop;
            do {
                if (rows[r].fn(rows[r].ctx) != 0) return 1;
            } while (bench_now_ns() < end);
        }
    }
    uint64_t want = (uint64_t)(seconds * 1e9);
    BENCH_PROFILE_START();
    while (rows[nrows - 1].busy_ns < want) {
        for (int r = 0; r < nrows; r++) {
            bench_row *row = &rows[r];
            uint64_t begin = bench_now_ns(), end = begin + slice, t0 = begin, t1;
            do {
                if (row->fn(row->ctx) != 0) return 1;
                t1 = bench_now_ns();
                bench_push(&row->s, t1 - t0);
                t0 = bench_now_ns();
            } while (t1 < end);
            row->busy_ns += t1 - begin;
        }
    }
    BENCH_PROFILE_STOP();
    for (int r = 0; r < nrows; r++) {
        bench_report(rows[r].label, &rows[r].s, (double)rows[r].busy_ns / 1e9);
        printf("\n");
        free(rows[r].s.ns);
    }
    return 0;
}

static inline double bench_env_double(const char *name, double fallback) {
    const char *v = getenv(name);
    return v && *v ? atof(v) : fallback;
}

/* A field of /proc/self/status in KiB (VmRSS, VmHWM), or -1. */
static inline long bench_status_kib(const char *field) {
    FILE *f = fopen("/proc/self/status", "r");
    if (!f) return -1;
    char line[256];
    long value = -1;
    size_t len = strlen(field);
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, field, len) == 0 && line[len] == ':') {
            value = strtol(line + len + 1, NULL, 10);
            break;
        }
    }
    fclose(f);
    return value;
}

/* The memory row: one call of `fn` (connect, warm up), then BENCH_RSS_REFRESHES (100000)
 * more, with VmRSS and VmHWM read before and after; prints an "RSS" line. Returns 0, or 1
 * if a call failed. */
static inline int bench_rss(const char *label, bench_fn fn, void *ctx) {
    long n = (long)bench_env_double("BENCH_RSS_REFRESHES", 100000);
    if (fn(ctx) != 0) return 1;
    long rss0 = bench_status_kib("VmRSS"), hwm0 = bench_status_kib("VmHWM");
    uint64_t t0 = bench_now_ns();
    for (long i = 0; i < n; i++) {
        if (fn(ctx) != 0) return 1;
    }
    double s = (double)(bench_now_ns() - t0) / 1e9;
    long rss1 = bench_status_kib("VmRSS"), hwm1 = bench_status_kib("VmHWM");
    printf("RSS %s refreshes=%ld seconds=%.1f rss_before_kib=%ld rss_after_kib=%ld "
           "hwm_before_kib=%ld hwm_after_kib=%ld\n",
           label, n, s, rss0, rss1, hwm0, hwm1);
    return 0;
}

/* A requestId the way hand-written code would make one: 36 characters like a UUID,
 * different for every request (a counter, not random: cheap, and unique per run). */
static inline void bench_request_id(char out[37], uint64_t counter) {
    static uint64_t salt;
    if (!salt) salt = bench_now_ns();
    snprintf(out, 37, "%08x-%04x-4%03x-8%03x-%012llx", (unsigned)(salt & 0xffffffffu),
             (unsigned)((salt >> 32) & 0xffff), (unsigned)((counter >> 48) & 0xfff),
             (unsigned)((counter >> 36) & 0xfff), (unsigned long long)(counter & 0xffffffffffffull));
}

#endif
