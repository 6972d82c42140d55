// The C# binding's test suite: a small console runner (no NuGet here), run against the
// real mock server by bindings/csharp/test.sh through scripts/with-mock.sh. Only the
// public API of Alfaview.Auth.dll is used.

using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;

namespace Alfaview.Auth.Tests
{
    internal sealed class AssertionException : Exception
    {
        internal AssertionException(string message) : base(message) { }
    }

    internal static class Assert
    {
        internal static void True(bool condition, string what)
        {
            if (!condition) throw new AssertionException(what);
        }

        internal static void Equal<T>(T expected, T actual, string what)
        {
            if (!EqualityComparer<T>.Default.Equals(expected, actual))
                throw new AssertionException(what + ": expected <" + expected + ">, got <" + actual + ">");
        }

        internal static void NotEmpty(string s, string what)
        {
            if (string.IsNullOrEmpty(s)) throw new AssertionException(what + " is empty");
        }

        /// <summary>Runs <paramref name="body"/>; it must throw exactly a <typeparamref name="T"/>.</summary>
        internal static T Throws<T>(Action body, string what) where T : Exception
        {
            try
            {
                body();
            }
            catch (AggregateException e) when (e.InnerExceptions.Count == 1 && e.InnerException.GetType() == typeof(T))
            {
                return (T)e.InnerException;
            }
            catch (Exception e)
            {
                if (e.GetType() == typeof(T)) return (T)e;
                throw new AssertionException(what + ": expected " + typeof(T).Name + ", got " + e.GetType().Name + ": " + e.Message);
            }
            throw new AssertionException(what + ": expected " + typeof(T).Name + ", nothing was thrown");
        }
    }

    internal static partial class Program
    {
        private static int passed;
        private static int failed;
        private static Mock mock;

        private static int Main(string[] args)
        {
            string port = Environment.GetEnvironmentVariable("ALFAVIEW_MOCK_PORT");
            if (string.IsNullOrEmpty(port))
            {
                Console.Error.WriteLine("ALFAVIEW_MOCK_PORT is not set: run me through scripts/with-mock.sh");
                return 2;
            }
            mock = new Mock(port);
            // The default client (AlfaviewAuth.Refresh, sessions without a client) reads
            // ALFAVIEW_API_URL from the process environment when first used: test.sh exports
            // it before starting mono. (Environment.SetEnvironmentVariable would not reach
            // the native getenv on .NET Core, so the tests do not rely on it.)
            if (Environment.GetEnvironmentVariable("ALFAVIEW_API_URL") != mock.BaseUrl)
            {
                Console.Error.WriteLine("ALFAVIEW_API_URL must be " + mock.BaseUrl + " (test.sh sets it)");
                return 2;
            }
            // Blocking native calls on pool threads: do not wait for the pool's slow growth.
            ThreadPool.SetMinThreads(40, 40);

            Run("version and status names", VersionAndStatusNames);
            Run("login with password, server picks the company", LoginPasswordDefaultCompany);
            Run("login with password and company", LoginPasswordWithCompany);
            Run("login with API key", LoginApiKey);
            Run("wrong password and locked account", LoginFailures);
            Run("refresh without rotation", RefreshWithoutRotation);
            Run("refresh with rotation", RefreshWithRotation);
            Run("call", Call);
            Run("call errors map to exception types", CallErrors);
            Run("one-shot refresh on the default client", OneShotRefresh);
            Run("session: cached path sends no request", SessionCachedPath);
            Run("session on the default client", SessionOnDefaultClient);
            Run("session: rotation event once per rotation, GC in between", SessionRotationEvent);
            Run("session: a throwing rotation handler is caught and logged", SessionRotationHandlerThrows);
            Run("session: TOKEN_OUTDATED is renewed and retried once", SessionTokenOutdatedRetry);
            Run("session: 16 threads, one authenticate request", SessionSixteenThreads);
            Run("session: 16 tasks, one authenticate request", SessionSixteenTasks);
            Run("async variants run off the caller's thread", AsyncOffThread);
            Run("log event gets messages, never a secret", LogNeverASecret);
            Run("disposal", Disposal);
            Run("dispose while a call is in flight", DisposeDuringCall);
            Run("UTF-8 round trip (company id, user agent)", Utf8RoundTrip);
            Run("arguments the binding rejects", BindingArgumentChecks);
            Run("wrong refresh token", WrongRefreshToken);
            Run("timeout", Timeout);
            Run("invalid arguments the library rejects", InvalidArguments);
            Run("TLS to a plain-HTTP port", Tls);
            Run("network error", NetworkError);
            Run("ToString never shows a token", ToStringRedacts);
            Run("retries and the reply size limit (client options)", RetriesAndReplyLimit);
            // The token store (tests/StoreTests.cs).
            Run("token store: save, load, overwrite, delete, not found", StoreRoundTrip);
            Run("token store: invalid app ids and pairs", StoreInvalidArguments);
            Run("token store: ALFAVIEW_TOKEN_STORE changed at run time (Mono)", StoreEnvironmentChange);
            Run("session from the store: rotations are saved", SessionFromStoreRotation);
            Run("session from the store: adopts a token another process saved", SessionFromStoreAdopts);
            Run("session from the store on the default client; not found", SessionFromStoreDefaultClient);
            Run("application store: one Save per rotation, Lock/Unlock balanced, GC in between", AppStoreRotation);
            Run("application store without a lock", AppStoreWithoutLock);
            Run("application store: a throwing Save fails the call with Storage", AppStoreSaveThrows);
            Run("application store: failing Load and Lock, nothing stored, bad pairs", AppStoreFailures);

            Console.WriteLine("C# tests: " + passed + " passed, " + failed + " failed");
            return failed == 0 ? 0 : 1;
        }

