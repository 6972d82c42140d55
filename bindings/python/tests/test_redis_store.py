"""examples/redis_store.py against a real redis-server, started by this module on a free
loopback port: the lock, and several processes sharing one pair in Redis while the mock
rotates the refresh token at every renewal.

Needs Debian's redis-server and redis-py (test.sh installs both). Without redis-server
the module is skipped, saying how to install it, unless ALFAVIEW_REQUIRE_REDIS=1 (set by
test.sh once it has made sure redis-server is there): then a missing one fails.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Dict, Iterator, List

import pytest

import alfaview_auth
from alfaview_auth import Client, Session, StoredPair

from conftest import Mock

HERE = Path(__file__).resolve().parent
EXAMPLES = HERE.parent / "examples"
INSTALL_HINT = "sudo apt-get update && sudo apt-get install -y redis-server"
REQUIRED = os.environ.get("ALFAVIEW_REQUIRE_REDIS") == "1"


def _missing(why: str) -> None:
    if REQUIRED:
        pytest.fail(f"{why} (ALFAVIEW_REQUIRE_REDIS=1)")
    pytest.skip(why)


try:
    import redis
except ImportError:  # pragma: no cover - test.sh installs it
    redis = None

sys.path.insert(0, str(EXAMPLES))
if redis is not None:
    from redis_store import RedisPairStore


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A redis-server of its own, on a free loopback port, stopped at the end."""
    if redis is None:
        _missing("redis-py is not installed: pip install redis")
    server = shutil.which("redis-server")
    if server is None:
        _missing(f"redis-server is not installed; install it with: {INSTALL_HINT}")
    workdir = tmp_path_factory.mktemp("redis")
    problems: List[str] = []
    for _attempt in range(3):  # another process may take the port between probe and bind
        port = _free_port()
        log_path = workdir / f"redis-{port}.log"
        with open(log_path, "wb") as log:
            proc = subprocess.Popen(
                [server, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                 "--appendonly", "no", "--dir", str(workdir)],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        url = f"redis://127.0.0.1:{port}/0"
        client = redis.Redis.from_url(url, socket_timeout=1)
        deadline = time.monotonic() + 15
        up = False
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                up = bool(client.ping())
                break
            except redis.exceptions.ConnectionError:
                time.sleep(0.05)
        client.close()
        if up:
            try:
                yield url
            finally:
                proc.terminate()
                try:
                    proc.wait(10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(10)
            return
        if proc.poll() is None:
            proc.kill()
        proc.wait(10)
        problems.append(f"port {port}: {log_path.read_text(errors='replace')[-500:]}")
    pytest.fail("redis-server did not answer PING:\n" + "\n".join(problems))


@pytest.fixture
def r(redis_url: str) -> Iterator[Any]:
    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    yield client
    client.flushdb()
    client.close()


def subprocess_env() -> Dict[str, str]:
    """The environment for a child that imports the same copy of alfaview_auth."""
    env = dict(os.environ)
    if os.environ.get("ALFAVIEW_EXPECT_INSTALLED") != "1":
        source = str(Path(alfaview_auth.__file__).resolve().parents[1])
        env["PYTHONPATH"] = os.pathsep.join(p for p in (source, env.get("PYTHONPATH")) if p)
    return env


# ---- the store ---------------------------------------------------------------------------


def test_round_trip_as_json(r: Any) -> None:
    store = RedisPairStore(r, "alfaview:pair:t1")
    assert store.load() is None
    store.save(StoredPair("c-100", "token-1"))
    assert json.loads(r.get("alfaview:pair:t1")) == {"companyId": "c-100", "refreshToken": "token-1"}
    assert store.load() == StoredPair("c-100", "token-1")
    assert "token-1" not in repr(store)
    store.delete()
    assert store.load() is None


def test_the_lock_is_exclusive_and_times_out(r: Any) -> None:
    a = RedisPairStore(r, "alfaview:pair:t2")
    b = RedisPairStore(r, "alfaview:pair:t2")
    assert a.lock(1.0) is True
    assert 0 < r.pttl("alfaview:pair:t2:lock") <= 1000  # PX: dies with a crashed holder
    started = time.monotonic()
    assert b.lock(0.3) is False
    assert 0.25 <= time.monotonic() - started < 2
    a.unlock()
    assert r.get("alfaview:pair:t2:lock") is None
    assert b.lock(0.3) is True
    b.unlock()


def test_an_expired_lock_taken_by_another_is_never_released_by_us(r: Any) -> None:
    a = RedisPairStore(r, "alfaview:pair:t3", lock_ttl=0.2)
    b = RedisPairStore(r, "alfaview:pair:t3", lock_ttl=30)
    assert a.lock(5)
    time.sleep(0.3)  # a's lock expires
    assert b.lock(1)  # and b takes it
    theirs = r.get("alfaview:pair:t3:lock")
    a.unlock()  # late: must leave b's lock alone
    assert r.get("alfaview:pair:t3:lock") == theirs
    b.unlock()
    assert r.get("alfaview:pair:t3:lock") is None


def test_a_session_on_the_redis_store(r: Any, client: Client, mock: Mock) -> None:
    mock.config(rotate=True)
    store = RedisPairStore(r, "alfaview:pair:t4")
    store.save(StoredPair("c-100", mock.mint()))
    with Session.with_store(store, client) as session:
        assert session.company_id == "c-100"
        session.call("authenticationService/isAuthenticated")
        assert store.load() == StoredPair("c-100", session.refresh_token)
        assert r.get("alfaview:pair:t4:lock") is None


def test_processes_share_the_pair_in_redis(r: Any, redis_url: str, mock: Mock) -> None:
    """Four processes, two threads each, one pair in Redis; the mock rotates the refresh
    token at every renewal and access tokens live 2 s (renewed after 1 s), for ~7 s:
    every process renews several times, always with the newest token."""
    processes, threads, duration = 4, 2, 7.0
    mock.config(rotate=True, tokenLifetimeS=2)
    key = "alfaview:pair:shared"
    RedisPairStore(r, key).save(StoredPair("c-100", mock.mint()))
    start_at = time.time() + 2.0  # every process has started and made its session by then
    children = [
        subprocess.Popen(
            [sys.executable, str(HERE / "redis_worker.py"), redis_url, key, mock.url,
             str(start_at), str(duration), str(threads)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=subprocess_env(),
        )
        for _ in range(processes)
    ]
    results = []
    for child in children:
        try:
            out, err = child.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            for c in children:
                c.kill()
            pytest.fail("a worker process hung")
        assert child.returncode == 0, f"worker failed:\n{err}"
        results.append(json.loads(out.strip().splitlines()[-1]))

    for result in results:
        assert result["errors"] == [], result["errors"]
        assert result["warnings"] == [], result["warnings"]
        assert result["calls"] > 20
        assert result["rotations"] >= 3  # renewed over several expiries
        assert result["company_id"] == "c-100"
    stats = mock.stats()
    assert stats["refreshFailures"] == 0, stats
    assert stats["refreshes"] == sum(res["rotations"] for res in results)  # each rotated

    valid = [t for t in mock.tokens() if t["valid"]]
    assert len(valid) == 1, valid  # every older token was revoked by a rotation
    assert json.loads(r.get(key)) == {"companyId": "c-100", "refreshToken": valid[0]["token"]}
    assert valid[0]["token"] in {res["refresh_token"] for res in results}
    assert r.get(f"{key}:lock") is None  # every lock was released


def test_the_example_demo_runs(r: Any, redis_url: str, mock: Mock) -> None:
    mock.config(rotate=True)
    env = subprocess_env()
    env.update(ALFAVIEW_API_URL=mock.url, REDIS_URL=redis_url, REDIS_KEY="alfaview:pair:demo")
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / "redis_store.py")],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "roomService/create: OK" in done.stdout
    assert "(the session's: True)" in done.stdout
    stored = json.loads(r.get("alfaview:pair:demo"))
    assert [t["token"] for t in mock.tokens() if t["valid"]] == [stored["refreshToken"]]
    assert stored["refreshToken"] not in done.stdout + done.stderr  # hints only
