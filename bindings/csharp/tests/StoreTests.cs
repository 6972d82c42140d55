// Tests of the token store: the library's own (TokenStore, AlfaviewSession.FromStore) in
// the file store test.sh points ALFAVIEW_TOKEN_STORE at (file:<temporary directory>), and
// an application's store (IPairStore / ILockingPairStore, AlfaviewSession.WithStore).

using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading;

namespace Alfaview.Auth.Tests
{
    /// <summary>
    /// What the tests inspect of an in-memory store. The store object itself is referenced
    /// only by its session, so a store (or delegate) the binding failed to keep alive would
    /// be collected by the GC.Collect calls between renewals.
    /// </summary>
    internal sealed class StoreState
    {
        internal readonly object Gate = new object();
        internal StoredPair Pair;
        internal int Loads, Saves, Locks, Unlocks;
        internal bool Locked;
        internal bool Created;        // set once the session exists (its first Load is unlocked)
        internal int OutsideLock;     // Load/Save after creation without the lock held
        internal int LockedTwice;
        internal TimeSpan LastTimeout;
        internal bool ThrowOnLoad, ThrowNotFound, ThrowOnSave, ThrowOnLock;
        internal volatile bool StoreFinalized;
    }

    internal class MemoryStore : IPairStore
    {
        protected readonly StoreState state;

        internal MemoryStore(StoreState state)
        {
            this.state = state;
        }

        ~MemoryStore()
        {
            state.StoreFinalized = true;
        }

        public StoredPair Load()
        {
            lock (state.Gate)
            {
                state.Loads++;
                Check();
                if (state.ThrowOnLoad) throw new InvalidOperationException("load failed on purpose");
                if (state.ThrowNotFound) throw new NotFoundException("nothing here");
                return state.Pair;
            }
        }

        public void Save(StoredPair pair)
        {
            lock (state.Gate)
            {
                state.Saves++;
                Check();
                if (state.ThrowOnSave) throw new InvalidOperationException("save failed on purpose");
                state.Pair = pair;
            }
        }

        protected virtual void Check()
        {
        }
    }

    internal sealed class LockingMemoryStore : MemoryStore, ILockingPairStore
    {
        internal LockingMemoryStore(StoreState state) : base(state) { }

        public void Lock(TimeSpan timeout)
        {
            lock (state.Gate)
            {
                if (state.ThrowOnLock) throw new TimeoutException("the lock is busy (on purpose)");
                if (state.Locked) state.LockedTwice++;
                state.Locked = true;
                state.Locks++;
                state.LastTimeout = timeout;
            }
        }

        public void Unlock()
        {
            lock (state.Gate)
            {
                state.Locked = false;
                state.Unlocks++;
            }
        }

        protected override void Check()
        {
            if (state.Created && !state.Locked) state.OutsideLock++;
        }
    }

    internal static partial class Program
    {
        private const string StoreVariable = "ALFAVIEW_TOKEN_STORE";

        /// <summary>The file store's directory; the tests never touch the OS store.</summary>
        private static string FileStoreDir()
        {
            string v = Environment.GetEnvironmentVariable(StoreVariable);
            if (v == null || !v.StartsWith("file:", StringComparison.Ordinal) || v.Length == 5)
            {
                throw new AssertionException(StoreVariable + " must be file:<directory> (test.sh sets it), not " + (v ?? "unset"));
            }
            return v.Substring(5);
        }

        private static string NewAppId()
        {
            return "cs-test-" + Guid.NewGuid().ToString("N").Substring(0, 12);
        }

        private static void Collect()
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            GC.Collect();
        }

        private static List<string> ValidRefreshTokens()
        {
            var tokens = (List<object>)Json.Field(mock.Get("tokens"), "refreshTokens");
            return tokens.Where(x => (bool)Json.Field(x, "valid")).Select(x => (string)Json.Field(x, "token")).ToList();
        }

        // ---- the library's store -------------------------------------------------------------

