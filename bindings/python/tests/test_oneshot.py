"""The one-shot refresh on the process-wide default client (av_refresh).

The default client reads ALFAVIEW_API_URL once, when it is first used. conftest sets it
before any test runs; the subprocess tests check the behaviour in a fresh process where
nothing else can have created the default client first.
"""

from __future__ import annotations

import json
import os
from datetime import datetime, timedelta, timezone

import pytest

import alfaview_auth

from conftest import Mock, python_subprocess


def test_one_shot_refresh(mock: Mock) -> None:
    token, expires_at = alfaview_auth.refresh("c-100", mock.mint())
    assert token
    assert expires_at.tzinfo is timezone.utc
    assert abs(expires_at - datetime.now(timezone.utc) - timedelta(hours=1)) < timedelta(seconds=10)
    assert mock.stats()["refreshes"] == 1
    assert mock.last()["path"].endswith("authenticationService/authenticate")


def test_one_shot_refresh_errors(mock: Mock) -> None:
    with pytest.raises(alfaview_auth.AuthenticationError) as info:
        alfaview_auth.refresh("c-100", "not-a-token")
    assert info.value.api_status == "AUTHENTICATION_ERROR" and info.value.request_id
    with pytest.raises(alfaview_auth.InvalidArgumentError) as info2:
        alfaview_auth.refresh("", "x")
    assert info2.value.argument == "company_id"


SCRIPT = """
import json, os
import alfaview_auth
# The default client does not exist yet: it reads ALFAVIEW_API_URL at its first use.
os.environ["ALFAVIEW_API_URL"] = os.environ["LATE_URL"]
result = alfaview_auth.refresh("c-100", os.environ["REFRESH_TOKEN"])
with alfaview_auth.Session("c-100", os.environ["REFRESH_TOKEN"]) as s:
    reply = s.call("roomService/create")
print(json.dumps({"token": bool(result.access_token), "expires": result.expires_at.isoformat(),
                  "company": reply["companyId"]}))
"""


def child_env(**extra: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ALFAVIEW_API_")}
    env.update(extra)
    return env


def test_default_client_reads_the_environment_at_first_use(mock: Mock) -> None:
    done = python_subprocess(SCRIPT, child_env(LATE_URL=mock.url, REFRESH_TOKEN=mock.mint()))
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["token"] and result["company"] == "c-100"
    assert mock.stats()["refreshes"] == 2


def test_default_client_refuses_a_plaintext_remote_url(mock: Mock) -> None:
    code = (
        "import alfaview_auth\n"
        "try:\n"
        "    alfaview_auth.refresh('c-100', 'token')\n"
        "except alfaview_auth.InvalidArgumentError as e:\n"
        "    print('refused:', e)\n"
    )
    done = python_subprocess(code, child_env(ALFAVIEW_API_URL="http://example.com/json/v1/"))
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("refused:") and "ALFAVIEW_API_URL" in done.stdout
