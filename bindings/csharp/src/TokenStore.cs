using System;

namespace Alfaview.Auth
{
    /// <summary>
    /// A company id and the refresh token tied to it: what a token store keeps. Immutable;
    /// <see cref="ToString"/> never shows the token.
    /// </summary>
    public sealed class StoredPair
    {
        /// <summary>A pair (both parts are required; the library checks their contents when it uses them).</summary>
        public StoredPair(string companyId, string refreshToken)
        {
            if (companyId == null)
            {
                throw new ArgumentNullException("companyId");
            }
            if (refreshToken == null)
            {
                throw new ArgumentNullException("refreshToken");
            }
            CompanyId = companyId;
            RefreshToken = refreshToken;
        }

        /// <summary>The company the refresh token is for.</summary>
        public string CompanyId { get; }

        /// <summary>The refresh token (a secret).</summary>
        public string RefreshToken { get; }

        /// <summary>A description without the token.</summary>
        public override string ToString()
        {
            return "StoredPair { CompanyId = " + CompanyId + ", RefreshToken = [redacted] }";
        }
    }

    /// <summary>
    /// The library's own token store: one pair (company id + refresh token) per app id, in
    /// the operating system's protected store where there is one (Keychain, Windows
    /// Credential Manager, Secret Service), otherwise in a file only the user can read.
    /// The environment variable ALFAVIEW_TOKEN_STORE chooses explicitly: <c>os</c>,
    /// <c>file</c> or <c>file:&lt;directory&gt;</c>; it is read at every call (from the
    /// process environment: on .NET on Linux/macOS set it before the process starts).
    /// </summary>
    /// <remarks>
    /// An app id is 1 to 64 characters: letters, digits, '.', '_' and '-', starting with a
    /// letter or digit; anything else is an <see cref="InvalidArgumentException"/>. A store
    /// that fails (or a file readable by other users) is a <see cref="StorageException"/>
    /// whose message names the place and the fix. For a session that keeps the stored pair
    /// up to date, see <see cref="AlfaviewSession.FromStore(string)"/>.
    /// </remarks>
    public static class TokenStore
    {
        /// <summary>
        /// Saves the pair for <paramref name="appId"/>, replacing what was stored. Atomic: a
        /// crash leaves the old pair or the new one, never a torn one.
        /// </summary>
        /// <exception cref="InvalidArgumentException">A bad app id, company id or refresh token.</exception>
        /// <exception cref="StorageException">The store failed.</exception>
        public static void Save(string appId, string companyId, string refreshToken)
        {
            Native.StoreSave(appId, companyId, refreshToken);
        }

        /// <summary>Saves <paramref name="pair"/> for <paramref name="appId"/> (see <see cref="Save(string, string, string)"/>).</summary>
        public static void Save(string appId, StoredPair pair)
        {
            if (pair == null)
            {
                throw new ArgumentNullException("pair");
            }
            Native.StoreSave(appId, pair.CompanyId, pair.RefreshToken);
        }

        /// <summary>The pair stored for <paramref name="appId"/>.</summary>
        /// <exception cref="NotFoundException">Nothing is stored for <paramref name="appId"/>.</exception>
        /// <exception cref="StorageException">The store failed, the entry is corrupt, or the file is readable by other users.</exception>
        /// <exception cref="InvalidArgumentException">A bad app id.</exception>
        public static StoredPair Load(string appId)
        {
            return Native.StoreLoad(appId);
        }

        /// <summary>
        /// Like <see cref="Load"/>, but returns false (and null) instead of throwing
        /// <see cref="NotFoundException"/> when nothing is stored. Other failures still throw.
        /// </summary>
        public static bool TryLoad(string appId, out StoredPair pair)
        {
            try
            {
                pair = Native.StoreLoad(appId);
                return true;
            }
            catch (NotFoundException)
            {
                pair = null;
                return false;
            }
        }

        /// <summary>Deletes the pair stored for <paramref name="appId"/>; deleting what is not there is not an error.</summary>
        /// <exception cref="StorageException">The store failed.</exception>
        /// <exception cref="InvalidArgumentException">A bad app id.</exception>
        public static void Delete(string appId)
        {
            Native.StoreDelete(appId);
        }
    }
}