        private static void StoreRoundTrip()
        {
            string dir = FileStoreDir();
            string app = NewAppId();
            string file = Path.Combine(dir, app + ".json");
            var nf = Assert.Throws<NotFoundException>(() => TokenStore.Load(app), "nothing stored yet");
            Assert.Equal(AlfaviewStatus.NotFound, nf.Status, "status");
            Assert.Equal("AV_ERR_NOT_FOUND", nf.StatusName, "status name");
            Assert.True(nf.Message.Contains(app), "message names the app id: " + nf.Message);
            Assert.True(nf is AlfaviewException, "an AlfaviewException");
            StoredPair none;
            Assert.True(!TokenStore.TryLoad(app, out none) && none == null, "TryLoad: nothing stored");

            string first = mock.Mint("c-100");
            TokenStore.Save(app, "c-100", first);
            Assert.True(File.Exists(file), "saved in the file store: " + file);
            StoredPair loaded = TokenStore.Load(app);
            Assert.Equal("c-100", loaded.CompanyId, "company id");
            Assert.Equal(first, loaded.RefreshToken, "refresh token");
            Assert.True(!loaded.ToString().Contains(first), "StoredPair.ToString hides the token: " + loaded);
            Assert.True(loaded.ToString().Contains("c-100") && loaded.ToString().Contains("redacted"), "ToString: " + loaded);

            // Overwrite, with a non-ASCII company id (the pair overload).
            const string company = "c-Zürich-日本-\U0001F600";
            string second = mock.Mint(company);
            TokenStore.Save(app, new StoredPair(company, second));
            StoredPair again;
            Assert.True(TokenStore.TryLoad(app, out again), "TryLoad finds it");
            Assert.Equal(company, again.CompanyId, "overwritten company id (UTF-8 round trip)");
            Assert.Equal(second, again.RefreshToken, "overwritten refresh token");

            // Another app id is another entry.
            string other = NewAppId();
            Assert.Throws<NotFoundException>(() => TokenStore.Load(other), "another app id");
            TokenStore.Save(other, "c-200", first);
            Assert.Equal(second, TokenStore.Load(app).RefreshToken, "the first entry is untouched");

            TokenStore.Delete(app);
            Assert.True(!File.Exists(file), "the file is gone");
            Assert.Throws<NotFoundException>(() => TokenStore.Load(app), "deleted");
            TokenStore.Delete(app); // deleting what is not there is not an error
            Assert.Equal("c-200", TokenStore.Load(other).CompanyId, "the other entry is untouched");
            TokenStore.Delete(other);
            Assert.Equal(0L, mock.Stat("authenticate"), "the store sends nothing");
        }

