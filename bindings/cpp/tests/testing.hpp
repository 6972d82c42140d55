// testing.hpp: a tiny header-only test harness for the C++ binding's tests.
//
//   TEST(name) { CHECK(x); CHECK_EQ(a, b); auto e = CHECK_THROWS(T, expr); ... }
//   int main(int argc, char **argv) { return testing::run_all(argc, argv, "C++ tests"); }
//
// A failed check prints file:line, the expression and the values, and the test goes on;
// a test fails if any of its checks failed or it threw. Checks may run on any thread.
// run_all() runs every test (or those named on the command line) in the order they were
// defined and ends with "<label>: N passed, M failed" (N, M: tests).

#ifndef ALFAVIEW_TESTING_HPP
#define ALFAVIEW_TESTING_HPP

#include <atomic>
#include <chrono>
#include <cstdio>
#include <exception>
#include <iostream>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <type_traits>
#include <typeinfo>
#include <iterator>
#include <utility>
#include <vector>

namespace testing {

/// One registered test.
struct test_case {
    const char *name;
    void (*fn)();
};

/// Every test, in definition order.
inline std::vector<test_case> &registry() {
    static std::vector<test_case> tests;
    return tests;
}

/// Registers a test at static-initialisation time (see TEST).
struct registrar {
    registrar(const char *name, void (*fn)()) { registry().push_back({name, fn}); }
};

/// Failed checks in the running test (atomic: checks may come from several threads).
inline std::atomic<int> &current_failures() {
    static std::atomic<int> n{0};
    return n;
}

/// Serialises output from several threads.
inline std::mutex &output_mutex() {
    static std::mutex m;
    return m;
}

/// Records one failed check and prints why.
inline void fail(const char *file, int line, const std::string &what) {
    current_failures().fetch_add(1);
    std::lock_guard<std::mutex> lock(output_mutex());
    std::cout << "  FAIL " << file << ":" << line << ": " << what << std::endl;
}

/// Whether `out << v` compiles for a T.
template <typename T, typename = void>
struct is_streamable : std::false_type {};
template <typename T>
struct is_streamable<T, std::void_t<decltype(std::declval<std::ostream &>() << std::declval<const T &>())>>
    : std::true_type {};

/// Whether T can be iterated with a range-for.
template <typename T, typename = void>
struct is_range : std::false_type {};
template <typename T>
struct is_range<T, std::void_t<decltype(std::begin(std::declval<const T &>())),
                               decltype(std::end(std::declval<const T &>()))>> : std::true_type {};

/// Prints a value for a failure message (strings quoted, ranges as [a, b]).
template <typename T>
std::string show(const T &v) {
    std::ostringstream out;
    if constexpr (std::is_convertible_v<const T &, std::string_view>) {
        out << '"' << std::string_view(v) << '"';
    } else if constexpr (std::is_enum_v<T>) {
        out << static_cast<long long>(v);
    } else if constexpr (is_streamable<T>::value) {
        out << v;
    } else if constexpr (is_range<T>::value) {
        out << '[';
        bool first = true;
        for (const auto &x : v) {
            out << (first ? "" : ", ") << show(x);
            first = false;
        }
        out << ']';
    } else {
        out << "<" << typeid(T).name() << ">";
    }
    return out.str();
}

/// CHECK: returns whether `ok`.
inline bool check(bool ok, const char *file, int line, const char *expr) {
    if (!ok) fail(file, line, std::string("CHECK(") + expr + ")");
    return ok;
}

/// CHECK_EQ etc.: returns whether `a op b` held.
template <typename A, typename B, typename Op>
bool check_op(const A &a, const B &b, Op op, const char *op_text, const char *file, int line,
              const char *ea, const char *eb) {
    const bool ok = op(a, b);
    if (!ok) {
        fail(file, line,
             std::string(ea) + " " + op_text + " " + eb + "  (" + show(a) + " vs " + show(b) + ")");
    }
    return ok;
}

/// Whether `hay` contains `needle`.
inline bool contains(std::string_view hay, std::string_view needle) {
    return hay.find(needle) != std::string_view::npos;
}

/// CHECK_THROWS: runs `f`; returns the exception if it threw an `E`, else records a
/// failure (wrong type, or no exception) and returns std::nullopt.
template <typename E, typename F>
std::optional<E> check_throws(F &&f, const char *file, int line, const char *type,
                              const char *expr) {
    try {
        f();
    } catch (const E &e) {
        return e;
    } catch (const std::exception &e) {
        fail(file, line,
             std::string(expr) + " threw " + typeid(e).name() + " (\"" + e.what() +
                 "\"), expected " + type);
        return std::nullopt;
    } catch (...) {
        fail(file, line, std::string(expr) + " threw a non-std exception, expected " + type);
        return std::nullopt;
    }
    fail(file, line, std::string(expr) + " did not throw, expected " + type);
    return std::nullopt;
}

/// Runs the tests named in argv (all if none) and prints the closing line.
inline int run_all(int argc, char **argv, const char *label) {
    int passed = 0, failed = 0;
    for (const test_case &t : registry()) {
        if (argc > 1) {
            bool wanted = false;
            for (int i = 1; i < argc; ++i) wanted = wanted || std::string_view(argv[i]) == t.name;
            if (!wanted) continue;
        }
        current_failures() = 0;
        {
            std::lock_guard<std::mutex> lock(output_mutex());
            std::cout << "== " << t.name << std::endl;
        }
        const auto start = std::chrono::steady_clock::now();
        try {
            t.fn();
        } catch (const std::exception &e) {
            fail(__FILE__, __LINE__,
                 std::string("unexpected exception ") + typeid(e).name() + ": " + e.what());
        } catch (...) {
            fail(__FILE__, __LINE__, "unexpected non-std exception");
        }
        const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::steady_clock::now() - start)
                            .count();
        std::lock_guard<std::mutex> lock(output_mutex());
        if (current_failures() == 0) {
            ++passed;
            std::cout << "ok   " << t.name << " (" << ms << " ms)" << std::endl;
        } else {
            ++failed;
            std::cout << "FAIL " << t.name << " (" << current_failures() << " failed checks, "
                      << ms << " ms)" << std::endl;
        }
    }
    std::cout << label << ": " << passed << " passed, " << failed << " failed" << std::endl;
    return failed == 0 && passed > 0 ? 0 : 1;
}

}  // namespace testing

