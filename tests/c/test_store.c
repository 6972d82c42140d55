/*
 * The token store through the C ABI (file store, chosen with ALFAVIEW_TOKEN_STORE):
 * processes sharing an app id with rotation on never use a stale refresh token; a save
 * killed with SIGKILL never leaves a torn entry; round trip, overwrite, delete, not
 * found, permissions, corrupt files and bad app ids; and an application store made of
 * callbacks (load, save, lock, unlock).
 *
 * The forking tests run first, before this process has started any library thread.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "testlib.h"

#define PROCESSES 4
#define LONG_COMPANY "c-a-much-longer-company-id"
#define LONG_TOKEN "tok-bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"

static char dir[256];
static char store_env[300];

static void sleep_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* ---- several processes, one entry, rotation on ------------------------------------ */

/* A child: a session from the store, tokens in a loop across several expiries. Exit
 * status: the number of failed calls (0 is success). */
static int child_loop(int seconds) {
    av_client_builder *b = av_client_builder_new();
    av_client *c = NULL;
    av_session *s = NULL;
    if (av_client_builder_set_base_url(b, mock_url()) != AV_OK || av_client_build(b, &c) != AV_OK ||
        av_session_new_from_store(c, "shared-app", &s) != AV_OK) {
        fprintf(stderr, "child %d: setup failed: %s\n", (int)getpid(), av_last_error_message());
        return 100;
    }
    int failures = 0;
    long long end = tl_now_ms() + seconds * 1000LL;
    while (tl_now_ms() < end) {
        char *t = NULL;
        if (av_session_access_token(s, &t, NULL) != AV_OK) {
            fprintf(stderr, "child %d: %s\n", (int)getpid(), av_last_error_message());
            failures++;
        }
        av_string_free(t);
        sleep_ms(20);
    }
    av_session_free(s);
    av_client_free(c);
    av_client_builder_free(b);
    return failures > 99 ? 99 : failures;
}

static void test_processes_share_one_entry(void) {
    tl_section("4 processes share one stored pair across expiries, rotation on");
    mock_reset();
    mock_config("{\"rotate\": true, \"tokenLifetimeS\": 1}");
    char *first = mock_mint("c-200");
    /* The first save happens in a child too, so this process stays thread-free. */
    pid_t saver = fork();
    if (saver == 0) _exit(av_store_save("shared-app", "c-200", first) == AV_OK ? 0 : 1);
    int status = 0;
    waitpid(saver, &status, 0);
    if (!CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0)) return;

    pid_t pids[PROCESSES];
    for (int i = 0; i < PROCESSES; i++) {
        pids[i] = fork();
        if (pids[i] == 0) _exit(child_loop(4));
    }
    for (int i = 0; i < PROCESSES; i++) {
        status = 0;
        waitpid(pids[i], &status, 0);
        CHECK_MSG(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child %d: exit status %d", i,
                  WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    }
    CHECK_INT_EQ(mock_stat("refreshFailures"), 0);
    CHECK_INT_GE(mock_stat("refreshes"), 6); /* several expiries */
    /* The stored token is the one the mock holds valid (and the only one). */
    char *company = NULL, *token = NULL;
    if (CHECK_OK(av_store_load("shared-app", &company, &token))) {
        CHECK_STR_EQ(company, "c-200");
        char *tokens = mock_tokens();
        char needle[512];
        snprintf(needle, sizeof needle, "\"token\":\"%s\",\"companyId\":\"c-200\",\"valid\":true", token);
        char needle2[512];
        snprintf(needle2, sizeof needle2, "\"companyId\":\"c-200\",\"token\":\"%s\",\"valid\":true", token);
        CHECK_MSG(strstr(tokens, needle) != NULL || strstr(tokens, token) != NULL, "stored token not known to the mock");
        /* Exactly one valid token. */
        int valid = 0;
        for (const char *p = tokens; (p = strstr(p, "\"valid\":true")) != NULL; p++) valid++;
        CHECK_INT_EQ(valid, 1);
        free(tokens);
    }
    av_string_free(company);
    av_string_free(token);
    free(first);
}

/* ---- crash safety ----------------------------------------------------------------- */