        private static void Run(string name, Action test)
        {
            var watch = Stopwatch.StartNew();
            try
            {
                mock.Reset();
                test();
                passed++;
                Console.WriteLine("ok   " + name + " (" + watch.ElapsedMilliseconds + " ms)");
            }
            catch (Exception e)
            {
                failed++;
                Console.WriteLine("FAIL " + name + ": " + e);
            }
        }

        private static AlfaviewClient NewClient()
        {
            return new AlfaviewClient(new AlfaviewClientOptions { BaseUrl = mock.BaseUrl, Timeout = TimeSpan.FromSeconds(10) });
        }

        // ---- tests ---------------------------------------------------------------------------

        private static void VersionAndStatusNames()
        {
            string v = AlfaviewAuth.Version;
            Assert.True(System.Text.RegularExpressions.Regex.IsMatch(v, @"^\d+\.\d+\.\d+"), "version looks like x.y.z: " + v);
            Assert.Equal("AV_OK", AlfaviewAuth.StatusName(AlfaviewStatus.Ok), "name of Ok");
            Assert.Equal("AV_ERR_TIMEOUT", AlfaviewAuth.StatusName(AlfaviewStatus.Timeout), "name of Timeout");
            Assert.Equal("AV_ERR_INTERNAL", AlfaviewAuth.StatusName(AlfaviewStatus.Internal), "name of Internal");
            Assert.Equal("AV_UNKNOWN_STATUS", AlfaviewAuth.StatusName((AlfaviewStatus)99), "name of 99");
        }

        private static void LoginPasswordDefaultCompany()
        {
            using (var client = NewClient())
            {
                DateTimeOffset before = DateTimeOffset.UtcNow;
                Tokens t = client.LoginPassword("alice", "wonderland");
                Assert.NotEmpty(t.AccessToken, "access token");
                Assert.NotEmpty(t.RefreshToken, "refresh token");
                Assert.Equal("c-100", t.CompanyId, "company");
                Assert.Equal("u-alice", t.UserId, "user");
                Assert.Equal("c-100,c-200", string.Join(",", t.AccessibleCompanyIds), "accessible companies");
                double lifetime = (t.ExpiresAt - before).TotalSeconds;
                Assert.True(lifetime > 3500 && lifetime < 3700, "expires in about an hour: " + lifetime);
                Assert.True(t.RefreshExpiresAt.HasValue, "refresh expiry known");
                double refreshLifetime = (t.RefreshExpiresAt.Value - before).TotalDays;
                Assert.True(refreshLifetime > 29.9 && refreshLifetime < 30.1, "refresh expires in 30 days: " + refreshLifetime);
                var last = Json.Path(mock.Last(), "body", "usernamePasswordCredentials") as Dictionary<string, object>;
                Assert.True(last != null && !last.ContainsKey("companyId") || (string)last["companyId"] == "", "no company id sent");
                Assert.Equal(1L, mock.Stat("logins"), "logins");
            }
        }

        private static void LoginPasswordWithCompany()
        {
            using (var client = NewClient())
            {
                Tokens t = client.LoginPassword("alice", "wonderland", "c-200");
                Assert.Equal("c-200", t.CompanyId, "company");
                Assert.Equal("c-200", (string)Json.Path(mock.Last(), "body", "usernamePasswordCredentials", "companyId"), "company sent");
                var e = Assert.Throws<AuthenticationException>(() => client.LoginPassword("alice", "wonderland", "c-300"), "foreign company");
                Assert.Equal("AUTHENTICATION_ERROR", e.ApiStatus, "api status");
            }
        }

        private static void LoginApiKey()
        {
            using (var client = NewClient())
            {
                Tokens t = client.LoginApiKey("ak-demo", "ak-secret", "c-100");
                Assert.NotEmpty(t.AccessToken, "access token");
                Assert.Equal("c-100", t.CompanyId, "company");
                Assert.Equal("u-apikey", t.UserId, "user");
                Assert.Equal("c-100", string.Join(",", t.AccessibleCompanyIds), "accessible companies");
                Assert.Throws<AuthenticationException>(() => client.LoginApiKey("ak-demo", "wrong", "c-100"), "wrong secret");
                Tokens a = client.LoginApiKeyAsync("ak-demo", "ak-secret", "c-100").Result;
                Assert.Equal("u-apikey", a.UserId, "async user");
            }
        }

        private static void LoginFailures()
        {
            using (var client = NewClient())
            {
                var e = Assert.Throws<AuthenticationException>(() => client.LoginPassword("alice", "not-the-password-7q"), "wrong password");
                Assert.Equal(AlfaviewStatus.Authentication, e.Status, "status");
                Assert.Equal("AV_ERR_AUTHENTICATION", e.StatusName, "status name");
                Assert.Equal("AUTHENTICATION_ERROR", e.ApiStatus, "api status");
                Assert.NotEmpty(e.RequestId, "request id");
                Assert.True(!e.Message.Contains("not-the-password-7q"), "message has no password: " + e.Message);
                var l = Assert.Throws<AuthenticationException>(() => client.LoginPassword("locked", "locked"), "locked account");
                Assert.Equal("ACCOUNT_STATUS_ERROR", l.ApiStatus, "api status");
                Assert.True(l is AlfaviewException, "is an AlfaviewException");
            }
        }

