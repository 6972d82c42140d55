/*
 * The successful flows, end to end against the mock: the three sign-ins, the token
 * getters, refresh with and without rotation, authenticated calls, every expiresAt form
 * and cookie style, a server clock off by an hour, the one-shot av_refresh, what goes
 * on the wire (headers, requestId, cookie), and the lifetimes of builder, client and
 * tokens. run.sh also runs this program under valgrind.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "testlib.h"

#ifndef EXPECTED_VERSION
#error "compile with -DEXPECTED_VERSION=\"x.y.z\" (the version in Cargo.toml)"
#endif

#define DEFAULT_TOKEN_LIFETIME 3600
#define DEFAULT_REFRESH_LIFETIME (30 * 86400)

static av_client *client;

/* A field of the last request the mock saw (body fields are unique enough). */
static char *last_field(const char *key) {
    char *last = mock_last();
    char *v = tl_json_str(last, key);
    free(last);
    return v;
}

/* Whether GET /_mock/tokens lists `token` as valid. */
static int mock_token_valid(const char *token) {
    char *list = mock_tokens();
    char needle[512];
    snprintf(needle, sizeof needle, "\"token\":\"%s\"", token);
    char *at = list ? strstr(list, needle) : NULL;
    int valid = 0;
    if (at != NULL) {
        /* Look inside this token's object only: {"companyId", "token", "valid"} in any order. */
        char *start = at, *end = strchr(at, '}');
        while (start > list && *start != '{') {
            start--;
        }
        if (end != NULL) {
            *end = '\0';
            valid = strstr(start, "\"valid\":true") != NULL;
        }
    }
    free(list);
    return valid;
}

/* Signs in as alice for company_id, checking the call succeeded. NULL on failure. */
static av_tokens *login_alice(const char *company_id) {
    av_tokens *t = TL_JUNK;
    if (!CHECK_OK(av_login_password(client, "alice", "wonderland", company_id, &t))) {
        CHECK_NULL(t);
        return NULL;
    }
    CHECK_NOT_NULL(t);
    return t;
}

/* The access token works for a call, and the call reached the company. */
static void check_token_works(const char *access_token, const char *company_id) {
    char *reply = TL_JUNK;
    if (CHECK_OK(av_client_call(client, access_token, "meetingService/list", NULL, &reply))) {
        char needle[64];
        snprintf(needle, sizeof needle, "\"companyId\":\"%s\"", company_id);
        CHECK_CONTAINS(reply, needle);
        av_string_free(reply);
    } else {
        CHECK_NULL(reply);
    }
}

/* The refresh token works for a refresh (rotation off) and stays the one to keep. */
static void check_refresh_token_works(const char *refresh_token, const char *company_id) {
    av_tokens *r = NULL;
    if (CHECK_OK(av_client_refresh(client, company_id, refresh_token, &r))) {
        CHECK_STR_EQ(av_tokens_refresh_token(r), refresh_token);
        check_token_works(av_tokens_access_token(r), company_id);
        av_tokens_free(r);
    }
}

