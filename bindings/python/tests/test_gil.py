"""Blocking calls release the GIL.

A worker thread makes a call that the mock delays by 1 s; meanwhile the main thread runs
a pure-Python counting loop and records the longest gap between two of its progress
samples. If the call held the GIL, the loop could not run while the worker is inside C:
the longest gap would be about the whole second. The same measurement around the same C
function loaded with ``ctypes.PyDLL`` (which keeps the GIL during calls) shows that gap,
so the measurement can tell the two apart.
"""

from __future__ import annotations

import ctypes
import threading
import time
from typing import Callable, Tuple

import alfaview_auth
from alfaview_auth import Client, Session, _ffi

from conftest import Mock

DELAY_S = 1.0


def count_while(call: Callable[[], object]) -> Tuple[float, float, int]:
    """Runs ``call`` in a thread while counting here: (how long the call took, the
    longest stretch in which this thread made no progress, iterations counted while
    the call ran)."""
    done = threading.Event()
    took = [0.0]
    failure = []

    def worker() -> None:
        started = time.perf_counter()
        try:
            call()
        except BaseException as e:  # noqa: BLE001
            failure.append(e)
        took[0] = time.perf_counter() - started
        done.set()

    thread = threading.Thread(target=worker)
    count = 0
    longest_gap = 0.0
    # Measured from before the worker starts to after it is done, so a stall anywhere
    # (even inside thread.start(), which waits for the GIL too) is seen.
    last = time.perf_counter()
    thread.start()
    while not done.is_set():
        count += 1
        if count % 200 == 0:
            now = time.perf_counter()
            longest_gap = max(longest_gap, now - last)
            last = now
    longest_gap = max(longest_gap, time.perf_counter() - last)
    thread.join()
    assert not failure, failure
    return took[0], longest_gap, count


def test_client_call_releases_the_gil(client: Client, mock: Mock) -> None:
    token = client.login_password("alice", "wonderland").access_token
    mock.fault("delay", delayMs=int(DELAY_S * 1000), path="roomService")
    took, gap, count = count_while(lambda: client.call("roomService/create", access_token=token))
    assert took >= DELAY_S * 0.9, "the mock's delay did not apply"
    assert gap < 0.5, f"the counting thread stalled for {gap:.3f} s: the GIL was held"
    assert count > 10_000


def test_session_refresh_releases_the_gil(client: Client, mock: Mock) -> None:
    mock.fault("delay", delayMs=int(DELAY_S * 1000), path="authenticate")
    with Session("c-100", mock.mint(), client) as s:
        took, gap, _ = count_while(s.access_token)
    assert took >= DELAY_S * 0.9 and gap < 0.5, (took, gap)


def test_the_measurement_detects_a_held_gil(client: Client, mock: Mock) -> None:
    # Control: the same function through PyDLL, which does not release the GIL.
    token = client.login_password("alice", "wonderland").access_token
    holding = ctypes.PyDLL(alfaview_auth.library_path).av_client_call
    decl = _ffi.declarations()["av_client_call"]
    holding.restype, holding.argtypes = decl.restype, list(decl.argtypes)
    out = ctypes.c_void_p()

    def call() -> None:
        status = holding(client._ptr, token.encode(), b"roomService/create", None, ctypes.byref(out))
        assert status == 0
        _ffi.take_string(out)

    mock.fault("delay", delayMs=int(DELAY_S * 1000), path="roomService")
    took, gap, _ = count_while(call)
    assert took >= DELAY_S * 0.9
    assert gap >= DELAY_S * 0.8, f"with the GIL held the loop still ran (gap {gap:.3f} s)"