        private static void RefreshWithoutRotation()
        {
            using (var client = NewClient())
            {
                Tokens login = client.LoginPassword("alice", "wonderland");
                Tokens fresh = client.Refresh(login.CompanyId, login.RefreshToken);
                Assert.NotEmpty(fresh.AccessToken, "access token");
                Assert.True(fresh.AccessToken != login.AccessToken, "a new access token");
                Assert.Equal(login.RefreshToken, fresh.RefreshToken, "refresh token kept");
                Assert.Equal("c-100", fresh.CompanyId, "company");
                Assert.Equal(1L, mock.Stat("refreshes"), "refreshes");
                Tokens again = client.RefreshAsync(fresh.CompanyId, fresh.RefreshToken).Result;
                Assert.Equal(login.RefreshToken, again.RefreshToken, "still the same refresh token");
                Assert.Equal(2L, mock.Stat("refreshes"), "refreshes");
            }
        }

        private static void RefreshWithRotation()
        {
            mock.Configure("{\"rotate\": true}");
            using (var client = NewClient())
            {
                Tokens login = client.LoginPassword("alice", "wonderland");
                Tokens fresh = client.Refresh(login.CompanyId, login.RefreshToken);
                Assert.NotEmpty(fresh.RefreshToken, "refresh token");
                Assert.True(fresh.RefreshToken != login.RefreshToken, "rotated");
                var e = Assert.Throws<AuthenticationException>(() => client.Refresh(login.CompanyId, login.RefreshToken), "old token revoked");
                Assert.Equal("AUTHENTICATION_ERROR", e.ApiStatus, "api status");
                Tokens third = client.Refresh(fresh.CompanyId, fresh.RefreshToken);
                Assert.True(third.RefreshToken != fresh.RefreshToken, "rotated again");
            }
        }

        private static void Call()
        {
            using (var client = NewClient())
            {
                Tokens t = client.LoginPassword("alice", "wonderland");
                string reply = client.Call(t.AccessToken, "roomService/create", "{\"room\": {\"name\": \"Standup\"}}");
                var json = Json.Parse(reply);
                Assert.Equal("OK", Json.Path(json, "replyInfo", "statusCode") as string ?? "OK", "reply status");
                object last = mock.Last();
                Assert.Equal("/json/v1/roomService/create", (string)Json.Field(last, "path"), "path");
                Assert.Equal(t.AccessToken, (string)Json.Path(last, "body", "accessInfo", "accessToken"), "access token sent");
                Assert.Equal("Standup", (string)Json.Path(last, "body", "room", "name"), "body sent");
                string empty = client.Call(t.AccessToken, "authenticationService/isAuthenticated");
                Json.Parse(empty);
                Assert.True(((Dictionary<string, object>)Json.Field(mock.Last(), "body")).ContainsKey("accessInfo"), "null body: accessInfo only");
                string viaTask = client.CallAsync(t.AccessToken, "roomService/list").Result;
                Json.Parse(viaTask);
                Assert.Equal(3L, mock.Stat("calls"), "calls");
            }
        }

        private static void CallErrors()
        {
            using (var client = NewClient())
            {
                Tokens t = client.LoginPassword("alice", "wonderland");
                mock.Post("expire", "");
                var expired = Assert.Throws<TokenExpiredException>(() => client.Call(t.AccessToken, "roomService/create"), "expired token");
                Assert.Equal("TOKEN_OUTDATED", expired.ApiStatus, "api status");
                Assert.NotEmpty(expired.RequestId, "request id");

                t = client.LoginPassword("alice", "wonderland");
                mock.Configure("{\"fault\": {\"kind\": \"error200\", \"apiStatus\": \"QUOTA_EXCEEDED\", \"count\": 1}}");
                var api = Assert.Throws<ApiException>(() => client.Call(t.AccessToken, "roomService/create"), "error in replyInfo");
                Assert.Equal("QUOTA_EXCEEDED", api.ApiStatus, "api status");

                using (var noRetries = new AlfaviewClient(new AlfaviewClientOptions { BaseUrl = mock.BaseUrl, MaxRetries = 0 }))
                {
                    mock.Configure("{\"fault\": {\"kind\": \"status\", \"status\": 503, \"count\": 1}}");
                    var http = Assert.Throws<HttpStatusException>(() => noRetries.Call(t.AccessToken, "roomService/create"), "503 without body");
                    Assert.Equal(503, http.HttpStatus ?? 0, "http status");
                    Assert.Equal(null, http.ApiStatus, "no api status");
                }

                mock.Configure("{\"fault\": {\"kind\": \"garbage\", \"count\": 1}}");
                Assert.Throws<ProtocolException>(() => client.Call(t.AccessToken, "roomService/create"), "not JSON");

                // The error of the failed call, not of an earlier one.
                var again = Assert.Throws<AuthenticationException>(() => client.Refresh("c-100", "not-a-token"), "later failure");
                Assert.Equal("AUTHENTICATION_ERROR", again.ApiStatus, "api status of the later failure");
            }
        }

