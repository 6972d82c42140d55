/*
 * Argument handling and everything that needs no successful request: status names,
 * the version, the initial last-error state, NULL frees and getters, the client
 * builder (base URL policy, timeout, CA file, user agent, environment variables), and
 * every string parameter of every function given NULL, "", invalid UTF-8 and control
 * characters. None of the rejected calls may reach the server.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testlib.h"

#ifndef EXPECTED_VERSION
#error "compile with -DEXPECTED_VERSION=\"x.y.z\" (the version in Cargo.toml)"
#endif

/* A self-signed root certificate (P-256), made for these tests only. */
static const char TEST_ROOT_PEM[] =
    "-----BEGIN CERTIFICATE-----\n"
    "MIIBoDCCAUWgAwIBAgIUB+GOb6spF04m52YiDg9cK653fPowCgYIKoZIzj0EAwIw\n"
    "JDEiMCAGA1UEAwwZYWxmYXZpZXctYXV0aCBDIHRlc3Qgcm9vdDAgFw0yNjExMjcy\n"
    "MTE0MzhaGA8yMTI2MTEwMzIxMTQzOFowJDEiMCAGA1UEAwwZYWxmYXZpZXctYXV0\n"
    "aCBDIHRlc3Qgcm9vdDBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABEs+1zHq2LLf\n"
    "6wCr9ZBZ7Lix3hsUrqXneQq+8SsyfTvxDCWuqjMayO1sWEJXX7BhPXSUSe3CL6fz\n"
    "tdms63xAPAajUzBRMB0GA1UdDgQWBBSqUFIqX4KhrLsgLxDHv2PXskWpnjAfBgNV\n"
    "HSMEGDAWgBSqUFIqX4KhrLsgLxDHv2PXskWpnjAPBgNVHRMBAf8EBTADAQH/MAoG\n"
    "CCqGSM49BAMCA0kAMEYCIQCz0qbxwwPOf+7ohRT9mfjhbMizfz6kqg15uqFmKkGT\n"
    "5gIhAKaiZiwl6I5IssCTrXPiNiA1x+kcVIOpdVCSrmAazMKm\n"
    "-----END CERTIFICATE-----\n";

/* The bad values every required string parameter must refuse. */
struct bad {
    const char *label;
    const char *value;
};
static const struct bad BAD[] = {
    {"NULL", NULL},
    {"empty", ""},
    {"invalid UTF-8", "\xff\xfe"},
    {"truncated UTF-8", "ab\xc3"},
    {"control character", "a\x01" "b"},
    {"newline", "a\nb"},
    {"DEL", "a\x7f"},
};
#define NBAD (sizeof BAD / sizeof BAD[0])

static char long_arg[70 * 1024]; /* over the library's 64 KiB argument limit */

/* Whether msg names arg: as a word (not inside a longer identifier). */
static int names_arg(const char *msg, const char *arg) {
    size_t n = strlen(arg);
    for (const char *p = msg; (p = strstr(p, arg)) != NULL; p++) {
        int before = p == msg ? ' ' : (unsigned char)p[-1];
        int after = (unsigned char)p[n];
        int ident_before = before == '_' || (before >= 'a' && before <= 'z') ||
                           (before >= 'A' && before <= 'Z') || (before >= '0' && before <= '9');
        int ident_after = after == '_' || (after >= 'a' && after <= 'z') ||
                          (after >= 'A' && after <= 'Z') || (after >= '0' && after <= '9');
        if (!ident_before && !ident_after) {
            return 1;
        }
    }
    return 0;
}

/* The status is AV_ERR_INVALID_ARGUMENT, the message names `arg`, and the other
 * last-error fields say no request was made. */
