// Tests of the C++ binding (alfaview_auth.hpp) against the real mock server.
//
// Run by bindings/cpp/test.sh under scripts/with-mock.sh, which exports
// ALFAVIEW_MOCK_URL and ALFAVIEW_MOCK_PORT. The mock is configured through its /_mock/
// control endpoints over a plain loopback socket (see `mock` below). Each test starts
// from POST /_mock/reset. Names on the command line run only those tests.

#include "alfaview_auth.hpp"
#include "testing.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#ifndef EXPECTED_VERSION
#error "compile with -DEXPECTED_VERSION=\"x.y.z\" (the package version in Cargo.toml)"
#endif

using namespace std::chrono_literals;
namespace av = alfaview;

// ======================================================================================
// The mock's control endpoints, over a raw loopback socket
// ======================================================================================
namespace mock {

std::string base_url() {
    const char *url = std::getenv("ALFAVIEW_MOCK_URL");
    if (!url || !*url) throw std::runtime_error("ALFAVIEW_MOCK_URL is not set (run under scripts/with-mock.sh)");
    return url;
}

int port() {
    const char *p = std::getenv("ALFAVIEW_MOCK_PORT");
    if (!p || !*p) throw std::runtime_error("ALFAVIEW_MOCK_PORT is not set (run under scripts/with-mock.sh)");
    return std::atoi(p);
}

struct reply {
    int status = 0;
    std::string body;
};

/// One HTTP/1.1 request to 127.0.0.1:port on a fresh connection (Connection: close).
reply request(const std::string &method, const std::string &path, const std::string &body = "") {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) throw std::runtime_error("socket() failed");
    struct closer {
        int fd;
        ~closer() { ::close(fd); }
    } close_it{fd};
    timeval tv{};
    tv.tv_sec = 10;
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(port()));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr *>(&addr), sizeof addr) != 0) {
        throw std::runtime_error("cannot connect to the mock on port " + std::to_string(port()));
    }
    const std::string req = method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" +
                            "Content-Type: application/json\r\nContent-Length: " +
                            std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
    for (std::size_t sent = 0; sent < req.size();) {
        const ssize_t n = ::send(fd, req.data() + sent, req.size() - sent, MSG_NOSIGNAL);
        if (n <= 0) throw std::runtime_error("send to the mock failed");
        sent += static_cast<std::size_t>(n);
    }
    std::string raw;
    char buf[4096];
    for (;;) {
        // Stop once the headers and Content-Length bytes of body are in.
        const std::size_t head_end = raw.find("\r\n\r\n");
        if (head_end != std::string::npos) {
            std::string head = raw.substr(0, head_end);
            for (char &c : head) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
            const std::size_t cl = head.find("content-length:");
            if (cl != std::string::npos) {
                const std::size_t len = std::strtoul(head.c_str() + cl + 15, nullptr, 10);
                if (raw.size() >= head_end + 4 + len) break;
            }
        }
        const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
        if (n < 0) throw std::runtime_error("recv from the mock failed (timeout?)");
        if (n == 0) break;
        raw.append(buf, static_cast<std::size_t>(n));
    }
    reply r;
    if (raw.compare(0, 5, "HTTP/") != 0 || raw.size() < 12) {
        throw std::runtime_error("not an HTTP reply from the mock: " + raw.substr(0, 80));
    }
    r.status = std::atoi(raw.c_str() + 9);
    const std::size_t head_end = raw.find("\r\n\r\n");
    if (head_end != std::string::npos) r.body = raw.substr(head_end + 4);
    return r;
}

/// The raw text after `"key":` (whitespace skipped), or npos.
std::size_t value_pos(const std::string &json, const std::string &key) {
    const std::string quoted = "\"" + key + "\"";
    std::size_t p = json.find(quoted);
    while (p != std::string::npos) {
        std::size_t q = p + quoted.size();
        while (q < json.size() && std::isspace(static_cast<unsigned char>(json[q]))) ++q;
        if (q < json.size() && json[q] == ':') {
            ++q;
            while (q < json.size() && std::isspace(static_cast<unsigned char>(json[q]))) ++q;
            return q;
        }
        p = json.find(quoted, p + 1);
    }
    return std::string::npos;
}

/// The integer value of the first "key" (throws if absent).
long long json_int(const std::string &json, const std::string &key) {
    const std::size_t p = value_pos(json, key);
    if (p == std::string::npos) throw std::runtime_error("no \"" + key + "\" in " + json);
    return std::strtoll(json.c_str() + p, nullptr, 10);
}

/// The string value of the first "key" (no escapes in the mock's values; throws if absent).
std::string json_str(const std::string &json, const std::string &key) {
    const std::size_t p = value_pos(json, key);
    if (p == std::string::npos || json[p] != '"') throw std::runtime_error("no string \"" + key + "\" in " + json);
    const std::size_t end = json.find('"', p + 1);
    return json.substr(p + 1, end - p - 1);
}

reply checked(reply r, const std::string &what) {
    if (r.status != 200) throw std::runtime_error(what + ": HTTP " + std::to_string(r.status) + " " + r.body);
    return r;
}

void reset() { checked(request("POST", "/_mock/reset"), "reset"); }
void config(const std::string &patch) { checked(request("POST", "/_mock/config", patch), "config " + patch); }
void fault(const std::string &fault_json) { config("{\"fault\":" + fault_json + "}"); }
long long stat(const std::string &name) {
    return json_int(checked(request("GET", "/_mock/stats"), "stats").body, name);
}
std::string mint(const std::string &company = "c-100") {
    return json_str(
        checked(request("POST", "/_mock/mint", "{\"companyId\":\"" + company + "\"}"), "mint").body,
        "refreshToken");
}
void expire() { checked(request("POST", "/_mock/expire"), "expire"); }
std::string last() { return checked(request("GET", "/_mock/last"), "last").body; }
std::string tokens() { return checked(request("GET", "/_mock/tokens"), "tokens").body; }

}  // namespace mock

// ======================================================================================
// Helpers
// ======================================================================================

/// A client for the mock (the default timeout; connections kept alive).
av::client mock_client() { return av::client::builder().base_url(mock::base_url()).build(); }

