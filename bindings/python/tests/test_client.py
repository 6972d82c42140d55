"""Client: the three sign-ins, refresh, calls, expiresAt forms and the error paths."""

from __future__ import annotations

import builtins
import dataclasses
import json
import time
from datetime import datetime, timedelta, timezone

import pytest

import alfaview_auth
from alfaview_auth import Client, Status

from conftest import Mock


def near(when: datetime, expected: datetime, slack: float = 10.0) -> bool:
    return abs((when - expected).total_seconds()) <= slack


def now() -> datetime:
    return datetime.now(timezone.utc)


# ---- signing in ----------------------------------------------------------------------------


def test_login_password_with_company(client: Client, mock: Mock) -> None:
    t = client.login_password("alice", "wonderland", "c-200")
    assert t.company_id == "c-200"
    assert t.user_id == "u-alice"
    assert t.accessible_company_ids == ("c-100", "c-200")
    assert t.access_token and t.refresh_token
    assert t.expires_at.tzinfo is timezone.utc and near(t.expires_at, now() + timedelta(hours=1))
    assert t.refresh_expires_at is not None and near(t.refresh_expires_at, now() + timedelta(days=30))
    sent = mock.last()["body"]["usernamePasswordCredentials"]
    assert sent["companyId"] == "c-200" and sent["username"] == "alice"
    assert mock.stats()["logins"] == 1


def test_login_password_without_company(client: Client, mock: Mock) -> None:
    t = client.login_password("alice", "wonderland")
    assert t.company_id == "c-100"  # the user's first company
    assert t.accessible_company_ids == ("c-100", "c-200")
    assert not mock.last()["body"]["usernamePasswordCredentials"].get("companyId")


def test_login_api_key(client: Client) -> None:
    t = client.login_api_key("ak-demo", "ak-secret", "c-100")
    assert (t.company_id, t.user_id, t.accessible_company_ids) == ("c-100", "u-apikey", ("c-100",))
    assert t.access_token and t.refresh_token


def test_wrong_password(client: Client) -> None:
    with pytest.raises(alfaview_auth.AuthenticationError) as info:
        client.login_password("alice", "not-the-password")
    e = info.value
    assert e.status is Status.AUTHENTICATION and e.api_status == "AUTHENTICATION_ERROR"
    assert "not-the-password" not in str(e)


def test_locked_account(client: Client) -> None:
    with pytest.raises(alfaview_auth.AuthenticationError) as info:
        client.login_password("locked", "locked")
    assert info.value.api_status == "ACCOUNT_STATUS_ERROR"
    assert info.value.http_status == 403
    assert info.value.request_id


def test_wrong_api_key_secret(client: Client) -> None:
    with pytest.raises(alfaview_auth.AuthenticationError):
        client.login_api_key("ak-demo", "wrong", "c-100")


def test_login_result_is_frozen(client: Client) -> None:
    t = client.login_password("alice", "wonderland")
    with pytest.raises(dataclasses.FrozenInstanceError):
        t.access_token = "x"  # type: ignore[misc]


# ---- refresh -------------------------------------------------------------------------------


def test_refresh_without_rotation(client: Client, mock: Mock) -> None:
    login = client.login_password("alice", "wonderland", "c-100")
    assert login.refresh_token is not None
    fresh = client.refresh(login.company_id, login.refresh_token)
    assert fresh.access_token != login.access_token
    assert fresh.refresh_token == login.refresh_token  # not rotated: keep the one used
    assert fresh.company_id == "c-100" and fresh.user_id == "u-alice"
    assert mock.last()["headers"]["cookie"] == f"auth={login.refresh_token}"
    again = client.refresh(login.company_id, login.refresh_token)  # still accepted
    assert again.access_token not in (fresh.access_token, login.access_token)
    assert mock.stats()["refreshes"] == 2


def test_refresh_with_rotation(client: Client, mock: Mock) -> None:
    mock.config(rotate=True)
    old = mock.mint("c-100")
    fresh = client.refresh("c-100", old)
    assert fresh.refresh_token and fresh.refresh_token != old
    assert [t["token"] for t in mock.tokens() if t["valid"]] == [fresh.refresh_token]
    with pytest.raises(alfaview_auth.AuthenticationError):
        client.refresh("c-100", old)  # revoked by the rotation
    assert client.refresh("c-100", fresh.refresh_token).access_token


def test_wrong_refresh_token(client: Client) -> None:
    with pytest.raises(alfaview_auth.AuthenticationError) as info:
        client.refresh("c-100", "not-a-real-refresh-token")
    e = info.value
    assert isinstance(e, alfaview_auth.AlfaviewError)
    assert e.status is Status.AUTHENTICATION
    assert e.api_status == "AUTHENTICATION_ERROR"
    assert e.request_id  # to quote to support
    assert e.http_status == 401
    assert e.message and "not-a-real-refresh-token" not in repr(e)