static void test_login_password(void) {
    tl_section("password sign-in with a company");
    mock_reset();
    time_t before = time(NULL);
    av_tokens *t = login_alice("c-100");
    time_t after = time(NULL);
    if (t == NULL) {
        return;
    }
    const char *access = av_tokens_access_token(t);
    const char *refresh = av_tokens_refresh_token(t);
    CHECK_INT_GE(strlen(access), 16);
    CHECK_INT_GE(strlen(refresh), 16);
    CHECK_STR_NE(access, refresh);
    CHECK(mock_token_valid(refresh));
    CHECK_STR_EQ(av_tokens_company_id(t), "c-100");
    CHECK_STR_EQ(av_tokens_user_id(t), "u-alice");
    CHECK_RANGE(av_tokens_expires_at(t), before + DEFAULT_TOKEN_LIFETIME - 1, after + DEFAULT_TOKEN_LIFETIME + 1);
    /* The default cookie carries Expires (whole seconds). */
    CHECK_RANGE(av_tokens_refresh_expires_at(t), before + DEFAULT_REFRESH_LIFETIME - 1, after + DEFAULT_REFRESH_LIFETIME + 1);
    CHECK_INT_EQ(av_tokens_accessible_company_count(t), 2);
    CHECK_STR_EQ(av_tokens_accessible_company_id(t, 0), "c-100");
    CHECK_STR_EQ(av_tokens_accessible_company_id(t, 1), "c-200");
    CHECK_NULL(av_tokens_accessible_company_id(t, 2));
    CHECK_NULL(av_tokens_accessible_company_id(t, (size_t)-1));
    /* Getters hand out the same borrowed strings every time. */
    CHECK(av_tokens_access_token(t) == access);
    CHECK_INT_EQ(mock_stat("logins"), 1);
    CHECK_INT_EQ(mock_stat("requests"), 1);

    tl_section("what the sign-in sent");
    char *last = mock_last();
    CHECK_CONTAINS(last, "\"method\":\"POST\"");
    CHECK_CONTAINS(last, "\"path\":\"/json/v1/authenticationService/authenticate\"");
    CHECK_CONTAINS(last, "\"usernamePasswordCredentials\":{");
    CHECK_CONTAINS(last, "\"username\":\"alice\"");
    CHECK_CONTAINS(last, "\"password\":\"wonderland\"");
    CHECK_CONTAINS(last, "\"companyId\":\"c-100\"");
    free(last);
    char *rid = last_field("requestId");
    CHECK(rid != NULL && strlen(rid) >= 8);
    char *ct = mock_last_header("content-type");
    CHECK_STR_EQ(ct, "application/json");
    char *ua = mock_last_header("user-agent");
    CHECK(tl_starts_with(ua, "alfaview-auth/"));
    CHECK_STR_EQ(ua, "alfaview-auth/" EXPECTED_VERSION);
    char *cookie = mock_last_header("cookie");
    CHECK_NULL(cookie); /* a sign-in presents no cookie */
    free(rid);
    free(ct);
    free(ua);
    free(cookie);

    check_token_works(access, "c-100");
    check_refresh_token_works(refresh, "c-100");

    tl_section("password sign-in for the second company");
    av_tokens *t2 = login_alice("c-200");
    if (t2 != NULL) {
        CHECK_STR_EQ(av_tokens_company_id(t2), "c-200");
        CHECK_STR_NE(av_tokens_access_token(t2), access);
        CHECK_STR_NE(av_tokens_refresh_token(t2), refresh);
        check_token_works(av_tokens_access_token(t2), "c-200");
        av_tokens_free(t2);
    }
    av_tokens_free(t);
}

static void test_login_without_company(void) {
    tl_section("password sign-in without a company");
    mock_reset();
    av_tokens *t = login_alice(NULL);
    if (t != NULL) {
        char *last = mock_last();
        CHECK_NOT_CONTAINS(last, "companyId");
        free(last);
        CHECK_STR_EQ(av_tokens_company_id(t), "c-100"); /* the server's choice */
        CHECK_INT_EQ(av_tokens_accessible_company_count(t), 2);
        CHECK_STR_EQ(av_tokens_accessible_company_id(t, 0), "c-100");
        CHECK_STR_EQ(av_tokens_accessible_company_id(t, 1), "c-200");
        CHECK_NULL(av_tokens_accessible_company_id(t, 2));
        check_token_works(av_tokens_access_token(t), "c-100");
        av_tokens_free(t);
    }
    av_tokens *b = NULL;
    if (CHECK_OK(av_login_password(client, "bob", "builder", NULL, &b))) {
        CHECK_STR_EQ(av_tokens_company_id(b), "c-300");
        CHECK_STR_EQ(av_tokens_user_id(b), "u-bob");
        CHECK_INT_EQ(av_tokens_accessible_company_count(b), 1);
        CHECK_STR_EQ(av_tokens_accessible_company_id(b, 0), "c-300");
        CHECK_NULL(av_tokens_accessible_company_id(b, 1));
        av_tokens_free(b);
    }
}