        private static void StoreInvalidArguments()
        {
            FileStoreDir();
            foreach (string bad in new[] { "", "../x", "-leading-dash", "has space", "a/b", "ä", new string('a', 65) })
            {
                var e = Assert.Throws<InvalidArgumentException>(() => TokenStore.Load(bad), "Load app id \"" + bad + "\"");
                Assert.True(e.Message.Contains("app_id"), "names the argument: " + e.Message);
                Assert.Throws<InvalidArgumentException>(() => TokenStore.Save(bad, "c-100", "t"), "Save app id \"" + bad + "\"");
                Assert.Throws<InvalidArgumentException>(() => TokenStore.Delete(bad), "Delete app id \"" + bad + "\"");
                Assert.Throws<InvalidArgumentException>(() => AlfaviewSession.FromStore(bad), "FromStore app id \"" + bad + "\"");
                using (var client = NewClient())
                {
                    Assert.Throws<InvalidArgumentException>(() => AlfaviewSession.FromStore(client, bad), "FromStore(client) \"" + bad + "\"");
                }
            }
            TokenStore.Save(new string('a', 64), "c-100", "t"); // the longest app id is fine
            TokenStore.Delete(new string('a', 64));

            string app = NewAppId();
            var company = Assert.Throws<InvalidArgumentException>(() => TokenStore.Save(app, "", "t"), "empty company id");
            Assert.True(company.Message.Contains("company_id"), "names the argument: " + company.Message);
            var token = Assert.Throws<InvalidArgumentException>(() => TokenStore.Save(app, "c-100", "has space"), "token a cookie cannot carry");
            Assert.True(token.Message.Contains("refresh_token"), "names the argument: " + token.Message);
            Assert.Throws<NotFoundException>(() => TokenStore.Load(app), "nothing was saved");

            Assert.Equal("appId", Assert.Throws<ArgumentNullException>(() => TokenStore.Load(null), "null app id").ParamName, "param");
            Assert.Equal("refreshToken", Assert.Throws<ArgumentNullException>(() => TokenStore.Save(app, "c-100", null), "null token").ParamName, "param");
            Assert.Equal("pair", Assert.Throws<ArgumentNullException>(() => TokenStore.Save(app, null), "null pair").ParamName, "param");
            Assert.Throws<ArgumentNullException>(() => new StoredPair(null, "t"), "null company id in a pair");
            Assert.Equal("appId", Assert.Throws<ArgumentException>(() => TokenStore.Delete("x\0y"), "embedded NUL").ParamName, "param");
            Assert.Equal("client", Assert.Throws<ArgumentNullException>(() => AlfaviewSession.FromStore(null, app), "null client").ParamName, "param");
        }

        private static void StoreEnvironmentChange()
        {
            string dir = FileStoreDir();
            if (Type.GetType("Mono.Runtime") == null)
            {
                // .NET on Unix keeps Environment changes to itself (dotnet/runtime#9529).
                return;
            }
            string original = Environment.GetEnvironmentVariable(StoreVariable);
            string otherDir = Path.Combine(Path.GetDirectoryName(dir.TrimEnd('/')), "other-store");
            string app = NewAppId();
            try
            {
                Environment.SetEnvironmentVariable(StoreVariable, "file:" + otherDir);
                TokenStore.Save(app, "c-100", "t-other-dir");
                Assert.True(File.Exists(Path.Combine(otherDir, app + ".json")), "saved in the directory set at run time");
                Assert.True(!File.Exists(Path.Combine(dir, app + ".json")), "not in the first one");
                Environment.SetEnvironmentVariable(StoreVariable, "no-such-store");
                var e = Assert.Throws<InvalidArgumentException>(() => TokenStore.Load(app), "a bad ALFAVIEW_TOKEN_STORE");
                Assert.True(e.Message.Contains(StoreVariable), "names the variable: " + e.Message);
                Environment.SetEnvironmentVariable(StoreVariable, "file:" + otherDir);
                TokenStore.Delete(app);
            }
            finally
            {
                Environment.SetEnvironmentVariable(StoreVariable, original);
            }
            Assert.Throws<NotFoundException>(() => TokenStore.Load(app), "back in the first directory");
        }

        private static void SessionFromStoreRotation()
        {
            mock.Configure("{\"rotate\": true, \"tokenLifetimeS\": 2}");
            string app = NewAppId();
            string original = mock.Mint("c-100");
            TokenStore.Save(app, "c-100", original);
            try
            {
                var rotated = new List<string>();
                using (var client = NewClient())
                using (AlfaviewSession session = AlfaviewSession.FromStore(client, app))
                {
                    Assert.Equal("c-100", session.CompanyId, "company id from the store");
                    Assert.Equal(0L, mock.Stat("requests"), "nothing sent before a token is asked for");
                    session.RefreshTokenRotated += (s, e) => rotated.Add(e.NewRefreshToken);
                    string previous = original;
                    for (int round = 1; round <= 3; round++)
                    {
                        Collect();
                        if (round > 1)
                        {
                            Thread.Sleep(1300); // the 2 s token is renewed half-way
                        }
                        Assert.NotEmpty(session.AccessToken().Token, "access token, round " + round);
                        Assert.Equal((long)round, mock.Stat("authenticate"), "renewals after round " + round);
                        string current = session.RefreshToken;
                        Assert.True(current != previous, "rotated in round " + round);
                        StoredPair stored = TokenStore.Load(app);
                        Assert.Equal(current, stored.RefreshToken, "the stored token equals session.RefreshToken, round " + round);
                        Assert.Equal("c-100", stored.CompanyId, "stored company");
                        Assert.Equal(round, rotated.Count, "rotation events");
                        Assert.Equal(current, rotated[round - 1], "the event carries it too");
                        previous = current;
                    }
                    Assert.Equal(previous, string.Join(",", ValidRefreshTokens()), "the stored token is the only valid one");
                }
            }
            finally
            {
                TokenStore.Delete(app);
            }
        }