        private static void RetriesAndReplyLimit()
        {
            using (var client = NewClient())
            {
                Tokens t = client.LoginPassword("alice", "wonderland");
                long before = mock.Stat("calls");
                // A transient 503 is retried by default: the call succeeds on the second attempt.
                mock.Configure("{\"fault\": {\"kind\": \"status\", \"status\": 503, \"count\": 1}}");
                Json.Parse(client.Call(t.AccessToken, "roomService/create"));
                Assert.True(mock.Stat("requests") >= 3, "login, the failed attempt and the retry reached the mock");
                Assert.True(mock.Stat("calls") > before, "the retried call went through");
                // MaxRetries = 0: the 503 is reported at once.
                using (var noRetries = new AlfaviewClient(new AlfaviewClientOptions { BaseUrl = mock.BaseUrl, MaxRetries = 0 }))
                {
                    mock.Configure("{\"fault\": {\"kind\": \"status\", \"status\": 503, \"count\": 1}}");
                    Assert.Throws<HttpStatusException>(() => noRetries.Call(t.AccessToken, "roomService/create"), "503 without retries");
                }
                // A reply larger than MaxReplyBytes is a protocol error.
                using (var small = new AlfaviewClient(new AlfaviewClientOptions { BaseUrl = mock.BaseUrl, MaxReplyBytes = 16 }))
                {
                    Assert.Throws<ProtocolException>(() => small.Call(t.AccessToken, "roomService/create"), "reply over the limit");
                }
            }
            Assert.Throws<InvalidArgumentException>(
                () => new AlfaviewClient(new AlfaviewClientOptions { BaseUrl = mock.BaseUrl, MaxReplyBytes = 0 }), "zero reply limit");
            Assert.Equal("MaxReplyBytes", Assert.Throws<ArgumentOutOfRangeException>(
                () => new AlfaviewClient(new AlfaviewClientOptions { BaseUrl = mock.BaseUrl, MaxReplyBytes = -1 }), "negative reply limit").ParamName, "param");
            Assert.Equal("MaxRetries", Assert.Throws<ArgumentOutOfRangeException>(
                () => new AlfaviewClient(new AlfaviewClientOptions { BaseUrl = mock.BaseUrl, MaxRetries = -1 }), "negative retries").ParamName, "param");
        }

        private static void OneShotRefresh()
        {
            string refresh = mock.Mint("c-100");
            AccessToken token = AlfaviewAuth.Refresh("c-100", refresh);
            Assert.NotEmpty(token.Token, "access token");
            Assert.True(token.ExpiresAt > DateTimeOffset.UtcNow.AddMinutes(50), "expires in about an hour");
            Assert.Equal(1L, mock.Stat("refreshes"), "went to the mock");
            AccessToken viaTask = AlfaviewAuth.RefreshAsync("c-100", refresh).Result;
            Assert.True(viaTask.Token != token.Token, "a new token");
            Assert.Equal(2L, mock.Stat("refreshes"), "refreshes");
            var e = Assert.Throws<AuthenticationException>(() => AlfaviewAuth.Refresh("c-100", "bogus"), "bad token");
            Assert.NotEmpty(e.RequestId, "request id");
            using (var client = NewClient())
            {
                client.Call(token.Token, "roomService/create");
            }
        }

        private static void SessionCachedPath()
        {
            string refresh = mock.Mint("c-100");
            using (var client = NewClient())
            using (AlfaviewSession session = client.CreateSession("c-100", refresh))
            {
                Assert.Equal(0L, mock.Stat("requests"), "nothing sent before a token is asked for");
                AccessToken first = session.AccessToken();
                Assert.Equal(1L, mock.Stat("authenticate"), "one refresh");
                long requests = mock.Stat("requests");
                for (int i = 0; i < 20; i++)
                {
                    AccessToken again = session.AccessToken();
                    Assert.Equal(first.Token, again.Token, "cached token");
                    Assert.Equal(first.ExpiresAt, again.ExpiresAt, "cached expiry");
                }
                Assert.Equal(requests, mock.Stat("requests"), "no request on the cached path");
                Assert.Equal(refresh, session.RefreshToken, "refresh token (no rotation)");
                Assert.Equal("c-100", session.CompanyId, "company");
                string reply = session.Call("roomService/create", "{\"room\": {\"name\": \"x\"}}");
                Json.Parse(reply);
                Assert.Equal(first.Token, (string)Json.Path(mock.Last(), "body", "accessInfo", "accessToken"), "call used the cached token");
                Assert.Equal(1L, mock.Stat("authenticate"), "still one refresh");
                session.SetRefreshMargin(TimeSpan.FromSeconds(30));
            }
        }

        private static void SessionOnDefaultClient()
        {
            string refresh = mock.Mint("c-200");
            using (var session = new AlfaviewSession("c-200", refresh))
            {
                AccessToken t = session.AccessToken();
                Assert.NotEmpty(t.Token, "token");
                Assert.Equal(1L, mock.Stat("refreshes"), "went to the mock");
                Json.Parse(session.CallAsync("roomService/create").Result);
            }
        }

        private static void SessionRotationEvent()
        {
            mock.Configure("{\"rotate\": true, \"tokenLifetimeS\": 0}"); // every AccessToken() refreshes
            string refresh = mock.Mint("c-100");
            var seen = new List<RefreshTokenRotatedEventArgs>();
            AlfaviewSession session = MakeSessionWithHandler(refresh, seen);
            try
            {
                for (int round = 1; round <= 4; round++)
                {
                    // The only managed references to the native callback are the ones the
                    // binding keeps: a collected delegate would crash here.
                    GC.Collect();
                    GC.WaitForPendingFinalizers();
                    GC.Collect();
                    session.AccessToken();
                    Assert.Equal(round, seen.Count, "events after round " + round);
                    Assert.Equal(session.RefreshToken, seen[round - 1].NewRefreshToken, "event carries the session's new refresh token");
                    Assert.Equal("c-100", seen[round - 1].CompanyId, "company");
                }
                Assert.Equal(4, seen.Select(a => a.NewRefreshToken).Distinct().Count(), "four different refresh tokens");
                Assert.True(!seen.Any(a => a.NewRefreshToken == refresh), "never the original");
                var tokens = (List<object>)Json.Field(mock.Get("tokens"), "refreshTokens");
                var valid = tokens.Where(x => (bool)Json.Field(x, "valid")).Select(x => (string)Json.Field(x, "token")).ToList();
                Assert.Equal(1, valid.Count, "one valid refresh token at the mock");
                Assert.Equal(seen[3].NewRefreshToken, valid[0], "the last one handed out is the valid one");
            }
            finally
            {
                session.Dispose();
            }
        }

