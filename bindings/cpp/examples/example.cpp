// The C++ binding in one page: sign in, hand the refresh token to a session, call the API.
//
// Reads ALFAVIEW_API_URL (and ALFAVIEW_CA_FILE, ALFAVIEW_TIMEOUT_MS) like every client
// built with the defaults, and the credentials from ALFAVIEW_USERNAME, ALFAVIEW_PASSWORD
// and ALFAVIEW_COMPANY_ID (default: the mock server's alice / wonderland / c-100).
// Prints what happens, never a whole secret.
//
//   c++ -std=c++17 -Iinclude -Ibindings/cpp bindings/cpp/examples/example.cpp
//       -Ltarget/debug -lalfaview_auth -Wl,-rpath,$PWD/target/debug -o example
//   (one command line)
//   ALFAVIEW_API_URL=http://127.0.0.1:PORT/json/v1/ ./example

#include "alfaview_auth.hpp"

#include <chrono>
#include <cstdlib>
#include <ctime>
#include <iostream>
#include <string>
#include <string_view>

namespace {

std::string env_or(const char *name, const char *fallback) {
    const char *v = std::getenv(name);
    return v && *v ? v : fallback;
}

// Enough of a secret to recognise it in a log, not enough to use it.
std::string redact(std::string_view secret) {
    return std::string(secret.substr(0, 4)) + "... (" + std::to_string(secret.size()) + " chars)";
}

std::string local_time(std::chrono::system_clock::time_point t) {
    const std::time_t tt = std::chrono::system_clock::to_time_t(t);
    char buf[64];
    std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", std::localtime(&tt));
    return buf;
}

}  // namespace

int main() {
    try {
        std::cout << "alfaview-auth " << alfaview::version() << " against "
                  << env_or("ALFAVIEW_API_URL", "https://apis.alfaview.com/json/v1/ (default)")
                  << "\n";

        // 1. A client (the defaults read the ALFAVIEW_* environment) and a sign-in.
        const alfaview::client client =
            alfaview::client::builder().user_agent("alfaview-cpp-example/1.0").build();
        const alfaview::tokens login =
            client.login_password(env_or("ALFAVIEW_USERNAME", "alice"),
                                  env_or("ALFAVIEW_PASSWORD", "wonderland"),
                                  env_or("ALFAVIEW_COMPANY_ID", "c-100"));
        std::cout << "signed in as " << login.user_id() << " in company " << login.company_id()
                  << "; refresh token " << redact(login.refresh_token()) << "\n";

        // 2. A session keeps the access token fresh. Persist a rotated refresh token in
        //    the callback (here we only say that it happened).
        alfaview::session session(client, login.company_id(), login.refresh_token());
        session.on_refresh_token([](std::string_view company_id, std::string_view token) {
            std::cout << "the server rotated the refresh token of " << company_id
                      << "; store " << redact(token) << " now\n";
        });
        const alfaview::access_token_info access = session.access_token_with_expiry();
        std::cout << "access token " << redact(access.access_token) << " valid until "
                  << local_time(access.expires_at) << "\n";

        // 3. A call: the session adds accessInfo, and renews and retries once if the
        //    server says the token has expired.
        const std::string reply =
            session.call("roomService/create", R"({"room": {"name": "Standup"}})");
        std::cout << "roomService/create replied: " << reply << "\n";
        return 0;
    } catch (const alfaview::error &e) {
        std::cerr << "failed: " << e.what() << " [" << e.status_name() << ", server status '"
                  << e.api_status() << "', request " << e.request_id() << "]\n";
        return 1;
    }
}