static void test_login_api_key(void) {
    tl_section("API-key sign-in");
    mock_reset();
    av_tokens *t = TL_JUNK;
    time_t before = time(NULL);
    if (!CHECK_OK(av_login_api_key(client, "ak-demo", "ak-secret", "c-100", &t))) {
        return;
    }
    time_t after = time(NULL);
    CHECK_STR_EQ(av_tokens_company_id(t), "c-100");
    CHECK_STR_EQ(av_tokens_user_id(t), "u-apikey");
    CHECK_INT_GE(strlen(av_tokens_access_token(t)), 16);
    CHECK_INT_GE(strlen(av_tokens_refresh_token(t)), 16);
    CHECK_RANGE(av_tokens_expires_at(t), before + DEFAULT_TOKEN_LIFETIME - 1, after + DEFAULT_TOKEN_LIFETIME + 1);
    CHECK_INT_EQ(av_tokens_accessible_company_count(t), 1);
    CHECK_STR_EQ(av_tokens_accessible_company_id(t, 0), "c-100");
    char *last = mock_last();
    CHECK_CONTAINS(last, "\"authorizationCodeCredentials\":{");
    CHECK_CONTAINS(last, "\"clientId\":\"ak-demo\"");
    CHECK_CONTAINS(last, "\"code\":\"ak-secret\"");
    CHECK_CONTAINS(last, "\"companyId\":\"c-100\"");
    free(last);
    CHECK_INT_EQ(mock_stat("logins"), 1);
    check_token_works(av_tokens_access_token(t), "c-100");
    check_refresh_token_works(av_tokens_refresh_token(t), "c-100");
    av_tokens_free(t);
}

static void test_refresh_without_rotation(void) {
    tl_section("refresh without rotation");
    mock_reset();
    av_tokens *login = login_alice("c-200");
    if (login == NULL) {
        return;
    }
    const char *rt = av_tokens_refresh_token(login);
    av_tokens *r = TL_JUNK;
    time_t before = time(NULL);
    if (CHECK_OK(av_client_refresh(client, "c-200", rt, &r))) {
        time_t after = time(NULL);
        CHECK_STR_EQ(av_tokens_refresh_token(r), rt); /* not rotated: keep the old one */
        CHECK(av_tokens_refresh_token(r) != rt);      /* ... as the tokens' own copy */
        CHECK_STR_NE(av_tokens_access_token(r), av_tokens_access_token(login));
        CHECK_STR_EQ(av_tokens_company_id(r), "c-200");
        CHECK_STR_EQ(av_tokens_user_id(r), "u-alice");
        CHECK_RANGE(av_tokens_expires_at(r), before + DEFAULT_TOKEN_LIFETIME - 1, after + DEFAULT_TOKEN_LIFETIME + 1);
        CHECK_INT_EQ(av_tokens_refresh_expires_at(r), 0); /* no new cookie: unknown */

        tl_section("what the refresh sent");
        char *cookie = mock_last_header("cookie");
        char want[256];
        snprintf(want, sizeof want, "auth=%s", rt);
        CHECK_STR_EQ(cookie, want);
        free(cookie);
        char *last = mock_last();
        CHECK_CONTAINS(last, "\"refreshTokenCredentials\":{\"companyId\":\"c-200\"}");
        CHECK_NOT_CONTAINS(last, "usernamePasswordCredentials");
        free(last);
        char *ct = mock_last_header("content-type");
        CHECK_STR_EQ(ct, "application/json");
        free(ct);
        CHECK_INT_EQ(mock_stat("refreshes"), 1);
        check_token_works(av_tokens_access_token(r), "c-200");
        av_tokens_free(r);
    } else {
        CHECK_NULL(r);
    }
    /* Without rotation the same refresh token keeps working. */
    r = NULL;
    if (CHECK_OK(av_client_refresh(client, "c-200", rt, &r))) {
        CHECK_STR_EQ(av_tokens_refresh_token(r), rt);
        av_tokens_free(r);
    }
    CHECK_INT_EQ(mock_stat("refreshes"), 2);
    CHECK(mock_token_valid(rt));
    av_tokens_free(login);
}