        private static void SessionFromStoreAdopts()
        {
            mock.Configure("{\"rotate\": true, \"tokenLifetimeS\": 0}"); // every AccessToken() renews
            string app = NewAppId();
            TokenStore.Save(app, "c-100", mock.Mint("c-100"));
            try
            {
                using (var client = NewClient())
                using (AlfaviewSession session = AlfaviewSession.FromStore(client, app))
                {
                    session.AccessToken();
                    string mine = session.RefreshToken;
                    // Another process renews with the same entry and saves its rotated token.
                    string theirs = client.Refresh("c-100", mine).RefreshToken;
                    TokenStore.Save(app, "c-100", theirs);
                    Assert.Throws<AuthenticationException>(() => client.Refresh("c-100", mine), "my token is revoked");
                    // The session re-reads the entry before renewing: it uses theirs, not its own stale one.
                    Assert.NotEmpty(session.AccessToken().Token, "renewed with the stored token");
                    string now = session.RefreshToken;
                    Assert.True(now != theirs && now != mine, "rotated again");
                    Assert.Equal(now, TokenStore.Load(app).RefreshToken, "and saved");
                    Assert.Equal(now, string.Join(",", ValidRefreshTokens()), "theirs was used (and revoked by the rotation)");

                    // Deleted meanwhile: the renewal fails with NotFound.
                    TokenStore.Delete(app);
                    var e = Assert.Throws<NotFoundException>(() => session.AccessToken(), "the entry was deleted");
                    Assert.Equal(AlfaviewStatus.NotFound, e.Status, "status");
                }
            }
            finally
            {
                TokenStore.Delete(app);
            }
        }

        private static void SessionFromStoreDefaultClient()
        {
            string app = NewAppId();
            Assert.Throws<NotFoundException>(() => AlfaviewSession.FromStore(app), "nothing stored");
            using (var client = NewClient())
            {
                Assert.Throws<NotFoundException>(() => AlfaviewSession.FromStore(client, app), "nothing stored, own client");
                client.Dispose();
                Assert.Throws<ObjectDisposedException>(() => AlfaviewSession.FromStore(client, app), "a disposed client");
            }
            TokenStore.Save(app, "c-200", mock.Mint("c-200"));
            try
            {
                using (AlfaviewSession session = AlfaviewSession.FromStore(app))
                {
                    Assert.Equal("c-200", session.CompanyId, "company id");
                    Assert.NotEmpty(session.AccessToken().Token, "token from the default client");
                    Assert.Equal(1L, mock.Stat("refreshes"), "went to the mock");
                    Json.Parse(session.CallAsync("roomService/create").Result);
                }
            }
            finally
            {
                TokenStore.Delete(app);
            }
        }

        // ---- the application's store -----------------------------------------------------------

        // Separate methods, so no local of the caller's frame holds the store.
        private static AlfaviewSession MakeLockingStoreSession(StoreState state)
        {
            using (var client = NewClient()) // the session keeps its own reference to the connection
            {
                return AlfaviewSession.WithStore(client, new LockingMemoryStore(state));
            }
        }

