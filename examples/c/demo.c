/*
 * alfaview-auth from C, start to finish:
 *   1. sign in with a username and password (for one company),
 *   2. exchange the refresh token for a new access token,
 *   3. call the API with the access token,
 *   4. do the same refresh in one line with av_refresh(),
 *   5. let a session keep the access token fresh (and persist a rotated refresh token).
 *
 * The API address comes from ALFAVIEW_API_URL (`make demo` points it at the bundled mock
 * server); the credentials from ALFAVIEW_USERNAME, ALFAVIEW_PASSWORD and
 * ALFAVIEW_COMPANY_ID. Secrets are never printed whole.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "alfaview_auth.h"

static const char *env_or(const char *name, const char *fallback) {
    const char *value = getenv(name);
    return value != NULL && value[0] != '\0' ? value : fallback;
}

/* Says what failed and everything the library knows about why. Returns 1 (exit code). */
static int report(const char *what, av_status status) {
    fflush(stdout); /* keep the story in order when both go to one place */
    fprintf(stderr, "\n%s failed: %s\n", what, av_status_name(status));
    fprintf(stderr, "  message:    %s\n", av_last_error_message());
    fprintf(stderr, "  api status: %s\n", av_last_error_api_status());
    fprintf(stderr, "  request id: %s\n", av_last_error_request_id());
    return 1;
}

/* A secret is shown by its first four characters only. */
static void show_secret(const char *label, const char *secret) {
    printf("  %-14s %.4s… (%zu characters, not shown)\n", label, secret, strlen(secret));
}

/* Where a real program would write the new refresh token to its protected store. */
static void persist_refresh_token(void *user_data, const char *company_id, const char *new_refresh_token) {
    (void)user_data;
    printf("  (callback) the server rotated the refresh token for %s: persisting %.4s…\n", company_id,
           new_refresh_token);
}

static void show_expiry(const char *label, int64_t unix_seconds) {
    char when[64] = "?";
    time_t t = (time_t)unix_seconds;
    struct tm utc;
    if (gmtime_r(&t, &utc) != NULL) {
        strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S UTC", &utc);
    }
    printf("  %-14s %s (in %lld s)\n", label, when, (long long)(unix_seconds - time(NULL)));
}

int main(void) {
    const char *username = env_or("ALFAVIEW_USERNAME", "alice");
    const char *password = env_or("ALFAVIEW_PASSWORD", "wonderland");
    const char *company = env_or("ALFAVIEW_COMPANY_ID", "c-100");
    av_client_builder *builder = NULL;
    av_client *client = NULL;
    av_tokens *login = NULL, *refreshed = NULL;
    av_session *session = NULL;
    char *reply = NULL, *access = NULL;
    int64_t expires_at = 0;
    av_status st;
    int rc = 1;

    printf("alfaview-auth %s, API at %s\n\n", av_version(),
           env_or("ALFAVIEW_API_URL", "https://apis.alfaview.com/json/v1/"));

    /* A client: the builder starts from the defaults and ALFAVIEW_* variables. */
    builder = av_client_builder_new();
    if ((st = av_client_build(builder, &client)) != AV_OK) {
        rc = report("Creating the client", st);
        goto done;
    }

    /* 1. Sign in. The refresh token is what a program keeps (with its company id). */
    printf("1. Signing in as %s for company %s\n", username, company);
    if ((st = av_login_password(client, username, password, company, &login)) != AV_OK) {
        rc = report("Signing in", st);
        goto done;
    }
    printf("  signed in:     user %s, company %s\n", av_tokens_user_id(login), av_tokens_company_id(login));
    show_secret("access token:", av_tokens_access_token(login));
    show_expiry("valid until:", av_tokens_expires_at(login));
    if (av_tokens_refresh_token(login)[0] == '\0') {
        fprintf(stderr, "\nThe server issued no refresh token.\n");
        goto done;
    }
    show_secret("refresh token:", av_tokens_refresh_token(login));

    /* 2. Later (in another run, say): a new access token from the refresh token. */
    printf("\n2. Refreshing with the refresh token\n");
    st = av_client_refresh(client, company, av_tokens_refresh_token(login), &refreshed);
    if (st != AV_OK) {
        rc = report("Refreshing", st);
        goto done;
    }
    show_secret("access token:", av_tokens_access_token(refreshed));
    show_expiry("valid until:", av_tokens_expires_at(refreshed));
    printf("  refresh token: %s\n", strcmp(av_tokens_refresh_token(refreshed), av_tokens_refresh_token(login)) == 0
                                         ? "unchanged, keep using it"
                                         : "replaced by a new one: keep the new one");

    /* 3. Calls: the library adds accessInfo {requestId, accessToken} to the body. */
    printf("\n3. Calling the API\n");
    const char *token = av_tokens_access_token(refreshed);
    if ((st = av_client_call(client, token, "authenticationService/isAuthenticated", NULL, &reply)) != AV_OK) {
        rc = report("authenticationService/isAuthenticated", st);
        goto done;
    }
    printf("  authenticationService/isAuthenticated -> %s\n", reply);
    av_string_free(reply);
    reply = NULL;
    const char *room = "{\"room\": {\"name\": \"Demo room\", \"maxParticipants\": 25}}";
    if ((st = av_client_call(client, token, "roomService/create", room, &reply)) != AV_OK) {
        rc = report("roomService/create", st);
        goto done;
    }
    printf("  roomService/create %s\n    -> %s\n", room, reply);

    /* 4. The one-line version of step 2, on a client the library keeps for you. */
    printf("\n4. One-shot refresh with av_refresh()\n");
    st = av_refresh(company, av_tokens_refresh_token(refreshed), &access, &expires_at);
    if (st != AV_OK) {
        rc = report("av_refresh", st);
        goto done;
    }
    show_secret("access token:", access);
    show_expiry("valid until:", expires_at);
    av_string_free(access);
    access = NULL;

    /* 5. A session: asks for a token whenever it needs one; renews it only when due. */
    printf("\n5. A session that keeps the access token fresh\n");
    st = av_session_new(client, company, av_tokens_refresh_token(refreshed), &session);
    if (st == AV_OK) st = av_session_on_refresh_token(session, persist_refresh_token, NULL);
    if (st == AV_OK) st = av_session_access_token(session, &access, &expires_at);
    if (st != AV_OK) {
        rc = report("The session", st);
        goto done;
    }
    show_secret("access token:", access);
    show_expiry("valid until:", expires_at);
    av_string_free(access);
    access = NULL;
    if ((st = av_session_access_token(session, &access, NULL)) != AV_OK) {
        rc = report("The session (again)", st);
        goto done;
    }
    printf("  asked again:   the same token, from the cache (no request)\n");
    av_string_free(reply);
    reply = NULL;
    if ((st = av_session_call(session, "roomService/list", NULL, &reply)) != AV_OK) {
        rc = report("roomService/list through the session", st);
        goto done;
    }
    printf("  roomService/list through the session -> %.60s…\n", reply);

    printf("\nAll done.\n");
    rc = 0;

done:
    av_string_free(access); /* wipes the token before freeing it */
    av_string_free(reply);
    av_session_free(session);
    av_tokens_free(refreshed);
    av_tokens_free(login);
    av_client_free(client);
    av_client_builder_free(builder);
    return rc;
}
