"""Native handles: idempotent close, context managers, use after close, closing while
another thread is inside a call, garbage collection."""

from __future__ import annotations

import gc
import threading
import time
import weakref
from typing import Dict, List

import pytest

import alfaview_auth
from alfaview_auth import Client, Session

from conftest import Mock


def test_close_is_idempotent_and_later_use_fails(mock: Mock) -> None:
    c = Client(base_url=mock.url)
    assert not c.closed
    c.close()
    c.close()
    assert c.closed
    with pytest.raises(alfaview_auth.InvalidArgumentError, match="closed"):
        c.login_password("alice", "wonderland")
    with pytest.raises(alfaview_auth.InvalidArgumentError, match="closed"):
        Session("c-100", "token", c)

    s = Session("c-100", mock.mint(), Client(base_url=mock.url))
    s.close()
    s.close()
    for use in (s.access_token, lambda: s.refresh_token, lambda: s.call("a/b"), lambda: s.set_refresh_margin(1)):
        with pytest.raises(alfaview_auth.InvalidArgumentError):
            use()


def test_context_managers(mock: Mock) -> None:
    with Client(base_url=mock.url) as c:
        with Session("c-100", mock.mint(), c) as s:
            assert s.access_token()
        assert s.closed and not c.closed
    assert c.closed


def test_close_while_another_thread_is_inside_a_call(client: Client, mock: Mock) -> None:
    # The C library forbids freeing a session another thread is using; the binding
    # defers the free until that call has returned.
    s = Session("c-100", mock.mint(), client)
    mock.fault("delay", delayMs=700, path="authenticate")
    result: Dict[str, object] = {}

    def worker() -> None:
        try:
            result["token"] = s.access_token()
        except BaseException as e:  # noqa: BLE001
            result["error"] = e

    t = threading.Thread(target=worker)
    t.start()
    deadline = time.monotonic() + 5
    while mock.stats()["authenticate"] == 0 and time.monotonic() < deadline:
        time.sleep(0.02)  # until the worker's request is at the mock
    s.close()
    assert s.closed
    t.join(timeout=10)
    assert "token" in result, result
    with pytest.raises(alfaview_auth.InvalidArgumentError):
        s.access_token()


def test_closing_the_session_inside_its_callback(client: Client, mock: Mock) -> None:
    # The header forbids freeing a session from inside its callback; from Python it is
    # safe: the free waits until the call that ran the callback has returned.
    mock.config(rotate=True)
    s = Session("c-100", mock.mint(), client)
    s.on_refresh_token(lambda company, token: s.close())
    assert s.access_token()
    assert s.closed
    with pytest.raises(alfaview_auth.InvalidArgumentError):
        s.access_token()


def test_unreferenced_objects_are_freed(mock: Mock) -> None:
    c = Client(base_url=mock.url)
    s = Session("c-100", mock.mint(), c)
    s.on_refresh_token(lambda company, token: None)
    refs: List["weakref.ref[object]"] = [weakref.ref(c), weakref.ref(s)]
    gc.disable()  # freed by reference counting alone: no cycle keeps them alive
    try:
        del c, s
        assert all(r() is None for r in refs)
    finally:
        gc.enable()