static void test_refresh_with_rotation(void) {
    tl_section("refresh with rotation");
    mock_reset();
    mock_config("{\"rotate\":true}");
    char *rt = mock_mint("c-100");
    if (rt == NULL) {
        return;
    }
    av_tokens *r = NULL;
    time_t before = time(NULL);
    if (!CHECK_OK(av_client_refresh(client, "c-100", rt, &r))) {
        free(rt);
        return;
    }
    time_t after = time(NULL);
    const char *rotated = av_tokens_refresh_token(r);
    CHECK_INT_GE(strlen(rotated), 16);
    CHECK_STR_NE(rotated, rt);
    CHECK(mock_token_valid(rotated));
    CHECK(!mock_token_valid(rt));
    /* The new cookie says when the new refresh token expires. */
    CHECK_RANGE(av_tokens_refresh_expires_at(r), before + DEFAULT_REFRESH_LIFETIME - 1, after + DEFAULT_REFRESH_LIFETIME + 1);
    check_token_works(av_tokens_access_token(r), "c-100");

    tl_section("the replaced refresh token is rejected");
    av_tokens *old = TL_JUNK;
    CHECK_STATUS(av_client_refresh(client, "c-100", rt, &old), AV_ERR_AUTHENTICATION);
    CHECK_NULL(old);
    CHECK_STR_EQ(av_last_error_api_status(), "AUTHENTICATION_ERROR");
    CHECK_INT_GE(strlen(av_last_error_request_id()), 8);
    CHECK_INT_EQ(av_last_error_http_status(), 401);
    CHECK_NOT_CONTAINS(av_last_error_message(), rt);
    CHECK_INT_EQ(mock_stat("refreshFailures"), 1);

    tl_section("the newest refresh token rotates again");
    av_tokens *r2 = NULL;
    if (CHECK_OK(av_client_refresh(client, "c-100", rotated, &r2))) {
        CHECK_STR_NE(av_tokens_refresh_token(r2), rotated);
        CHECK_STR_NE(av_tokens_refresh_token(r2), rt);
        CHECK(mock_token_valid(av_tokens_refresh_token(r2)));
        av_tokens_free(r2);
    }
    CHECK_INT_EQ(mock_stat("refreshes"), 2);
    av_tokens_free(r);
    free(rt);
}