static void expect_invalid(int got, const char *arg, const char *variant, const char *file,
                           int line) {
    char what[200];
    snprintf(what, sizeof what, "%s given %s", arg, variant);
    if (!tl_check_status(got, AV_ERR_INVALID_ARGUMENT, file, line, what)) {
        return;
    }
    const char *msg = av_last_error_message();
    tl_check(names_arg(msg, arg), file, line, what, "message does not name %s: \"%s\"", arg, msg);
    tl_check(strcmp(av_last_error_api_status(), "") == 0, file, line, what,
             "api status \"%s\" after a local check", av_last_error_api_status());
    tl_check(strcmp(av_last_error_request_id(), "") == 0, file, line, what,
             "request id \"%s\" though no request was made", av_last_error_request_id());
    tl_check(av_last_error_http_status() == 0, file, line, what, "http status %d",
             (int)av_last_error_http_status());
}
#define EXPECT_INVALID(expr, arg, variant) expect_invalid((int)(expr), (arg), (variant), __FILE__, __LINE__)

static char *write_temp(const char *content) {
    char *path = tl_strdup("/tmp/av-ctest-XXXXXX");
    int fd = mkstemp(path);
    if (!CHECK(fd >= 0)) {
        free(path);
        return NULL;
    }
    size_t len = strlen(content);
    CHECK_INT_EQ(write(fd, content, len), len);
    close(fd);
    return path;
}

/* ---- no server ------------------------------------------------------------------- */

static void test_status_names(void) {
    tl_section("av_status_name");
    static const char *const names[] = {
        "AV_OK", "AV_ERR_INVALID_ARGUMENT", "AV_ERR_NETWORK", "AV_ERR_TIMEOUT", "AV_ERR_TLS",
        "AV_ERR_AUTHENTICATION", "AV_ERR_TOKEN_EXPIRED", "AV_ERR_API", "AV_ERR_HTTP",
        "AV_ERR_PROTOCOL", "AV_ERR_NOT_FOUND", "AV_ERR_STORAGE", "AV_ERR_INTERNAL",
    };
    for (int i = 0; i < 13; i++) {
        CHECK_STR_EQ(av_status_name(i), names[i]);
    }
    /* The values are the contract. */
    CHECK_INT_EQ(AV_OK, 0);
    CHECK_INT_EQ(AV_ERR_INVALID_ARGUMENT, 1);
    CHECK_INT_EQ(AV_ERR_TIMEOUT, 3);
    CHECK_INT_EQ(AV_ERR_TOKEN_EXPIRED, 6);
    CHECK_INT_EQ(AV_ERR_PROTOCOL, 9);
    CHECK_INT_EQ(AV_ERR_INTERNAL, 12);
    CHECK_INT_EQ(sizeof(av_status), 4);
    CHECK_STR_EQ(av_status_name(99), "AV_UNKNOWN_STATUS");
    CHECK_STR_EQ(av_status_name(13), "AV_UNKNOWN_STATUS");
    CHECK_STR_EQ(av_status_name(-1), "AV_UNKNOWN_STATUS");
    CHECK_STR_EQ(av_status_name(INT32_MIN), "AV_UNKNOWN_STATUS");
    /* Static: the same pointer every time. */
    CHECK(av_status_name(AV_ERR_TLS) == av_status_name(AV_ERR_TLS));
}

static void test_version(void) {
    tl_section("av_version");
    CHECK_STR_EQ(av_version(), EXPECTED_VERSION);
    CHECK(av_version() == av_version());
}

static void test_initial_last_error(void) {
    tl_section("last error before any failure");
    CHECK_STR_EQ(av_last_error_message(), "");
    CHECK_STR_EQ(av_last_error_api_status(), "");
    CHECK_STR_EQ(av_last_error_request_id(), "");
    CHECK_INT_EQ(av_last_error_http_status(), 0);
}

