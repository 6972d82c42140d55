"""Session: cached path, rotation callback, TOKEN_OUTDATED retry, single flight across
threads, fallback to the cached token, callbacks that raise, closing."""

from __future__ import annotations

import logging
import threading
import time
from datetime import datetime, timedelta, timezone
from typing import List, Tuple

import pytest

import alfaview_auth
from alfaview_auth import Client, Session

from conftest import Mock, run_with_timeout


def test_cached_token_costs_no_request(client: Client, mock: Mock) -> None:
    with Session("c-100", mock.mint(), client) as s:
        first = s.token()
        assert first.expires_at.tzinfo is timezone.utc
        assert abs((first.expires_at - datetime.now(timezone.utc)) - timedelta(hours=1)) < timedelta(seconds=10)
        before = mock.stats()
        for _ in range(50):
            assert s.access_token() == first.access_token
        after = mock.stats()
        assert after["requests"] == before["requests"] == 1  # not one more request


def test_nothing_is_sent_until_a_token_is_asked_for(client: Client, mock: Mock) -> None:
    with Session("c-100", mock.mint(), client):
        pass
    assert mock.stats()["requests"] == 0


def test_session_from_a_login(client: Client, mock: Mock) -> None:
    tokens = client.login_password("alice", "wonderland", "c-200")
    with Session.from_tokens(tokens, client) as s:
        assert s.company_id == "c-200"
        assert s.refresh_token == tokens.refresh_token
        reply = s.call("roomService/create", {"room": {"name": "x"}})
        assert reply["companyId"] == "c-200" and reply["request"] == {"room": {"name": "x"}}
        assert s.call_raw("authenticationService/isAuthenticated").startswith("{")


def test_session_expiry_is_on_the_local_clock(client: Client, mock: Mock) -> None:
    # The server's clock is 2 h ahead: the server's expiresAt says "in 3 h", but the
    # token lives 1 h, and that is what the session reports.
    mock.config(clockOffsetS=7200)
    with Session("c-100", mock.mint(), client) as s:
        expires = s.token().expires_at
    assert abs((expires - datetime.now(timezone.utc)) - timedelta(hours=1)) < timedelta(seconds=10)


def test_rotation_callback_once_per_rotation_with_the_new_token(client: Client, mock: Mock) -> None:
    mock.config(rotate=True)
    original = mock.mint()
    seen: List[Tuple[str, str]] = []
    with Session("c-100", original, client) as s:
        seen_by_session: List[str] = []

        @s.on_refresh_token
        def persist(company_id: str, new_refresh_token: str) -> None:
            seen.append((company_id, new_refresh_token))
            # No internal lock is held: the session may be used from the callback.
            seen_by_session.append(s.refresh_token)

        run_with_timeout(s.access_token)  # rotation 1
        assert len(seen) == 1
        company, first = seen[0]
        assert company == "c-100" and first != original
        assert s.refresh_token == first and seen_by_session == [first]

        for _ in range(5):
            s.access_token()  # cached: no rotation
        assert len(seen) == 1

        mock.expire()
        run_with_timeout(lambda: s.call("roomService/create"))  # TOKEN_OUTDATED -> renew
        assert len(seen) == 2
        second = seen[1][1]
        assert second not in (original, first) and s.refresh_token == second
        assert [t["token"] for t in mock.tokens() if t["valid"]] == [second]

        s.on_refresh_token(None)  # removed
        mock.expire()
        s.call("roomService/create")
        assert len(seen) == 2 and s.refresh_token != second