static void test_call(void) {
    tl_section("av_client_call");
    mock_reset();
    av_tokens *t = login_alice("c-100");
    if (t == NULL) {
        return;
    }
    const char *access = av_tokens_access_token(t);
    char *reply = TL_JUNK;
    if (CHECK_OK(av_client_call(client, access, "authenticationService/isAuthenticated", NULL, &reply))) {
        CHECK_CONTAINS(reply, "\"statusCode\":\"OK\"");
        av_string_free(reply);
    }
    char *rid1 = last_field("requestId");

    reply = TL_JUNK;
    const char *body = "{\"room\":{\"name\":\"Team \\\"A\\\" \\u00e9\",\"size\":12,\"tags\":[1,true,null]}}";
    if (CHECK_OK(av_client_call(client, access, "roomService/create", body, &reply))) {
        CHECK_CONTAINS(reply, "\"statusCode\":\"OK\"");
        CHECK_CONTAINS(reply, "\"service\":\"roomService\"");
        CHECK_CONTAINS(reply, "\"method\":\"create\"");
        CHECK_CONTAINS(reply, "\"companyId\":\"c-100\"");
        /* The mock echoes the body without accessInfo: the caller's fields arrived intact. */
        CHECK_CONTAINS(reply, "\"room\":{\"name\":\"Team \\\"A\\\" \xc3\xa9\",\"size\":12,\"tags\":[1,true,null]}");
        av_string_free(reply);
    }
    tl_section("what the call sent");
    char *last = mock_last();
    CHECK_CONTAINS(last, "\"path\":\"/json/v1/roomService/create\"");
    CHECK_CONTAINS(last, "\"accessInfo\":{");
    free(last);
    char *sent_token = last_field("accessToken");
    CHECK_STR_EQ(sent_token, access);
    free(sent_token);
    char *rid2 = last_field("requestId");
    CHECK(rid2 != NULL && strlen(rid2) >= 8);
    CHECK_STR_NE(rid1, rid2); /* a fresh requestId for every request */
    char *ct = mock_last_header("content-type");
    CHECK_STR_EQ(ct, "application/json");
    free(ct);
    char *cookie = mock_last_header("cookie");
    CHECK_NULL(cookie); /* the refresh token never travels with a call */
    free(cookie);
    free(rid1);
    free(rid2);

    tl_section("av_client_call with a NULL or pretty-printed body");
    reply = NULL;
    if (CHECK_OK(av_client_call(client, access, "quotaService/get", NULL, &reply))) {
        CHECK_CONTAINS(reply, "\"request\":{}");
        av_string_free(reply);
    }
    reply = NULL;
    if (CHECK_OK(av_client_call(client, access, "guestService.v2/list", "{\n\t\"page\": 2\r\n}", &reply))) {
        CHECK_CONTAINS(reply, "\"service\":\"guestService.v2\"");
        CHECK_CONTAINS(reply, "\"request\":{\"page\":2}");
        av_string_free(reply);
    }
    /* A caller's own accessInfo is replaced, not merged or trusted. */
    reply = NULL;
    if (CHECK_OK(av_client_call(client, access, "roomService/get",
                                "{\"accessInfo\":{\"accessToken\":\"forged\",\"requestId\":\"mine\"},\"id\":7}", &reply))) {
        CHECK_CONTAINS(reply, "\"request\":{\"id\":7}");
        av_string_free(reply);
        char *sent = last_field("accessToken");
        CHECK_STR_EQ(sent, access);
        free(sent);
        char *rid = last_field("requestId");
        CHECK_STR_NE(rid, "mine");
        free(rid);
    }
    CHECK_INT_EQ(mock_stat("calls"), 5);
    av_tokens_free(t);
}

static void test_expires_at_forms(void) {
    static const char *const forms[] = {"string", "number", "rfc3339", "rfc3339z"};
    for (size_t i = 0; i < 4; i++) {
        char name[64];
        snprintf(name, sizeof name, "expiresAt as %s", forms[i]);
        tl_section(name);
        mock_reset();
        char patch[128];
        snprintf(patch, sizeof patch, "{\"expiresAtForm\":\"%s\",\"tokenLifetimeS\":1234}", forms[i]);
        mock_config(patch);
        time_t before = time(NULL);
        av_tokens *t = login_alice("c-100");
        time_t after = time(NULL);
        if (t == NULL) {
            continue;
        }
        /* +1: time() reads a coarse clock that may trail the mock's by a few ms. */
        CHECK_RANGE(av_tokens_expires_at(t), before + 1234, after + 1234 + 1);
        av_tokens *r = NULL;
        before = time(NULL);
        if (CHECK_OK(av_client_refresh(client, "c-100", av_tokens_refresh_token(t), &r))) {
            after = time(NULL);
            CHECK_RANGE(av_tokens_expires_at(r), before + 1234, after + 1234 + 1);
            av_tokens_free(r);
        }
        av_tokens_free(t);
    }
}

