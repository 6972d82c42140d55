/*
 * A tiny test harness for the C tests of alfaview-auth, and a client for the mock
 * server's control endpoints (/_mock/...) over a plain loopback socket.
 *
 * Checks count passes and failures; a failure prints file:line, the expression and the
 * values involved, and the test goes on. tl_finish() prints the closing
 * "RESULT <program> passed=N failed=M" line that tests/c/run.sh adds up.
 *
 * The mock's base URL comes from ALFAVIEW_MOCK_URL (set by run.sh), e.g.
 * http://127.0.0.1:41234/json/v1/.
 */
#ifndef TESTLIB_H
#define TESTLIB_H

#include <stddef.h>
#include <stdint.h>

#include "alfaview_auth.h"

/* ---- checks ---------------------------------------------------------------------- */

/* All return 1 when the check passed, 0 when it failed, so a test can skip what
 * depends on it: `if (CHECK_STATUS(...)) { ... }`. Safe to use from several threads. */
int tl_check(int ok, const char *file, int line, const char *expr, const char *fmt, ...);
int tl_check_status(int got, int want, const char *file, int line, const char *expr);
int tl_check_int(long long got, long long want, const char *op, const char *file, int line,
                 const char *expr_got, const char *expr_want);
int tl_check_str(const char *got, const char *want, int want_equal, const char *file,
                 int line, const char *expr_got, const char *expr_want);
int tl_check_contains(const char *hay, const char *needle, int want_contained,
                      const char *file, int line, const char *expr_hay);
int tl_check_range(long long got, long long lo, long long hi, const char *file, int line,
                   const char *expr);

#define CHECK(cond) tl_check(!!(cond), __FILE__, __LINE__, #cond, NULL)
#define CHECK_MSG(cond, ...) tl_check(!!(cond), __FILE__, __LINE__, #cond, __VA_ARGS__)
/* A status, printing both names and the last error's details on failure. */
#define CHECK_STATUS(expr, want) tl_check_status((int)(expr), (int)(want), __FILE__, __LINE__, #expr)
#define CHECK_OK(expr) CHECK_STATUS(expr, AV_OK)
#define CHECK_INT_EQ(a, b) tl_check_int((long long)(a), (long long)(b), "==", __FILE__, __LINE__, #a, #b)
#define CHECK_INT_NE(a, b) tl_check_int((long long)(a), (long long)(b), "!=", __FILE__, __LINE__, #a, #b)
#define CHECK_INT_GE(a, b) tl_check_int((long long)(a), (long long)(b), ">=", __FILE__, __LINE__, #a, #b)
#define CHECK_INT_LE(a, b) tl_check_int((long long)(a), (long long)(b), "<=", __FILE__, __LINE__, #a, #b)
#define CHECK_INT_LT(a, b) tl_check_int((long long)(a), (long long)(b), "<", __FILE__, __LINE__, #a, #b)
/* lo <= got <= hi */
#define CHECK_RANGE(got, lo, hi) tl_check_range((long long)(got), (long long)(lo), (long long)(hi), __FILE__, __LINE__, #got)
/* Strings; NULL is shown as (null) and equals only NULL. */
#define CHECK_STR_EQ(a, b) tl_check_str((a), (b), 1, __FILE__, __LINE__, #a, #b)
#define CHECK_STR_NE(a, b) tl_check_str((a), (b), 0, __FILE__, __LINE__, #a, #b)
#define CHECK_CONTAINS(hay, needle) tl_check_contains((hay), (needle), 1, __FILE__, __LINE__, #hay)
#define CHECK_NOT_CONTAINS(hay, needle) tl_check_contains((hay), (needle), 0, __FILE__, __LINE__, #hay)
#define CHECK_NULL(p) tl_check((p) == NULL, __FILE__, __LINE__, #p " == NULL", "got %p", (const void *)(p))
#define CHECK_NOT_NULL(p) tl_check((p) != NULL, __FILE__, __LINE__, #p " != NULL", NULL)

/* Prints "== name" so a failure can be placed in the output. */
void tl_section(const char *name);
/* Prints the RESULT line; returns the process exit code (0 when nothing failed). */
int tl_finish(const char *program);

/* A junk pointer to pre-set out-parameters with, so a test sees that a failure really
 * cleared them. Never dereferenced. */
#define TL_JUNK ((void *)(uintptr_t)0x5a5a5a5a)
#define TL_JUNK_I64 ((int64_t)0x5a5a5a5a5a5aLL)

/* ---- small utilities ------------------------------------------------------------- */

/* Monotonic milliseconds. */
long long tl_now_ms(void);
/* VmRSS / VmHWM of this process in KiB, from /proc/self/status; -1 if unknown. */
long long tl_rss_kib(void);
long long tl_hwm_kib(void);
/* Whether s starts with prefix (NULL-safe: 0). */
int tl_starts_with(const char *s, const char *prefix);
/* A malloc'd copy (NULL for NULL). */
char *tl_strdup(const char *s);

/* The string value of the first "key": "..." in a JSON text, unescaped, malloc'd;
 * NULL when there is none. Enough for the mock's small, flat replies. */
char *tl_json_str(const char *json, const char *key);
/* The integer value of the first "key": N; returns 1 and sets *out when found. */
int tl_json_int(const char *json, const char *key, long long *out);

/* ---- the mock server ------------------------------------------------------------- */

/* ALFAVIEW_MOCK_URL (exits with a message if unset), and its parts. */
const char *mock_url(void);
const char *mock_host(void);
int mock_port(void);

/* One HTTP/1.1 request to the mock (Connection: close). Returns the HTTP status, or -1
 * if the exchange failed; *out_body (if not NULL) gets the malloc'd body. */
int mock_http(const char *method, const char *path, const char *body, char **out_body);

/* The control endpoints. Each counts a failed check when the mock does not answer 200. */
void mock_reset(void);
/* POST /_mock/config with a JSON patch; returns the HTTP status. */
int mock_config(const char *json_patch);
/* One counter of GET /_mock/stats ("requests", "refreshes", ...); -1 on failure. */
long long mock_stat(const char *name);
/* GET /_mock/last: malloc'd JSON, or NULL (no request recorded). */
char *mock_last(void);
/* A header the mock saw on the last request (name in lower case), malloc'd; NULL if absent. */
char *mock_last_header(const char *lower_name);
/* POST /_mock/mint: a fresh valid refresh token for company_id, malloc'd. */
char *mock_mint(const char *company_id);
/* POST /_mock/expire: every access token issued so far becomes expired. */
void mock_expire(void);
/* GET /_mock/tokens: malloc'd JSON. */
char *mock_tokens(void);

/* A client for the mock with the given whole-request timeout (0: library default).
 * Counts a failed check and returns NULL if it cannot be built. */
av_client *tl_client(uint32_t timeout_ms);
/* Same, for any base URL. */
av_client *tl_client_for(const char *base_url, uint32_t timeout_ms);
/* Same, with max_retries transient-failure retries (-1: the library's default). */
av_client *tl_client_with(const char *base_url, uint32_t timeout_ms, int max_retries);

#endif /* TESTLIB_H */