static void test_null_frees_and_getters(void) {
    tl_section("NULL frees and getters");
    av_string_free(NULL);
    av_tokens_free(NULL);
    av_client_free(NULL);
    av_client_builder_free(NULL);
    /* Still here, and none of them recorded an error. */
    CHECK_STR_EQ(av_last_error_message(), "");

    CHECK_STR_EQ(av_tokens_access_token(NULL), "");
    CHECK_INT_EQ(av_tokens_expires_at(NULL), 0);
    CHECK_STR_EQ(av_tokens_refresh_token(NULL), "");
    CHECK_INT_EQ(av_tokens_refresh_expires_at(NULL), 0);
    CHECK_STR_EQ(av_tokens_company_id(NULL), "");
    CHECK_STR_EQ(av_tokens_user_id(NULL), "");
    CHECK_INT_EQ(av_tokens_accessible_company_count(NULL), 0);
    CHECK_NULL(av_tokens_accessible_company_id(NULL, 0));
}

/* ---- the builder ----------------------------------------------------------------- */

static void test_builder(void) {
    av_client_builder *b = av_client_builder_new();
    if (!CHECK_NOT_NULL(b)) {
        return;
    }
    av_client *c = TL_JUNK;

    tl_section("builder: NULL handles");
    EXPECT_INVALID(av_client_builder_set_base_url(NULL, mock_url()), "b", "NULL builder");
    EXPECT_INVALID(av_client_builder_set_timeout_ms(NULL, 1000), "b", "NULL builder");
    EXPECT_INVALID(av_client_builder_set_ca_file(NULL, "/x.pem"), "b", "NULL builder");
    EXPECT_INVALID(av_client_builder_set_user_agent(NULL, "ua"), "b", "NULL builder");
    EXPECT_INVALID(av_client_build(NULL, &c), "b", "NULL builder");
    CHECK_NULL(c);
    EXPECT_INVALID(av_client_build(b, NULL), "out", "NULL out");

    tl_section("builder: base URL");
    for (size_t i = 0; i < NBAD; i++) {
        EXPECT_INVALID(av_client_builder_set_base_url(b, BAD[i].value), "url", BAD[i].label);
    }
    static const char *const refused[] = {
        "http://example.com/",
        "http://example.com/json/v1/",
        "http://10.0.0.1/json/v1/",
        "http://localhost.example.com/",
        "ftp://127.0.0.1/",
        "not a url",
        "https://user:secret@127.0.0.1/",
        "https://apis.alfaview.com/json/v1/?x=1",
    };
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        EXPECT_INVALID(av_client_builder_set_base_url(b, refused[i]), "url", refused[i]);
    }
    EXPECT_INVALID(av_client_builder_set_base_url(b, long_arg), "url", "a 70 KiB string");

    static const char *const accepted[] = {
        "https://apis.alfaview.com/json/v1/",
        "http://127.0.0.2:1/json/v1/",
        "http://[::1]:1/json/v1/",
        "http://LOCALHOST:1/",
    };
    for (size_t i = 0; i < sizeof accepted / sizeof accepted[0]; i++) {
        CHECK_OK(av_client_builder_set_base_url(b, accepted[i]));
    }

    /* A refused URL leaves the builder as it was: the client still reaches the mock. */
    CHECK_OK(av_client_builder_set_base_url(b, mock_url()));
    EXPECT_INVALID(av_client_builder_set_base_url(b, "http://example.com/"), "url", "non-loopback http");
    if (CHECK_OK(av_client_build(b, &c))) {
        av_tokens *t = NULL;
        CHECK_OK(av_login_password(c, "alice", "wonderland", "c-100", &t));
        CHECK_STR_EQ(av_tokens_company_id(t), "c-100");
        av_tokens_free(t);
        av_client_free(c);
    }

    /* http://localhost is loopback too, and really works. */
    char url[128];
    snprintf(url, sizeof url, "http://localhost:%d/json/v1/", mock_port());
    c = TL_JUNK;
    if (CHECK_OK(av_client_builder_set_base_url(b, url)) && CHECK_OK(av_client_build(b, &c))) {
        long long before = mock_stat("logins");
        av_tokens *t = NULL;
        CHECK_OK(av_login_password(c, "bob", "builder", NULL, &t));
        CHECK_STR_EQ(av_tokens_company_id(t), "c-300");
        CHECK_INT_EQ(mock_stat("logins"), before + 1);
        av_tokens_free(t);
        av_client_free(c);
    }

    tl_section("builder: timeout");
    EXPECT_INVALID(av_client_builder_set_timeout_ms(b, 0), "ms", "0");
    CHECK_OK(av_client_builder_set_timeout_ms(b, 1));
    CHECK_OK(av_client_builder_set_timeout_ms(b, UINT32_MAX));
    CHECK_OK(av_client_builder_set_timeout_ms(b, 5000));

    tl_section("builder: CA file");
    for (size_t i = 0; i < NBAD; i++) {
        EXPECT_INVALID(av_client_builder_set_ca_file(b, BAD[i].value), "pem_path", BAD[i].label);
    }
    EXPECT_INVALID(av_client_builder_set_ca_file(b, "/nonexistent/dir/ca.pem"), "pem_path", "a missing file");
    EXPECT_INVALID(av_client_builder_set_ca_file(b, "/"), "pem_path", "a directory");
    char *not_pem = write_temp("this is not a certificate\n");
    char *empty = write_temp("");
    char *bad_pem = write_temp("-----BEGIN CERTIFICATE-----\n!!!not base64!!!\n-----END CERTIFICATE-----\n");
    char *good_pem = write_temp(TEST_ROOT_PEM);
    if (not_pem) EXPECT_INVALID(av_client_builder_set_ca_file(b, not_pem), "pem_path", "a text file");
    if (empty) EXPECT_INVALID(av_client_builder_set_ca_file(b, empty), "pem_path", "an empty file");
    if (bad_pem) EXPECT_INVALID(av_client_builder_set_ca_file(b, bad_pem), "pem_path", "broken PEM");
    if (good_pem) {
        CHECK_OK(av_client_builder_set_ca_file(b, good_pem));
        c = TL_JUNK;
        if (CHECK_OK(av_client_build(b, &c))) {
            CHECK_NOT_NULL(c);
            av_client_free(c);
        }
    }

    tl_section("builder: user agent");
    for (size_t i = 0; i < NBAD; i++) {
        EXPECT_INVALID(av_client_builder_set_user_agent(b, BAD[i].value), "ua", BAD[i].label);
    }
    EXPECT_INVALID(av_client_builder_set_user_agent(b, "a\r\nX-Injected: 1"), "ua", "CR LF");
    CHECK_OK(av_client_builder_set_user_agent(b, "c-tests/1.0 (args)"));

    av_client_builder_free(b);
    const char *paths[] = {not_pem, empty, bad_pem, good_pem};
    for (size_t i = 0; i < 4; i++) {
        if (paths[i]) {
            unlink(paths[i]);
            free((char *)paths[i]);
        }
    }
}