def test_asking_for_a_token_inside_the_callback_fails_at_once(
    client: Client, mock: Mock, caplog: pytest.LogCaptureFixture
) -> None:
    # The new access token is handed out only after the callback returns: asking for it
    # from inside fails at once (instead of waiting for itself), and the session goes on.
    mock.config(rotate=True)
    raised: List[BaseException] = []
    with Session("c-100", mock.mint(), client) as s:

        def greedy(company_id: str, token: str) -> None:
            try:
                s.access_token()
            except BaseException as e:  # noqa: BLE001
                raised.append(e)
                raise

        s.on_refresh_token(greedy)
        started = time.monotonic()
        assert run_with_timeout(s.access_token)
        assert time.monotonic() - started < 5
    assert len(raised) == 1 and isinstance(raised[0], alfaview_auth.InvalidArgumentError)
    assert [r.levelno for r in caplog.records if r.name == "alfaview_auth"].count(logging.ERROR) == 1


def test_token_outdated_is_renewed_and_retried_once(client: Client, mock: Mock) -> None:
    with Session("c-100", mock.mint(), client) as s:
        first = s.access_token()
        mock.expire()
        reply = s.call("roomService/create", '{"room": {"name": "retry"}}')
        assert reply["request"] == {"room": {"name": "retry"}}
        assert s.access_token() != first
        stats = mock.stats()
        assert (stats["refreshes"], stats["calls"]) == (2, 2)


def test_second_token_outdated_is_returned(client: Client, mock: Mock) -> None:
    with Session("c-100", mock.mint(), client) as s:
        s.access_token()
        mock.fault("status", status=401, apiStatus="TOKEN_OUTDATED", path="roomService")
        with pytest.raises(alfaview_auth.TokenExpiredError) as info:
            s.call("roomService/create")
        assert info.value.api_status == "TOKEN_OUTDATED"
        assert mock.stats()["calls"] == 2  # the call and one retry


def test_sixteen_threads_one_request(client: Client, mock: Mock) -> None:
    mock.fault("delay", delayMs=500, path="authenticate")  # so that all of them overlap
    with Session("c-100", mock.mint(), client) as s:
        barrier = threading.Barrier(16)
        tokens: List[str] = []
        errors: List[BaseException] = []

        def worker() -> None:
            try:
                barrier.wait(timeout=10)
                tokens.append(s.access_token())
            except BaseException as e:  # noqa: BLE001
                errors.append(e)

        threads = [threading.Thread(target=worker) for _ in range(16)]
        started = time.monotonic()
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
        elapsed = time.monotonic() - started
    assert not errors, errors
    assert len(tokens) == 16 and len(set(tokens)) == 1
    stats = mock.stats()
    assert stats["authenticate"] == 1 and stats["refreshes"] == 1
    assert elapsed < 5  # they waited for one request, not sixteen in a row