        private static AlfaviewSession MakeStoreSession(StoreState state, bool defaultClient)
        {
            if (defaultClient)
            {
                return AlfaviewSession.WithStore(new MemoryStore(state));
            }
            using (var client = NewClient())
            {
                return AlfaviewSession.WithStore(client, new MemoryStore(state));
            }
        }

        private static void AppStoreRotation()
        {
            mock.Configure("{\"rotate\": true, \"tokenLifetimeS\": 0}"); // every AccessToken() renews
            string original = mock.Mint("c-100");
            var state = new StoreState { Pair = new StoredPair("c-100", original) };
            AlfaviewSession session = MakeLockingStoreSession(state);
            state.Created = true;
            var seen = new List<string>();
            try
            {
                Assert.Equal("c-100", session.CompanyId, "company id from the store");
                Assert.Equal(1, state.Loads, "loaded once when created");
                Assert.Equal(0, state.Locks + state.Saves, "no lock or save when created");
                Assert.Equal(0L, mock.Stat("requests"), "nothing sent yet");
                for (int round = 1; round <= 4; round++)
                {
                    // The session is the only owner of the store and its delegates: one the
                    // binding failed to keep alive would be collected (and crash) here.
                    Collect();
                    Assert.True(!state.StoreFinalized, "the store is alive, round " + round);
                    AccessToken t = round % 2 == 0 ? session.AccessTokenAsync().Result : session.AccessToken();
                    Assert.NotEmpty(t.Token, "access token");
                    lock (state.Gate)
                    {
                        Assert.Equal(round, state.Saves, "one Save per rotation, round " + round);
                        Assert.Equal(round, state.Locks, "Lock per renewal, round " + round);
                        Assert.Equal(round, state.Unlocks, "Unlock per Lock, round " + round);
                        Assert.True(!state.Locked, "unlocked after round " + round);
                        Assert.Equal(1 + round, state.Loads, "re-loaded under the lock, round " + round);
                        Assert.Equal("c-100", state.Pair.CompanyId, "stored company");
                        seen.Add(state.Pair.RefreshToken);
                    }
                    Assert.Equal(session.RefreshToken, seen[round - 1], "the stored token is the session's, round " + round);
                }
                Assert.Equal(0, state.OutsideLock, "Load and Save after creation only under the lock");
                Assert.Equal(0, state.LockedTwice, "never locked twice");
                Assert.True(state.LastTimeout > TimeSpan.FromSeconds(1) && state.LastTimeout < TimeSpan.FromMinutes(5),
                            "lock timeout: " + state.LastTimeout);
                Assert.Equal(4, seen.Distinct().Count(), "four different refresh tokens");
                Assert.True(!seen.Contains(original), "never the original");
                Assert.Equal(seen[3], string.Join(",", ValidRefreshTokens()), "the stored token is the only valid one");
            }
            finally
            {
                session.Dispose();
            }
            Assert.Throws<ObjectDisposedException>(() => session.AccessToken(), "disposed");
        }

        private static void AppStoreWithoutLock()
        {
            mock.Configure("{\"rotate\": true, \"tokenLifetimeS\": 0}");
            foreach (bool defaultClient in new[] { false, true })
            {
                var state = new StoreState { Pair = new StoredPair("c-200", mock.Mint("c-200")) };
                using (AlfaviewSession session = MakeStoreSession(state, defaultClient))
                {
                    state.Created = true;
                    Assert.Equal("c-200", session.CompanyId, "company id");
                    int events = 0;
                    session.RefreshTokenRotated += (s, e) => events++;
                    for (int round = 1; round <= 2; round++)
                    {
                        Collect();
                        session.AccessToken();
                        Assert.Equal(round, state.Saves, "saves");
                        Assert.Equal(session.RefreshToken, state.Pair.RefreshToken, "the stored token is the session's");
                    }
                    Assert.Equal(2, events, "the rotation event still fires");
                    Assert.Equal(3, state.Loads, "loads");
                    Assert.Equal(0, state.Locks, "no locking");
                }
            }
        }