/* builder_new reads ALFAVIEW_API_URL, ALFAVIEW_TIMEOUT_MS and ALFAVIEW_CA_FILE; a bad
 * value is reported by av_client_build, naming the variable; setters override it. */
static void test_environment(void) {
    av_client_builder *b;
    av_client *c;

    tl_section("environment: ALFAVIEW_TIMEOUT_MS");
    static const char *const bad_timeouts[] = {"abc", "0", "-5", "99999999999"};
    for (size_t i = 0; i < 4; i++) {
        setenv("ALFAVIEW_TIMEOUT_MS", bad_timeouts[i], 1);
        b = av_client_builder_new();
        CHECK_NOT_NULL(b);
        c = TL_JUNK;
        EXPECT_INVALID(av_client_build(b, &c), "ALFAVIEW_TIMEOUT_MS", bad_timeouts[i]);
        CHECK_NULL(c);
        CHECK_OK(av_client_builder_set_timeout_ms(b, 2000));
        if (CHECK_OK(av_client_build(b, &c))) {
            av_client_free(c);
        }
        av_client_builder_free(b);
    }
    unsetenv("ALFAVIEW_TIMEOUT_MS");

    tl_section("environment: ALFAVIEW_API_URL");
    setenv("ALFAVIEW_API_URL", "http://example.com/json/v1/", 1);
    b = av_client_builder_new();
    c = TL_JUNK;
    EXPECT_INVALID(av_client_build(b, &c), "ALFAVIEW_API_URL", "non-loopback http");
    CHECK_NULL(c);
    CHECK_OK(av_client_builder_set_base_url(b, mock_url()));
    if (CHECK_OK(av_client_build(b, &c))) {
        av_client_free(c);
    }
    av_client_builder_free(b);

    setenv("ALFAVIEW_API_URL", mock_url(), 1);
    b = av_client_builder_new();
    c = NULL;
    if (CHECK_OK(av_client_build(b, &c))) {
        av_tokens *t = NULL;
        CHECK_OK(av_login_api_key(c, "ak-demo", "ak-secret", "c-100", &t));
        char *last = mock_last();
        CHECK_CONTAINS(last, "\"path\":\"/json/v1/authenticationService/authenticate\"");
        free(last);
        av_tokens_free(t);
        av_client_free(c);
    }
    av_client_builder_free(b);
    unsetenv("ALFAVIEW_API_URL");

    tl_section("environment: ALFAVIEW_CA_FILE");
    setenv("ALFAVIEW_CA_FILE", "/nonexistent/dir/ca.pem", 1);
    b = av_client_builder_new();
    c = TL_JUNK;
    EXPECT_INVALID(av_client_build(b, &c), "ALFAVIEW_CA_FILE", "a missing file");
    CHECK_NULL(c);
    char *good_pem = write_temp(TEST_ROOT_PEM);
    if (good_pem != NULL) {
        CHECK_OK(av_client_builder_set_ca_file(b, good_pem));
        c = NULL;
        if (CHECK_OK(av_client_build(b, &c))) {
            av_client_free(c);
        }
        unlink(good_pem);
        free(good_pem);
    }
    av_client_builder_free(b);
    unsetenv("ALFAVIEW_CA_FILE");
}