        // A separate method, so no local of the caller's frame holds the handler.
        private static AlfaviewSession MakeSessionWithHandler(string refresh, List<RefreshTokenRotatedEventArgs> seen)
        {
            var client = NewClient();
            var session = client.CreateSession("c-100", refresh);
            client.Dispose(); // the session keeps its own reference to the connection
            session.RefreshTokenRotated += (sender, e) =>
            {
                Assert.True(ReferenceEquals(sender, session), "sender is the session");
                seen.Add(e);
            };
            return session;
        }

        private static void SessionRotationHandlerThrows()
        {
            mock.Configure("{\"rotate\": true, \"tokenLifetimeS\": 0}");
            var logged = new List<AlfaviewLogEventArgs>();
            EventHandler<AlfaviewLogEventArgs> onLog = (s, e) => { lock (logged) logged.Add(e); };
            AlfaviewLog.Message += onLog;
            try
            {
                using (var client = NewClient())
                using (var session = client.CreateSession("c-100", mock.Mint("c-100")))
                {
                    int second = 0;
                    session.RefreshTokenRotated += (s, e) => { throw new InvalidOperationException("handler failed on purpose"); };
                    session.RefreshTokenRotated += (s, e) => second++;
                    AccessToken t = session.AccessToken();
                    Assert.NotEmpty(t.Token, "the token is still handed out");
                    Assert.Equal(1, second, "the other handler still ran");
                    List<AlfaviewLogEventArgs> errors;
                    lock (logged) errors = logged.Where(e => e.Level == AlfaviewLogLevel.Error).ToList();
                    Assert.Equal(1, errors.Count, "one error logged");
                    Assert.True(errors[0].Message.Contains("handler failed on purpose"), "message: " + errors[0].Message);
                    Assert.True(errors[0].Exception is InvalidOperationException, "exception attached");
                    session.AccessToken(); // and again: no crash, still works
                    Assert.Equal(2, second, "second rotation");
                }
            }
            finally
            {
                AlfaviewLog.Message -= onLog;
            }
        }

        private static void SessionTokenOutdatedRetry()
        {
            using (var client = NewClient())
            using (var session = client.CreateSession("c-100", mock.Mint("c-100")))
            {
                AccessToken before = session.AccessToken();
                mock.Post("expire", "");
                string reply = session.Call("roomService/create", "{\"room\": {\"name\": \"retry\"}}");
                Json.Parse(reply);
                Assert.Equal(2L, mock.Stat("authenticate"), "renewed once");
                Assert.Equal(2L, mock.Stat("calls"), "called twice (rejected, then retried)");
                AccessToken after = session.AccessToken();
                Assert.True(after.Token != before.Token, "the session holds the renewed token");
                Assert.Equal(after.Token, (string)Json.Path(mock.Last(), "body", "accessInfo", "accessToken"), "retry used it");
                // The server keeps saying TOKEN_OUTDATED: renewed and retried once, then the error.
                mock.Configure("{\"fault\": {\"kind\": \"status\", \"status\": 401, \"apiStatus\": \"TOKEN_OUTDATED\", \"path\": \"roomService\"}}");
                var e = Assert.Throws<TokenExpiredException>(() => session.Call("roomService/create"), "second TOKEN_OUTDATED");
                Assert.Equal("TOKEN_OUTDATED", e.ApiStatus, "api status");
                Assert.Equal(4L, mock.Stat("calls"), "two more calls");
                Assert.Equal(3L, mock.Stat("authenticate"), "one more renewal");
            }
        }

        private static void SessionSixteenThreads()
        {
            using (var client = NewClient())
            using (var session = client.CreateSession("c-100", mock.Mint("c-100")))
            {
                mock.Configure("{\"fault\": {\"kind\": \"delay\", \"delayMs\": 600, \"path\": \"authenticate\"}}");
                const int n = 16;
                var tokens = new string[n];
                var errors = new Exception[n];
                var start = new Barrier(n);
                var threads = Enumerable.Range(0, n).Select(i => new Thread(() =>
                {
                    try
                    {
                        start.SignalAndWait();
                        tokens[i] = session.AccessToken().Token;
                    }
                    catch (Exception e)
                    {
                        errors[i] = e;
                    }
                })).ToList();
                threads.ForEach(t => t.Start());
                threads.ForEach(t => t.Join());
                Assert.True(errors.All(e => e == null), "no errors: " + errors.FirstOrDefault(e => e != null));
                Assert.Equal(1L, mock.Stat("authenticate"), "one authenticate request");
                Assert.Equal(1, tokens.Distinct().Count(), "all got the same token");
                Assert.NotEmpty(tokens[0], "token");
            }
        }

        private static void SessionSixteenTasks()
        {
            using (var client = NewClient())
            using (var session = client.CreateSession("c-100", mock.Mint("c-100")))
            {
                mock.Configure("{\"fault\": {\"kind\": \"delay\", \"delayMs\": 600, \"path\": \"authenticate\"}}");
                Task<AccessToken>[] tasks = Enumerable.Range(0, 16).Select(_ => session.AccessTokenAsync()).ToArray();
                Task.WaitAll(tasks);
                Assert.Equal(1L, mock.Stat("authenticate"), "one authenticate request");
                Assert.Equal(1, tasks.Select(t => t.Result.Token).Distinct().Count(), "all got the same token");
            }
        }

