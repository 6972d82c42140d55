"""Sign in, keep the session's token fresh, call the API.

    ALFAVIEW_API_URL=http://127.0.0.1:PORT/json/v1/ python examples/example.py

Reads ALFAVIEW_API_URL (default: the real API), ALFAVIEW_USERNAME, ALFAVIEW_PASSWORD and
ALFAVIEW_COMPANY_ID (defaults: the mock server's alice / wonderland / c-100). Prints what
happened, never a whole token.
"""

from __future__ import annotations

import logging
import os
import sys

import alfaview_auth


def hint(secret: str) -> str:
    """The first characters of a secret, enough to tell two apart."""
    return f"{secret[:4]}…({len(secret)} chars)"


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="  log %(levelname)s %(name)s: %(message)s")
    username = os.environ.get("ALFAVIEW_USERNAME", "alice")
    password = os.environ.get("ALFAVIEW_PASSWORD", "wonderland")
    company_id = os.environ.get("ALFAVIEW_COMPANY_ID", "c-100")
    print(f"alfaview-auth {alfaview_auth.__version__} (library {alfaview_auth.library_path})")

    try:
        # base_url, timeout, ca_file, user_agent default to the environment.
        with alfaview_auth.Client(timeout=10.0) as client:
            tokens = client.login_password(username, password, company_id)
            print(f"signed in: {tokens}")  # the repr shows no secret
            if tokens.refresh_token is None:
                print("the server issued no refresh token", file=sys.stderr)
                return 1

            with alfaview_auth.Session.from_tokens(tokens, client) as session:
                # Persist a rotated refresh token here (a file readable by you alone,
                # the OS keychain, ...); the old one may no longer be accepted.
                session.on_refresh_token(
                    lambda company, new_token: print(f"new refresh token for {company}: {hint(new_token)}")
                )
                token = session.token()
                print(f"access token {hint(token.access_token)}, valid until {token.expires_at:%Y-%m-%d %H:%M:%S %Z}")
                reply = session.call("roomService/create", {"room": {"name": "Standup"}})
                print(f"roomService/create: {reply['replyInfo']['statusCode']} (request {reply['replyInfo']['requestId']})")
                print(f"keep this refresh token: {hint(session.refresh_token)}")
    except alfaview_auth.AlfaviewError as e:
        print(
            f"failed: {type(e).__name__}: {e.message} "
            f"(server status {e.api_status}, request {e.request_id}, HTTP {e.http_status})",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