static void test_killed_saves_never_tear(void) {
    tl_section("a save killed with SIGKILL leaves the old pair or the new one");
    const int rounds = 60;
    int torn = 0, loaded = 0;
    /* A first pair, so that from here on a load must always find a whole pair. (Store
     * calls start no thread, so forking afterwards stays safe.) */
    CHECK_OK(av_store_save("crash-app", "c-short", "tok-a"));
    for (int round = 0; round < rounds; round++) {
        pid_t child = fork();
        if (child == 0) {
            /* Alternate two pairs of different lengths, as fast as possible. */
            for (long i = 0;; i++) {
                if (i % 2 == 0) {
                    av_store_save("crash-app", "c-short", "tok-a");
                } else {
                    av_store_save("crash-app", LONG_COMPANY, LONG_TOKEN);
                }
            }
        }
        sleep_ms(3 + (round * 7) % 25);
        kill(child, SIGKILL);
        waitpid(child, NULL, 0);
        char *company = NULL, *token = NULL;
        av_status st = av_store_load("crash-app", &company, &token);
        if (st == AV_OK) {
            loaded++;
            int a = strcmp(company, "c-short") == 0 && strcmp(token, "tok-a") == 0;
            int b = strcmp(company, LONG_COMPANY) == 0 && strcmp(token, LONG_TOKEN) == 0;
            if (!a && !b) torn++;
        } else {
            torn++;
            printf("  round %d: %s: %s\n", round, av_status_name(st), av_last_error_message());
        }
        av_string_free(company);
        av_string_free(token);
    }
    CHECK_INT_EQ(torn, 0);
    CHECK_INT_EQ(loaded, rounds);
    /* No temporary files pile up beyond the few a kill can strand. */
    char cmd[400];
    snprintf(cmd, sizeof cmd, "ls -A '%s' | grep -c '\\.tmp$' || true", dir);
    FILE *p = popen(cmd, "r");
    int tmp_files = -1;
    if (p) {
        if (fscanf(p, "%d", &tmp_files) != 1) tmp_files = -1;
        pclose(p);
    }
    CHECK_RANGE(tmp_files, 0, rounds);
}

/* ---- the API ---------------------------------------------------------------------- */