        private static void AsyncOffThread()
        {
            int caller = Thread.CurrentThread.ManagedThreadId;
            using (var client = NewClient())
            {
                // A slow server: the Task must come back at once and complete later.
                mock.Configure("{\"fault\": {\"kind\": \"delay\", \"delayMs\": 1000, \"count\": 1}}");
                var watch = Stopwatch.StartNew();
                Task<Tokens> login = client.LoginPasswordAsync("alice", "wonderland");
                long returnedAfter = watch.ElapsedMilliseconds;
                Assert.True(returnedAfter < 500, "LoginPasswordAsync returned before the reply: " + returnedAfter + " ms");
                Assert.True(!login.IsCompleted, "not yet complete");
                Tokens t = login.Result;
                Assert.True(watch.ElapsedMilliseconds >= 950, "completed after the delay");

                // The rotation event fires on the thread that made the native call.
                mock.Configure("{\"rotate\": true}");
                using (var session = client.CreateSession(t.CompanyId, t.RefreshToken))
                {
                    int eventThread = -1;
                    session.RefreshTokenRotated += (s, e) => eventThread = Thread.CurrentThread.ManagedThreadId;
                    session.AccessTokenAsync().Wait();                  // first renewal rotates
                    Assert.True(eventThread != -1, "event fired");
                    Assert.True(eventThread != caller, "AccessTokenAsync ran on another thread");
                    eventThread = -1;
                    mock.Post("expire", "");
                    session.CallAsync("roomService/create").Wait();     // TOKEN_OUTDATED: renewal rotates
                    Assert.True(eventThread != -1 && eventThread != caller, "CallAsync ran on another thread");
                    eventThread = -1;
                    mock.Post("expire", "");
                    session.Call("roomService/create");
                    Assert.Equal(caller, eventThread, "the synchronous call runs on the caller's thread");
                }

                // A failing async call faults its Task with the typed exception.
                Task<Tokens> bad = client.RefreshAsync("c-100", "bogus");
                var agg = Assert.Throws<AggregateException>(() => bad.Wait(), "faulted task");
                Assert.True(agg.InnerException is AuthenticationException, "inner: " + agg.InnerException);
                Assert.Equal("AUTHENTICATION_ERROR", ((AlfaviewException)agg.InnerException).ApiStatus, "api status read on the worker thread");
            }
        }

        private static void LogNeverASecret()
        {
            var messages = new List<AlfaviewLogEventArgs>();
            EventHandler<AlfaviewLogEventArgs> onLog = (s, e) => { lock (messages) messages.Add(e); };
            EventHandler<AlfaviewLogEventArgs> throwing = (s, e) => { throw new Exception("a log handler that throws must not break anything"); };
            var secrets = new List<string> { "wonderland" };
            AlfaviewLog.MaxLevel = AlfaviewLogLevel.Trace;
            AlfaviewLog.Message += throwing;
            AlfaviewLog.Message += onLog;
            try
            {
                mock.Configure("{\"rotate\": true, \"tokenLifetimeS\": 6}");
                using (var client = NewClient())
                {
                    Tokens t = client.LoginPassword("alice", "wonderland");
                    secrets.Add(t.AccessToken);
                    secrets.Add(t.RefreshToken);
                    using (var session = client.CreateSession(t.CompanyId, t.RefreshToken))
                    {
                        session.RefreshTokenRotated += (s, e) => secrets.Add(e.NewRefreshToken);
                        AccessToken first = session.AccessToken();             // renew + rotate: debug, info
                        secrets.Add(first.Token);
                        mock.Post("expire", "");
                        session.Call("roomService/create");                     // TOKEN_OUTDATED: info
                        AccessToken second = session.AccessToken();
                        secrets.Add(second.Token);
                        // A 6 s token is renewed half-way; let that come due while the server fails.
                        Thread.Sleep(3200);
                        mock.Configure("{\"fault\": {\"kind\": \"status\", \"status\": 503}}");
                        AccessToken cached = session.AccessToken();            // renewal fails: warn
                        Assert.Equal(second.Token, cached.Token, "the still-valid cached token is served");
                        mock.Configure("{\"fault\": null}");
                        secrets.Add(session.RefreshToken);
                    }
                }
                List<AlfaviewLogEventArgs> got;
                lock (messages) got = messages.ToList();
                Assert.True(got.Count >= 4, "messages logged: " + got.Count);
                Assert.True(got.Any(m => m.Level == AlfaviewLogLevel.Debug), "a debug message");
                Assert.True(got.Any(m => m.Level == AlfaviewLogLevel.Info && m.Message.Contains("rotated")), "the rotation is logged");
                Assert.True(got.Any(m => m.Level == AlfaviewLogLevel.Warn), "the failed renewal is logged");
                foreach (AlfaviewLogEventArgs m in got)
                {
                    Assert.NotEmpty(m.Message, "message text");
                    foreach (string secret in secrets.Where(s => !string.IsNullOrEmpty(s)))
                    {
                        Assert.True(!m.Message.Contains(secret), "a log message contains a secret: " + m.Level);
                    }
                }
                // Lower the level: debug messages stop.
                AlfaviewLog.MaxLevel = AlfaviewLogLevel.Info;
                int before;
                lock (messages) before = messages.Count;
                mock.Reset();
                using (var session = new AlfaviewSession(NewClient(), "c-100", mock.Mint("c-100")))
                {
                    session.AccessToken();
                }
                lock (messages) Assert.True(messages.Skip(before).All(m => m.Level <= AlfaviewLogLevel.Info), "nothing above Info");
            }
            finally
            {
                AlfaviewLog.Message -= onLog;
                AlfaviewLog.Message -= throwing;
                AlfaviewLog.MaxLevel = AlfaviewLogLevel.Info;
            }
            // With no handler left the native callback is off: nothing arrives.
            int count;
            lock (messages) count = messages.Count;
            mock.Configure("{\"rotate\": true}");
            using (var session = new AlfaviewSession(NewClient(), "c-100", mock.Mint("c-100")))
            {
                session.AccessToken();
            }
            lock (messages) Assert.Equal(count, messages.Count, "no messages after unsubscribing");
        }

