// alfaview_auth.hpp: the C++17 binding of alfaview-auth (header-only).
//
// A thin layer over the C ABI in "alfaview_auth.h":
//   - every C handle is owned by a move-only class (std::unique_ptr with the C free
//     function as its deleter, see detail::handle);
//   - every failing call throws alfaview::error (or one of its subclasses, one per
//     av_status), filled from av_last_error_* right after the call, on the same thread;
//   - strings go in as std::string_view (copied so that they are NUL-terminated, and the
//     copy wiped afterwards) and come out as std::string (the library's copy is freed
//     with av_string_free at once, also when an exception is on its way);
//   - callbacks (refresh-token rotation, log) are std::function objects owned by this
//     binding, and an application's token store is a pair_store subclass the session
//     shares ownership of; no C++ exception ever crosses into the C library.
//
// Link with -lalfaview_auth. Nothing here needs more than C++17 and the standard library.

#ifndef ALFAVIEW_AUTH_HPP
#define ALFAVIEW_AUTH_HPP

#include "alfaview_auth.h"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <exception>
#include <functional>
#include <limits>
#include <memory>
#include <mutex>
#include <new>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

/// The C++ binding of alfaview-auth.
namespace alfaview {

// ======================================================================================
// Status codes
// ======================================================================================

/// The result of a call into the library: mirrors the C `av_status` (same values).
enum class status : std::int32_t {
    ok = AV_OK,                                ///< Success (never carried by an exception).
    invalid_argument = AV_ERR_INVALID_ARGUMENT,///< A bad argument; the message names it.
    network = AV_ERR_NETWORK,                  ///< DNS, connect, reset, I/O.
    timeout = AV_ERR_TIMEOUT,                  ///< Connect or whole-request timeout.
    tls = AV_ERR_TLS,                          ///< Certificate or handshake failure.
    authentication = AV_ERR_AUTHENTICATION,    ///< Credentials or refresh token rejected.
    token_expired = AV_ERR_TOKEN_EXPIRED,      ///< The server said TOKEN_OUTDATED.
    api = AV_ERR_API,                          ///< Any other error the server reported.
    http = AV_ERR_HTTP,                        ///< An HTTP error without an API error body.
    protocol = AV_ERR_PROTOCOL,                ///< A reply the library cannot use.
    not_found = AV_ERR_NOT_FOUND,              ///< The token store has no entry.
    storage = AV_ERR_STORAGE,                  ///< The token store failed.
    internal = AV_ERR_INTERNAL,                ///< A bug in the library (a caught panic).
};

/// The C name of a status, e.g. "AV_ERR_TIMEOUT" (from `av_status_name`);
/// "AV_UNKNOWN_STATUS" for a value that is not one. Static storage: never dangles.
inline std::string_view status_name(status s) noexcept {
    const char *name = av_status_name(static_cast<std::int32_t>(s));
    return name ? std::string_view(name) : std::string_view();
}

/// The library's version, e.g. "0.1.0" (from `av_version`). Static storage.
inline std::string_view version() noexcept {
    const char *v = av_version();
    return v ? std::string_view(v) : std::string_view();
}

// ======================================================================================
// Errors
// ======================================================================================

/// Every failure of the library: the catch-all exception of this binding.
///
/// `what()` is the library's message in plain words (`av_last_error_message`; it names
/// the argument for status::invalid_argument and never contains a secret). The other
/// fields come from `av_last_error_api_status`, `av_last_error_request_id` and
/// `av_last_error_http_status`, read on the failing thread right after the failing call.
/// A subclass per status (authentication_error, timeout_error, ...) allows catching
/// one kind of failure alone.
class error : public std::runtime_error {
public:
    /// An error with the given status, message and details (normally made by the binding
    /// itself from the library's last error).
    error(alfaview::status s, const std::string &message, std::string api_status = {},
          std::string request_id = {}, std::int32_t http_status = 0)
        : std::runtime_error(message),
          status_(s),
          api_status_(std::move(api_status)),
          request_id_(std::move(request_id)),
          http_status_(http_status) {}