def test_refresh_token_of_another_company(client: Client, mock: Mock) -> None:
    with pytest.raises(alfaview_auth.AuthenticationError):
        client.refresh("c-300", mock.mint("c-100"))


@pytest.mark.parametrize("form", ["string", "number", "rfc3339", "rfc3339z"])
def test_expires_at_forms(client: Client, mock: Mock, form: str) -> None:
    mock.config(expiresAtForm=form, tokenLifetimeS=1800)
    t = client.refresh("c-100", mock.mint())
    assert t.expires_at.tzinfo is timezone.utc
    assert near(t.expires_at, now() + timedelta(seconds=1800), slack=5)


@pytest.mark.parametrize("style", ["maxage", "both", "quoted", "multi"])
def test_cookie_styles(client: Client, mock: Mock, style: str) -> None:
    mock.config(cookieStyle=style, refreshLifetimeS=86400)
    t = client.login_password("alice", "wonderland")
    assert t.refresh_token and '"' not in t.refresh_token
    assert t.refresh_expires_at is not None
    assert near(t.refresh_expires_at, now() + timedelta(days=1), slack=10)  # Max-Age wins


def test_no_refresh_token_issued(client: Client, mock: Mock) -> None:
    mock.config(cookieStyle="none")
    t = client.login_password("alice", "wonderland")
    assert t.refresh_token is None and t.refresh_expires_at is None
    with pytest.raises(alfaview_auth.InvalidArgumentError):
        alfaview_auth.Session.from_tokens(t, client)


def test_server_clock_offset_is_reported_as_the_server_says(client: Client, mock: Mock) -> None:
    mock.config(clockOffsetS=7200)
    t = client.refresh("c-100", mock.mint())
    assert near(t.expires_at, now() + timedelta(hours=3))


# ---- calls ---------------------------------------------------------------------------------


def test_call_with_a_dict_a_str_and_no_body(client: Client, mock: Mock) -> None:
    token = client.login_password("alice", "wonderland", "c-200").access_token
    reply = client.call("roomService/create", {"room": {"name": "Standup ☕"}}, access_token=token)
    assert reply["replyInfo"]["statusCode"] == "OK"
    assert (reply["service"], reply["method"], reply["companyId"]) == ("roomService", "create", "c-200")
    assert reply["request"] == {"room": {"name": "Standup ☕"}}
    sent = mock.last()["body"]
    assert sent["accessInfo"]["accessToken"] == token and sent["accessInfo"]["requestId"]

    reply = client.call("userService/get", '{"userId": "u-alice"}', access_token=token)
    assert reply["request"] == {"userId": "u-alice"}

    reply = client.call("userService/list", access_token=token)
    assert reply["request"] == {}

    raw = client.call_raw("authenticationService/isAuthenticated", access_token=token)
    assert json.loads(raw)["replyInfo"]["statusCode"] == "OK"


def test_call_body_must_be_a_json_object(client: Client) -> None:
    token = client.login_password("alice", "wonderland").access_token
    with pytest.raises(alfaview_auth.InvalidArgumentError) as info:
        client.call("roomService/create", "[1, 2]", access_token=token)
    assert info.value.argument == "json_body"
    with pytest.raises(TypeError):
        client.call("roomService/create", 42, access_token=token)  # type: ignore[arg-type]


def test_call_with_an_expired_token(client: Client, mock: Mock) -> None:
    token = client.login_password("alice", "wonderland").access_token
    mock.expire()
    with pytest.raises(alfaview_auth.TokenExpiredError) as info:
        client.call("roomService/create", access_token=token)
    assert info.value.api_status == "TOKEN_OUTDATED" and info.value.request_id


@pytest.mark.parametrize("shape", ["gateway", "reply", "numeric"])
def test_api_error(client: Client, mock: Mock, shape: str) -> None:
    token = client.login_password("alice", "wonderland").access_token
    mock.config(errorShape=shape)
    mock.fault("error200", apiStatus="INSUFFICIENT_PERMISSIONS", path="roomService")
    with pytest.raises(alfaview_auth.ApiError) as info:
        client.call("roomService/create", access_token=token)
    assert info.value.api_status == "INSUFFICIENT_PERMISSIONS"
    assert info.value.status is Status.API


def test_http_error(client: Client, mock: Mock) -> None:
    token = client.login_password("alice", "wonderland").access_token
    mock.fault("status", status=503, path="roomService")
    with pytest.raises(alfaview_auth.HttpError) as info:
        client.call("roomService/create", access_token=token)
    assert info.value.http_status == 503 and info.value.api_status is None


def test_gateway_error_with_api_status(client: Client, mock: Mock) -> None:
    token = client.login_password("alice", "wonderland").access_token
    mock.fault("status", status=429, apiStatus="QUOTA_EXCEEDED", path="roomService")
    with pytest.raises(alfaview_auth.ApiError) as info:
        client.call("roomService/create", access_token=token)
    assert (info.value.api_status, info.value.http_status) == ("QUOTA_EXCEEDED", 429)


