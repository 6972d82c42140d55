// Sign in, keep the token fresh with a session, call the API.
//
//   ALFAVIEW_API_URL=https://apis.alfaview.com/json/v1/ ALFAVIEW_USERNAME=me@example.com \
//   ALFAVIEW_PASSWORD=... [ALFAVIEW_COMPANY_ID=...] mono Example.exe
//
// Without ALFAVIEW_USERNAME/PASSWORD it signs in as the mock server's demo user, so
// bindings/csharp/test.sh can run it against the mock. Secrets are never printed whole.

using System;
using Alfaview.Auth;

internal static class Example
{
    private static int Main()
    {
        string username = Environment.GetEnvironmentVariable("ALFAVIEW_USERNAME") ?? "alice";
        string password = Environment.GetEnvironmentVariable("ALFAVIEW_PASSWORD") ?? "wonderland";
        string companyId = Environment.GetEnvironmentVariable("ALFAVIEW_COMPANY_ID"); // null: the server picks

        AlfaviewLog.Message += (sender, e) => Console.Error.WriteLine("[alfaview " + e.Level + "] " + e.Message);
        Console.WriteLine("alfaview-auth " + AlfaviewAuth.Version);
        try
        {
            // Base URL, timeout and CA file come from ALFAVIEW_API_URL etc.; or set them in AlfaviewClientOptions.
            using (var client = new AlfaviewClient())
            {
                Tokens tokens = client.LoginPassword(username, password, companyId);
                Console.WriteLine("signed in: " + tokens); // ToString() hides the tokens

                using (AlfaviewSession session = client.CreateSession(tokens.CompanyId, tokens.RefreshToken))
                {
                    // Persist the newest refresh token here (a protected store in a real app).
                    session.RefreshTokenRotated += (sender, e) =>
                        Console.WriteLine("refresh token rotated for " + e.CompanyId + ": " + Mask(e.NewRefreshToken));

                    AccessToken token = session.AccessToken(); // cached; renewed before it expires
                    Console.WriteLine("access token " + Mask(token.Token) + " valid until " + token.ExpiresAt.ToString("u"));

                    string reply = session.Call("authenticationService/isAuthenticated");
                    Console.WriteLine("isAuthenticated: " + reply);
                }
            }
            return 0;
        }
        catch (AlfaviewException e)
        {
            Console.Error.WriteLine("failed: " + e.Message + " (" + e.StatusName + ", server status "
                                    + (e.ApiStatus ?? "-") + ", request " + (e.RequestId ?? "-") + ")");
            return 1;
        }
    }

    private static string Mask(string secret)
    {
        return secret.Length <= 8 ? "[" + secret.Length + " chars]" : secret.Substring(0, 4) + "…[" + secret.Length + " chars]";
    }
}