    /// What kind of failure this is (never status::ok).
    alfaview::status status() const noexcept { return status_; }
    /// The C name of status(), e.g. "AV_ERR_AUTHENTICATION".
    std::string_view status_name() const noexcept { return alfaview::status_name(status_); }
    /// The server's statusCode name, e.g. "TOKEN_OUTDATED"; empty when the server
    /// reported none.
    const std::string &api_status() const noexcept { return api_status_; }
    /// The requestId of the failed request (quote it to support); empty when no request
    /// was made.
    const std::string &request_id() const noexcept { return request_id_; }
    /// The HTTP status of the failed request; 0 when there was no reply.
    std::int32_t http_status() const noexcept { return http_status_; }

private:
    alfaview::status status_;
    std::string api_status_;
    std::string request_id_;
    std::int32_t http_status_;
};

/// A bad argument (status::invalid_argument); what() names the argument.
class invalid_argument_error : public error {
public:
    /// See error::error().
    using error::error;
};

/// DNS, connect, reset or I/O failure (status::network).
class network_error : public error {
public:
    /// See error::error().
    using error::error;
};

/// Connect or whole-request timeout (status::timeout).
class timeout_error : public error {
public:
    /// See error::error().
    using error::error;
};

/// Certificate or TLS handshake failure (status::tls).
class tls_error : public error {
public:
    /// See error::error().
    using error::error;
};

/// Credentials or refresh token rejected (status::authentication):
/// AUTHENTICATION_ERROR, ACCOUNT_STATUS_ERROR, or 401/403 from authenticate.
class authentication_error : public error {
public:
    /// See error::error().
    using error::error;
};

/// The access token has expired: the server said TOKEN_OUTDATED
/// (status::token_expired).
class token_expired_error : public error {
public:
    /// See error::error().
    using error::error;
};

/// Any other error the server reported (status::api); see api_status().
class api_error : public error {
public:
    /// See error::error().
    using error::error;
};

/// An unexpected HTTP status without an API error body (status::http).
class http_error : public error {
public:
    /// See error::error().
    using error::error;
};

/// A reply the library cannot use: not JSON, a field missing, too large
/// (status::protocol).
class protocol_error : public error {
public:
    /// See error::error().
    using error::error;
};

/// The token store has no entry (status::not_found).
class not_found_error : public error {
public:
    /// See error::error().
    using error::error;
};

/// The token store failed (status::storage).
class storage_error : public error {
public:
    /// See error::error().
    using error::error;
};

/// A bug in the library, a caught panic (status::internal).
class internal_error : public error {
public:
    /// See error::error().
    using error::error;
};

/// Implementation details: not part of the API.
namespace detail {

/// Throws the exception class that matches `s`, with the given fields.
[[noreturn]] inline void throw_error(alfaview::status s, const std::string &message,
                                     std::string api_status = {}, std::string request_id = {},
                                     std::int32_t http_status = 0) {
    switch (s) {
#define ALFAVIEW_THROW_CASE_(ST, CLS)                                                     \
    case alfaview::status::ST:                                                            \
        throw CLS(s, message, std::move(api_status), std::move(request_id), http_status);
        ALFAVIEW_THROW_CASE_(invalid_argument, invalid_argument_error)
        ALFAVIEW_THROW_CASE_(network, network_error)
        ALFAVIEW_THROW_CASE_(timeout, timeout_error)
        ALFAVIEW_THROW_CASE_(tls, tls_error)
        ALFAVIEW_THROW_CASE_(authentication, authentication_error)
        ALFAVIEW_THROW_CASE_(token_expired, token_expired_error)
        ALFAVIEW_THROW_CASE_(api, api_error)
        ALFAVIEW_THROW_CASE_(http, http_error)
        ALFAVIEW_THROW_CASE_(protocol, protocol_error)
        ALFAVIEW_THROW_CASE_(not_found, not_found_error)
        ALFAVIEW_THROW_CASE_(storage, storage_error)
        ALFAVIEW_THROW_CASE_(internal, internal_error)
#undef ALFAVIEW_THROW_CASE_
    case alfaview::status::ok:
        break;
    }
    // status::ok or a value this binding does not know (a newer library).
    throw error(s, message, std::move(api_status), std::move(request_id), http_status);
}

/// A borrowed C string as std::string ("" for NULL).
inline std::string copy_c_str(const char *s) { return s ? std::string(s) : std::string(); }

/// Throws the library's last error on this thread (av_last_error_*) for status `rc`.
/// Must run right after the failing call, on the same thread.
[[noreturn]] inline void throw_last_error(av_status rc) {
    // Read every field before allocating anything that could call into the library.
    const char *message = av_last_error_message();
    const char *api_status = av_last_error_api_status();
    const char *request_id = av_last_error_request_id();
    const std::int32_t http_status = av_last_error_http_status();
    std::string msg = copy_c_str(message);
    const auto s = static_cast<alfaview::status>(rc);
    if (msg.empty()) msg = std::string(alfaview::status_name(s));
    throw_error(s, msg, copy_c_str(api_status), copy_c_str(request_id), http_status);
}

/// Throws unless `rc` is AV_OK.
inline void check(av_status rc) {
    if (rc != AV_OK) throw_last_error(rc);
}

/// The deleter of detail::handle: calls the C free function `Free`.
template <typename T, void (*Free)(T *)>
struct c_deleter {
    /// Frees `p` (the C functions accept NULL, so does this).
    void operator()(T *p) const noexcept { Free(p); }
};

/// A move-only owner of a C handle of type `T`, freed with `Free`. Every class of the
/// binding holds its handle in one of these, so moves, self-moves and destruction of
/// moved-from objects are all handled by std::unique_ptr.
template <typename T, void (*Free)(T *)>
using handle = std::unique_ptr<T, c_deleter<T, Free>>;

/// Overwrites `n` bytes at `p` with zeros in a way the optimiser keeps.
inline void wipe(char *p, std::size_t n) noexcept {
    volatile char *v = p;
    for (std::size_t i = 0; i < n; ++i) v[i] = 0;
}

/// A NUL-terminated copy of a std::string_view argument, wiped when it goes away
/// (arguments are often secrets). An embedded NUL byte would silently cut the string
/// short in C, so it is rejected here, naming the argument.
class c_arg {
public:
    /// Copies `value`, the argument called `name` in error messages.
    c_arg(std::string_view value, const char *name) : s_(value) {
        if (s_.find('\0') != std::string::npos) {
            wipe(s_.data(), s_.size());
            throw_error(alfaview::status::invalid_argument,
                        std::string(name) + ": contains a NUL byte");
        }
    }
    c_arg(const c_arg &) = delete;             ///< Not copyable.
    c_arg &operator=(const c_arg &) = delete;  ///< Not copyable.
    /// Wipes the copy.
    ~c_arg() { wipe(s_.data(), s_.size()); }
    /// The NUL-terminated copy.
    const char *get() const noexcept { return s_.c_str(); }

private:
    std::string s_;
};

/// An optional argument: NULL when absent.
class c_opt_arg {
public:
    /// Copies `value` if present; `name` is the argument's name in error messages.
    c_opt_arg(const std::optional<std::string_view> &value, const char *name) {
        if (value) arg_.emplace(*value, name);
    }
    /// The NUL-terminated copy, or NULL when absent.
    const char *get() const noexcept { return arg_ ? arg_->get() : nullptr; }

private:
    std::optional<c_arg> arg_;
};

/// A `char *` out-parameter owned by the caller: freed (and wiped by the library) with
/// av_string_free when this goes away, whatever happens in between.
class c_out_string {
public:
    c_out_string() = default;                                ///< Starts NULL.
    c_out_string(const c_out_string &) = delete;             ///< Not copyable.
    c_out_string &operator=(const c_out_string &) = delete;  ///< Not copyable.
    /// Frees (and wipes) the library's string (`av_string_free`; NULL is a no-op).
    ~c_out_string() { av_string_free(p_); }
    /// The address to pass as `char **out`.
    char **out() noexcept { return &p_; }
    /// A std::string copy ("" if the library left NULL).
    std::string str() const { return copy_c_str(p_); }

private:
    char *p_ = nullptr;
};

/// Seconds since the Unix epoch → system_clock::time_point.
inline std::chrono::system_clock::time_point from_unix(std::int64_t seconds) {
    return std::chrono::system_clock::time_point(
        std::chrono::duration_cast<std::chrono::system_clock::duration>(
            std::chrono::seconds(seconds)));
}

/// An exception a refresh-token callback threw on this thread during the current call
/// into the library: kept here by the trampoline, rethrown by the binding once the C
/// call has returned (see session::on_refresh_token).
inline std::exception_ptr &pending_callback_exception() noexcept {
    static thread_local std::exception_ptr pending;
    return pending;
}

/// An exception a pair_store method threw on this thread during the current call into
/// the library (the trampoline returned AV_ERR_STORAGE instead): kept here so that the
/// storage_error the call ends with can carry its message and nest it.
inline std::exception_ptr &pending_store_exception() noexcept {
    static thread_local std::exception_ptr pending;
    return pending;
}

/// Records the exception being handled as this thread's pending store exception (the
/// first one of a call wins). Never throws.
inline void record_store_exception() noexcept {
    std::exception_ptr &pending = pending_store_exception();
    if (!pending) pending = std::current_exception();
}

/// Gives one call into the library its own pending-exception slots on this thread and
/// puts back the enclosing call's when it ends (a callback may itself call into the
/// library, e.g. a pair_store that reads another session's token).
class callback_scope {
public:
    callback_scope() noexcept
        : callback_(std::exchange(pending_callback_exception(), nullptr)),
          store_(std::exchange(pending_store_exception(), nullptr)) {}
    callback_scope(const callback_scope &) = delete;             ///< Not copyable.
    callback_scope &operator=(const callback_scope &) = delete;  ///< Not copyable.
    ~callback_scope() {
        pending_callback_exception() = std::move(callback_);
        pending_store_exception() = std::move(store_);
    }

private:
    std::exception_ptr callback_;
    std::exception_ptr store_;
};

/// Rethrows (and clears) the exception a callback threw during the last C call.
inline void rethrow_callback_exception() {
    std::exception_ptr &pending = pending_callback_exception();
    if (pending) {
        std::exception_ptr e = std::move(pending);
        pending = nullptr;
        std::rethrow_exception(e);
    }
}

/// The what() of the exception in `e`, for a message.
inline std::string exception_message(const std::exception_ptr &e) {
    try {
        std::rethrow_exception(e);
    } catch (const std::exception &x) {
        return x.what();
    } catch (...) {
        return "an exception that is not a std::exception";
    }
}

/// Called while the library's storage_error `lib` is being handled and a pair_store
/// method threw on this thread: throws a storage_error with the library's message plus
/// the store's, with the store's exception nested in it (std::rethrow_if_nested).
[[noreturn]] inline void throw_store_failure(const error &lib) {
    std::exception_ptr store = std::move(pending_store_exception());
    pending_store_exception() = nullptr;
    std::string message = std::string(lib.what()) + ": " + exception_message(store);
    try {
        std::rethrow_exception(store);
    } catch (...) {
        std::throw_with_nested(storage_error(alfaview::status::storage, message,
                                             lib.api_status(), lib.request_id(),
                                             lib.http_status()));
    }
}

/// Calls the C function in `f` (returning av_status) and throws on failure. An exception
/// a refresh-token callback threw meanwhile (on this thread) wins over the library's
/// status; an exception a pair_store method threw is folded into the storage_error the
/// library reports for it.
template <typename F>
inline void call_with_callbacks(F &&f) {
    const callback_scope scope;
    const av_status rc = f();
    if (rc != AV_OK) {
        // Read the last error before anything else can overwrite it.
        try {
            throw_last_error(rc);
        } catch (const error &e) {
            if (pending_callback_exception()) rethrow_callback_exception();
            if (rc == AV_ERR_STORAGE && pending_store_exception()) throw_store_failure(e);
            throw;
        } catch (...) {
            if (pending_callback_exception()) rethrow_callback_exception();
            throw;
        }
    }
    rethrow_callback_exception();
}

}  // namespace detail

// ======================================================================================
// Tokens
// ======================================================================================

/// The result of a sign-in or refresh (owns an `av_tokens`, freed with `av_tokens_free`,
/// which wipes the secrets). Immutable: safe to read from many threads at once.
/// Move-only; a moved-from object may only be destroyed or assigned to (its getters
/// return empty values).
class tokens {
public:
    /// Takes ownership of a C handle (e.g. one from av_client_refresh).
    explicit tokens(av_tokens *raw) noexcept : h_(raw) {}