def test_protocol_error(client: Client, mock: Mock) -> None:
    mock.fault("garbage", path="authenticate")
    with pytest.raises(alfaview_auth.ProtocolError):
        client.login_password("alice", "wonderland")


def test_redirect_is_not_followed(client: Client, mock: Mock) -> None:
    mock.fault("redirect")
    with pytest.raises(alfaview_auth.HttpError) as info:
        client.login_password("alice", "wonderland")
    assert info.value.http_status == 302


def test_network_error() -> None:
    with Client(base_url="http://127.0.0.1:1/json/v1/", timeout=5) as c:
        with pytest.raises(alfaview_auth.NetworkError) as info:
            c.login_password("alice", "wonderland")
    assert info.value.status is Status.NETWORK and info.value.http_status is None


def test_timeout(mock: Mock) -> None:
    mock.fault("hang", path="authenticate")
    with Client(base_url=mock.url, timeout=0.3) as c:
        started = time.monotonic()
        with pytest.raises(alfaview_auth.TimeoutError) as info:
            c.login_password("alice", "wonderland")
        assert time.monotonic() - started < 5
    assert isinstance(info.value, builtins.TimeoutError)  # `except TimeoutError` catches it
    assert isinstance(info.value, alfaview_auth.AlfaviewError)
    assert info.value.status is Status.TIMEOUT


def test_timeout_as_timedelta(mock: Mock) -> None:
    mock.fault("delay", delayMs=1500, path="authenticate")
    with Client(base_url=mock.url, timeout=timedelta(milliseconds=300)) as c:
        with pytest.raises(builtins.TimeoutError):
            c.login_password("alice", "wonderland")


# ---- invalid arguments ---------------------------------------------------------------------


def test_empty_company_id(client: Client) -> None:
    with pytest.raises(alfaview_auth.InvalidArgumentError) as info:
        client.refresh("", "some-token")
    e = info.value
    assert isinstance(e, ValueError)
    assert e.status is Status.INVALID_ARGUMENT
    assert e.argument == "company_id" and "company_id" in str(e)
    assert e.request_id is None and e.http_status is None  # nothing was sent


def test_plaintext_http_to_a_remote_host() -> None:
    with pytest.raises(alfaview_auth.InvalidArgumentError) as info:
        Client(base_url="http://example.com/json/v1/")
    assert info.value.argument == "base_url" and "base_url" in str(info.value)
    assert "https" in str(info.value)


@pytest.mark.parametrize(
    "kwargs, argument",
    [
        ({"timeout": 0}, "timeout"),
        ({"timeout": -1.5}, "timeout"),
        ({"timeout": float("nan")}, "timeout"),
        ({"timeout": 10**9}, "timeout"),
        ({"ca_file": "/nonexistent/ca.pem"}, "ca_file"),
        ({"ca_file": ""}, "ca_file"),
        ({"user_agent": "bad\nagent"}, "user_agent"),
        ({"base_url": "not a url"}, "base_url"),
    ],
)
def test_client_arguments(kwargs, argument) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(alfaview_auth.InvalidArgumentError) as info:
        Client(**kwargs)
    assert info.value.argument == argument, info.value


def test_nul_characters_are_refused_before_they_reach_c(client: Client, mock: Mock) -> None:
    # C strings end at the first NUL: "wonderland\0junk" must not sign in as "wonderland".
    with pytest.raises(alfaview_auth.InvalidArgumentError) as info:
        client.login_password("alice", "wonderland\x00junk")
    assert info.value.argument == "password"
    assert mock.stats()["requests"] == 0


def test_api_key_argument_names(client: Client) -> None:
    with pytest.raises(alfaview_auth.InvalidArgumentError) as info:
        client.login_api_key("ak-demo", "", "c-100")
    assert info.value.argument == "secret"
    with pytest.raises(alfaview_auth.InvalidArgumentError) as info:
        client.login_api_key("ak-demo", "ak-secret", "")
    assert info.value.argument == "company_id"


def test_wrong_types_are_type_errors(client: Client) -> None:
    with pytest.raises(TypeError):
        client.login_password("alice", b"wonderland")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        Client(timeout="3")  # type: ignore[arg-type]


def test_user_agent_is_sent(mock: Mock) -> None:
    with Client(base_url=mock.url, user_agent="py-tests/1.0") as c:
        c.login_password("alice", "wonderland")
    assert mock.last()["headers"]["user-agent"] == "py-tests/1.0"


def test_ca_file_is_accepted(mock: Mock) -> None:
    from conftest import ROOT

    with Client(base_url=mock.url, ca_file=ROOT / "mock-server" / "tests" / "data" / "ca.pem") as c:
        assert c.login_password("alice", "wonderland").company_id == "c-100"