        private static void Disposal()
        {
            var client = NewClient();
            Tokens t = client.LoginPassword("alice", "wonderland");
            var session = client.CreateSession(t.CompanyId, t.RefreshToken);
            client.Dispose();
            client.Dispose();
            Assert.Throws<ObjectDisposedException>(() => client.LoginPassword("alice", "wonderland"), "login after Dispose");
            Assert.Throws<ObjectDisposedException>(() => client.Call(t.AccessToken, "roomService/create"), "call after Dispose");
            Assert.Throws<ObjectDisposedException>(() => client.RefreshAsync("c-100", t.RefreshToken), "async after Dispose");
            Assert.Throws<ObjectDisposedException>(() => client.CreateSession("c-100", t.RefreshToken), "session from a disposed client");
            // The session outlives its client.
            Assert.NotEmpty(session.AccessToken().Token, "session works after its client is disposed");
            session.Dispose();
            session.Dispose();
            Assert.Throws<ObjectDisposedException>(() => session.AccessToken(), "AccessToken after Dispose");
            Assert.Throws<ObjectDisposedException>(() => { var r = session.RefreshToken; }, "RefreshToken after Dispose");
            Assert.Throws<ObjectDisposedException>(() => session.Call("roomService/create"), "Call after Dispose");
            Assert.Throws<ObjectDisposedException>(() => session.SetRefreshMargin(TimeSpan.FromSeconds(1)), "SetRefreshMargin after Dispose");
            Assert.Throws<ObjectDisposedException>(() => session.AccessTokenAsync(), "AccessTokenAsync after Dispose");
            // Objects never disposed are cleaned up by their finalizers without trouble.
            for (int i = 0; i < 10; i++)
            {
                var c = NewClient();
                c.CreateSession("c-100", "x");
            }
            GC.Collect();
            GC.WaitForPendingFinalizers();
        }

        private static void DisposeDuringCall()
        {
            using (var client = NewClient())
            {
                var session = client.CreateSession("c-100", mock.Mint("c-100"));
                mock.Configure("{\"fault\": {\"kind\": \"delay\", \"delayMs\": 800, \"count\": 1}}");
                Task<AccessToken> pending = session.AccessTokenAsync();
                var watch = Stopwatch.StartNew();
                while (mock.Stat("authenticate") == 0 && watch.ElapsedMilliseconds < 5000)
                {
                    Thread.Sleep(20);
                }
                Assert.True(!pending.IsCompleted, "the call is in flight (the server delays it)");
                session.Dispose(); // the native free waits until that call has returned
                Assert.NotEmpty(pending.Result.Token, "the in-flight call completed");
                Assert.Throws<ObjectDisposedException>(() => session.AccessToken(), "then it is disposed");
            }
        }

        private static void Utf8RoundTrip()
        {
            const string company = "c-Zürich-日本-\U0001F600";
            string refresh = mock.Mint(company);
            const string agent = "tëst-agent/1.0 (✓)";
            using (var client = new AlfaviewClient(new AlfaviewClientOptions { BaseUrl = mock.BaseUrl, UserAgent = agent }))
            {
                Tokens t = client.Refresh(company, refresh);
                Assert.Equal(company, t.CompanyId, "company id back from the library");
                Assert.Equal(company, (string)Json.Path(mock.Last(), "body", "refreshTokenCredentials", "companyId"), "company id at the server");
                Assert.Equal(agent, (string)Json.Path(mock.Last(), "headers", "user-agent"), "user agent at the server");
                using (var session = client.CreateSession(company, refresh))
                {
                    Assert.NotEmpty(session.AccessToken().Token, "session with a non-ASCII company");
                }
            }
        }

        private static void BindingArgumentChecks()
        {
            using (var client = NewClient())
            {
                var nul = Assert.Throws<ArgumentException>(() => client.Refresh("c-100\0x", "t"), "embedded NUL");
                Assert.Equal("companyId", nul.ParamName, "names the parameter");
                var nul2 = Assert.Throws<ArgumentException>(() => client.LoginPassword("alice", "wonder\0land"), "embedded NUL in password");
                Assert.Equal("password", nul2.ParamName, "names the parameter");
                var surrogate = Assert.Throws<ArgumentException>(() => client.Call("tok", "roomService/\uD800x"), "unpaired surrogate");
                Assert.Equal("serviceMethod", surrogate.ParamName, "names the parameter");
                var nullArg = Assert.Throws<ArgumentNullException>(() => client.Refresh(null, "t"), "null company");
                Assert.Equal("companyId", nullArg.ParamName, "names the parameter");
                Assert.Throws<ArgumentNullException>(() => new AlfaviewClient(null), "null options");
                Assert.Throws<ArgumentNullException>(() => new AlfaviewSession(null, "c-100", "t"), "null client");
                Assert.Throws<ArgumentOutOfRangeException>(
                    () => new AlfaviewClient(new AlfaviewClientOptions { BaseUrl = mock.BaseUrl, Timeout = TimeSpan.FromSeconds(-1) }), "negative timeout");
                using (var session = client.CreateSession("c-100", "t"))
                {
                    Assert.Throws<ArgumentOutOfRangeException>(() => session.SetRefreshMargin(TimeSpan.FromSeconds(-5)), "negative margin");
                }
                Assert.Equal(0L, mock.Stat("requests"), "nothing was sent");
            }
        }