    /// The access token (copied from `av_tokens_access_token`). A secret: do not log it.
    std::string access_token() const { return detail::copy_c_str(av_tokens_access_token(h_.get())); }
    /// When the access token expires, as the server said (`av_tokens_expires_at`).
    std::chrono::system_clock::time_point expires_at() const {
        return detail::from_unix(expires_at_unix());
    }
    /// When the access token expires: Unix seconds, UTC (`av_tokens_expires_at`).
    std::int64_t expires_at_unix() const noexcept { return av_tokens_expires_at(h_.get()); }
    /// The refresh token to keep (`av_tokens_refresh_token`): after a sign-in the one
    /// issued (empty if the server issued none); after a refresh the new one if the
    /// server rotated it, otherwise the one that was used. A secret.
    std::string refresh_token() const { return detail::copy_c_str(av_tokens_refresh_token(h_.get())); }
    /// When the refresh token's cookie expires; std::nullopt if unknown
    /// (`av_tokens_refresh_expires_at`).
    std::optional<std::chrono::system_clock::time_point> refresh_expires_at() const {
        const std::int64_t t = refresh_expires_at_unix();
        if (t == 0) return std::nullopt;
        return detail::from_unix(t);
    }
    /// When the refresh token's cookie expires: Unix seconds, UTC; 0 if unknown.
    std::int64_t refresh_expires_at_unix() const noexcept {
        return av_tokens_refresh_expires_at(h_.get());
    }
    /// The company the access token is for (`av_tokens_company_id`).
    std::string company_id() const { return detail::copy_c_str(av_tokens_company_id(h_.get())); }
    /// The user the access token is for; empty if the reply did not say (`av_tokens_user_id`).
    std::string user_id() const { return detail::copy_c_str(av_tokens_user_id(h_.get())); }
    /// How many companies the user can reach (`av_tokens_accessible_company_count`).
    std::size_t accessible_company_count() const noexcept {
        return av_tokens_accessible_company_count(h_.get());
    }
    /// The `i`-th company the user can reach (`av_tokens_accessible_company_id`);
    /// std::nullopt if `i` is out of range.
    std::optional<std::string> accessible_company(std::size_t i) const {
        const char *id = av_tokens_accessible_company_id(h_.get(), i);
        if (!id) return std::nullopt;
        return std::string(id);
    }
    /// Every company the user can reach, in the server's order.
    std::vector<std::string> accessible_companies() const {
        std::vector<std::string> out;
        const std::size_t n = accessible_company_count();
        out.reserve(n);
        for (std::size_t i = 0; i < n; ++i) {
            if (const char *id = av_tokens_accessible_company_id(h_.get(), i)) out.emplace_back(id);
        }
        return out;
    }
    /// Whether this object holds tokens (false once moved from).
    explicit operator bool() const noexcept { return static_cast<bool>(h_); }
    /// The C handle, still owned by this object (NULL once moved from).
    const av_tokens *native_handle() const noexcept { return h_.get(); }

private:
    detail::handle<av_tokens, av_tokens_free> h_;
};

// ======================================================================================
// Client
// ======================================================================================

class client;

/// Settings for a client (owns an `av_client_builder`, freed with
/// `av_client_builder_free`). Starts from the defaults, environment included:
/// ALFAVIEW_API_URL, ALFAVIEW_TIMEOUT_MS, ALFAVIEW_CA_FILE. For one thread at a time.
/// Each setter throws invalid_argument_error (leaving the builder unchanged) on a bad
/// value; setters chain, on lvalues and temporaries alike:
/// `client::builder().base_url(url).timeout(5s).build()` (on a temporary they return the
/// builder by value, so `auto b = client::builder().base_url(url);` keeps a builder and
/// nothing dangles).
class client_builder {
public:
    /// A builder with the defaults (`av_client_builder_new`). Throws std::bad_alloc if
    /// the library is out of memory.
    client_builder() : h_(av_client_builder_new()) {
        if (!h_) throw std::bad_alloc();
    }