/* ---- every string parameter ------------------------------------------------------ */

static void test_login_password_args(av_client *c) {
    tl_section("av_login_password arguments");
    av_tokens *t = TL_JUNK;
    EXPECT_INVALID(av_login_password(NULL, "alice", "wonderland", "c-100", &t), "c", "NULL client");
    CHECK_NULL(t);
    EXPECT_INVALID(av_login_password(c, "alice", "wonderland", "c-100", NULL), "out", "NULL out");
    for (size_t i = 0; i < NBAD; i++) {
        t = TL_JUNK;
        EXPECT_INVALID(av_login_password(c, BAD[i].value, "wonderland", "c-100", &t), "username", BAD[i].label);
        CHECK_NULL(t);
        t = TL_JUNK;
        EXPECT_INVALID(av_login_password(c, "alice", BAD[i].value, "c-100", &t), "password", BAD[i].label);
        CHECK_NULL(t);
        if (BAD[i].value == NULL) {
            continue; /* company_id may be NULL */
        }
        t = TL_JUNK;
        EXPECT_INVALID(av_login_password(c, "alice", "wonderland", BAD[i].value, &t), "company_id", BAD[i].label);
        CHECK_NULL(t);
    }
    t = TL_JUNK;
    EXPECT_INVALID(av_login_password(c, long_arg, "wonderland", "c-100", &t), "username", "a 70 KiB string");
    CHECK_NULL(t);
    /* The secret never shows up in the message. */
    EXPECT_INVALID(av_login_password(c, "alice", "s3cr3t-pw\x01", "c-100", &t), "password", "a control character");
    CHECK_NOT_CONTAINS(av_last_error_message(), "s3cr3t-pw");
}