static void test_cookie_styles(void) {
    const int life = 5000;
    struct {
        const char *style;
        const char *extra;
        int expires_known;
    } styles[] = {
        {"expires", "", 1},
        {"maxage", "", 1},
        {"both", "", 1}, /* Expires says a day later: Max-Age must win */
        {"quoted", "", 1},
        {"multi", "", 1},
        {"none", ",\"refreshTokenInBody\":true", 0},
    };
    for (size_t i = 0; i < sizeof styles / sizeof styles[0]; i++) {
        char name[96];
        snprintf(name, sizeof name, "cookie style %s%s", styles[i].style, styles[i].extra);
        tl_section(name);
        mock_reset();
        char patch[160];
        snprintf(patch, sizeof patch, "{\"cookieStyle\":\"%s\",\"refreshLifetimeS\":%d%s}",
                 styles[i].style, life, styles[i].extra);
        mock_config(patch);
        time_t before = time(NULL);
        av_tokens *t = login_alice("c-100");
        time_t after = time(NULL);
        if (t == NULL) {
            continue;
        }
        const char *rt = av_tokens_refresh_token(t);
        CHECK_INT_GE(strlen(rt), 16);
        CHECK(strchr(rt, '"') == NULL && strchr(rt, ';') == NULL && strchr(rt, '=') == NULL);
        CHECK(mock_token_valid(rt)); /* the auth cookie, not lang= or tracking= */
        if (styles[i].expires_known) {
            CHECK_RANGE(av_tokens_refresh_expires_at(t), before + life - 1, after + life + 1);
        } else {
            CHECK_INT_EQ(av_tokens_refresh_expires_at(t), 0);
        }
        check_refresh_token_works(rt, "c-100");

        /* A rotated refresh token arrives the same way and replaces the old one. */
        mock_config("{\"rotate\":true}");
        av_tokens *r = NULL;
        if (CHECK_OK(av_client_refresh(client, "c-100", rt, &r))) {
            const char *rotated = av_tokens_refresh_token(r);
            CHECK_STR_NE(rotated, rt);
            CHECK(mock_token_valid(rotated));
            CHECK(!mock_token_valid(rt));
            CHECK(strchr(rotated, '"') == NULL);
            av_tokens_free(r);
        }
        av_tokens_free(t);
    }

    tl_section("no refresh token issued at all");
    mock_reset();
    mock_config("{\"cookieStyle\":\"none\"}");
    av_tokens *t = login_alice("c-100");
    if (t != NULL) {
        CHECK_STR_EQ(av_tokens_refresh_token(t), "");
        CHECK_INT_EQ(av_tokens_refresh_expires_at(t), 0);
        check_token_works(av_tokens_access_token(t), "c-100");
        av_tokens_free(t);
    }
    /* A refresh that issues none keeps the one that was used. */
    char *rt = mock_mint("c-100");
    av_tokens *r = NULL;
    if (rt != NULL && CHECK_OK(av_client_refresh(client, "c-100", rt, &r))) {
        CHECK_STR_EQ(av_tokens_refresh_token(r), rt);
        av_tokens_free(r);
    }
    free(rt);
}

static void test_clock_offset(void) {
    static const int offsets[] = {3600, -3600};
    for (size_t i = 0; i < 2; i++) {
        char name[64];
        snprintf(name, sizeof name, "server clock off by %+d s", offsets[i]);
        tl_section(name);
        mock_reset();
        char patch[96];
        snprintf(patch, sizeof patch, "{\"clockOffsetS\":%d,\"tokenLifetimeS\":600}", offsets[i]);
        mock_config(patch);
        time_t before = time(NULL);
        av_tokens *t = login_alice("c-100");
        time_t after = time(NULL);
        if (t == NULL) {
            continue;
        }
        /* expiresAt is reported as the server said it ... */
        CHECK_RANGE(av_tokens_expires_at(t), before + offsets[i] + 600, after + offsets[i] + 600 + 1);
        /* ... and the token works all the same. */
        check_token_works(av_tokens_access_token(t), "c-100");
        av_tokens *r = NULL;
        if (CHECK_OK(av_client_refresh(client, "c-100", av_tokens_refresh_token(t), &r))) {
            check_token_works(av_tokens_access_token(r), "c-100");
            av_tokens_free(r);
        }
        av_tokens_free(t);
    }
}