    /// The API's base URL (`av_client_builder_set_base_url`): `https://`, or `http://`
    /// only to loopback hosts (127.0.0.0/8, ::1, localhost).
    client_builder &base_url(std::string_view url) & {
        const detail::c_arg u(url, "url");
        detail::check(av_client_builder_set_base_url(h_.get(), u.get()));
        return *this;
    }
    /// \copydoc base_url(std::string_view) &
    client_builder base_url(std::string_view url) && {
        base_url(url);
        return std::move(*this);
    }

    /// The whole-request timeout (`av_client_builder_set_timeout_ms`): at least 1 ms, at
    /// most 2^32-1 ms (connecting alone is limited to the smaller of this and 10 s).
    client_builder &timeout(std::chrono::milliseconds t) & {
        if (t.count() > static_cast<std::chrono::milliseconds::rep>(
                            std::numeric_limits<std::uint32_t>::max())) {
            detail::throw_error(alfaview::status::invalid_argument,
                                "ms: must be at most 4294967295");
        }
        // 0 and negative values reach the library as 0, which it rejects by name.
        const auto ms = t.count() < 0 ? 0u : static_cast<std::uint32_t>(t.count());
        detail::check(av_client_builder_set_timeout_ms(h_.get(), ms));
        return *this;
    }
    /// \copydoc timeout(std::chrono::milliseconds) &
    client_builder timeout(std::chrono::milliseconds t) && {
        timeout(t);
        return std::move(*this);
    }

    /// Trusts the PEM root certificates in the file at `pem_path` in addition to the
    /// system's (`av_client_builder_set_ca_file`). The file is read now.
    client_builder &ca_file(std::string_view pem_path) & {
        const detail::c_arg p(pem_path, "pem_path");
        detail::check(av_client_builder_set_ca_file(h_.get(), p.get()));
        return *this;
    }
    /// \copydoc ca_file(std::string_view) &
    client_builder ca_file(std::string_view pem_path) && {
        ca_file(pem_path);
        return std::move(*this);
    }

    /// The User-Agent header (`av_client_builder_set_user_agent`; default
    /// `alfaview-auth/<version>`).
    client_builder &user_agent(std::string_view ua) & {
        const detail::c_arg u(ua, "ua");
        detail::check(av_client_builder_set_user_agent(h_.get(), u.get()));
        return *this;
    }
    /// \copydoc user_agent(std::string_view) &
    client_builder user_agent(std::string_view ua) && {
        user_agent(ua);
        return std::move(*this);
    }

    /// How many times a transient failure is retried (`av_client_builder_set_max_retries`;
    /// default 2, 0 turns retries off): a connection that could not be made, HTTP
    /// 502/503/504, and 429 after its Retry-After; always within the timeout.
    client_builder &max_retries(std::uint32_t retries) & {
        detail::check(av_client_builder_set_max_retries(h_.get(), retries));
        return *this;
    }
    /// \copydoc max_retries(std::uint32_t) &
    client_builder max_retries(std::uint32_t retries) && {
        max_retries(retries);
        return std::move(*this);
    }

    /// The largest reply to an API call accepted, in bytes
    /// (`av_client_builder_set_max_reply_bytes`; default 16 MiB, at least 1). A larger
    /// reply fails with a protocol_error without being read whole.
    client_builder &max_reply_bytes(std::size_t bytes) & {
        detail::check(av_client_builder_set_max_reply_bytes(h_.get(), bytes));
        return *this;
    }
    /// \copydoc max_reply_bytes(std::size_t) &
    client_builder max_reply_bytes(std::size_t bytes) && {
        max_reply_bytes(bytes);
        return std::move(*this);
    }

    /// Builds a client from these settings (`av_client_build`). The builder stays valid
    /// and may build more clients. Defined after class client.
    client build() const;

    /// The C handle, still owned by this object (NULL once moved from).
    av_client_builder *native_handle() const noexcept { return h_.get(); }

private:
    detail::handle<av_client_builder, av_client_builder_free> h_;
};

/// A connection to the alfaview API (owns an `av_client`, freed with `av_client_free`).
/// Safe to use from many threads at once; keeps its connections alive between calls.
/// Move-only; a moved-from client may only be destroyed or assigned to (its methods
/// throw invalid_argument_error).
class client {
public:
    /// A builder with the defaults, to configure and build() a client.
    static client_builder builder() { return client_builder(); }

    /// Takes ownership of a C handle (e.g. one from av_client_build).
    explicit client(av_client *raw) noexcept : h_(raw) {}

    /// Signs in with a username and password (`av_login_password`). Without a
    /// `company_id` the server picks the company; tokens::accessible_companies() lists
    /// the ones the user can reach. Wrong credentials throw authentication_error.
    tokens login_password(std::string_view username, std::string_view password,
                          std::optional<std::string_view> company_id = std::nullopt) const {
        const detail::c_arg u(username, "username"), p(password, "password");
        const detail::c_opt_arg c(company_id, "company_id");
        av_tokens *out = nullptr;
        detail::check(av_login_password(h_.get(), u.get(), p.get(), c.get(), &out));
        return tokens(out);
    }

    /// Signs in with an API key (`av_login_api_key`): `client_id` is the key's alias,
    /// `api_key_secret` its secret.
    tokens login_api_key(std::string_view client_id, std::string_view api_key_secret,
                         std::string_view company_id) const {
        const detail::c_arg id(client_id, "client_id"), secret(api_key_secret, "api_key_secret"),
            c(company_id, "company_id");
        av_tokens *out = nullptr;
        detail::check(av_login_api_key(h_.get(), id.get(), secret.get(), c.get(), &out));
        return tokens(out);
    }