        private static void AppStoreSaveThrows()
        {
            mock.Configure("{\"rotate\": true, \"tokenLifetimeS\": 0}");
            var logged = new List<AlfaviewLogEventArgs>();
            EventHandler<AlfaviewLogEventArgs> onLog = (s, e) => { lock (logged) logged.Add(e); };
            AlfaviewLog.Message += onLog;
            try
            {
                string original = mock.Mint("c-100");
                var state = new StoreState { Pair = new StoredPair("c-100", original), ThrowOnSave = true };
                using (AlfaviewSession session = MakeLockingStoreSession(state))
                {
                    state.Created = true;
                    Collect();
                    var e = Assert.Throws<StorageException>(() => session.AccessToken(), "Save threw");
                    Assert.True(e is AlfaviewException, "an AlfaviewException");
                    Assert.Equal(AlfaviewStatus.Storage, e.Status, "status");
                    Assert.Equal("AV_ERR_STORAGE", e.StatusName, "status name");
                    Assert.True(e.Message.Contains("save"), "message: " + e.Message);
                    List<AlfaviewLogEventArgs> errors;
                    lock (logged) errors = logged.Where(m => m.Exception != null).ToList();
                    Assert.Equal(1, errors.Count, "the exception is reported once");
                    Assert.Equal(AlfaviewLogLevel.Error, errors[0].Level, "at level Error");
                    Assert.True(errors[0].Exception is InvalidOperationException, "with the exception attached");
                    Assert.True(errors[0].Message.Contains("IPairStore.Save") && errors[0].Message.Contains("save failed on purpose"),
                                "message: " + errors[0].Message);
                    Assert.Equal(1, state.Locks, "locked");
                    Assert.Equal(1, state.Unlocks, "and unlocked although Save threw");
                    Assert.Equal(original, state.Pair.RefreshToken, "nothing was stored");
                    string kept = session.RefreshToken;
                    Assert.True(kept != original, "the rotated token is kept in memory");

                    // The store works again: the next renewal saves the kept token first,
                    // then the one rotated by that renewal.
                    state.ThrowOnSave = false;
                    Collect();
                    Assert.NotEmpty(session.AccessToken().Token, "renewed");
                    Assert.Equal(3, state.Saves, "the failed save, the kept token, the new one");
                    Assert.Equal(session.RefreshToken, state.Pair.RefreshToken, "the stored token is the session's");
                    Assert.True(state.Pair.RefreshToken != kept, "rotated again");
                    Assert.Equal(2, state.Unlocks, "balanced");
                    Assert.True(!state.Locked, "unlocked");
                }
            }
            finally
            {
                AlfaviewLog.Message -= onLog;
            }
        }

