"""Shared fixtures: the mock alfaview server (configured over HTTP with urllib) and a
client pointed at it.

The mock's URL comes from ``ALFAVIEW_MOCK_URL`` (``scripts/with-mock.sh`` sets it); when
it is unset, the mock binary of the repository (``target/debug/alfaview-mock``) is
started for the session. ``ALFAVIEW_API_URL`` is set to the mock before any test runs,
so the process-wide default client (one-shot refresh, sessions without a client) uses it
whenever it is first created.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, Optional, TypeVar

import pytest

ROOT = Path(__file__).resolve().parents[3]
LIB = ROOT / "target" / "debug" / "libalfaview_auth.so"
MOCK_BIN = ROOT / "target" / "debug" / "alfaview-mock"

# Before the package is imported anywhere: a plain `pytest` in a checkout finds the
# freshly built library.
if not os.environ.get("ALFAVIEW_AUTH_LIBRARY") and LIB.exists():
    os.environ["ALFAVIEW_AUTH_LIBRARY"] = str(LIB)

# Not installed (a plain `pytest` in a checkout): test the source tree.
if os.environ.get("ALFAVIEW_EXPECT_INSTALLED") != "1":
    import importlib.util

    if importlib.util.find_spec("alfaview_auth") is None:
        sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

T = TypeVar("T")

_started_mock: Optional[subprocess.Popen] = None


def pytest_configure(config: pytest.Config) -> None:
    global _started_mock
    url = os.environ.get("ALFAVIEW_MOCK_URL")
    if not url:
        if not MOCK_BIN.exists():
            raise pytest.UsageError(
                f"ALFAVIEW_MOCK_URL is not set and {MOCK_BIN} is missing: run the tests with "
                "scripts/with-mock.sh, or build the mock (cargo build -p alfaview-mock)"
            )
        _started_mock = subprocess.Popen(
            [str(MOCK_BIN), "--port", "0"], stdout=subprocess.PIPE, text=True
        )
        assert _started_mock.stdout is not None
        url = _started_mock.stdout.readline().strip()
        if not url:
            raise pytest.UsageError(f"{MOCK_BIN} did not start")
        os.environ["ALFAVIEW_MOCK_URL"] = url
    # The default client reads this when it is first created (at its first use).
    os.environ["ALFAVIEW_API_URL"] = url


def pytest_unconfigure(config: pytest.Config) -> None:
    if _started_mock is not None:
        _started_mock.terminate()
        _started_mock.wait(timeout=10)


class Mock:
    """The mock server's control endpoints (``/_mock/...``)."""

    def __init__(self, url: str) -> None:
        self.url = url  # the API base URL, .../json/v1/
        self.control = url.split("/json/v1/")[0] + "/_mock/"
        # No proxies from the environment for loopback control requests.
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    def _request(self, method: str, path: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.control + path, data=data, method=method)
        request.add_header("Content-Type", "application/json")
        try:
            with self._opener.open(request, timeout=10) as reply:
                return json.loads(reply.read() or b"null")
        except urllib.error.HTTPError as e:
            raise AssertionError(f"mock {method} {path}: {e.code} {e.read()!r}") from None

    def reset(self) -> None:
        self._request("POST", "reset", {})

    def config(self, **patch: Any) -> Dict[str, Any]:
        return self._request("POST", "config", patch)

    def fault(self, kind: str, **params: Any) -> None:
        self.config(fault={"kind": kind, **params})

    def stats(self) -> Dict[str, int]:
        return self._request("GET", "stats")

    def last(self) -> Dict[str, Any]:
        return self._request("GET", "last")

    def mint(self, company_id: str = "c-100") -> str:
        return self._request("POST", "mint", {"companyId": company_id})["refreshToken"]

    def expire(self) -> int:
        return self._request("POST", "expire")["expired"]

    def tokens(self) -> Any:
        return self._request("GET", "tokens")["refreshTokens"]


@pytest.fixture(scope="session")
def mock_url() -> str:
    return os.environ["ALFAVIEW_MOCK_URL"]


@pytest.fixture
def mock(mock_url: str) -> Iterator[Mock]:
    m = Mock(mock_url)
    m.reset()
    yield m
    m.reset()


@pytest.fixture
def client(mock: Mock) -> Iterator[Any]:
    import alfaview_auth

    with alfaview_auth.Client(base_url=mock.url, timeout=10) as c:
        yield c


def run_with_timeout(fn: Callable[[], T], timeout: float = 20.0) -> T:
    """``fn()`` in a thread; fails the test (instead of hanging the suite) if it takes
    longer than ``timeout``."""
    result: Dict[str, Any] = {}

    def target() -> None:
        try:
            result["value"] = fn()
        except BaseException as e:  # noqa: BLE001 - re-raised below
            result["error"] = e

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        pytest.fail(f"did not finish within {timeout} s (deadlock?)")
    if "error" in result:
        raise result["error"]
    return result["value"]


def python_subprocess(code: str, env: Dict[str, str], cwd: Optional[str] = None) -> subprocess.CompletedProcess:
    """Runs ``code`` with this interpreter in a fresh process (which imports the same
    copy of the package unless ``env`` sets PYTHONPATH)."""
    if os.environ.get("ALFAVIEW_EXPECT_INSTALLED") != "1" and "PYTHONPATH" not in env:
        import alfaview_auth

        env = {**env, "PYTHONPATH": str(Path(alfaview_auth.__file__).resolve().parents[1])}
    return subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
    )