static void test_short_lifetime(void) {
    tl_section("a token that is expired when issued (tokenLifetimeS 0)");
    mock_reset();
    mock_config("{\"tokenLifetimeS\":0}");
    time_t before = time(NULL);
    av_tokens *t = login_alice("c-100");
    time_t after = time(NULL);
    if (t != NULL) {
        CHECK_RANGE(av_tokens_expires_at(t), before, after);
        char *out = TL_JUNK;
        CHECK_STATUS(av_client_call(client, av_tokens_access_token(t), "roomService/list", NULL, &out), AV_ERR_TOKEN_EXPIRED);
        CHECK_NULL(out);
        CHECK_STR_EQ(av_last_error_api_status(), "TOKEN_OUTDATED");
        av_tokens_free(t);
    }
}

static void test_base_url_forms(void) {
    tl_section("a base URL without the trailing slash");
    mock_reset();
    char url[256];
    snprintf(url, sizeof url, "%s", mock_url());
    size_t n = strlen(url);
    if (n > 0 && url[n - 1] == '/') {
        url[n - 1] = '\0';
    }
    av_client *c = tl_client_for(url, 5000);
    if (c != NULL) {
        av_tokens *t = NULL;
        CHECK_OK(av_login_password(c, "alice", "wonderland", "c-100", &t));
        char *last = mock_last();
        CHECK_CONTAINS(last, "\"path\":\"/json/v1/authenticationService/authenticate\"");
        free(last);
        char *reply = NULL;
        if (t != NULL && CHECK_OK(av_client_call(c, av_tokens_access_token(t), "roomService/create", NULL, &reply))) {
            last = mock_last();
            CHECK_CONTAINS(last, "\"path\":\"/json/v1/roomService/create\"");
            free(last);
            av_string_free(reply);
        }
        av_tokens_free(t);
        av_client_free(c);
    }
}

static void test_one_shot(void) {
    tl_section("av_refresh (one-shot, default client from ALFAVIEW_API_URL)");
    mock_reset();
    char *rt = mock_mint("c-200");
    if (rt == NULL) {
        return;
    }
    char *at = TL_JUNK;
    int64_t exp = TL_JUNK_I64;
    time_t before = time(NULL);
    if (CHECK_OK(av_refresh("c-200", rt, &at, &exp))) {
        time_t after = time(NULL);
        CHECK_INT_GE(strlen(at), 16);
        CHECK_RANGE(exp, before + DEFAULT_TOKEN_LIFETIME, after + DEFAULT_TOKEN_LIFETIME + 1);
        check_token_works(at, "c-200");
        av_string_free(at);
    }
    char *cookie = NULL;
    CHECK_INT_EQ(mock_stat("refreshes"), 1);
    /* out_expires_at may be NULL; the default client is reused. */
    at = NULL;
    if (CHECK_OK(av_refresh("c-200", rt, &at, NULL))) {
        CHECK_INT_GE(strlen(at), 16);
        cookie = mock_last_header("cookie");
        av_string_free(at);
    }
    char want[256];
    snprintf(want, sizeof want, "auth=%s", rt);
    CHECK_STR_EQ(cookie, want);
    free(cookie);
    CHECK_INT_EQ(mock_stat("refreshes"), 2);

    tl_section("av_refresh failing");
    at = TL_JUNK;
    exp = TL_JUNK_I64;
    CHECK_STATUS(av_refresh("c-200", "00000000-0000-0000-0000-000000000000", &at, &exp), AV_ERR_AUTHENTICATION);
    CHECK_NULL(at);
    CHECK_INT_EQ(exp, 0);
    CHECK_STR_EQ(av_last_error_api_status(), "AUTHENTICATION_ERROR");
    at = TL_JUNK;
    exp = TL_JUNK_I64;
    /* The right token for the wrong company. */
    CHECK_STATUS(av_refresh("c-100", rt, &at, &exp), AV_ERR_AUTHENTICATION);
    CHECK_NULL(at);
    CHECK_INT_EQ(exp, 0);
    free(rt);
}