    /// Exchanges a refresh token for a new access token (`av_client_refresh`). If the
    /// server rotates the refresh token, tokens::refresh_token() is the new one: keep
    /// it. A rejected refresh token throws authentication_error.
    tokens refresh(std::string_view company_id, std::string_view refresh_token) const {
        const detail::c_arg c(company_id, "company_id"), r(refresh_token, "refresh_token");
        av_tokens *out = nullptr;
        detail::check(av_client_refresh(h_.get(), c.get(), r.get(), &out));
        return tokens(out);
    }

    /// Calls `service_method` (e.g. "roomService/create") with `access_token`
    /// (`av_client_call`): adds `accessInfo` to `json_body` (a JSON object; none means
    /// `{}`) and returns the reply's JSON. An expired token throws token_expired_error;
    /// any other error the server reports throws api_error (see error::api_status()).
    std::string call(std::string_view access_token, std::string_view service_method,
                     std::optional<std::string_view> json_body = std::nullopt) const {
        const detail::c_arg t(access_token, "access_token"), m(service_method, "service_method");
        const detail::c_opt_arg b(json_body, "json_body");
        detail::c_out_string out;
        detail::check(av_client_call(h_.get(), t.get(), m.get(), b.get(), out.out()));
        return out.str();
    }

    /// Whether this object holds a client (false once moved from).
    explicit operator bool() const noexcept { return static_cast<bool>(h_); }
    /// The C handle, still owned by this object (NULL once moved from).
    const av_client *native_handle() const noexcept { return h_.get(); }

private:
    detail::handle<av_client, av_client_free> h_;
};

inline client client_builder::build() const {
    av_client *out = nullptr;
    detail::check(av_client_build(h_.get(), &out));
    return client(out);
}

namespace detail {

/// The handle of `c` for a session; throws invalid_argument_error if `c` was moved from
/// (the C library would read NULL as "the default client" and quietly use that instead).
inline const av_client *session_client(const client &c) {
    if (!c) throw_error(alfaview::status::invalid_argument, "c: the client was moved from");
    return c.native_handle();
}

}  // namespace detail

// ======================================================================================
// One-shot refresh
// ======================================================================================

/// An access token and its expiry, as alfaview::refresh() returns them.
struct access_token_info {
    std::string access_token;                          ///< The access token (a secret).
    std::chrono::system_clock::time_point expires_at;  ///< When it expires.
    std::int64_t expires_at_unix = 0;                  ///< The same: Unix seconds, UTC.
};

/// Exchanges a refresh token for an access token on the process-wide default client
/// (`av_refresh`; created once, lazily, from ALFAVIEW_API_URL, ALFAVIEW_CA_FILE and
/// ALFAVIEW_TIMEOUT_MS; it keeps its connections alive). It cannot hand back a rotated
/// refresh token: use client::refresh() or a session when the server rotates.
inline access_token_info refresh(std::string_view company_id, std::string_view refresh_token) {
    const detail::c_arg c(company_id, "company_id"), r(refresh_token, "refresh_token");
    detail::c_out_string token;
    std::int64_t expires = 0;
    detail::check(av_refresh(c.get(), r.get(), token.out(), &expires));
    access_token_info info;
    info.access_token = token.str();
    info.expires_at = detail::from_unix(expires);
    info.expires_at_unix = expires;
    return info;
}

// ======================================================================================
// Token store
// ======================================================================================

/// What a token store keeps: a company id and the refresh token tied to it (both
/// ordinary strings: treat refresh_token as a secret).
struct token_pair {
    std::string company_id;     ///< The company the refresh token is for.
    std::string refresh_token;  ///< The refresh token (a secret).

    /// Member-wise equality.
    friend bool operator==(const token_pair &a, const token_pair &b) noexcept {
        return a.company_id == b.company_id && a.refresh_token == b.refresh_token;
    }
    /// Member-wise inequality.
    friend bool operator!=(const token_pair &a, const token_pair &b) noexcept {
        return !(a == b);
    }
};

/// The library's own token store: the operating system's protected store where there is
/// one (Keychain, Windows Credential Manager, Secret Service), otherwise a file only the
/// user can read (`$XDG_DATA_HOME/alfaview-auth/<app_id>.json`). The environment variable
/// ALFAVIEW_TOKEN_STORE chooses explicitly, read at every call: `os`, `file` or
/// `file:<directory>`.
///
/// An `app_id` names one entry: 1 to 64 characters from letters, digits, '.', '_' and
/// '-', starting with a letter or digit (anything else throws invalid_argument_error).
/// Failures of the store itself throw storage_error.
namespace store {

/// Saves (replaces) the pair for `app_id` (`av_store_save`). Atomic: a crash leaves the
/// old pair or the new one, never a torn one.
inline void save(std::string_view app_id, std::string_view company_id,
                 std::string_view refresh_token) {
    const detail::c_arg a(app_id, "app_id"), c(company_id, "company_id"),
        r(refresh_token, "refresh_token");
    detail::check(av_store_save(a.get(), c.get(), r.get()));
}

/// Saves (replaces) `pair` for `app_id`; see save(app_id, company_id, refresh_token).
inline void save(std::string_view app_id, const token_pair &pair) {
    save(app_id, pair.company_id, pair.refresh_token);
}

/// The pair stored for `app_id` (`av_store_load`). Throws not_found_error if nothing is
/// stored; storage_error if the store failed, the entry is corrupt, or the file is
/// readable by other users (the message names the file and the fix).
inline token_pair load(std::string_view app_id) {
    const detail::c_arg a(app_id, "app_id");
    detail::c_out_string company, token;
    detail::check(av_store_load(a.get(), company.out(), token.out()));
    token_pair pair;
    pair.company_id = company.str();
    pair.refresh_token = token.str();
    return pair;
}

/// Deletes the pair stored for `app_id` (`av_store_delete`); deleting what is not there
/// is not an error.
inline void remove(std::string_view app_id) {
    const detail::c_arg a(app_id, "app_id");
    detail::check(av_store_delete(a.get()));
}

}  // namespace store

/// A store the application provides for a session's pair, e.g. on Redis, Vault or a
/// database shared by a fleet of hosts (see session::with_store()). Subclass it and
/// override load() and save(); override lock() and unlock() when several processes or
/// hosts share the entry.
///
/// For each renewal of the access token the session calls, on the renewing thread:
/// lock(), then load() (another host may have rotated the token since) or, if saving a
/// rotated token failed last time, save() first; then, after the server rotated the
/// token, save(); then unlock(), also when a step failed. load() is also called once when
/// the session is created. The library never calls two of these at once for one session,
/// but a store shared by several sessions may be called from several threads at once.
///
/// An exception thrown by load(), save() or lock() does not enter the C library: the step
/// fails with AV_ERR_STORAGE and the session's call throws storage_error, whose what()
/// ends with the exception's what() and which nests the exception
/// (std::rethrow_if_nested). An exception from unlock() is dropped.
class pair_store {
public:
    virtual ~pair_store() = default;

