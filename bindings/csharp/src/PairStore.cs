// The application's own store for a session's pair (IPairStore, optionally with a lock:
// ILockingPairStore) and the bridge that exposes it to the library as av_store_callbacks.

using System;
using System.Runtime.InteropServices;
using System.Threading;

namespace Alfaview.Auth
{
    /// <summary>
    /// A store the application provides for a session's pair (company id + refresh token),
    /// e.g. on Redis, Vault or a database shared by a fleet of hosts. Give it to
    /// <see cref="AlfaviewSession.WithStore(AlfaviewClient, IPairStore)"/>.
    /// </summary>
    /// <remarks>
    /// The session calls <see cref="Load"/> once when it is created and again at every
    /// renewal (another host may have rotated the token meanwhile), and <see cref="Save"/>
    /// after the server rotated the refresh token. Implement <see cref="ILockingPairStore"/>
    /// too to have each renewal hold a lock shared by every host using the entry; without
    /// it there is no locking. The methods are called on whichever thread renews the token
    /// (yours, or a thread-pool thread for the …Async methods), never two at once for one
    /// session. The session keeps the store referenced for as long as it exists.
    /// <para>
    /// An exception thrown by a method is caught (it must not unwind into native code),
    /// reported through <see cref="AlfaviewLog.Message"/> at level Error with the exception
    /// attached, and makes the session's call fail with a <see cref="StorageException"/>.
    /// </para>
    /// </remarks>
    public interface IPairStore
    {
        /// <summary>
        /// The stored pair, or null if nothing is stored (throwing a
        /// <see cref="NotFoundException"/> means the same): the session then fails with
        /// <see cref="NotFoundException"/>.
        /// </summary>
        StoredPair Load();

        /// <summary>Replaces the stored pair, atomically (a reader sees the old pair or the new one).</summary>
        void Save(StoredPair pair);
    }

    /// <summary>
    /// An <see cref="IPairStore"/> with an exclusive lock on its entry, shared by every
    /// process and host that uses it: each renewal takes it before loading the pair and
    /// releases it after saving a rotated one, so no two hosts refresh with the same token.
    /// </summary>
    public interface ILockingPairStore : IPairStore
    {
        /// <summary>
        /// Takes the entry's exclusive lock, waiting at most <paramref name="timeout"/>.
        /// Throw if it could not be had (the renewal then fails with <see cref="StorageException"/>).
        /// </summary>
        void Lock(TimeSpan timeout);

        /// <summary>
        /// Releases the lock <see cref="Lock"/> took (called once for each successful
        /// <see cref="Lock"/>, on the same thread). An exception is logged and otherwise ignored.
        /// </summary>
        void Unlock();
    }

    /// <summary>
    /// One session's av_store_callbacks: delegates bound to the application's store.
    /// Native code gets function pointers made from these delegates, so this object (held
    /// by the session's SessionHandle until the native session is freed) keeps them and
    /// the store alive. No exception leaves a callback.
    /// </summary>
    internal sealed class PairStoreBridge
    {
        private const int Ok = (int)AlfaviewStatus.Ok;
        private const int NotFound = (int)AlfaviewStatus.NotFound;
        private const int Storage = (int)AlfaviewStatus.Storage;

        private readonly IPairStore store;
        private readonly ILockingPairStore locking; // null: no locking
        private readonly NativeMethods.StoreLoadCallback load;
        private readonly NativeMethods.StoreSaveCallback save;
        private readonly NativeMethods.StoreLockCallback lockCallback;
        private readonly NativeMethods.StoreUnlockCallback unlockCallback;
        private string firstCompanyId;

        internal PairStoreBridge(IPairStore store)
        {
            if (store == null)
            {
                throw new ArgumentNullException("store");
            }
            this.store = store;
            locking = store as ILockingPairStore;
            load = OnLoad;
            save = OnSave;
            if (locking != null)
            {
                lockCallback = OnLock;
                unlockCallback = OnUnlock;
            }
        }

        /// <summary>The company id of the first pair loaded (while the session was created): the session's company.</summary>
        internal string FirstCompanyId
        {
            get { return Volatile.Read(ref firstCompanyId); }
        }

        /// <summary>The struct for av_session_new_with_store (which copies it).</summary>
        internal NativeMethods.StoreCallbacks Callbacks()
        {
            return new NativeMethods.StoreCallbacks
            {
                Load = Marshal.GetFunctionPointerForDelegate<NativeMethods.StoreLoadCallback>(load),
                Save = Marshal.GetFunctionPointerForDelegate<NativeMethods.StoreSaveCallback>(save),
                Lock = lockCallback == null ? IntPtr.Zero : Marshal.GetFunctionPointerForDelegate<NativeMethods.StoreLockCallback>(lockCallback),
                Unlock = unlockCallback == null ? IntPtr.Zero : Marshal.GetFunctionPointerForDelegate<NativeMethods.StoreUnlockCallback>(unlockCallback),
            };
        }

        private int OnLoad(IntPtr userData, IntPtr companyBuffer, UIntPtr companySize, IntPtr tokenBuffer, UIntPtr tokenSize)
        {
            try
            {
                StoredPair pair;
                try
                {
                    pair = store.Load();
                }
                catch (NotFoundException)
                {
                    return NotFound;
                }
                if (pair == null)
                {
                    return NotFound;
                }
                if (!Write(pair.CompanyId, companyBuffer, companySize, "company id")
                    || !Write(pair.RefreshToken, tokenBuffer, tokenSize, "refresh token"))
                {
                    return Storage;
                }
                Interlocked.CompareExchange(ref firstCompanyId, pair.CompanyId, null);
                return Ok;
            }
            catch (Exception e)
            {
                AlfaviewLog.ReportStoreException("IPairStore.Load", e);
                return Storage;
            }
        }

        /// <summary>
        /// Copies <paramref name="value"/> into the library's buffer as NUL-terminated UTF-8;
        /// false (logged) if it does not fit in <paramref name="size"/> bytes.
        /// </summary>
        private static bool Write(string value, IntPtr buffer, UIntPtr size, string what)
        {
            byte[] bytes = Utf8.Encode(value, what); // with the NUL; throws for an embedded NUL
            try
            {
                if ((ulong)bytes.Length > size.ToUInt64())
                {
                    AlfaviewLog.ReportStoreProblem("the application's token store (IPairStore.Load) returned a "
                        + what + " of " + (bytes.Length - 1) + " bytes (UTF-8), more than the " + size + " - 1 the library accepts");
                    return false;
                }
                Marshal.Copy(bytes, 0, buffer, bytes.Length);
                return true;
            }
            finally
            {
                Utf8.Wipe(bytes);
            }
        }

        private int OnSave(IntPtr userData, IntPtr companyId, IntPtr refreshToken)
        {
            try
            {
                store.Save(new StoredPair(Utf8.Decode(companyId), Utf8.Decode(refreshToken)));
                return Ok;
            }
            catch (Exception e)
            {
                AlfaviewLog.ReportStoreException("IPairStore.Save", e);
                return Storage;
            }
        }

        private int OnLock(IntPtr userData, uint timeoutMs)
        {
            try
            {
                locking.Lock(TimeSpan.FromMilliseconds(timeoutMs));
                return Ok;
            }
            catch (Exception e)
            {
                AlfaviewLog.ReportStoreException("ILockingPairStore.Lock", e);
                return Storage;
            }
        }

        private void OnUnlock(IntPtr userData)
        {
            try
            {
                locking.Unlock();
            }
            catch (Exception e)
            {
                AlfaviewLog.ReportStoreException("ILockingPairStore.Unlock", e);
            }
        }
    }
}