        private static void WrongRefreshToken()
        {
            using (var client = NewClient())
            {
                var e = Assert.Throws<AuthenticationException>(() => client.Refresh("c-100", "00000000-0000-0000-0000-000000000000"), "wrong refresh token");
                Assert.Equal(AlfaviewStatus.Authentication, e.Status, "status");
                Assert.Equal("AUTHENTICATION_ERROR", e.ApiStatus, "api status");
                Assert.NotEmpty(e.RequestId, "request id");
                Assert.True(e.HttpStatus.HasValue && e.HttpStatus.Value >= 400, "http status: " + e.HttpStatus);
                Assert.NotEmpty(e.Message, "message");
                Assert.True(!e.Message.Contains("00000000-0000-0000-0000-000000000000"), "message has no token");
                // A session with a wrong token: the same error, from the session.
                using (var session = client.CreateSession("c-100", "00000000-0000-0000-0000-000000000000"))
                {
                    var s = Assert.Throws<AuthenticationException>(() => session.AccessToken(), "session with a wrong token");
                    Assert.Equal("AUTHENTICATION_ERROR", s.ApiStatus, "api status");
                }
            }
        }

        private static void Timeout()
        {
            mock.Configure("{\"fault\": {\"kind\": \"hang\"}}");
            using (var client = new AlfaviewClient(new AlfaviewClientOptions { BaseUrl = mock.BaseUrl, Timeout = TimeSpan.FromMilliseconds(400) }))
            {
                var watch = Stopwatch.StartNew();
                var e = Assert.Throws<AlfaviewTimeoutException>(() => client.LoginPassword("alice", "wonderland"), "hanging server");
                Assert.Equal(AlfaviewStatus.Timeout, e.Status, "status");
                Assert.True(watch.ElapsedMilliseconds >= 350 && watch.ElapsedMilliseconds < 5000, "took about the timeout: " + watch.ElapsedMilliseconds);
                var a = Assert.Throws<AlfaviewTimeoutException>(() => client.CallAsync("t", "roomService/create").Wait(), "async, hanging server");
                Assert.Equal("AV_ERR_TIMEOUT", a.StatusName, "status name");
            }
            mock.Configure("{\"fault\": null}");
        }

        private static void InvalidArguments()
        {
            using (var client = NewClient())
            {
                var e = Assert.Throws<InvalidArgumentException>(() => client.Refresh("", "t"), "empty company id");
                Assert.Equal(AlfaviewStatus.InvalidArgument, e.Status, "status");
                Assert.True(e.Message.Contains("company_id"), "message names the argument: " + e.Message);
                Assert.Equal(null, e.RequestId, "no request made");
                Assert.Throws<InvalidArgumentException>(() => client.Call("tok", "not a method"), "malformed service method");
                Assert.Throws<InvalidArgumentException>(() => client.LoginPassword("alice\n", "wonderland"), "control character");
                Assert.Throws<InvalidArgumentException>(() => AlfaviewAuth.Refresh("", "t"), "empty company id, one-shot");
            }
            var remote = Assert.Throws<InvalidArgumentException>(
                () => new AlfaviewClient(new AlfaviewClientOptions { BaseUrl = "http://example.com/json/v1/" }), "http:// to a remote host");
            Assert.True(remote.Message.Contains("url"), "names the argument: " + remote.Message);
            Assert.Throws<InvalidArgumentException>(
                () => new AlfaviewClient(new AlfaviewClientOptions { BaseUrl = mock.BaseUrl, Timeout = TimeSpan.Zero }), "zero timeout");
            Assert.Throws<InvalidArgumentException>(
                () => new AlfaviewClient(new AlfaviewClientOptions { BaseUrl = mock.BaseUrl, CaFile = "/nonexistent/ca.pem" }), "missing CA file");
            Assert.Equal(0L, mock.Stat("requests"), "nothing was sent");
        }

        private static void Tls()
        {
            using (var client = new AlfaviewClient(new AlfaviewClientOptions { BaseUrl = "https://127.0.0.1:" + mock.Port + "/json/v1/", Timeout = TimeSpan.FromSeconds(5) }))
            {
                var e = Assert.Throws<TlsException>(() => client.LoginPassword("alice", "wonderland"), "TLS to plain HTTP");
                Assert.Equal(AlfaviewStatus.Tls, e.Status, "status");
            }
        }

        private static void NetworkError()
        {
            using (var client = new AlfaviewClient(new AlfaviewClientOptions { BaseUrl = "http://127.0.0.1:1/json/v1/", Timeout = TimeSpan.FromSeconds(5) }))
            {
                var e = Assert.Throws<NetworkException>(() => client.Refresh("c-100", "t"), "nothing listening");
                Assert.Equal(AlfaviewStatus.Network, e.Status, "status");
                Assert.Equal(null, e.HttpStatus, "no reply");
            }
        }

        private static void ToStringRedacts()
        {
            mock.Configure("{\"rotate\": true}");
            using (var client = NewClient())
            {
                Tokens t = client.LoginPassword("alice", "wonderland");
                string s = t.ToString();
                Assert.True(!s.Contains(t.AccessToken) && !s.Contains(t.RefreshToken), "Tokens.ToString: " + s);
                Assert.True(s.Contains("c-100") && s.Contains("redacted"), "Tokens.ToString says something: " + s);
                using (var session = client.CreateSession(t.CompanyId, t.RefreshToken))
                {
                    string rotated = null;
                    session.RefreshTokenRotated += (o, e) => rotated = e.ToString() + "|" + e.NewRefreshToken;
                    AccessToken a = session.AccessToken();
                    Assert.True(!a.ToString().Contains(a.Token), "AccessToken.ToString");
                    Assert.True(rotated != null, "rotated");
                    string[] parts = rotated.Split('|');
                    Assert.True(!parts[0].Contains(parts[1]), "RefreshTokenRotatedEventArgs.ToString");
                }
            }
        }
    }
}