#define TEST(name)                                                        \
    static void name();                                                   \
    static const ::testing::registrar name##_registrar_(#name, &name);    \
    static void name()

#define CHECK(cond) ::testing::check(static_cast<bool>(cond), __FILE__, __LINE__, #cond)
#define CHECK_OP_(a, b, op)                                                                \
    ::testing::check_op((a), (b), [](const auto &x, const auto &y) { return x op y; }, #op, \
                        __FILE__, __LINE__, #a, #b)
#define CHECK_EQ(a, b) CHECK_OP_(a, b, ==)
#define CHECK_NE(a, b) CHECK_OP_(a, b, !=)
#define CHECK_LT(a, b) CHECK_OP_(a, b, <)
#define CHECK_LE(a, b) CHECK_OP_(a, b, <=)
#define CHECK_GE(a, b) CHECK_OP_(a, b, >=)
#define CHECK_GT(a, b) CHECK_OP_(a, b, >)
#define CHECK_CONTAINS(hay, needle)                                                          \
    ::testing::check_op(std::string(hay), std::string(needle),                               \
                        [](const std::string &h, const std::string &n) {                     \
                            return ::testing::contains(h, n);                                \
                        },                                                                   \
                        "contains", __FILE__, __LINE__, #hay, #needle)
#define CHECK_NOT_CONTAINS(hay, needle)                                                      \
    ::testing::check_op(std::string(hay), std::string(needle),                               \
                        [](const std::string &h, const std::string &n) {                     \
                            return !::testing::contains(h, n);                               \
                        },                                                                   \
                        "does not contain", __FILE__, __LINE__, #hay, #needle)
/// Evaluates to std::optional<TYPE>: the exception, or nullopt (and a failure).
#define CHECK_THROWS(TYPE, expr) \
    ::testing::check_throws<TYPE>([&] { (void)(expr); }, __FILE__, __LINE__, #TYPE, #expr)

#endif  // ALFAVIEW_TESTING_HPP