static void test_round_trip(void) {
    tl_section("save, load, overwrite, delete, not found");
    char *company = TL_JUNK, *token = TL_JUNK;
    CHECK_STATUS(av_store_load("rt-app", &company, &token), AV_ERR_NOT_FOUND);
    CHECK_NULL(company);
    CHECK_NULL(token);
    CHECK_CONTAINS(av_last_error_message(), "rt-app");
    CHECK_OK(av_store_save("rt-app", "c-100", "token-one"));
    if (CHECK_OK(av_store_load("rt-app", &company, &token))) {
        CHECK_STR_EQ(company, "c-100");
        CHECK_STR_EQ(token, "token-one");
    }
    av_string_free(company);
    av_string_free(token);
    CHECK_OK(av_store_save("rt-app", "c-200", "token-two"));
    company = token = NULL;
    if (CHECK_OK(av_store_load("rt-app", &company, &token))) {
        CHECK_STR_EQ(company, "c-200");
        CHECK_STR_EQ(token, "token-two");
    }
    av_string_free(company);
    av_string_free(token);
    CHECK_OK(av_store_delete("rt-app"));
    CHECK_OK(av_store_delete("rt-app")); /* deleting nothing is fine */
    CHECK_STATUS(av_store_load("rt-app", &company, &token), AV_ERR_NOT_FOUND);

    tl_section("permissions: 0600 files in a 0700 directory; readable files refused");
    CHECK_OK(av_store_save("perm-app", "c-100", "tok"));
    char path[400];
    snprintf(path, sizeof path, "%s/perm-app.json", dir);
    struct stat st;
    if (CHECK_INT_EQ(stat(path, &st), 0)) CHECK_INT_EQ(st.st_mode & 0777, 0600);
    if (CHECK_INT_EQ(stat(dir, &st), 0)) CHECK_INT_EQ(st.st_mode & 0777, 0700);
    chmod(path, 0644);
    company = token = TL_JUNK;
    CHECK_STATUS(av_store_load("perm-app", &company, &token), AV_ERR_STORAGE);
    CHECK_NULL(company);
    CHECK_CONTAINS(av_last_error_message(), "chmod 600");
    CHECK_CONTAINS(av_last_error_message(), path);

    tl_section("a corrupt file is an error, not replaced");
    snprintf(path, sizeof path, "%s/corrupt-app.json", dir);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (CHECK(fd >= 0)) {
        CHECK_INT_EQ(write(fd, "{\"format\": \"alfa", 16), 16);
        close(fd);
    }
    CHECK_STATUS(av_store_load("corrupt-app", &company, &token), AV_ERR_STORAGE);
    CHECK_CONTAINS(av_last_error_message(), "corrupt");
    if (CHECK_INT_EQ(stat(path, &st), 0)) CHECK_INT_EQ(st.st_size, 16);

    tl_section("app ids and arguments");
    const char *bad_ids[] = {"", "../escape", "a/b", ".hidden", "-x", "a b",
                             "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"};
    for (size_t i = 0; i < sizeof bad_ids / sizeof bad_ids[0]; i++) {
        CHECK_STATUS(av_store_save(bad_ids[i], "c-100", "tok"), AV_ERR_INVALID_ARGUMENT);
        CHECK_CONTAINS(av_last_error_message(), "app_id");
        CHECK_STATUS(av_store_load(bad_ids[i], &company, &token), AV_ERR_INVALID_ARGUMENT);
        CHECK_STATUS(av_store_delete(bad_ids[i]), AV_ERR_INVALID_ARGUMENT);
    }
    CHECK_STATUS(av_store_save(NULL, "c", "t"), AV_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(av_store_save("ok-app", "", "t"), AV_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(av_last_error_message(), "company_id");
    CHECK_STATUS(av_store_save("ok-app", "c", "a;b"), AV_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(av_last_error_message(), "refresh_token");
    CHECK_STATUS(av_store_load("ok-app", NULL, &token), AV_ERR_INVALID_ARGUMENT);
    av_session *s = TL_JUNK;
    CHECK_STATUS(av_session_new_from_store(NULL, "never-saved", &s), AV_ERR_NOT_FOUND);
    CHECK_NULL(s);

    tl_section("ALFAVIEW_TOKEN_STORE must be os, file or file:<dir>");
    setenv("ALFAVIEW_TOKEN_STORE", "somewhere", 1);
    CHECK_STATUS(av_store_save("ok-app", "c", "t"), AV_ERR_INVALID_ARGUMENT);
    CHECK_CONTAINS(av_last_error_message(), "ALFAVIEW_TOKEN_STORE");
    setenv("ALFAVIEW_TOKEN_STORE", store_env, 1);
}

/* ---- an application store made of callbacks --------------------------------------- */

struct app_store {
    pthread_mutex_t lock;
    int has_pair;
    char company[128];
    char token[256];
    int loads, saves, locks, unlocks;
    int fail_saves;
};

static int32_t cb_load(void *user_data, char *company, size_t company_size, char *token, size_t token_size) {
    struct app_store *st = user_data;
    st->loads++;
    if (!st->has_pair) return AV_ERR_NOT_FOUND;
    snprintf(company, company_size, "%s", st->company);
    snprintf(token, token_size, "%s", st->token);
    return AV_OK;
}

static int32_t cb_save(void *user_data, const char *company, const char *token) {
    struct app_store *st = user_data;
    st->saves++;
    if (st->fail_saves) return AV_ERR_STORAGE;
    snprintf(st->company, sizeof st->company, "%s", company);
    snprintf(st->token, sizeof st->token, "%s", token);
    st->has_pair = 1;
    return AV_OK;
}

static int32_t cb_lock(void *user_data, uint32_t timeout_ms) {
    struct app_store *st = user_data;
    (void)timeout_ms;
    pthread_mutex_lock(&st->lock);
    st->locks++;
    return AV_OK;
}

static void cb_unlock(void *user_data) {
    struct app_store *st = user_data;
    st->unlocks++;
    pthread_mutex_unlock(&st->lock);
}

static void test_callback_store(void) {
    tl_section("an application store made of callbacks");
    mock_reset();
    mock_config("{\"rotate\": true, \"tokenLifetimeS\": 2}");
    av_client *client = tl_client(5000);
    struct app_store st;
    memset(&st, 0, sizeof st);
    pthread_mutex_init(&st.lock, NULL);
    av_store_callbacks cbs = {cb_load, cb_save, cb_lock, cb_unlock};

    av_session *s = TL_JUNK;
    CHECK_STATUS(av_session_new_with_store(client, &cbs, &st, &s), AV_ERR_NOT_FOUND);
    CHECK_NULL(s);

    char *first = mock_mint("c-100");
    snprintf(st.company, sizeof st.company, "c-100");
    snprintf(st.token, sizeof st.token, "%s", first);
    st.has_pair = 1;
    s = NULL;
    if (!CHECK_OK(av_session_new_with_store(client, &cbs, &st, &s))) return;
    for (int round = 1; round <= 2; round++) {
        char *t = NULL;
        CHECK_OK(av_session_access_token(s, &t, NULL));
        av_string_free(t);
        CHECK_INT_EQ(st.saves, round);
        CHECK_INT_EQ(st.locks, round);
        CHECK_INT_EQ(st.unlocks, round);
        char *current = NULL;
        CHECK_OK(av_session_refresh_token(s, &current));
        CHECK_STR_EQ(current, st.token);
        CHECK_STR_NE(current, first);
        av_string_free(current);
        sleep_ms(1100);
    }

    tl_section("another host rotated the token: the session adopts the stored one");
    char *elsewhere = mock_mint("c-100");
    snprintf(st.token, sizeof st.token, "%s", elsewhere);
    char *t = NULL;
    CHECK_OK(av_session_access_token(s, &t, NULL));
    av_string_free(t);
    CHECK_INT_EQ(mock_stat("refreshFailures"), 0);

    tl_section("a failing save is AV_ERR_STORAGE, and the new token is still kept");
    st.fail_saves = 1;
    sleep_ms(1100);
    t = TL_JUNK;
    CHECK_STATUS(av_session_access_token(s, &t, NULL), AV_ERR_STORAGE);
    CHECK_CONTAINS(av_last_error_message(), "save");
    CHECK_CONTAINS(av_last_error_message(), "AV_ERR_STORAGE");
    CHECK_INT_EQ(st.locks, st.unlocks);
    st.fail_saves = 0;
    t = NULL;
    CHECK_OK(av_session_access_token(s, &t, NULL)); /* served from the cache */
    av_string_free(t);
    /* At the next renewal the unsaved token is saved first, not overwritten by the
     * older stored one; then the new rotation is saved too. */
    int saves = st.saves;
    sleep_ms(1100);
    t = NULL;
    CHECK_OK(av_session_access_token(s, &t, NULL));
    av_string_free(t);
    CHECK_INT_EQ(st.saves, saves + 2);
    char *current = NULL;
    CHECK_OK(av_session_refresh_token(s, &current));
    CHECK_STR_EQ(st.token, current);
    av_string_free(current);
    CHECK_INT_EQ(mock_stat("refreshFailures"), 0);
    av_session_free(s);

    tl_section("callback arguments");
    av_store_callbacks no_load = {NULL, cb_save, NULL, NULL};
    s = TL_JUNK;
    CHECK_STATUS(av_session_new_with_store(client, &no_load, &st, &s), AV_ERR_INVALID_ARGUMENT);
    CHECK_NULL(s);
    CHECK_CONTAINS(av_last_error_message(), "cbs");
    av_store_callbacks half_lock = {cb_load, cb_save, cb_lock, NULL};
    CHECK_STATUS(av_session_new_with_store(client, &half_lock, &st, &s), AV_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(av_session_new_with_store(client, NULL, &st, &s), AV_ERR_INVALID_ARGUMENT);
    av_store_callbacks no_lock = {cb_load, cb_save, NULL, NULL};
    s = NULL;
    CHECK_OK(av_session_new_with_store(client, &no_lock, &st, &s));
    av_session_free(s);

    pthread_mutex_destroy(&st.lock);
    free(first);
    free(elsewhere);
    av_client_free(client);
}

int main(void) {
    snprintf(dir, sizeof dir, "%s/av-store-test-%d", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp", (int)getpid());
    snprintf(store_env, sizeof store_env, "file:%s", dir);
    setenv("ALFAVIEW_TOKEN_STORE", store_env, 1);
    test_processes_share_one_entry();
    test_killed_saves_never_tear();
    test_round_trip();
    test_callback_store();
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
    return tl_finish("test_store");
}