static void test_login_api_key_args(av_client *c) {
    tl_section("av_login_api_key arguments");
    av_tokens *t = TL_JUNK;
    EXPECT_INVALID(av_login_api_key(NULL, "ak-demo", "ak-secret", "c-100", &t), "c", "NULL client");
    CHECK_NULL(t);
    EXPECT_INVALID(av_login_api_key(c, "ak-demo", "ak-secret", "c-100", NULL), "out", "NULL out");
    for (size_t i = 0; i < NBAD; i++) {
        t = TL_JUNK;
        EXPECT_INVALID(av_login_api_key(c, BAD[i].value, "ak-secret", "c-100", &t), "client_id", BAD[i].label);
        CHECK_NULL(t);
        t = TL_JUNK;
        EXPECT_INVALID(av_login_api_key(c, "ak-demo", BAD[i].value, "c-100", &t), "api_key_secret", BAD[i].label);
        CHECK_NULL(t);
        t = TL_JUNK;
        EXPECT_INVALID(av_login_api_key(c, "ak-demo", "ak-secret", BAD[i].value, &t), "company_id", BAD[i].label);
        CHECK_NULL(t);
    }
}

/* Refresh tokens travel in a Cookie header: anything a cookie cannot carry is refused. */
static const char *const COOKIE_UNSAFE[] = {
    "abc;def", "abc def", "abc,def", "abc\"def", "abc\\def", "t\xc3\xb6ken", "abc\tdef",
};
#define NCOOKIE (sizeof COOKIE_UNSAFE / sizeof COOKIE_UNSAFE[0])

static void test_refresh_args(av_client *c) {
    tl_section("av_client_refresh arguments");
    av_tokens *t = TL_JUNK;
    EXPECT_INVALID(av_client_refresh(NULL, "c-100", "tok", &t), "c", "NULL client");
    CHECK_NULL(t);
    EXPECT_INVALID(av_client_refresh(c, "c-100", "tok", NULL), "out", "NULL out");
    for (size_t i = 0; i < NBAD; i++) {
        t = TL_JUNK;
        EXPECT_INVALID(av_client_refresh(c, BAD[i].value, "tok", &t), "company_id", BAD[i].label);
        CHECK_NULL(t);
        t = TL_JUNK;
        EXPECT_INVALID(av_client_refresh(c, "c-100", BAD[i].value, &t), "refresh_token", BAD[i].label);
        CHECK_NULL(t);
    }
    for (size_t i = 0; i < NCOOKIE; i++) {
        t = TL_JUNK;
        EXPECT_INVALID(av_client_refresh(c, "c-100", COOKIE_UNSAFE[i], &t), "refresh_token", COOKIE_UNSAFE[i]);
        CHECK_NULL(t);
    }
}

static void test_one_shot_args(void) {
    tl_section("av_refresh arguments");
    char *at = TL_JUNK;
    int64_t exp = TL_JUNK_I64;
    EXPECT_INVALID(av_refresh("c-100", "tok", NULL, &exp), "out_access_token", "NULL out");
    for (size_t i = 0; i < NBAD; i++) {
        at = TL_JUNK;
        exp = TL_JUNK_I64;
        EXPECT_INVALID(av_refresh(BAD[i].value, "tok", &at, &exp), "company_id", BAD[i].label);
        CHECK_NULL(at);
        CHECK_INT_EQ(exp, 0);
        at = TL_JUNK;
        exp = TL_JUNK_I64;
        EXPECT_INVALID(av_refresh("c-100", BAD[i].value, &at, &exp), "refresh_token", BAD[i].label);
        CHECK_NULL(at);
        CHECK_INT_EQ(exp, 0);
    }
    /* The default client is created now that ALFAVIEW_API_URL is good: the argument
     * checks that come after creating it name the argument again. */
    at = TL_JUNK;
    EXPECT_INVALID(av_refresh("c-100", "", &at, NULL), "refresh_token", "empty, after a failed start");
    for (size_t i = 0; i < NCOOKIE; i++) {
        at = TL_JUNK;
        EXPECT_INVALID(av_refresh("c-100", COOKIE_UNSAFE[i], &at, NULL), "refresh_token", COOKIE_UNSAFE[i]);
        CHECK_NULL(at);
    }
}

