/*
 * The version macros of the installed alfaview_auth.h against the version the build says
 * it installed (EXPECTED_VERSION: Cargo.toml's [package] version from tests/install/run.sh,
 * or AlfaviewAuth_VERSION_STRING from the CMake package) and against av_version() of the
 * library actually loaded. Prints one line per check, then "RESULT passed=N failed=M".
 */
#include <stdio.h>
#include <string.h>

#include "alfaview_auth.h"

#if !defined(AV_VERSION_MAJOR) || !defined(AV_VERSION_MINOR) || !defined(AV_VERSION_PATCH) || \
    !defined(AV_VERSION_STRING)
#error "alfaview_auth.h lacks AV_VERSION_MAJOR, AV_VERSION_MINOR, AV_VERSION_PATCH or AV_VERSION_STRING"
#endif
/* The numbers must work in #if, as a program checking for a feature would use them. */
#if AV_VERSION_MAJOR < 0 || AV_VERSION_MINOR < 0 || AV_VERSION_PATCH < 0
#error "negative version numbers"
#endif
#define AV_TEST_VERSION_NUMBER (AV_VERSION_MAJOR * 1000000L + AV_VERSION_MINOR * 1000L + AV_VERSION_PATCH)
#if AV_TEST_VERSION_NUMBER < 1
#error "the version numbers are not usable in #if"
#endif

#ifndef EXPECTED_VERSION
#error "compile with -DEXPECTED_VERSION=\"x.y.z\""
#endif

static int passed, failed;

static void check(int ok, const char *what, const char *got, const char *want) {
    if (ok) {
        passed++;
        printf("ok    %s: %s\n", what, got);
    } else {
        failed++;
        printf("FAIL  %s: %s, expected %s\n", what, got, want);
    }
}

int main(void) {
    char numbers[64];
    snprintf(numbers, sizeof numbers, "%ld.%ld.%ld", (long)AV_VERSION_MAJOR, (long)AV_VERSION_MINOR,
             (long)AV_VERSION_PATCH);
    size_t n = strlen(numbers);
    const char *string = AV_VERSION_STRING;
    const char *loaded = av_version();

    check(strcmp(string, EXPECTED_VERSION) == 0, "AV_VERSION_STRING is the installed version", string,
          EXPECTED_VERSION);
    check(strncmp(string, numbers, n) == 0 && (string[n] == '\0' || string[n] == '-' || string[n] == '+'),
          "AV_VERSION_MAJOR.MINOR.PATCH agree with AV_VERSION_STRING", numbers, string);
    check(loaded != NULL && strcmp(loaded, string) == 0, "av_version() of the loaded library is the header's",
          loaded != NULL ? loaded : "(null)", string);
    printf("RESULT passed=%d failed=%d\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