        private static void AppStoreFailures()
        {
            mock.Configure("{\"rotate\": true, \"tokenLifetimeS\": 0}");
            var logged = new List<AlfaviewLogEventArgs>();
            EventHandler<AlfaviewLogEventArgs> onLog = (s, e) => { lock (logged) logged.Add(e); };
            AlfaviewLog.Message += onLog;
            Func<string, bool> wasLogged = text => { lock (logged) return logged.Any(m => m.Level == AlfaviewLogLevel.Error && m.Message.Contains(text)); };
            try
            {
                using (var client = NewClient())
                {
                    // Creating the session loads the pair.
                    var state = new StoreState { Pair = new StoredPair("c-100", "t"), ThrowOnLoad = true };
                    Assert.Throws<StorageException>(() => AlfaviewSession.WithStore(client, new LockingMemoryStore(state)), "Load threw");
                    Assert.True(wasLogged("IPairStore.Load") && wasLogged("load failed on purpose"), "the exception is logged");

                    state = new StoreState { Pair = null };
                    var nf = Assert.Throws<NotFoundException>(() => AlfaviewSession.WithStore(client, new MemoryStore(state)), "Load returned null");
                    Assert.Equal(AlfaviewStatus.NotFound, nf.Status, "status");
                    state = new StoreState { ThrowNotFound = true };
                    Assert.Throws<NotFoundException>(() => AlfaviewSession.WithStore(client, new MemoryStore(state)), "Load threw NotFoundException");

                    state = new StoreState { Pair = new StoredPair("c-100", "bad\0token") };
                    Assert.Throws<StorageException>(() => AlfaviewSession.WithStore(client, new MemoryStore(state)), "a token with a NUL");
                    state = new StoreState { Pair = new StoredPair("c-100", "has space") };
                    var unusable = Assert.Throws<StorageException>(() => AlfaviewSession.WithStore(client, new MemoryStore(state)), "a token a cookie cannot carry");
                    Assert.True(unusable.Message.Contains("unusable"), "message: " + unusable.Message);
                    state = new StoreState { Pair = new StoredPair("", "t") };
                    Assert.Throws<StorageException>(() => AlfaviewSession.WithStore(client, new MemoryStore(state)), "an empty company id");
                    state = new StoreState { Pair = new StoredPair("c-100", new string('x', 70000)) };
                    Assert.Throws<StorageException>(() => AlfaviewSession.WithStore(client, new MemoryStore(state)), "a token larger than the buffer");
                    Assert.True(wasLogged("more than"), "the oversized token is logged");

                    // Lock fails: the renewal fails before anything is loaded or sent.
                    state = new StoreState { Pair = new StoredPair("c-100", mock.Mint("c-100")) };
                    using (var session = AlfaviewSession.WithStore(client, new LockingMemoryStore(state)))
                    {
                        state.ThrowOnLock = true;
                        Assert.Throws<StorageException>(() => session.AccessToken(), "Lock threw");
                        Assert.True(wasLogged("ILockingPairStore.Lock") && wasLogged("the lock is busy"), "the exception is logged");
                        Assert.Equal(0, state.Unlocks, "no Unlock without a Lock");
                        Assert.Equal(1, state.Loads, "not loaded");
                        Assert.Equal(0L, mock.Stat("authenticate"), "nothing sent");

                        // Load fails at a renewal: unlocked all the same.
                        state.ThrowOnLock = false;
                        state.ThrowOnLoad = true;
                        Assert.Throws<StorageException>(() => session.AccessToken(), "Load threw at a renewal");
                        Assert.Equal(1, state.Locks, "locked");
                        Assert.Equal(1, state.Unlocks, "unlocked");
                        Assert.Equal(0L, mock.Stat("authenticate"), "still nothing sent");

                        // The pair vanished from the store.
                        state.ThrowOnLoad = false;
                        state.Pair = null;
                        Assert.Throws<NotFoundException>(() => session.AccessToken(), "the pair was deleted");
                        Assert.Equal(2, state.Unlocks, "unlocked");

                        // Back to normal.
                        state.Pair = new StoredPair("c-100", mock.Mint("c-100"));
                        Assert.NotEmpty(session.AccessToken().Token, "works again");
                        Assert.Equal(session.RefreshToken, state.Pair.RefreshToken, "saved");
                    }

                    Assert.Equal("store", Assert.Throws<ArgumentNullException>(() => AlfaviewSession.WithStore(client, null), "null store").ParamName, "param");
                    Assert.Equal("store", Assert.Throws<ArgumentNullException>(() => AlfaviewSession.WithStore(null), "null store, default client").ParamName, "param");
                    Assert.Equal("client", Assert.Throws<ArgumentNullException>(
                        () => AlfaviewSession.WithStore(null, new MemoryStore(new StoreState())), "null client").ParamName, "param");
                    client.Dispose();
                    Assert.Throws<ObjectDisposedException>(
                        () => AlfaviewSession.WithStore(client, new MemoryStore(new StoreState { Pair = new StoredPair("c-100", "t") })), "a disposed client");
                }
            }
            finally
            {
                AlfaviewLog.Message -= onLog;
            }
        }
    }
}
