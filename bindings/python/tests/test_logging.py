"""The library's log reaches the `logging` module (logger "alfaview_auth") and never
contains a token."""

from __future__ import annotations

import logging
import threading

import pytest

import alfaview_auth
from alfaview_auth import Client, Session

from conftest import Mock


def test_log_messages_reach_logging_without_secrets(
    client: Client, mock: Mock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(alfaview_auth.TRACE, logger="alfaview_auth")
    mock.config(rotate=True)
    tokens = client.login_password("alice", "wonderland")
    assert tokens.refresh_token is not None
    secrets = {"wonderland", tokens.access_token, tokens.refresh_token}
    with Session.from_tokens(tokens, client) as s:
        s.on_refresh_token(lambda company, token: secrets.add(token))
        secrets.add(s.access_token())  # renew (debug) + rotation (info)
        mock.expire()
        s.call("roomService/create")  # TOKEN_OUTDATED: retry (info)
        secrets.add(s.access_token())
        secrets.add(s.refresh_token)
        # from another thread too
        t = threading.Thread(target=lambda: (mock.expire(), s.call("userService/get")))
        t.start()
        t.join(timeout=20)
        secrets.add(s.refresh_token)

    records = [r for r in caplog.records if r.name == "alfaview_auth"]
    levels = {r.levelno for r in records}
    messages = [r.getMessage() for r in records]
    assert logging.DEBUG in levels and logging.INFO in levels, messages
    assert any("renewing the access token" in m for m in messages)
    assert any("rotated" in m for m in messages)
    assert any("retrying" in m for m in messages)
    assert len(secrets) >= 6
    for message in messages:
        for secret in secrets:
            assert secret not in message, message


def test_logger_level_filters(client: Client, mock: Mock, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="alfaview_auth")
    with Session("c-100", mock.mint(), client) as s:
        s.access_token()
    assert not [r for r in caplog.records if r.name == "alfaview_auth"]


def test_disable_and_enable(client: Client, mock: Mock, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="alfaview_auth")
    try:
        alfaview_auth.disable_logging()
        with Session("c-100", mock.mint(), client) as s:
            s.access_token()
        assert not [r for r in caplog.records if r.name == "alfaview_auth"]
    finally:
        alfaview_auth.enable_logging()
    with Session("c-100", mock.mint(), client) as s:
        s.access_token()
    assert [r for r in caplog.records if r.name == "alfaview_auth"]


def test_enable_logging_sets_the_level() -> None:
    logger = logging.getLogger("alfaview_auth")
    before = logger.level
    try:
        alfaview_auth.enable_logging(logging.INFO)
        assert logger.level == logging.INFO
    finally:
        logger.setLevel(before)
        alfaview_auth.enable_logging()