    /// The stored pair; std::nullopt if there is none (the session then reports
    /// not_found_error). Each string must be at most 65536 bytes with no NUL byte, or the
    /// step fails with storage_error.
    virtual std::optional<token_pair> load() = 0;

    /// Replaces the stored pair, atomically (a reader sees the old pair or the new one).
    virtual void save(const token_pair &pair) = 0;

    /// Takes the entry's lock, exclusive among everyone sharing the entry, waiting at
    /// most `timeout`; throws if the lock could not be had. The default does nothing.
    virtual void lock(std::chrono::milliseconds timeout) { (void)timeout; }

    /// Releases the lock lock() took. The default does nothing.
    virtual void unlock() {}

protected:
    pair_store() = default;
    pair_store(const pair_store &) = default;             ///< For subclasses.
    pair_store &operator=(const pair_store &) = default;  ///< For subclasses.
};

namespace detail {

/// Wipes a std::string's characters when it goes away (a copy of a refresh token).
class wipe_on_exit {
public:
    explicit wipe_on_exit(std::string &s) noexcept : s_(s) {}
    wipe_on_exit(const wipe_on_exit &) = delete;             ///< Not copyable.
    wipe_on_exit &operator=(const wipe_on_exit &) = delete;  ///< Not copyable.
    ~wipe_on_exit() { wipe(s_.data(), s_.size()); }

private:
    std::string &s_;
};

/// The av_store_callbacks of a pair_store (user_data is the pair_store). Every function
/// is noexcept: an exception becomes AV_ERR_STORAGE and is kept for the binding to
/// report (record_store_exception).
struct store_trampolines {
    /// Copies `value` with its NUL into `buf` (`size` bytes), or throws storage_error if
    /// it does not fit or holds a NUL byte (it would be cut short).
    static void copy_out(const std::string &value, char *buf, std::size_t size,
                         const char *what) {
        if (!buf || size == 0) {
            throw storage_error(alfaview::status::storage,
                                std::string("pair_store::load(): no buffer for the ") + what);
        }
        if (value.size() >= size) {
            throw storage_error(alfaview::status::storage,
                                std::string("pair_store::load() returned a ") + what + " of " +
                                    std::to_string(value.size()) + " bytes; at most " +
                                    std::to_string(size - 1) + " fit");
        }
        if (value.find('\0') != std::string::npos) {
            throw storage_error(alfaview::status::storage,
                                std::string("pair_store::load() returned a ") + what +
                                    " that contains a NUL byte");
        }
        std::memcpy(buf, value.data(), value.size());
        buf[value.size()] = '\0';
    }

    static std::int32_t load(void *user_data, char *company_id, std::size_t company_id_size,
                             char *refresh_token, std::size_t refresh_token_size) noexcept {
        try {
            std::optional<token_pair> pair = static_cast<pair_store *>(user_data)->load();
            if (!pair) return static_cast<std::int32_t>(AV_ERR_NOT_FOUND);
            const wipe_on_exit wipe_token(pair->refresh_token);
            copy_out(pair->company_id, company_id, company_id_size, "company id");
            copy_out(pair->refresh_token, refresh_token, refresh_token_size, "refresh token");
            return static_cast<std::int32_t>(AV_OK);
        } catch (...) {
            record_store_exception();
            return static_cast<std::int32_t>(AV_ERR_STORAGE);
        }
    }

    static std::int32_t save(void *user_data, const char *company_id,
                             const char *refresh_token) noexcept {
        try {
            token_pair pair;
            const wipe_on_exit wipe_token(pair.refresh_token);
            pair.company_id = company_id ? company_id : "";
            pair.refresh_token = refresh_token ? refresh_token : "";
            static_cast<pair_store *>(user_data)->save(pair);
            return static_cast<std::int32_t>(AV_OK);
        } catch (...) {
            record_store_exception();
            return static_cast<std::int32_t>(AV_ERR_STORAGE);
        }
    }

    static std::int32_t lock(void *user_data, std::uint32_t timeout_ms) noexcept {
        try {
            static_cast<pair_store *>(user_data)->lock(std::chrono::milliseconds(timeout_ms));
            return static_cast<std::int32_t>(AV_OK);
        } catch (...) {
            record_store_exception();
            return static_cast<std::int32_t>(AV_ERR_STORAGE);
        }
    }

    static void unlock(void *user_data) noexcept {
        try {
            static_cast<pair_store *>(user_data)->unlock();
        } catch (...) {
        }
    }

    /// The callback table (the library copies it).
    static av_store_callbacks table() noexcept {
        av_store_callbacks cbs{};
        cbs.load = &store_trampolines::load;
        cbs.save = &store_trampolines::save;
        cbs.lock = &store_trampolines::lock;
        cbs.unlock = &store_trampolines::unlock;
        return cbs;
    }
};

}  // namespace detail

// ======================================================================================
// Session
// ======================================================================================

/// A company id and a refresh token that hand out a valid access token whenever asked
/// (owns an `av_session`, freed with `av_session_free`).
///
/// Threading: access_token(), refresh_token() and call() are safe from many threads at
/// once; when a renewal is due, exactly one request goes out and every waiting thread
/// gets its result. The object must not be destroyed, moved or assigned while another
/// thread is inside one of its methods.
///
/// Move-only; a moved-from session may only be destroyed or assigned to (its methods
/// throw invalid_argument_error).
class session {
public:
    /// The callback type of on_refresh_token(): `(company_id, new_refresh_token)`; both
    /// views are valid only during the call.
    using refresh_token_callback =
        std::function<void(std::string_view company_id, std::string_view new_refresh_token)>;

    /// A session on `c` (`av_session_new`). The session keeps the client's connection
    /// alive: `c` may be destroyed afterwards. Nothing is sent until a token is asked for.
    /// A moved-from `c` throws invalid_argument_error.
    session(const client &c, std::string_view company_id, std::string_view refresh_token)
        : session(detail::session_client(c), company_id, refresh_token) {}

    /// A session on the process-wide default client (the one alfaview::refresh() uses;
    /// `av_session_new` with a NULL client).
    session(std::string_view company_id, std::string_view refresh_token)
        : session(nullptr, company_id, refresh_token) {}

