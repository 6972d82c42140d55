using System;
using System.Collections.Generic;
using System.Collections.ObjectModel;

namespace Alfaview.Auth
{
    /// <summary>
    /// The result of a sign-in or refresh: an immutable snapshot (copied out of the native
    /// av_tokens, which is freed at once). <see cref="ToString"/> never shows a token.
    /// </summary>
    public sealed class Tokens
    {
        internal Tokens(string accessToken, long expiresAt, string refreshToken, long refreshExpiresAt,
                        string companyId, string userId, IList<string> accessibleCompanyIds)
        {
            AccessToken = accessToken ?? "";
            ExpiresAt = DateTimeOffset.FromUnixTimeSeconds(expiresAt);
            RefreshToken = refreshToken ?? "";
            RefreshExpiresAt = refreshExpiresAt == 0 ? (DateTimeOffset?)null : DateTimeOffset.FromUnixTimeSeconds(refreshExpiresAt);
            CompanyId = companyId ?? "";
            UserId = userId ?? "";
            AccessibleCompanyIds = new ReadOnlyCollection<string>(new List<string>(accessibleCompanyIds));
        }

        /// <summary>The access token (a secret): pass it to <see cref="AlfaviewClient.Call"/>.</summary>
        public string AccessToken { get; }

        /// <summary>When the access token expires, as the server said (UTC).</summary>
        public DateTimeOffset ExpiresAt { get; }

        /// <summary>
        /// The refresh token to keep (a secret). After a sign-in: the one issued ("" if the
        /// server issued none). After a refresh: the new one if the server rotated it,
        /// otherwise the one that was used.
        /// </summary>
        public string RefreshToken { get; }

        /// <summary>When the refresh token's cookie expires (UTC); null if unknown.</summary>
        public DateTimeOffset? RefreshExpiresAt { get; }

        /// <summary>The company the access token is for.</summary>
        public string CompanyId { get; }

        /// <summary>The user the access token is for; "" if the server did not say.</summary>
        public string UserId { get; }

        /// <summary>The companies the user can reach.</summary>
        public IReadOnlyList<string> AccessibleCompanyIds { get; }

        /// <summary>A description without the tokens.</summary>
        public override string ToString()
        {
            return "Tokens { CompanyId = " + CompanyId + ", UserId = " + UserId
                + ", ExpiresAt = " + ExpiresAt.ToString("o")
                + ", AccessToken = [redacted], RefreshToken = " + (RefreshToken.Length == 0 ? "(none)" : "[redacted]")
                + ", RefreshExpiresAt = " + (RefreshExpiresAt.HasValue ? RefreshExpiresAt.Value.ToString("o") : "(unknown)")
                + ", AccessibleCompanyIds = [" + string.Join(", ", AccessibleCompanyIds) + "] }";
        }
    }

    /// <summary>An access token and its expiry. <see cref="ToString"/> never shows the token.</summary>
    public sealed class AccessToken
    {
        internal AccessToken(string token, long expiresAt)
        {
            Token = token ?? "";
            ExpiresAt = DateTimeOffset.FromUnixTimeSeconds(expiresAt);
        }

        /// <summary>The access token (a secret).</summary>
        public string Token { get; }

        /// <summary>When it expires (UTC).</summary>
        public DateTimeOffset ExpiresAt { get; }

        /// <summary>A description without the token.</summary>
        public override string ToString()
        {
            return "AccessToken { Token = [redacted], ExpiresAt = " + ExpiresAt.ToString("o") + " }";
        }
    }
}