static void test_user_agent(void) {
    tl_section("a custom User-Agent");
    mock_reset();
    av_client_builder *b = av_client_builder_new();
    av_client *c = NULL;
    CHECK_OK(av_client_builder_set_base_url(b, mock_url()));
    CHECK_OK(av_client_builder_set_user_agent(b, "c-tests/1.0 (client; +check)"));
    if (CHECK_OK(av_client_build(b, &c))) {
        av_tokens *t = NULL;
        CHECK_OK(av_login_api_key(c, "ak-demo", "ak-secret", "c-100", &t));
        char *ua = mock_last_header("user-agent");
        CHECK_STR_EQ(ua, "c-tests/1.0 (client; +check)");
        free(ua);
        char *reply = NULL;
        if (CHECK_OK(av_client_call(c, av_tokens_access_token(t), "roomService/list", NULL, &reply))) {
            av_string_free(reply);
        }
        ua = mock_last_header("user-agent"); /* calls carry it too */
        CHECK_STR_EQ(ua, "c-tests/1.0 (client; +check)");
        free(ua);
        av_tokens_free(t);
        av_client_free(c);
    }
    av_client_builder_free(b);
}

static void test_lifetimes(void) {
    tl_section("one builder, two clients");
    mock_reset();
    av_client_builder *b = av_client_builder_new();
    av_client *c1 = NULL, *c2 = NULL;
    CHECK_OK(av_client_builder_set_base_url(b, mock_url()));
    CHECK_OK(av_client_build(b, &c1));
    CHECK_OK(av_client_build(b, &c2));
    CHECK(c1 != NULL && c2 != NULL && c1 != c2);
    /* Changing the builder afterwards does not change the clients already built. */
    CHECK_OK(av_client_builder_set_base_url(b, "http://127.0.0.1:1/json/v1/"));
    av_client_builder_free(b);
    av_tokens *t1 = NULL, *t2 = NULL;
    CHECK_OK(av_login_password(c1, "alice", "wonderland", "c-100", &t1));
    CHECK_OK(av_login_password(c2, "bob", "builder", "c-300", &t2));
    CHECK_INT_EQ(mock_stat("logins"), 2);

    tl_section("tokens outlive their client");
    char *access1 = tl_strdup(av_tokens_access_token(t1));
    char *refresh1 = tl_strdup(av_tokens_refresh_token(t1));
    av_client_free(c1);
    CHECK_STR_EQ(av_tokens_access_token(t1), access1);
    CHECK_STR_EQ(av_tokens_refresh_token(t1), refresh1);
    CHECK_STR_EQ(av_tokens_company_id(t1), "c-100");
    CHECK_STR_EQ(av_tokens_accessible_company_id(t1, 1), "c-200");
    /* The other client is unaffected, and can use the first client's tokens. */
    char *reply = NULL;
    if (CHECK_OK(av_client_call(c2, av_tokens_access_token(t1), "roomService/list", NULL, &reply))) {
        CHECK_CONTAINS(reply, "\"companyId\":\"c-100\"");
        av_string_free(reply);
    }
    av_tokens *r = NULL;
    if (CHECK_OK(av_client_refresh(c2, "c-100", av_tokens_refresh_token(t1), &r))) {
        av_tokens_free(r);
    }
    av_client_free(c2);
    CHECK_STR_EQ(av_tokens_company_id(t2), "c-300");
    av_tokens_free(t1);
    av_tokens_free(t2);
    free(access1);
    free(refresh1);
}

int main(void) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    /* The one-shot av_refresh's default client reads this when it is first created. */
    setenv("ALFAVIEW_API_URL", mock_url(), 1);
    client = tl_client(10000);
    if (client == NULL) {
        return tl_finish("test_client");
    }
    test_login_password();
    test_login_without_company();
    test_login_api_key();
    test_refresh_without_rotation();
    test_refresh_with_rotation();
    test_call();
    test_expires_at_forms();
    test_cookie_styles();
    test_clock_offset();
    test_short_lifetime();
    test_base_url_forms();
    test_one_shot();
    test_user_agent();
    test_lifetimes();
    av_client_free(client);
    mock_reset();
    return tl_finish("test_client");
}