def test_sixteen_threads_with_rotation_one_callback(client: Client, mock: Mock) -> None:
    mock.config(rotate=True)
    mock.fault("delay", delayMs=300, path="authenticate")
    calls: List[str] = []
    with Session("c-100", mock.mint(), client) as s:
        s.on_refresh_token(lambda company, token: calls.append(token))
        barrier = threading.Barrier(16)

        def worker() -> None:
            barrier.wait(timeout=10)
            s.access_token()

        threads = [threading.Thread(target=worker) for _ in range(16)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
        assert calls == [s.refresh_token]


def test_cached_token_is_served_when_a_due_renewal_fails(client: Client, mock: Mock, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="alfaview_auth")
    mock.config(tokenLifetimeS=4)  # renewed half-way: after 2 s
    with Session("c-100", mock.mint(), client) as s:
        first = s.access_token()
        issued = time.monotonic()
        time.sleep(2.3)
        mock.fault("status", status=503, path="authenticate")
        assert s.access_token() == first  # still valid for ~1.7 s
        warnings = [r for r in caplog.records if r.name == "alfaview_auth" and r.levelno == logging.WARNING]
        assert warnings and "cached" in warnings[0].getMessage()
        assert first not in warnings[0].getMessage()
        time.sleep(max(0.0, 4.3 - (time.monotonic() - issued)))  # now expired
        with pytest.raises(alfaview_auth.HttpError):
            s.access_token()


def test_callback_that_raises_does_not_break_the_session(
    client: Client, mock: Mock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR, logger="alfaview_auth")
    mock.config(rotate=True)
    original = mock.mint()
    with Session("c-100", original, client) as s:

        def broken(company_id: str, token: str) -> None:
            raise RuntimeError("disk full")

        s.on_refresh_token(broken)
        token = s.access_token()  # no exception
        assert token
        new = s.refresh_token
        assert new != original  # the session kept the rotated token
        records = [r for r in caplog.records if r.name == "alfaview_auth"]
        assert len(records) == 1 and records[0].levelno == logging.ERROR
        assert records[0].exc_info and isinstance(records[0].exc_info[1], RuntimeError)
        assert new not in records[0].getMessage()

        mock.expire()
        assert s.call("roomService/create")["replyInfo"]["statusCode"] == "OK"
        assert s.refresh_token not in (original, new)
        assert len([r for r in caplog.records if r.name == "alfaview_auth"]) == 2


def test_refresh_margin(client: Client, mock: Mock) -> None:
    mock.config(tokenLifetimeS=600)
    with Session("c-100", mock.mint(), client) as s:
        first = s.access_token()
        s.set_refresh_margin(300)  # 600 s left > 300: cached
        assert s.access_token() == first
        s.set_refresh_margin(timedelta(minutes=15))  # less than twice the margin: half-way
        assert s.access_token() == first
        assert mock.stats()["refreshes"] == 1
        with pytest.raises(alfaview_auth.InvalidArgumentError):
            s.set_refresh_margin(-1)
        with pytest.raises(TypeError):
            s.set_refresh_margin("60")  # type: ignore[arg-type]


def test_rejected_refresh_token(client: Client) -> None:
    with Session("c-100", "not-a-valid-refresh-token", client) as s:
        with pytest.raises(alfaview_auth.AuthenticationError) as info:
            s.access_token()
    assert info.value.api_status == "AUTHENTICATION_ERROR" and info.value.request_id


def test_invalid_session_arguments(client: Client) -> None:
    with pytest.raises(alfaview_auth.InvalidArgumentError) as info:
        Session("", "token", client)
    assert info.value.argument == "company_id"
    with pytest.raises(alfaview_auth.InvalidArgumentError) as info:
        Session("c-100", "", client)
    assert info.value.argument == "refresh_token"
    with pytest.raises(TypeError):
        Session("c-100", "token", client="http://x")  # type: ignore[arg-type]
    with Session("c-100", "token", client) as s:
        with pytest.raises(TypeError):
            s.on_refresh_token("not callable")  # type: ignore[arg-type]
        with pytest.raises(alfaview_auth.InvalidArgumentError) as info:
            s.call("")
        assert info.value.argument == "service_method"


def test_session_outlives_its_client(mock: Mock) -> None:
    c = Client(base_url=mock.url)
    s = Session("c-100", mock.mint(), c)
    c.close()
    try:
        assert s.call("roomService/create")["replyInfo"]["statusCode"] == "OK"
    finally:
        s.close()


def test_session_on_the_default_client(mock: Mock) -> None:
    # conftest set ALFAVIEW_API_URL to the mock before anything used the default client.
    with Session("c-100", mock.mint()) as s:
        assert s.call("roomService/create")["companyId"] == "c-100"


def test_reprs_show_no_secret(client: Client, mock: Mock) -> None:
    mock.config(rotate=True)
    tokens = client.login_password("alice", "wonderland")
    secrets = [tokens.access_token, tokens.refresh_token]
    with Session.from_tokens(tokens, client) as s:
        token = s.token()
        secrets += [token.access_token, s.refresh_token]
        shown = [repr(tokens), str(tokens), f"{tokens}", repr(token), str(token), repr(s), repr(client)]
    assert "c-100" in repr(s) and "closed" in repr(s)
    for text in shown:
        for secret in secrets:
            assert secret and secret not in text, text
    assert "redacted" in repr(tokens) and "redacted" in repr(token)
    access, expires = token  # unpacks like a tuple
    assert access == token.access_token and expires == token.expires_at