static void test_call_args(av_client *c) {
    tl_section("av_client_call arguments");
    char *out = TL_JUNK;
    const char *tok = "dG9rZW4="; /* well-formed, never checked: no request is made */
    EXPECT_INVALID(av_client_call(NULL, tok, "roomService/create", NULL, &out), "c", "NULL client");
    CHECK_NULL(out);
    EXPECT_INVALID(av_client_call(c, tok, "roomService/create", NULL, NULL), "out_json", "NULL out");
    for (size_t i = 0; i < NBAD; i++) {
        out = TL_JUNK;
        EXPECT_INVALID(av_client_call(c, BAD[i].value, "roomService/create", NULL, &out), "access_token", BAD[i].label);
        CHECK_NULL(out);
        out = TL_JUNK;
        EXPECT_INVALID(av_client_call(c, tok, BAD[i].value, NULL, &out), "service_method", BAD[i].label);
        CHECK_NULL(out);
    }
    out = TL_JUNK;
    EXPECT_INVALID(av_client_call(c, long_arg, "roomService/create", NULL, &out), "access_token", "a 70 KiB string");
    CHECK_NULL(out);
    static const char *const methods[] = {
        "../x", "a b/c", "roomService", "/roomService/create", "roomService/", "a//b",
        "a/./b", "../../etc/passwd", "http://evil.example/x", "a/b?x=1", "a/b#f", "a/%2e%2e/b",
    };
    for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++) {
        out = TL_JUNK;
        EXPECT_INVALID(av_client_call(c, tok, methods[i], NULL, &out), "service_method", methods[i]);
        CHECK_NULL(out);
    }
    static const struct bad bodies[] = {
        {"empty", ""},
        {"invalid UTF-8", "\xff\xfe"},
        {"invalid JSON", "{bad"},
        {"a JSON array", "[1,2]"},
        {"a JSON string", "\"text\""},
        {"a JSON number", "42"},
        {"JSON null", "null"},
        {"a raw control character in a string", "{\"a\":\"x\x01y\"}"},
        {"trailing garbage", "{} {}"},
    };
    for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
        out = TL_JUNK;
        EXPECT_INVALID(av_client_call(c, tok, "roomService/create", bodies[i].value, &out), "json_body", bodies[i].label);
        CHECK_NULL(out);
    }
}

int main(void) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    memset(long_arg, 'a', sizeof long_arg - 1);

    test_initial_last_error(); /* first: nothing has failed on this thread yet */
    test_status_names();
    test_version();
    test_null_frees_and_getters();

    mock_reset();
    test_builder();
    test_environment();

    /* av_refresh's default client: a bad ALFAVIEW_API_URL is reported by the first
     * call, which does not keep the failure: the next call tries again. */
    tl_section("av_refresh with a bad ALFAVIEW_API_URL");
    setenv("ALFAVIEW_API_URL", "http://example.com/json/v1/", 1);
    char *at = TL_JUNK;
    int64_t exp = TL_JUNK_I64;
    EXPECT_INVALID(av_refresh("c-100", "tok", &at, &exp), "ALFAVIEW_API_URL", "non-loopback http");
    CHECK_NULL(at);
    CHECK_INT_EQ(exp, 0);

    /* From here on nothing may reach the server. */
    setenv("ALFAVIEW_API_URL", mock_url(), 1);
    long long requests = mock_stat("requests");
    av_client *c = tl_client(5000);
    if (c != NULL) {
        test_login_password_args(c);
        test_login_api_key_args(c);
        test_refresh_args(c);
        test_call_args(c);
    }
    test_one_shot_args();
    tl_section("no request reached the server");
    CHECK_INT_EQ(mock_stat("requests"), requests);
    av_client_free(c);
    return tl_finish("test_args");
}