    session(const session &) = delete;             ///< Move-only.
    session &operator=(const session &) = delete;  ///< Move-only.
    /// A session on the pair the library's token store holds for `app_id` (see
    /// alfaview::store; `av_session_new_from_store`), on `c`. Throws not_found_error if
    /// nothing is stored. Every renewal takes the entry's exclusive lock, re-reads the
    /// stored pair (another process may have rotated it) and saves a rotated refresh
    /// token before releasing the lock: processes sharing an app id never refresh with a
    /// stale token nor lose a new one. If saving a rotated token fails, the call that
    /// renewed throws storage_error (the new access token is cached all the same, and the
    /// token is saved at the next renewal).
    static session from_store(const client &c, std::string_view app_id) {
        return from_store(detail::session_client(c), app_id);
    }

    /// from_store() on the process-wide default client.
    static session from_store(std::string_view app_id) { return from_store(nullptr, app_id); }

    /// A session on the pair held by the application's `store` (see pair_store;
    /// `av_session_new_with_store`), on `c`. The pair is loaded now (not_found_error if
    /// the store has none); each renewal then calls the store as pair_store describes.
    /// The session shares ownership of `store`, which therefore lives at least as long as
    /// the session. A null `store` throws invalid_argument_error.
    static session with_store(const client &c, std::shared_ptr<pair_store> store) {
        return with_store(detail::session_client(c), std::move(store));
    }

    /// with_store() on the process-wide default client.
    static session with_store(std::shared_ptr<pair_store> store) {
        return with_store(nullptr, std::move(store));
    }

    /// Takes over `other`'s session, callback and store; `other` is left empty.
    session(session &&other) noexcept = default;
    /// Frees this session (unregistering its callback first), then takes over
    /// `other`'s. Self-assignment is a no-op.
    session &operator=(session &&other) noexcept {
        if (this != &other) {
            reset();
            h_ = std::move(other.h_);
            cell_ = std::move(other.cell_);
            store_ = std::move(other.store_);
        }
        return *this;
    }
    /// Unregisters the callback and frees the session (`av_session_free`), then lets go
    /// of its store.
    ~session() { reset(); }

    /// A valid access token (`av_session_access_token`): the cached one while it has
    /// more than the refresh margin left, otherwise a renewed one. If renewing fails
    /// while the cached token is still valid, the cached token is returned (and the
    /// failure logged). A secret: do not log it.
    std::string access_token() const { return access_token_with_expiry().access_token; }

    /// A valid access token and its expiry on the local clock (when the reply arrived
    /// plus the lifetime the server intended), as access_token() decides it.
    access_token_info access_token_with_expiry() const {
        detail::c_out_string token;
        std::int64_t expires = 0;
        detail::call_with_callbacks(
            [&] { return av_session_access_token(h_.get(), token.out(), &expires); });
        access_token_info info;
        info.access_token = token.str();
        info.expires_at = detail::from_unix(expires);
        info.expires_at_unix = expires;
        return info;
    }

    /// The refresh token to keep: the newest the server issued
    /// (`av_session_refresh_token`). A secret.
    std::string refresh_token() const {
        detail::c_out_string out;
        detail::check(av_session_refresh_token(h_.get(), out.out()));
        return out.str();
    }

    /// Renew the access token this long before it expires
    /// (`av_session_set_refresh_margin_s`; default 60 s; tokens living less than twice
    /// the margin are renewed half-way through their life). Values above 2^32-1 s are
    /// capped; a negative margin throws invalid_argument_error.
    void set_refresh_margin(std::chrono::seconds margin) {
        if (margin.count() < 0) {
            detail::throw_error(alfaview::status::invalid_argument,
                                "seconds: must not be negative");
        }
        constexpr auto max = std::numeric_limits<std::uint32_t>::max();
        const auto s = margin.count() > static_cast<std::chrono::seconds::rep>(max)
                           ? max
                           : static_cast<std::uint32_t>(margin.count());
        detail::check(av_session_set_refresh_margin_s(h_.get(), s));
    }

    /// Calls `cb(company_id, new_refresh_token)` whenever the server rotates the refresh
    /// token (`av_session_on_refresh_token`); an empty function removes the callback.
    /// Persist the new token there: the server may no longer accept the old one.
    ///
    /// The callback runs on the thread whose access_token() or call() triggered the
    /// renewal, before that call hands out the new access token, with no lock of the
    /// library held. It may call refresh_token() (which already returns the new token),
    /// but not access_token() or call() on the same session: those would wait for the
    /// very renewal the callback is part of, and fail with timeout_error after the
    /// client's timeout plus a second. Other threads wait for the renewal, callback
    /// included, just as long: keep the callback quick. The session owns `cb` until it
    /// is replaced or the session is destroyed; a
    /// callback already running on another thread when it is replaced finishes with the
    /// old function, which stays alive until then. Not to be called concurrently with
    /// itself.
    ///
    /// An exception thrown by `cb` does not enter the C library: it is caught and
    /// rethrown from the access_token() or call() that triggered the renewal, once the
    /// library has returned (the session already holds the new refresh token, and
    /// call() may already have made its request).
    void on_refresh_token(refresh_token_callback cb) {
        if (!cb) {
            // The cell stays (its address may still be in a renewal that is under way on
            // another thread); that renewal then finds no function and does nothing.
            if (cell_) {
                std::shared_ptr<const refresh_token_callback> old;  // freed after unlocking
                std::lock_guard<std::mutex> lock(cell_->mutex);
                old = std::move(cell_->fn);
            }
            detail::check(av_session_on_refresh_token(h_.get(), nullptr, nullptr));
            return;
        }
        std::shared_ptr<const refresh_token_callback> fn =
            std::make_shared<const refresh_token_callback>(std::move(cb));
        if (!cell_) cell_ = std::make_unique<callback_cell>();
        {
            std::lock_guard<std::mutex> lock(cell_->mutex);
            std::swap(cell_->fn, fn);  // `fn` now holds the old function, freed below
        }
        detail::check(av_session_on_refresh_token(h_.get(), &session::trampoline, cell_.get()));
    }

    /// Calls `service_method` with the session's access token (`av_session_call`); on
    /// TOKEN_OUTDATED the token is renewed once and the call retried once (a second
    /// TOKEN_OUTDATED throws token_expired_error). `json_body` is a JSON object; none
    /// means `{}`.
    std::string call(std::string_view service_method,
                     std::optional<std::string_view> json_body = std::nullopt) const {
        const detail::c_arg m(service_method, "service_method");
        const detail::c_opt_arg b(json_body, "json_body");
        detail::c_out_string out;
        detail::call_with_callbacks(
            [&] { return av_session_call(h_.get(), m.get(), b.get(), out.out()); });
        return out.str();
    }