long long unix_now() {
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

/// Collects log messages (thread-safe) while alive; turns logging off when destroyed.
struct log_capture {
    struct entry {
        av::log_level level;
        std::string message;
    };
    std::mutex m;
    std::vector<entry> entries;

    explicit log_capture(av::log_level max) {
        av::set_log_callback(
            [this](av::log_level level, std::string_view message) {
                std::lock_guard<std::mutex> lock(m);
                entries.push_back({level, std::string(message)});
            },
            max);
    }
    ~log_capture() { av::clear_log_callback(); }
    std::vector<entry> snapshot() {
        std::lock_guard<std::mutex> lock(m);
        return entries;
    }
};

/// The file store's directory for these tests: a private temporary directory, made on
/// first use (removed by main). Every store test calls this first: it points
/// ALFAVIEW_TOKEN_STORE at the directory (setenv), so no test touches the OS store.
std::string &store_dir_slot() {
    static std::string dir;
    return dir;
}

std::string store_dir() {
    std::string &dir = store_dir_slot();
    if (dir.empty()) {
        char tmpl[] = "/tmp/alfaview-cpp-store-XXXXXX";
        if (!::mkdtemp(tmpl)) throw std::runtime_error("mkdtemp failed");
        dir = tmpl;
    }
    ::setenv("ALFAVIEW_TOKEN_STORE", ("file:" + dir).c_str(), 1);
    return dir;
}

/// A pair_store in memory that counts its calls and checks they come in the documented
/// order (load and save only under the lock, once the session exists; no nested lock).
struct memory_store : av::pair_store {
    std::mutex m;
    std::optional<av::token_pair> pair;
    int loads = 0, saves = 0, locks = 0, unlocks = 0;
    bool locked = false;
    bool misuse = false;                       // nested lock, unlock without lock
    std::chrono::milliseconds lock_timeout{0};

    std::optional<av::token_pair> load() override {
        std::lock_guard<std::mutex> lock(m);
        ++loads;
        return pair;
    }
    void save(const av::token_pair &p) override {
        std::lock_guard<std::mutex> lock(m);
        ++saves;
        if (!locked) misuse = true;
        pair = p;
    }
    void lock(std::chrono::milliseconds timeout) override {
        std::lock_guard<std::mutex> lock(m);
        ++locks;
        if (locked) misuse = true;
        locked = true;
        lock_timeout = timeout;
    }
    void unlock() override {
        std::lock_guard<std::mutex> lock(m);
        ++unlocks;
        if (!locked) misuse = true;
        locked = false;
    }
    std::string stored_token() {
        std::lock_guard<std::mutex> lock(m);
        return pair ? pair->refresh_token : std::string();
    }
};

/// Moves `from` into `to`, even when both are the same object (without the compiler's
/// self-move warning).
template <typename T>
void move_assign(T &to, T &from) {
    to = std::move(from);
}

// Move-only, all of them.
static_assert(!std::is_copy_constructible_v<av::client> && std::is_nothrow_move_constructible_v<av::client>);
static_assert(!std::is_copy_assignable_v<av::client> && std::is_nothrow_move_assignable_v<av::client>);
static_assert(!std::is_copy_constructible_v<av::client_builder> && std::is_nothrow_move_constructible_v<av::client_builder>);
static_assert(!std::is_copy_constructible_v<av::tokens> && std::is_nothrow_move_assignable_v<av::tokens>);
static_assert(!std::is_copy_constructible_v<av::session> && std::is_nothrow_move_constructible_v<av::session>);
static_assert(!std::is_copy_assignable_v<av::session> && std::is_nothrow_move_assignable_v<av::session>);
static_assert(std::is_abstract_v<av::pair_store> && std::has_virtual_destructor_v<av::pair_store>);
static_assert(std::is_base_of_v<std::runtime_error, av::error>);
static_assert(std::is_base_of_v<av::error, av::timeout_error>);

// ======================================================================================
// Version and status names
// ======================================================================================

TEST(version_and_status_names) {
    CHECK_EQ(av::version(), std::string_view(EXPECTED_VERSION));
    CHECK_EQ(av::status_name(av::status::ok), std::string_view("AV_OK"));
    CHECK_EQ(av::status_name(av::status::timeout), std::string_view("AV_ERR_TIMEOUT"));
    CHECK_EQ(av::status_name(av::status::internal), std::string_view("AV_ERR_INTERNAL"));
    CHECK_EQ(av::status_name(static_cast<av::status>(99)), std::string_view("AV_UNKNOWN_STATUS"));
    CHECK_EQ(static_cast<int>(av::status::authentication), 5);
    CHECK_EQ(static_cast<int>(av::status::not_found), 10);
    for (int s = 0; s <= 12; ++s) {
        CHECK_NE(av::status_name(static_cast<av::status>(s)), std::string_view("AV_UNKNOWN_STATUS"));
    }
}

// ======================================================================================
// Sign-in, refresh, call on a client
// ======================================================================================

TEST(login_password_without_company) {
    mock::reset();
    const av::client c = mock_client();
    const av::tokens t = c.login_password("alice", "wonderland");
    CHECK_EQ(t.company_id(), "c-100");
    CHECK_EQ(t.user_id(), "u-alice");
    CHECK_EQ(t.access_token().size(), 44u);
    CHECK(!t.refresh_token().empty());
    CHECK_EQ(t.accessible_companies(), (std::vector<std::string>{"c-100", "c-200"}));
    CHECK_EQ(t.accessible_company_count(), 2u);
    CHECK(t.accessible_company(1) == std::optional<std::string>("c-200"));
    CHECK(!t.accessible_company(2).has_value());
    const long long now = unix_now();
    CHECK_GE(t.expires_at_unix(), now + 3600 - 60);
    CHECK_LE(t.expires_at_unix(), now + 3600 + 60);
    CHECK(t.expires_at() == std::chrono::system_clock::time_point(std::chrono::seconds(t.expires_at_unix())));
    CHECK(t.refresh_expires_at().has_value());
    CHECK_GE(t.refresh_expires_at_unix(), now + 2592000 - 120);
    CHECK(static_cast<bool>(t));
    CHECK(t.native_handle() != nullptr);
    CHECK_EQ(mock::stat("logins"), 1);
}

TEST(login_password_with_company) {
    mock::reset();
    const av::client c = mock_client();
    const av::tokens t = c.login_password("alice", "wonderland", "c-200");
    CHECK_EQ(t.company_id(), "c-200");
    const std::string company = "c-100";  // a std::string works as the optional too
    CHECK_EQ(c.login_password("alice", "wonderland", company).company_id(), "c-100");
    CHECK_EQ(c.login_password("bob", "builder", std::nullopt).company_id(), "c-300");
}

TEST(login_api_key) {
    mock::reset();
    const av::client c = mock_client();
    const av::tokens t = c.login_api_key("ak-demo", "ak-secret", "c-100");
    CHECK_EQ(t.company_id(), "c-100");
    CHECK_EQ(t.user_id(), "u-apikey");
    CHECK_EQ(t.accessible_companies(), std::vector<std::string>{"c-100"});
    auto e = CHECK_THROWS(av::authentication_error, c.login_api_key("ak-demo", "wrong", "c-100"));
    if (e) CHECK_EQ(e->api_status(), "AUTHENTICATION_ERROR");
}

TEST(refresh_without_rotation) {
    mock::reset();
    const av::client c = mock_client();
    const av::tokens login = c.login_password("alice", "wonderland", "c-100");
    const av::tokens fresh = c.refresh(login.company_id(), login.refresh_token());
    CHECK_EQ(fresh.company_id(), "c-100");
    CHECK_NE(fresh.access_token(), login.access_token());
    CHECK_EQ(fresh.refresh_token(), login.refresh_token());  // not rotated: the one used
    CHECK_EQ(mock::stat("refreshes"), 1);
    // The old refresh token still works.
    CHECK_EQ(c.refresh("c-100", login.refresh_token()).company_id(), "c-100");
}

TEST(refresh_with_rotation) {
    mock::reset();
    mock::config(R"({"rotate": true})");
    const av::client c = mock_client();
    const std::string rt0 = mock::mint("c-100");
    const av::tokens fresh = c.refresh("c-100", rt0);
    const std::string rt1 = fresh.refresh_token();
    CHECK(!rt1.empty());
    CHECK_NE(rt1, rt0);
    // The old one is revoked; the new one works and rotates again.
    CHECK_THROWS(av::authentication_error, c.refresh("c-100", rt0));
    const av::tokens again = c.refresh("c-100", rt1);
    CHECK_NE(again.refresh_token(), rt1);
}

TEST(call_with_and_without_body) {
    mock::reset();
    const av::client c = mock_client();
    const av::tokens t = c.login_password("alice", "wonderland");
    const std::string reply = c.call(t.access_token(), "roomService/create", R"({"room": {"name": "Standup"}})");
    CHECK_CONTAINS(reply, "\"roomService\"");
    CHECK_CONTAINS(reply, "Standup");
    CHECK_NOT_CONTAINS(reply, t.access_token());
    const std::string plain = c.call(t.access_token(), "authenticationService/isAuthenticated");
    CHECK_CONTAINS(plain, "\"OK\"");
    CHECK_EQ(mock::stat("calls"), 2);
}

TEST(builder_settings) {
    mock::reset();
    av::client_builder b = av::client::builder();
    b.base_url(mock::base_url()).timeout(5s).user_agent("alfaview-cpp-test/1.0");
    const av::client c = b.build();
    c.login_password("alice", "wonderland");
    CHECK_CONTAINS(mock::last(), "alfaview-cpp-test/1.0");
    // The builder stays valid and builds more clients.
    const av::client c2 = b.build();
    CHECK(static_cast<bool>(c2));
    // A CA file: a missing one is rejected, the mock's test CA is accepted.
    CHECK_THROWS(av::invalid_argument_error, b.ca_file("/nonexistent/ca.pem"));
    b.ca_file("mock-server/tests/data/ca.pem");
    // Temporaries chain and build.
    const av::client c3 = av::client::builder().base_url(mock::base_url()).timeout(2000ms).build();
    CHECK_EQ(c3.login_api_key("ak-demo", "ak-secret", "c-100").user_id(), "u-apikey");
    // A builder kept from a temporary chain (setters on a temporary return it by value).
    av::client_builder kept = av::client::builder().base_url(mock::base_url());
    CHECK(kept.native_handle() != nullptr);
}

TEST(builder_retries_and_reply_limit) {
    mock::reset();
    // One 503 is retried by default ...
    const av::client retrying = av::client::builder().base_url(mock::base_url()).max_retries(2).build();
    mock::fault(R"({"kind": "status", "status": 503, "count": 1})");
    retrying.login_password("alice", "wonderland");
    CHECK_EQ(mock::stat("authenticate"), 2);
    // ... and reported at once with retries off.
    const av::client once = av::client::builder().base_url(mock::base_url()).max_retries(0).build();
    mock::fault(R"({"kind": "status", "status": 503, "count": 1})");
    auto http = CHECK_THROWS(av::http_error, once.login_password("alice", "wonderland"));
    if (http) CHECK_EQ(http->http_status(), 503);
    // A small limit on call replies.
    CHECK_THROWS(av::invalid_argument_error, av::client::builder().max_reply_bytes(0));
    const av::client small = av::client::builder().base_url(mock::base_url()).max_reply_bytes(64).build();
    const av::tokens t = small.login_password("alice", "wonderland");
    CHECK_THROWS(av::protocol_error, small.call(t.access_token(), "roomService/create",
                                               R"({"room": {"name": "a reply longer than sixty-four bytes"}})"));
}

// ======================================================================================
// One-shot refresh and the default client
// ======================================================================================

TEST(one_shot_refresh_default_client) {
    mock::reset();
    const std::string rt = mock::mint("c-200");
    const av::access_token_info info = av::refresh("c-200", rt);
    CHECK_EQ(info.access_token.size(), 44u);
    const long long now = unix_now();
    CHECK_GE(info.expires_at_unix, now + 3600 - 60);
    CHECK_LE(info.expires_at_unix, now + 3600 + 60);
    CHECK(info.expires_at == std::chrono::system_clock::time_point(std::chrono::seconds(info.expires_at_unix)));
    CHECK_EQ(mock::stat("refreshes"), 1);
    auto e = CHECK_THROWS(av::authentication_error, av::refresh("c-200", "no-such-token"));
    if (e) CHECK_EQ(e->api_status(), "AUTHENTICATION_ERROR");
    // A session on the default client.
    const av::session s("c-200", rt);
    CHECK_EQ(s.access_token().size(), 44u);
    CHECK_CONTAINS(s.call("userService/get"), "\"c-200\"");
}

// ======================================================================================
// Sessions
// ======================================================================================

TEST(session_cached_path_makes_no_request) {
    mock::reset();
    const av::client c = mock_client();
    const av::session s(c, "c-100", mock::mint());
    const av::access_token_info first = s.access_token_with_expiry();
    CHECK_EQ(mock::stat("authenticate"), 1);
    const long long requests = mock::stat("requests");
    for (int i = 0; i < 50; ++i) CHECK_EQ(s.access_token(), first.access_token);
    CHECK_EQ(mock::stat("requests"), requests);
    CHECK_EQ(mock::stat("authenticate"), 1);
    const long long now = unix_now();
    CHECK_GE(first.expires_at_unix, now + 3600 - 60);
    CHECK_LE(first.expires_at_unix, now + 3600 + 60);
    // A session outlives the client it was made from.
    {
        av::client temp = mock_client();
        av::session s2(temp, "c-100", mock::mint());
        { av::client gone = std::move(temp); }
        CHECK_EQ(s2.access_token().size(), 44u);
    }
}

TEST(session_rotation_callback) {
    mock::reset();
    mock::config(R"({"rotate": true})");
    const av::client c = mock_client();
    const std::string rt0 = mock::mint("c-100");

    struct seen_t {
        std::mutex m;
        std::vector<std::pair<std::string, std::string>> calls;
        std::string session_token_inside;  // the session's refresh_token() during the call
    };
    auto seen = std::make_shared<seen_t>();
    av::session *target = nullptr;

    av::session s(c, "c-100", rt0);
    s.on_refresh_token([seen, &target](std::string_view company, std::string_view token) {
        std::lock_guard<std::mutex> lock(seen->m);
        seen->calls.emplace_back(std::string(company), std::string(token));
        if (target) seen->session_token_inside = target->refresh_token();
    });
    // Move the session after registering: the callback must follow it.
    av::session moved = std::move(s);
    target = &moved;
    CHECK(!static_cast<bool>(s));

    const std::string at1 = moved.access_token();
    std::string rt1;
    {
        std::lock_guard<std::mutex> lock(seen->m);
        if (CHECK_EQ(seen->calls.size(), 1u)) {
            CHECK_EQ(seen->calls[0].first, "c-100");
            rt1 = seen->calls[0].second;
            CHECK_NE(rt1, rt0);
            CHECK_EQ(seen->session_token_inside, rt1);
        }
    }
    CHECK_EQ(moved.refresh_token(), rt1);

    // A TOKEN_OUTDATED retry renews (and rotates) again, through the callback.
    mock::expire();
    CHECK_CONTAINS(moved.call("roomService/create", R"({"room": {"name": "x"}})"), "\"roomService\"");
    std::string rt2;
    {
        std::lock_guard<std::mutex> lock(seen->m);
        if (CHECK_EQ(seen->calls.size(), 2u)) rt2 = seen->calls[1].second;
    }
    CHECK_NE(rt2, rt1);
    CHECK_EQ(moved.refresh_token(), rt2);
    CHECK_NE(moved.access_token(), at1);
    // The mock agrees: only the newest refresh token is valid.
    const std::string toks = mock::tokens();
    CHECK_CONTAINS(toks, rt2);
    CHECK_THROWS(av::authentication_error, c.refresh("c-100", rt1));

    // Removing the callback: the next rotation is not reported.
    moved.on_refresh_token(nullptr);
    mock::expire();
    moved.call("roomService/create");
    {
        std::lock_guard<std::mutex> lock(seen->m);
        CHECK_EQ(seen->calls.size(), 2u);
    }
    CHECK_NE(moved.refresh_token(), rt2);
    target = nullptr;
}

TEST(session_callback_exception_is_rethrown_not_leaked_into_c) {
    mock::reset();
    mock::config(R"({"rotate": true})");
    const av::client c = mock_client();
    const std::string rt0 = mock::mint("c-100");
    av::session s(c, "c-100", rt0);
    int calls = 0;
    s.on_refresh_token([&calls](std::string_view, std::string_view) {
        ++calls;
        throw std::logic_error("cannot persist");
    });
    auto e = CHECK_THROWS(std::logic_error, s.access_token());
    if (e) CHECK_EQ(std::string(e->what()), "cannot persist");
    CHECK_EQ(calls, 1);
    // The session switched to the new refresh token anyway and serves the cached token.
    CHECK_NE(s.refresh_token(), rt0);
    CHECK_EQ(s.access_token().size(), 44u);
    CHECK_EQ(calls, 1);
    CHECK_EQ(mock::stat("refreshes"), 1);
    // Replacing the callback with a well-behaved one.
    s.on_refresh_token([&calls](std::string_view, std::string_view) { calls += 10; });
    mock::expire();
    s.call("roomService/create");
    CHECK_EQ(calls, 11);
}

TEST(session_token_outdated_retry) {
    mock::reset();
    const av::client c = mock_client();
    const av::session s(c, "c-100", mock::mint());
    const std::string before = s.access_token();
    CHECK_EQ(mock::stat("authenticate"), 1);
    mock::expire();
    // The client alone sees the expiry...
    auto e = CHECK_THROWS(av::token_expired_error, c.call(before, "roomService/create"));
    if (e) {
        CHECK(e->status() == av::status::token_expired);
        CHECK_EQ(e->api_status(), "TOKEN_OUTDATED");
        CHECK_EQ(e->http_status(), 401);
    }
    // ...the session renews once and retries once.
    const std::string reply = s.call("roomService/create", R"({"room": {"name": "retry"}})");
    CHECK_CONTAINS(reply, "retry");
    CHECK_EQ(mock::stat("authenticate"), 2);
    CHECK_NE(s.access_token(), before);
    CHECK_EQ(mock::stat("authenticate"), 2);
}

TEST(session_many_threads_one_request) {
    mock::reset();
    const av::client c = mock_client();
    const av::session s(c, "c-100", mock::mint());
    // Every authenticate takes 500 ms, so the threads certainly overlap.
    mock::fault(R"({"kind": "delay", "delayMs": 500, "path": "authenticate"})");
    constexpr int n = 8;
    std::vector<std::string> got(n);
    std::vector<std::thread> threads;
    std::mutex m;
    std::condition_variable cv;
    bool go = false;
    std::atomic<int> errors{0};
    for (int i = 0; i < n; ++i) {
        threads.emplace_back([&, i] {
            {
                std::unique_lock<std::mutex> lock(m);
                cv.wait(lock, [&] { return go; });
            }
            try {
                got[i] = s.access_token();
            } catch (const av::error &e) {
                ++errors;
                std::lock_guard<std::mutex> lock(testing::output_mutex());
                std::cout << "  thread " << i << ": " << e.what() << std::endl;
            }
        });
    }
    {
        std::lock_guard<std::mutex> lock(m);
        go = true;
    }
    cv.notify_all();
    for (auto &t : threads) t.join();
    mock::fault("null");
    CHECK_EQ(errors.load(), 0);
    for (int i = 1; i < n; ++i) CHECK_EQ(got[i], got[0]);
    CHECK_EQ(got[0].size(), 44u);
    CHECK_EQ(mock::stat("authenticate"), 1);
    CHECK_EQ(mock::stat("faults"), 1);
    // And calls from many threads on the warm session.
    threads.clear();
    std::atomic<int> ok{0};
    for (int i = 0; i < n; ++i) {
        threads.emplace_back([&] {
            for (int k = 0; k < 5; ++k) {
                try {
                    if (s.call("authenticationService/isAuthenticated").find("OK") != std::string::npos) ++ok;
                } catch (const av::error &) {
                }
            }
        });
    }
    for (auto &t : threads) t.join();
    CHECK_EQ(ok.load(), n * 5);
    CHECK_EQ(mock::stat("authenticate"), 1);
}

TEST(session_refresh_margin) {
    mock::reset();
    const av::client c = mock_client();
    av::session s(c, "c-100", mock::mint());
    s.set_refresh_margin(10s);
    s.set_refresh_margin(std::chrono::seconds(std::int64_t(1) << 40));  // capped, not an error
    auto e = CHECK_THROWS(av::invalid_argument_error, s.set_refresh_margin(-1s));
    if (e) CHECK_CONTAINS(e->what(), "seconds");
    // With a margin above the lifetime the token is renewed half-way: still cached now.
    s.set_refresh_margin(7200s);
    const std::string t = s.access_token();
    CHECK_EQ(s.access_token(), t);
    CHECK_EQ(mock::stat("authenticate"), 1);
}

// ======================================================================================
// Logging
// ======================================================================================

TEST(log_callback_session_refresh_and_no_secrets) {
    mock::reset();
    const av::client c = mock_client();
    const std::string rt = mock::mint();
    std::string token;
    std::vector<log_capture::entry> entries;
    {
        log_capture log(av::log_level::trace);
        const av::session s(c, "c-100", rt);
        token = s.access_token();
        entries = log.snapshot();
    }
    bool renewing = false;
    for (const auto &e : entries) {
        if (e.level == av::log_level::debug && testing::contains(e.message, "renewing")) renewing = true;
        CHECK_NOT_CONTAINS(e.message, token);
        CHECK_NOT_CONTAINS(e.message, rt);
        CHECK(static_cast<int>(e.level) >= 1 && static_cast<int>(e.level) <= 5);
    }
    CHECK(renewing);
    // Off: nothing more arrives (the capture above is gone; a new one at error level
    // sees no debug message).
    {
        log_capture quiet(av::log_level::error);
        const av::session s(c, "c-100", rt);
        s.access_token();
        for (const auto &e : quiet.snapshot()) CHECK(e.level == av::log_level::error);
    }
}

TEST(log_callback_warns_when_serving_cached_token) {
    mock::reset();
    mock::config(R"({"tokenLifetimeS": 4})");
    const av::client c = mock_client();
    const std::string rt = mock::mint();
    const av::session s(c, "c-100", rt);
    const std::string first = s.access_token();
    // Short-lived tokens are renewed half-way: after 2 s a renewal is due.
    std::this_thread::sleep_for(2300ms);
    mock::fault(R"({"kind": "status", "status": 503, "path": "authenticate"})");
    log_capture log(av::log_level::warn);
    CHECK_EQ(s.access_token(), first);  // the renewal failed; the cached token is still valid
    mock::fault("null");
    bool warned = false;
    for (const auto &e : log.snapshot()) {
        if (e.level == av::log_level::warn) warned = true;
        CHECK_NOT_CONTAINS(e.message, first);
        CHECK_NOT_CONTAINS(e.message, rt);
    }
    CHECK(warned);
}

TEST(log_callback_exception_and_replacement) {
    mock::reset();
    const av::client c = mock_client();
    std::atomic<int> thrown{0};
    av::set_log_callback(
        [&thrown](av::log_level, std::string_view) {
            ++thrown;
            throw std::runtime_error("logger broke");
        },
        av::log_level::trace);
    {
        const av::session s(c, "c-100", mock::mint());
        CHECK_EQ(s.access_token().size(), 44u);  // the library carried on
    }
    CHECK_GT(thrown.load(), 0);
    // Replaced while in use elsewhere: hammer logging from threads while swapping.
    std::atomic<bool> stop{false};
    std::atomic<int> received{0};
    std::thread worker([&] {
        while (!stop) {
            try {
                const av::session s(c, "c-100", mock::mint());
                s.access_token();
            } catch (const std::exception &) {
            }
        }
    });
    for (int i = 0; i < 200; ++i) {
        av::set_log_callback([&received](av::log_level, std::string_view) { ++received; },
                             av::log_level::trace);
        if (i % 3 == 0) av::clear_log_callback();
    }
    stop = true;
    worker.join();
    av::clear_log_callback();
    const int before = received.load();
    {
        const av::session s(c, "c-100", mock::mint());
        s.access_token();
    }
    CHECK_EQ(received.load(), before);  // off means off
}

// ======================================================================================
// Errors
// ======================================================================================

TEST(error_wrong_refresh_token) {
    mock::reset();
    const av::client c = mock_client();
    auto e = CHECK_THROWS(av::authentication_error, c.refresh("c-100", "wrong-refresh-token"));
    if (e) {
        CHECK(e->status() == av::status::authentication);
        CHECK_EQ(e->status_name(), std::string_view("AV_ERR_AUTHENTICATION"));
        CHECK_EQ(e->api_status(), "AUTHENTICATION_ERROR");
        CHECK(!e->request_id().empty());
        CHECK_EQ(e->http_status(), 401);
        CHECK(std::string(e->what()).size() > 0);
        CHECK_NOT_CONTAINS(e->what(), "wrong-refresh-token");
    }
    // The catch-all catches it too, and so does std::runtime_error.
    CHECK_THROWS(av::error, c.refresh("c-100", "wrong-refresh-token"));
    CHECK_THROWS(std::runtime_error, c.refresh("c-100", "wrong-refresh-token"));
    // A session with a bad refresh token fails when asked.
    const av::session s(c, "c-100", "wrong-refresh-token");
    CHECK_THROWS(av::authentication_error, s.access_token());
    CHECK_THROWS(av::authentication_error, s.call("roomService/create"));
    CHECK_THROWS(av::authentication_error, c.login_password("alice", "not-the-password"));
    auto locked = CHECK_THROWS(av::authentication_error, c.login_password("locked", "locked"));
    if (locked) CHECK_EQ(locked->api_status(), "ACCOUNT_STATUS_ERROR");
}

TEST(error_timeout) {
    mock::reset();
    const av::client c = av::client::builder().base_url(mock::base_url()).timeout(300ms).build();
    mock::fault(R"({"kind": "hang", "count": 1})");
    const auto start = std::chrono::steady_clock::now();
    auto e = CHECK_THROWS(av::timeout_error, c.login_password("alice", "wonderland"));
    const auto took = std::chrono::steady_clock::now() - start;
    if (e) {
        CHECK(e->status() == av::status::timeout);
        CHECK_EQ(e->http_status(), 0);
    }
    CHECK(took < 5s);
    // The fault was used up: the same client works again.
    CHECK_EQ(c.login_password("alice", "wonderland").company_id(), "c-100");
}

TEST(error_invalid_arguments) {
    mock::reset();
    const av::client c = mock_client();
    const std::string rt = mock::mint();
    auto e = CHECK_THROWS(av::invalid_argument_error, c.refresh("", rt));
    if (e) {
        CHECK(e->status() == av::status::invalid_argument);
        CHECK_CONTAINS(e->what(), "company_id");
        CHECK_EQ(e->request_id(), "");
        CHECK_EQ(e->http_status(), 0);
    }
    e = CHECK_THROWS(av::invalid_argument_error, av::session(c, "", rt));
    if (e) CHECK_CONTAINS(e->what(), "company_id");
    e = CHECK_THROWS(av::invalid_argument_error, av::refresh("", rt));
    if (e) CHECK_CONTAINS(e->what(), "company_id");
    e = CHECK_THROWS(av::invalid_argument_error, c.login_password("alice", "wonderland", ""));
    if (e) CHECK_CONTAINS(e->what(), "company_id");
    // Plain http:// to a non-loopback host.
    av::client_builder b;
    e = CHECK_THROWS(av::invalid_argument_error, b.base_url("http://example.com/json/v1/"));
    if (e) CHECK_CONTAINS(e->what(), "url");
    CHECK_THROWS(av::invalid_argument_error, b.timeout(0ms));
    CHECK_THROWS(av::invalid_argument_error, b.timeout(std::chrono::milliseconds(std::int64_t(1) << 33)));
    // An embedded NUL would cut the string short in C: refused, naming the argument.
    e = CHECK_THROWS(av::invalid_argument_error, c.login_password(std::string_view("alice\0x", 7), "wonderland"));
    if (e) CHECK_CONTAINS(e->what(), "username");
    // A control character (checked by the library).
    e = CHECK_THROWS(av::invalid_argument_error, c.refresh("c-100\n", rt));
    if (e) CHECK_CONTAINS(e->what(), "company_id");
    // A bad service method.
    e = CHECK_THROWS(av::invalid_argument_error, c.call("token", "../../etc"));
    if (e) CHECK_CONTAINS(e->what(), "service_method");
    CHECK_EQ(mock::stat("requests"), 0);
}

TEST(error_mapping_of_other_failures) {
    mock::reset();
    const av::client c = mock_client();
    const av::session s(c, "c-100", mock::mint());
    s.access_token();
    mock::fault(R"({"kind": "error200", "apiStatus": "INSUFFICIENT_PERMISSIONS", "count": 1, "path": "roomService"})");
    auto api = CHECK_THROWS(av::api_error, s.call("roomService/create"));
    if (api) {
        CHECK_EQ(api->api_status(), "INSUFFICIENT_PERMISSIONS");
        CHECK(!api->request_id().empty());
    }
    // 503 on every attempt (the library may retry a 503 before giving up).
    mock::fault(R"({"kind": "status", "status": 503})");
    auto http = CHECK_THROWS(av::http_error, s.call("roomService/create"));
    if (http) CHECK_EQ(http->http_status(), 503);
    mock::fault(R"({"kind": "garbage", "count": 1})");
    CHECK_THROWS(av::protocol_error, s.call("roomService/create"));
    const av::client nowhere = av::client::builder().base_url("http://127.0.0.1:1/json/v1/").build();
    auto net = CHECK_THROWS(av::network_error, nowhere.login_password("alice", "wonderland"));
    if (net) CHECK(net->status() == av::status::network);
    // Each is an alfaview::error.
    mock::fault(R"({"kind": "garbage", "count": 1})");
    CHECK_THROWS(av::error, s.call("roomService/create"));
    CHECK_CONTAINS(s.call("roomService/create"), "roomService");
}

// ======================================================================================
// Token store
// ======================================================================================

TEST(store_file_round_trip) {
    mock::reset();
    const std::string dir = store_dir();
    const std::string app = "cpp.round-trip_1";
    const std::string file = dir + "/" + app + ".json";
    av::store::remove(app);  // nothing there: not an error
    auto nf = CHECK_THROWS(av::not_found_error, av::store::load(app));
    if (nf) {
        CHECK(nf->status() == av::status::not_found);
        CHECK_EQ(nf->status_name(), std::string_view("AV_ERR_NOT_FOUND"));
        CHECK_CONTAINS(nf->what(), app);
    }
    CHECK_THROWS(av::error, av::store::load(app));  // the catch-all catches it too

    av::store::save(app, "c-100", "rt-first");
    const av::token_pair first = av::store::load(app);
    CHECK_EQ(first.company_id, "c-100");
    CHECK_EQ(first.refresh_token, "rt-first");
    struct stat st {};
    if (CHECK_EQ(::stat(file.c_str(), &st), 0)) CHECK_EQ(st.st_mode & 0777, 0600u);

    // Overwrite, with the pair overload.
    av::store::save(app, av::token_pair{"c-200", "rt-second"});
    CHECK(av::store::load(app) == (av::token_pair{"c-200", "rt-second"}));
    CHECK(av::store::load(app) != first);

    // A token file others can read is refused, naming the file.
    ::chmod(file.c_str(), 0644);
    auto readable = CHECK_THROWS(av::storage_error, av::store::load(app));
    if (readable) {
        CHECK(readable->status() == av::status::storage);
        CHECK_CONTAINS(readable->what(), file);
    }
    ::chmod(file.c_str(), 0600);
    CHECK_EQ(av::store::load(app).refresh_token, "rt-second");

    // Remove: gone, and removing again is fine.
    av::store::remove(app);
    CHECK_THROWS(av::not_found_error, av::store::load(app));
    av::store::remove(app);
    CHECK(!std::filesystem::exists(file));

    // A session from an empty entry.
    const av::client c = mock_client();
    CHECK_THROWS(av::not_found_error, av::session::from_store(c, app));
    CHECK_THROWS(av::not_found_error, av::session::from_store(app));
    CHECK_EQ(mock::stat("requests"), 0);
}

TEST(store_invalid_arguments) {
    mock::reset();
    const std::string dir = store_dir();
    const av::client c = mock_client();
    const std::string long_id(65, 'a');
    for (const std::string &bad : {std::string(), std::string("../escape"), std::string(".hidden"),
                                   std::string("a b"), std::string("a/b"), long_id}) {
        auto e = CHECK_THROWS(av::invalid_argument_error, av::store::save(bad, "c-100", "rt"));
        if (e) {
            CHECK(e->status() == av::status::invalid_argument);
            CHECK_CONTAINS(e->what(), "app_id");
        }
        CHECK_THROWS(av::invalid_argument_error, av::store::load(bad));
        CHECK_THROWS(av::invalid_argument_error, av::store::remove(bad));
        CHECK_THROWS(av::invalid_argument_error, av::session::from_store(c, bad));
        CHECK_THROWS(av::invalid_argument_error, av::session::from_store(bad));
    }
    // An embedded NUL is refused by the binding, naming the argument.
    auto nul = CHECK_THROWS(av::invalid_argument_error, av::store::load(std::string_view("app\0x", 5)));
    if (nul) CHECK_CONTAINS(nul->what(), "app_id");
    // The pair is checked like refresh arguments.
    auto company = CHECK_THROWS(av::invalid_argument_error, av::store::save("cpp-ok", "", "rt"));
    if (company) CHECK_CONTAINS(company->what(), "company_id");
    auto token = CHECK_THROWS(av::invalid_argument_error, av::store::save("cpp-ok", "c-100", "a b"));
    if (token) CHECK_CONTAINS(token->what(), "refresh_token");
    CHECK_THROWS(av::not_found_error, av::store::load("cpp-ok"));  // nothing was written
    // Nothing escaped the directory.
    CHECK(!std::filesystem::exists(std::filesystem::path(dir).parent_path() / "escape.json"));
    // A moved-from client is refused, not taken for the default client.
    av::client gone = mock_client();
    { av::client taker = std::move(gone); }
    auto moved = CHECK_THROWS(av::invalid_argument_error, av::session::from_store(gone, "cpp-ok"));
    if (moved) CHECK_CONTAINS(moved->what(), "c");
    CHECK_THROWS(av::invalid_argument_error,
                 av::session::with_store(gone, std::make_shared<memory_store>()));
    CHECK_THROWS(av::invalid_argument_error, av::session(gone, "c-100", "rt"));
    CHECK_EQ(mock::stat("requests"), 0);
}

TEST(store_session_rotation) {
    mock::reset();
    mock::config(R"({"rotate": true, "tokenLifetimeS": 2})");
    store_dir();
    const av::client c = mock_client();
    const std::string app = "cpp-session";
    const std::string rt0 = mock::mint("c-100");
    av::store::save(app, "c-100", rt0);

    av::session s = av::session::from_store(c, app);
    CHECK_EQ(s.refresh_token(), rt0);
    CHECK_EQ(mock::stat("requests"), 0);  // nothing sent yet
    const std::string at1 = s.access_token();  // renews; the server rotates; saved
    const std::string rt1 = s.refresh_token();
    CHECK_NE(rt1, rt0);
    CHECK(av::store::load(app) == (av::token_pair{"c-100", rt1}));

    // 2 s tokens are renewed half-way: after 1.2 s the next ask renews (and rotates).
    std::this_thread::sleep_for(1200ms);
    const std::string at2 = s.access_token();
    CHECK_NE(at2, at1);
    const std::string rt2 = s.refresh_token();
    CHECK_NE(rt2, rt1);
    CHECK_EQ(av::store::load(app).refresh_token, s.refresh_token());
    CHECK_EQ(mock::stat("refreshes"), 2);

    // A second session on the entry (another process, say) made now holds rt2; when the
    // first one rotates again, the second reads the stored token instead of using its
    // revoked one.
    const av::session other = av::session::from_store(c, app);
    CHECK_EQ(other.refresh_token(), rt2);
    mock::expire();
    CHECK_CONTAINS(s.call("roomService/create"), "\"roomService\"");
    const std::string rt3 = s.refresh_token();
    CHECK_NE(rt3, rt2);
    CHECK_EQ(av::store::load(app).refresh_token, rt3);
    CHECK_EQ(other.access_token().size(), 44u);
    CHECK_NE(other.refresh_token(), rt3);  // adopted rt3, then the server rotated it
    CHECK_EQ(av::store::load(app).refresh_token, other.refresh_token());

    // On the default client; and moving the session keeps it working.
    av::session d = av::session::from_store(app);
    av::session moved = std::move(d);
    CHECK_EQ(moved.access_token().size(), 44u);
    CHECK_EQ(av::store::load(app).refresh_token, moved.refresh_token());
    av::store::remove(app);
}

TEST(pair_store_in_memory_rotation) {
    mock::reset();
    mock::config(R"({"rotate": true})");
    const av::client c = mock_client();
    auto mem = std::make_shared<memory_store>();
    const std::string rt0 = mock::mint("c-100");
    mem->pair = av::token_pair{"c-100", rt0};
    const std::weak_ptr<memory_store> watch = mem;
    {
        av::session s = av::session::with_store(c, mem);
        CHECK_EQ(mem->loads, 1);  // loaded once, now
        CHECK_EQ(mem->locks, 0);
        CHECK_EQ(s.refresh_token(), rt0);
        int rotations = 0;
        s.on_refresh_token([&rotations](std::string_view, std::string_view) { ++rotations; });

        s.access_token();  // lock, load, refresh (rotated), save, unlock
        CHECK_EQ(mem->saves, 1);
        CHECK_EQ(mem->locks, 1);
        CHECK_EQ(mem->unlocks, 1);
        CHECK_EQ(mem->loads, 2);
        CHECK_GT(mem->lock_timeout.count(), 0);
        CHECK_NE(s.refresh_token(), rt0);
        CHECK_EQ(mem->stored_token(), s.refresh_token());
        CHECK_EQ(rotations, 1);  // the rotation callback still runs

        // A second rotation, through a TOKEN_OUTDATED retry.
        mock::expire();
        s.call("roomService/create");
        CHECK_EQ(mem->saves, 2);
        CHECK_EQ(mem->locks, 2);
        CHECK_EQ(mem->unlocks, 2);
        CHECK_EQ(mem->stored_token(), s.refresh_token());
        CHECK_EQ(rotations, 2);

        // Another host rotates the stored token: the next renewal adopts it.
        const av::tokens elsewhere = c.refresh("c-100", mem->stored_token());
        {
            std::lock_guard<std::mutex> lock(mem->m);
            mem->pair->refresh_token = elsewhere.refresh_token();
        }
        mock::expire();
        CHECK_CONTAINS(s.call("roomService/create"), "\"roomService\"");
        CHECK_EQ(mem->saves, 3);
        CHECK_EQ(mem->stored_token(), s.refresh_token());
        CHECK_NE(s.refresh_token(), elsewhere.refresh_token());

        // The session shares ownership of its store, also once moved.
        mem.reset();
        CHECK(!watch.expired());
        av::session moved = std::move(s);
        mock::expire();
        moved.call("roomService/create");
        if (auto still = watch.lock()) {
            CHECK_EQ(still->saves, 4);
            CHECK_EQ(still->locks, still->unlocks);
            CHECK(!still->locked);
            CHECK(!still->misuse);
        }
        CHECK_EQ(rotations, 4);
    }
    CHECK(watch.expired());  // released with the session
}

/// A memory_store whose save throws while `fail_save` is set.
struct failing_save_store : memory_store {
    bool fail_save = true;
    void save(const av::token_pair &p) override {
        if (fail_save) throw std::runtime_error("disk on fire");
        memory_store::save(p);
    }
};

/// Whether `e` nests a std::exception whose what() is `what`.
bool nests(const std::exception &e, const std::string &what) {
    try {
        std::rethrow_if_nested(e);
    } catch (const std::exception &inner) {
        return inner.what() == what;
    } catch (...) {
    }
    return false;
}

TEST(pair_store_save_throws) {
    mock::reset();
    mock::config(R"({"rotate": true})");
    const av::client c = mock_client();
    auto st = std::make_shared<failing_save_store>();
    const std::string rt0 = mock::mint("c-100");
    st->pair = av::token_pair{"c-100", rt0};
    av::session s = av::session::with_store(c, st);

    // The renewal worked, but the rotated token could not be saved: the caller must know.
    auto e = CHECK_THROWS(av::storage_error, s.access_token());
    if (e) {
        CHECK(e->status() == av::status::storage);
        CHECK_CONTAINS(e->what(), "save");
        CHECK_CONTAINS(e->what(), "disk on fire");
    }
    CHECK_EQ(st->locks, st->unlocks);
    // The new access token is cached and the rotated refresh token kept in memory.
    CHECK_EQ(s.access_token().size(), 44u);
    const std::string rt1 = s.refresh_token();
    CHECK_NE(rt1, rt0);
    CHECK_EQ(st->stored_token(), rt0);

    // The next renewal saves the kept token first; it fails again, as an alfaview::error
    // that nests the store's exception.
    mock::expire();
    bool caught = false;
    try {
        s.call("roomService/create");
    } catch (const av::error &err) {
        caught = true;
        CHECK(err.status() == av::status::storage);
        CHECK_CONTAINS(err.what(), "disk on fire");
        CHECK(nests(err, "disk on fire"));
    }
    CHECK(caught);
    CHECK_EQ(st->locks, st->unlocks);

    // Once saving works, the kept token is saved, then the next rotation.
    st->fail_save = false;
    CHECK_CONTAINS(s.call("roomService/create"), "\"roomService\"");
    CHECK_EQ(st->saves, 2);
    CHECK_EQ(st->stored_token(), s.refresh_token());
    CHECK_NE(s.refresh_token(), rt1);
    CHECK(!st->misuse);
}

/// A memory_store with a configurable failure in load, lock or unlock.
struct faulty_store : memory_store {
    std::function<std::optional<av::token_pair>()> on_load;  // replaces load() if set
    bool fail_lock = false;
    bool fail_unlock = false;
    std::optional<av::token_pair> load() override {
        if (on_load) return on_load();
        return memory_store::load();
    }
    void lock(std::chrono::milliseconds timeout) override {
        if (fail_lock) throw std::runtime_error("lock busy");
        memory_store::lock(timeout);
    }
    void unlock() override {
        memory_store::unlock();
        if (fail_unlock) throw std::runtime_error("unlock failed");
    }
};

TEST(pair_store_failures) {
    mock::reset();
    const av::client c = mock_client();
    auto e = CHECK_THROWS(av::invalid_argument_error, av::session::with_store(c, nullptr));
    if (e) CHECK_CONTAINS(e->what(), "store");

    // An empty store.
    CHECK_THROWS(av::not_found_error, av::session::with_store(c, std::make_shared<memory_store>()));

    // load() throws while the session is being made.
    auto st = std::make_shared<faulty_store>();
    st->on_load = []() -> std::optional<av::token_pair> { throw std::runtime_error("vault sealed"); };
    bool caught = false;
    try {
        av::session::with_store(c, st);
    } catch (const av::storage_error &err) {
        caught = true;
        CHECK(err.status() == av::status::storage);
        CHECK_CONTAINS(err.what(), "vault sealed");
        CHECK(nests(err, "vault sealed"));
    }
    CHECK(caught);
    // A throw that is not a std::exception is reported too.
    st->on_load = []() -> std::optional<av::token_pair> { throw 42; };
    auto odd = CHECK_THROWS(av::storage_error, av::session::with_store(c, st));
    if (odd) CHECK_CONTAINS(odd->what(), "not a std::exception");

    // Strings that do not fit the library's buffers, or would be cut short, are refused.
    st->on_load = [] { return std::optional<av::token_pair>(av::token_pair{"c-100", std::string(70000, 'a')}); };
    auto too_long = CHECK_THROWS(av::storage_error, av::session::with_store(c, st));
    if (too_long) {
        CHECK_CONTAINS(too_long->what(), "refresh token of 70000 bytes");
        CHECK_CONTAINS(too_long->what(), "at most");
    }
    st->on_load = [] { return std::optional<av::token_pair>(av::token_pair{std::string("c-1\0x", 5), "rt"}); };
    auto nul = CHECK_THROWS(av::storage_error, av::session::with_store(c, st));
    if (nul) CHECK_CONTAINS(nul->what(), "NUL");
    // The largest that fits is accepted by the binding (the library then judges it).
    st->on_load = [] { return std::optional<av::token_pair>(av::token_pair{"c-100", std::string(65536, 'a')}); };
    CHECK(static_cast<bool>(av::session::with_store(c, st)));

    // lock() throws: the renewal fails; no unlock without a lock.
    st->on_load = nullptr;
    st->pair = av::token_pair{"c-100", mock::mint("c-100")};
    st->fail_lock = true;
    const av::session s = av::session::with_store(c, st);
    auto locked = CHECK_THROWS(av::storage_error, s.access_token());
    if (locked) CHECK_CONTAINS(locked->what(), "lock busy");
    CHECK_EQ(st->unlocks, 0);
    CHECK_EQ(mock::stat("refreshes"), 0);

    // unlock() throwing is dropped: the session carries on.
    st->fail_lock = false;
    st->fail_unlock = true;
    CHECK_EQ(s.access_token().size(), 44u);
    CHECK_EQ(st->locks, 1);
    CHECK_EQ(st->unlocks, 1);
    CHECK(!st->misuse);
}

// ======================================================================================
// Move semantics
// ======================================================================================

TEST(move_semantics) {
    mock::reset();
    av::client c = mock_client();
    av::client c2 = std::move(c);
    CHECK(!static_cast<bool>(c));
    CHECK(static_cast<bool>(c2));
    // A moved-from client throws instead of crashing.
    CHECK_THROWS(av::invalid_argument_error, c.login_password("alice", "wonderland"));
    move_assign(c2, c2);  // self-move-assignment keeps the object
    CHECK(static_cast<bool>(c2));
    av::tokens t = c2.login_password("alice", "wonderland");
    const std::string access = t.access_token();
    av::tokens t2 = std::move(t);
    CHECK_EQ(t.access_token(), "");  // moved-from getters are empty, not crashes
    CHECK_EQ(t.accessible_company_count(), 0u);
    CHECK(!t.accessible_company(0).has_value());
    CHECK_EQ(t2.access_token(), access);
    move_assign(t2, t2);
    CHECK_EQ(t2.access_token(), access);
    t = c2.login_password("bob", "builder");  // assigning into a moved-from object
    CHECK_EQ(t.company_id(), "c-300");
    t = std::move(t2);                        // frees bob's tokens
    CHECK_EQ(t.access_token(), access);

    av::client_builder b;
    av::client_builder b2 = std::move(b);
    move_assign(b2, b2);
    CHECK(b2.native_handle() != nullptr);
    CHECK(b.native_handle() == nullptr);

    av::session s(c2, "c-100", mock::mint());
    bool old_called = false;
    s.on_refresh_token([&old_called](std::string_view, std::string_view) { old_called = true; });
    move_assign(s, s);
    CHECK(static_cast<bool>(s));
    CHECK_EQ(s.access_token().size(), 44u);
    av::session s2 = std::move(s);
    CHECK(!static_cast<bool>(s));
    CHECK_THROWS(av::invalid_argument_error, s.access_token());
    CHECK_THROWS(av::invalid_argument_error, s.on_refresh_token(nullptr));
    // Assigning over a session with a callback frees it and its callback.
    mock::config(R"({"rotate": true})");
    av::session s3(c2, "c-100", mock::mint());
    s2 = std::move(s3);
    s2.access_token();
    CHECK(!old_called);
    s = std::move(s2);  // into the moved-from one
    CHECK(static_cast<bool>(s));
    CHECK_EQ(s.access_token().size(), 44u);
    // Moved-from objects of every kind are destroyed at the end of scope.
}

int main(int argc, char **argv) {
    // The default client (alfaview::refresh, sessions without a client) reads
    // ALFAVIEW_API_URL once, on first use: point it at the mock before anything runs.
    try {
        const std::string url = mock::base_url();
        ::setenv("ALFAVIEW_API_URL", url.c_str(), 1);
        ::unsetenv("ALFAVIEW_CA_FILE");
        ::unsetenv("ALFAVIEW_TIMEOUT_MS");
        std::cout << "alfaview-auth " << av::version() << ", mock at " << url << std::endl;
    } catch (const std::exception &e) {
        std::cout << "setup failed: " << e.what() << std::endl;
        std::cout << "C++ tests: 0 passed, 1 failed" << std::endl;
        return 1;
    }
    const int rc = testing::run_all(argc, argv, "C++ tests");
    if (!store_dir_slot().empty()) {
        std::error_code ignored;
        std::filesystem::remove_all(store_dir_slot(), ignored);
    }
    return rc;
}
