/*
 * The hand-written peer in C, shared by refresh_curl.c and refresh_mix.c: the refresh
 * request with libcurl, the way a careful user would write it without this library.
 *
 * Each request: POST, Content-Type and Accept application/json, Cookie: auth=<token>,
 * body {"requestId":"<36 chars, new each time>","refreshTokenCredentials":{"companyId":
 * "c-100"}}; then HTTP status 200 is required and accessToken and expiresAt are taken
 * out of the body with a plain string search (see find_field: no JSON validation).
 * curl_refresh reuses one easy handle (libcurl keeps the connection alive); cli_refresh
 * spawns the curl command instead.
 */
#ifndef AV_BENCH_PEER_CURL_H
#define AV_BENCH_PEER_CURL_H

#include "bench.h"

#include <curl/curl.h>
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

typedef struct {
    char *data;
    size_t len, cap;
} buffer;

typedef struct {
    CURL *easy;
    struct curl_slist *headers;
    buffer reply;
    char body[160];
    uint64_t counter;
    const char *url, *token, *ca;
    char cookie_header[512];
} peer;

static inline size_t on_data(char *ptr, size_t size, size_t nmemb, void *arg) {
    buffer *b = arg;
    size_t n = size * nmemb;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 1024;
        while (cap < b->len + n + 1) cap *= 2;
        char *p = realloc(b->data, cap);
        if (!p) return 0;
        b->data = p;
        b->cap = cap;
    }
    memcpy(b->data + b->len, ptr, n);
    b->len += n;
    b->data[b->len] = '\0';
    return n;
}

/*
 * The value of "name" in a flat search of the reply: the text after `"name"`, optional
 * blanks, a colon, optional blanks; a string value up to the next '"' (escapes are not
 * decoded) or a bare number. Not a JSON parser: it does not check that the reply is
 * JSON, that the key is at the top level, or that the string has no escapes.
 */
static inline int find_field(const char *json, const char *name, char *out, size_t out_size) {
    char key[64];
    snprintf(key, sizeof key, "\"%s\"", name);
    const char *p = strstr(json, key);
    if (!p) return 1;
    p += strlen(key);
    while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') p++;
    if (*p++ != ':') return 1;
    while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') p++;
    const char *end;
    if (*p == '"') {
        end = strchr(++p, '"');
        if (!end) return 1;
    } else {
        end = p;
        while (*end >= '0' && *end <= '9') end++;
    }
    size_t n = (size_t)(end - p);
    if (n == 0 || n >= out_size) return 1;
    memcpy(out, p, n);
    out[n] = '\0';
    return 0;
}

/* accessToken and expiresAt (Unix seconds, as a number or a numeric string). */
static inline int parse_reply(const char *json) {
    char token[256], expires[32];
    if (find_field(json, "accessToken", token, sizeof token) ||
        find_field(json, "expiresAt", expires, sizeof expires)) {
        fprintf(stderr, "refresh_curl: no accessToken/expiresAt in: %.200s\n", json);
        return 1;
    }
    char *end;
    long long expires_at = strtoll(expires, &end, 10);
    if (*end || expires_at <= 0) {
        fprintf(stderr, "refresh_curl: bad expiresAt %s\n", expires);
        return 1;
    }
    return 0;
}

static inline void next_body(peer *p) {
    char id[37];
    bench_request_id(id, ++p->counter);
    snprintf(p->body, sizeof p->body,
             "{\"requestId\":\"%s\",\"refreshTokenCredentials\":{\"companyId\":\"c-100\"}}", id);
}

static inline int peer_init(peer *p) {
    p->easy = curl_easy_init();
    if (!p->easy) return 1;
    snprintf(p->cookie_header, sizeof p->cookie_header, "Cookie: auth=%s", p->token);
    p->headers = curl_slist_append(p->headers, "Content-Type: application/json");
    p->headers = curl_slist_append(p->headers, "Accept: application/json");
    p->headers = curl_slist_append(p->headers, p->cookie_header);
    curl_easy_setopt(p->easy, CURLOPT_URL, p->url);
    curl_easy_setopt(p->easy, CURLOPT_HTTPHEADER, p->headers);
    curl_easy_setopt(p->easy, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(p->easy, CURLOPT_WRITEDATA, &p->reply);
    curl_easy_setopt(p->easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(p->easy, CURLOPT_TIMEOUT_MS, 30000L);
    if (p->ca) curl_easy_setopt(p->easy, CURLOPT_CAINFO, p->ca);
    return 0;
}

static inline int curl_refresh(void *arg) {
    peer *p = arg;
    next_body(p);
    p->reply.len = 0;
    curl_easy_setopt(p->easy, CURLOPT_POSTFIELDS, p->body);
    curl_easy_setopt(p->easy, CURLOPT_POSTFIELDSIZE, (long)strlen(p->body));
    CURLcode rc = curl_easy_perform(p->easy);
    if (rc != CURLE_OK) {
        fprintf(stderr, "refresh_curl: %s\n", curl_easy_strerror(rc));
        return 1;
    }
    long status = 0;
    curl_easy_getinfo(p->easy, CURLINFO_RESPONSE_CODE, &status);
    if (status != 200 || !p->reply.data) {
        fprintf(stderr, "refresh_curl: HTTP %ld\n", status);
        return 1;
    }
    return parse_reply(p->reply.data);
}

/* One refresh by the curl command: spawn, read its stdout, wait, parse. */
static inline int cli_refresh(void *arg) {
    peer *p = arg;
    next_body(p);
    char *args[20];
    int n = 0;
    args[n++] = "curl";
    args[n++] = "-sS";
    args[n++] = "-H";
    args[n++] = "Content-Type: application/json";
    args[n++] = "-H";
    args[n++] = "Accept: application/json";
    args[n++] = "-H";
    args[n++] = p->cookie_header;
    args[n++] = "--data-binary";
    args[n++] = p->body;
    if (p->ca) {
        args[n++] = "--cacert";
        args[n++] = (char *)p->ca;
    }
    args[n++] = (char *)p->url;
    args[n] = NULL;
    int fds[2];
    if (pipe2(fds, O_CLOEXEC)) return 1;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
    pid_t pid;
    int err = posix_spawnp(&pid, "curl", &fa, NULL, args, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(fds[1]);
    if (err) {
        close(fds[0]);
        fprintf(stderr, "refresh_curl: cannot run curl: %s\n", strerror(err));
        return 1;
    }
    p->reply.len = 0;
    char chunk[4096];
    ssize_t got;
    while ((got = read(fds[0], chunk, sizeof chunk)) > 0) on_data(chunk, 1, (size_t)got, &p->reply);
    close(fds[0]);
    int status;
    if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0 ||
        !p->reply.data) {
        fprintf(stderr, "refresh_curl: curl failed\n");
        return 1;
    }
    return parse_reply(p->reply.data);
}

#endif