    /// Whether this object holds a session (false once moved from).
    explicit operator bool() const noexcept { return static_cast<bool>(h_); }
    /// The C handle, still owned by this object (NULL once moved from). Do not register
    /// a callback on it directly: on_refresh_token() owns that slot.
    av_session *native_handle() const noexcept { return h_.get(); }

private:
    /// The refresh-token callback, in a heap cell whose address (the C user_data) stays
    /// put when the session object moves. The function itself sits behind a shared_ptr
    /// so that replacing it while another thread is inside it is safe.
    struct callback_cell {
        std::mutex mutex;
        std::shared_ptr<const refresh_token_callback> fn;
    };

    session(const av_client *c, std::string_view company_id, std::string_view refresh_token) {
        const detail::c_arg id(company_id, "company_id"), r(refresh_token, "refresh_token");
        av_session *out = nullptr;
        detail::check(av_session_new(c, id.get(), r.get(), &out));
        h_.reset(out);
    }

    /// Takes ownership of `raw` and of the store its callbacks use (if any).
    session(av_session *raw, std::shared_ptr<pair_store> store) noexcept
        : h_(raw), store_(std::move(store)) {}

    static session from_store(const av_client *c, std::string_view app_id) {
        const detail::c_arg a(app_id, "app_id");
        av_session *out = nullptr;
        detail::check(av_session_new_from_store(c, a.get(), &out));
        return session(out, nullptr);
    }

    static session with_store(const av_client *c, std::shared_ptr<pair_store> store) {
        if (!store) {
            detail::throw_error(alfaview::status::invalid_argument, "store: must not be null");
        }
        const av_store_callbacks cbs = detail::store_trampolines::table();
        av_session *out = nullptr;
        // The initial load runs inside: an exception from it is reported like any other.
        detail::call_with_callbacks(
            [&] { return av_session_new_with_store(c, &cbs, store.get(), &out); });
        return session(out, std::move(store));
    }

    /// The C callback: forwards to the cell's function; never lets an exception out.
    static void trampoline(void *user_data, const char *company_id,
                           const char *new_refresh_token) noexcept {
        try {
            auto *cell = static_cast<callback_cell *>(user_data);
            std::shared_ptr<const refresh_token_callback> fn;
            {
                std::lock_guard<std::mutex> lock(cell->mutex);
                fn = cell->fn;
            }
            if (fn && *fn) {
                (*fn)(company_id ? std::string_view(company_id) : std::string_view(),
                      new_refresh_token ? std::string_view(new_refresh_token)
                                        : std::string_view());
            }
        } catch (...) {
            std::exception_ptr &pending = detail::pending_callback_exception();
            if (!pending) pending = std::current_exception();
        }
    }

    /// Unregisters the callback, then frees the session, then the cell and the store: in
    /// that order, so the library never calls into a freed cell or store.
    void reset() noexcept {
        if (h_ && cell_) av_session_on_refresh_token(h_.get(), nullptr, nullptr);
        h_.reset();
        cell_.reset();
        store_.reset();
    }

    detail::handle<av_session, av_session_free> h_;
    std::unique_ptr<callback_cell> cell_;
    /// The application's store whose address the C session holds as user_data (null
    /// for other sessions); released after the C session is freed.
    std::shared_ptr<pair_store> store_;
};

// ======================================================================================
// Logging
// ======================================================================================

/// How important a log message is (the C ABI's 1..5).
enum class log_level : std::int32_t {
    error = 1,  ///< Something failed.
    warn = 2,   ///< Something went wrong but was handled (e.g. a cached token served).
    info = 3,   ///< Notable events (e.g. the server rotated the refresh token).
    debug = 4,  ///< Details (e.g. a session renewing its token).
    trace = 5,  ///< Everything.
};

/// The function set_log_callback() takes.
using log_callback = std::function<void(log_level level, std::string_view message)>;

namespace detail {

/// The process-wide log state behind set_log_callback(). Allocated once and never
/// freed, so a library thread that logs during static destruction finds it intact.
struct log_state {
    std::mutex mutex;                            ///< Guards fn (the trampoline takes it).
    std::shared_ptr<const log_callback> fn;      ///< The current callback, or null.
    /// Serialises set_log_callback() so fn and the C registration stay in step. The
    /// trampoline never takes it: av_set_log_callback waits for calls under way on other
    /// threads, which must be able to finish meanwhile.
    std::mutex registration_mutex;

    static log_state &get() {
        static log_state *state = new log_state();
        return *state;
    }

    /// The C callback: forwards to the current function; never lets an exception out
    /// (an exception in a log callback is dropped: logging must not fail an operation).
    static void trampoline(void *user_data, std::int32_t level, const char *message) noexcept {
        try {
            auto *state = static_cast<log_state *>(user_data);
            std::shared_ptr<const log_callback> fn;
            {
                std::lock_guard<std::mutex> lock(state->mutex);
                fn = state->fn;
            }
            if (fn && *fn) {
                (*fn)(static_cast<log_level>(level),
                      message ? std::string_view(message) : std::string_view());
            }
        } catch (...) {
        }
    }
};

}  // namespace detail

/// Sends the library's log messages up to `max_level` to `cb` (`av_set_log_callback`);
/// an empty `cb` turns logging off. Messages never contain a secret.
///
/// The callback is process-wide (one for the whole program) and may be called from any
/// thread, several at once: it must be thread-safe. It is kept in a static owned by this
/// binding until replaced; a call in progress on another thread when it is replaced or
/// turned off finishes with the old function, and this function returns only once such
/// calls have finished (the library waits for them), so what the old function used may
/// be freed then. Do not call it from inside the log callback. An exception thrown by the
/// callback is caught and dropped.
inline void set_log_callback(log_callback cb, log_level max_level = log_level::info) {
    detail::log_state &state = detail::log_state::get();
    // Declared first, so the old function is destroyed last, with no lock held.
    std::shared_ptr<const log_callback> fn;
    if (cb) fn = std::make_shared<const log_callback>(std::move(cb));
    const bool on = static_cast<bool>(fn);
    std::lock_guard<std::mutex> registering(state.registration_mutex);
    {
        std::lock_guard<std::mutex> lock(state.mutex);
        std::swap(state.fn, fn);  // `fn` now holds the old function
    }
    if (on) {
        av_set_log_callback(&detail::log_state::trampoline, &state,
                            static_cast<std::int32_t>(max_level));
    } else {
        av_set_log_callback(nullptr, nullptr, 0);
    }
}

/// Turns the library's log off (`av_set_log_callback` with NULL).
inline void clear_log_callback() { set_log_callback(nullptr); }

}  // namespace alfaview

#endif  // ALFAVIEW_AUTH_HPP
