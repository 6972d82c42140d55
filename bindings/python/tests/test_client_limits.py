"""Client(max_retries=..., max_reply_bytes=...): retries of transient failures and the
limit on call replies."""

from __future__ import annotations

import pytest

import alfaview_auth
from alfaview_auth import Client, HttpError, InvalidArgumentError, ProtocolError, Session

from conftest import Mock


def test_a_503_is_retried_by_default(client: Client, mock: Mock) -> None:
    mock.fault("status", status=503, count=1, path="authenticate")
    tokens = client.login_password("alice", "wonderland")
    assert tokens.company_id == "c-100"
    assert mock.stats()["authenticate"] == 2


@pytest.mark.parametrize("retries", [1, 2, 5])
def test_max_retries_retries_a_transient_failure(mock: Mock, retries: int) -> None:
    mock.fault("status", status=503, count=1)
    with Client(base_url=mock.url, timeout=10, max_retries=retries) as c:
        c.login_password("alice", "wonderland")
    assert mock.stats()["authenticate"] == 2


def test_retries_are_limited(mock: Mock) -> None:
    mock.fault("status", status=502, count=3)
    with Client(base_url=mock.url, timeout=10, max_retries=1) as c:
        with pytest.raises(HttpError) as e:
            c.login_password("alice", "wonderland")
    assert e.value.http_status == 502
    assert mock.stats()["authenticate"] == 2  # the first try and one retry


def test_max_retries_zero_turns_retries_off(mock: Mock) -> None:
    mock.fault("status", status=503, count=1)
    with Client(base_url=mock.url, timeout=10, max_retries=0) as c:
        with pytest.raises(HttpError) as e:
            c.login_password("alice", "wonderland")
        assert e.value.http_status == 503
        assert mock.stats()["authenticate"] == 1
        c.login_password("alice", "wonderland")  # the fault is used up


def test_max_reply_bytes(mock: Mock) -> None:
    body = {"room": {"name": "x" * 500}}
    with Client(base_url=mock.url, timeout=10, max_reply_bytes=200) as c:
        token = c.login_password("alice", "wonderland").access_token  # not limited
        with pytest.raises(ProtocolError):
            c.call("roomService/create", body, access_token=token)
        assert c.call("authenticationService/isAuthenticated", access_token=token)  # small
        with Session.from_tokens(c.login_password("alice", "wonderland"), c) as s:
            with pytest.raises(ProtocolError):
                s.call("roomService/create", body)
    with Client(base_url=mock.url, timeout=10, max_reply_bytes=16 << 20) as c:
        token = c.login_password("alice", "wonderland").access_token
        assert c.call("roomService/create", body, access_token=token)["request"] == body


def test_the_default_limit_is_16_mib(client: Client, mock: Mock) -> None:
    token = client.login_password("alice", "wonderland").access_token
    mock.fault("oversized", sizeBytes=(16 << 20) + 1, count=1)
    with pytest.raises(ProtocolError):
        client.call("roomService/create", access_token=token)


def test_bad_values(mock: Mock) -> None:
    for kwargs, argument in (
        ({"max_retries": -1}, "max_retries"),
        ({"max_retries": 2**32}, "max_retries"),
        ({"max_reply_bytes": 0}, "max_reply_bytes"),
        ({"max_reply_bytes": -5}, "max_reply_bytes"),
        ({"max_reply_bytes": 2**64}, "max_reply_bytes"),
    ):
        with pytest.raises(InvalidArgumentError) as e:
            Client(base_url=mock.url, **kwargs)
        assert e.value.argument == argument, kwargs
    for kwargs in ({"max_retries": True}, {"max_retries": 1.5}, {"max_reply_bytes": "100"}):
        with pytest.raises(TypeError):
            Client(base_url=mock.url, **kwargs)
    with Client(base_url=mock.url, max_retries=2**32 - 1, max_reply_bytes=1) as c:
        assert not c.closed
    with alfaview_auth.Client(max_retries=0, max_reply_bytes=1 << 20) as c:  # the rest from the environment
        assert isinstance(c, Client)
