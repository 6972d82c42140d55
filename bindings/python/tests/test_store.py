"""The token store: the library's (file store via ALFAVIEW_TOKEN_STORE=file:<dir>),
Session.from_store, and an application's PairStore with Session.with_store."""

from __future__ import annotations

import gc
import logging
import os
import stat
import threading
import time
from pathlib import Path
from typing import Any, List, Optional

import pytest

import alfaview_auth
from alfaview_auth import (
    Client,
    InvalidArgumentError,
    NotFoundError,
    PairStore,
    Session,
    StorageError,
    StoredPair,
    store,
)

from conftest import Mock, run_with_timeout

# Tokens living 2 s are renewed half-way: after 1 s.
ROTATING = {"rotate": True, "tokenLifetimeS": 2}


@pytest.fixture
def file_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """ALFAVIEW_TOKEN_STORE=file:<tmp>, set in os.environ (which calls setenv, so the
    library sees it: it reads the variable at every store call)."""
    directory = tmp_path / "store"
    monkeypatch.setenv("ALFAVIEW_TOKEN_STORE", f"file:{directory}")
    assert os.environ["ALFAVIEW_TOKEN_STORE"] == f"file:{directory}"
    return directory


def valid_tokens(mock: Mock) -> List[str]:
    return [t["token"] for t in mock.tokens() if t["valid"]]


# ---- StoredPair --------------------------------------------------------------------------


def test_stored_pair_hides_the_token() -> None:
    pair = StoredPair("c-100", "very-secret-token")
    assert "very-secret-token" not in repr(pair) and "very-secret-token" not in str(pair)
    assert repr(pair) == "StoredPair(company_id='c-100', refresh_token=<redacted>)"
    assert pair == StoredPair("c-100", "very-secret-token")
    with pytest.raises(AttributeError):
        pair.refresh_token = "x"  # type: ignore[misc]
    with pytest.raises(TypeError):
        StoredPair("c-100", None)  # type: ignore[arg-type]


# ---- the library's store -----------------------------------------------------------------


def test_save_load_overwrite_delete(file_store: Path) -> None:
    store.save("com.example.tool", "c-100", "token-1")
    assert store.load("com.example.tool") == StoredPair("c-100", "token-1")
    files = list(file_store.iterdir())
    assert [f.name for f in files] == ["com.example.tool.json"]
    assert stat.S_IMODE(files[0].stat().st_mode) & 0o077 == 0  # the user's alone

    store.save("com.example.tool", "c-200", "token-2")  # overwrite
    assert store.load("com.example.tool") == StoredPair("c-200", "token-2")
    store.save("other-app", "c-300", "token-3")  # app ids are separate entries
    assert store.load("com.example.tool").refresh_token == "token-2"

    store.delete("com.example.tool")
    with pytest.raises(NotFoundError) as e:
        store.load("com.example.tool")
    assert e.value.status == alfaview_auth.Status.NOT_FOUND
    assert "com.example.tool" in e.value.message
    store.delete("com.example.tool")  # again: not an error
    assert store.load("other-app") == StoredPair("c-300", "token-3")


def test_the_variable_is_read_at_every_call(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALFAVIEW_TOKEN_STORE", f"file:{tmp_path / 'a'}")
    store.save("app", "c-100", "in-a")
    monkeypatch.setenv("ALFAVIEW_TOKEN_STORE", f"file:{tmp_path / 'b'}")
    with pytest.raises(NotFoundError):
        store.load("app")
    store.save("app", "c-100", "in-b")
    monkeypatch.setenv("ALFAVIEW_TOKEN_STORE", f"file:{tmp_path / 'a'}")
    assert store.load("app").refresh_token == "in-a"


def test_not_found(file_store: Path) -> None:
    with pytest.raises(NotFoundError):
        store.load("never-saved")
    with pytest.raises(NotFoundError):
        Session.from_store("never-saved")


@pytest.mark.parametrize("app_id", ["", "../escape", ".hidden", "a/b", "a b", "é", "x" * 65])
def test_invalid_app_id(file_store: Path, app_id: str) -> None:
    for call in (
        lambda: store.save(app_id, "c-100", "t"),
        lambda: store.load(app_id),
        lambda: store.delete(app_id),
        lambda: Session.from_store(app_id),
    ):
        with pytest.raises(InvalidArgumentError) as e:
            call()
        assert e.value.argument == "app_id"
    assert not file_store.exists() or not any(file_store.iterdir())


def test_nul_and_types_are_refused_before_c(file_store: Path) -> None:
    with pytest.raises(InvalidArgumentError) as e:
        store.save("app", "c-100", "tok\x00en")
    assert e.value.argument == "refresh_token"
    with pytest.raises(InvalidArgumentError):
        store.load("app\x00")
    with pytest.raises(TypeError):
        store.save("app", "c-100", b"token")  # type: ignore[arg-type]


def test_invalid_pair_is_refused(file_store: Path) -> None:
    with pytest.raises(InvalidArgumentError) as e:
        store.save("app", "", "token")
    assert e.value.argument == "company_id"
    with pytest.raises(NotFoundError):
        store.load("app")


def test_bad_store_choice(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALFAVIEW_TOKEN_STORE", "keychain")
    with pytest.raises(InvalidArgumentError) as e:
        store.load("app")
    assert "ALFAVIEW_TOKEN_STORE" in e.value.message


def test_corrupt_entry_is_a_storage_error(file_store: Path) -> None:
    store.save("app", "c-100", "token")
    (file_store / "app.json").write_text("{ not json")
    with pytest.raises(StorageError) as e:
        store.load("app")
    assert "corrupt" in e.value.message


def test_session_from_store_saves_each_rotation(client: Client, mock: Mock, file_store: Path) -> None:
    mock.config(**ROTATING)
    original = mock.mint("c-100")
    store.save("rotating-app", "c-100", original)
    with Session.from_store("rotating-app", client) as session:
        assert session.company_id == "c-100"
        assert repr(session) == "Session(company_id='c-100')"
        rotations: List[str] = []
        session.on_refresh_token(lambda _company, token: rotations.append(token))
        seen = set()
        for round_ in range(3):
            if round_:
                time.sleep(1.2)  # past the half-life: the next call renews
            run_with_timeout(session.access_token)  # a renewal: rotated and saved
            stored = store.load("rotating-app")
            assert stored == StoredPair("c-100", session.refresh_token)
            assert stored.refresh_token not in seen and stored.refresh_token != original
            seen.add(stored.refresh_token)
            assert valid_tokens(mock) == [stored.refresh_token]
        assert len(rotations) == 3 and rotations[-1] == session.refresh_token
        assert mock.stats()["refreshFailures"] == 0


def test_from_store_adopts_a_token_rotated_by_another_process(
    client: Client, mock: Mock, file_store: Path
) -> None:
    mock.config(rotate=True)
    store.save("shared-app", "c-100", mock.mint())
    with Session.from_store("shared-app", client) as a, Session.from_store("shared-app", client) as b:
        a.access_token()  # rotates, and saves the new token
        b.access_token()  # must read it from the store instead of using the revoked one
        assert mock.stats()["refreshFailures"] == 0
        assert a.refresh_token != b.refresh_token  # b rotated again
        assert store.load("shared-app").refresh_token == b.refresh_token
        mock.expire()
        a.call("authenticationService/isAuthenticated")  # a renews with b's token
        assert mock.stats()["refreshFailures"] == 0
        assert store.load("shared-app").refresh_token == a.refresh_token
        assert valid_tokens(mock) == [a.refresh_token]


# ---- an application's store --------------------------------------------------------------


class MemoryStore(PairStore):
    """A PairStore in memory that counts and checks its calls."""

    def __init__(self, pair: Optional[StoredPair]) -> None:
        self.pair = pair
        self.loads = self.saves = self.locks = self.unlocks = 0
        self.saved: List[StoredPair] = []
        self.held = False
        self.lock_timeouts: List[float] = []
        self.threads: List[int] = []

    def load(self) -> Optional[StoredPair]:
        self.loads += 1
        return self.pair

    def save(self, pair: StoredPair) -> None:
        assert self.held, "save() outside the lock"
        self.saves += 1
        self.saved.append(pair)
        self.pair = pair

    def lock(self, timeout: float) -> bool:
        assert not self.held, "lock() while locked"
        self.locks += 1
        self.lock_timeouts.append(timeout)
        self.threads.append(threading.get_ident())
        self.held = True
        return True

    def unlock(self) -> None:
        assert self.held, "unlock() without lock()"
        assert self.threads[-1] == threading.get_ident()
        self.unlocks += 1
        self.held = False


def test_with_store_rotation(client: Client, mock: Mock) -> None:
    mock.config(**ROTATING)
    original = mock.mint("c-100")
    mem = MemoryStore(StoredPair("c-100", original))
    rotations: List[str] = []
    with Session.with_store(mem, client) as session:
        assert session.company_id == "c-100"
        assert mem.loads == 1 and mem.locks == 0  # loaded now; nothing sent yet
        assert mock.stats()["requests"] == 0
        session.on_refresh_token(lambda _company, token: rotations.append(token))
        for round_ in range(1, 4):
            if round_ > 1:
                time.sleep(1.2)  # past the half-life: the next call renews
            run_with_timeout(session.access_token)
            assert mem.pair == StoredPair("c-100", session.refresh_token)
            assert mem.saves == len(rotations) == mock.stats()["refreshes"] == round_
            assert mem.locks == mem.unlocks == round_ and not mem.held
            assert mem.loads == 1 + round_  # re-read under the lock at each renewal
            for _ in range(5):
                session.access_token()  # cached: no store call
            assert mem.locks == round_
        assert [p.refresh_token for p in mem.saved] == rotations
        assert valid_tokens(mock) == [rotations[-1]]
        # The lock waits about as long as a request may take (10 s client timeout).
        assert all(10 <= t <= 60 for t in mem.lock_timeouts), mem.lock_timeouts
    assert mock.stats()["refreshFailures"] == 0


def test_with_store_without_rotation_saves_nothing(client: Client, mock: Mock) -> None:
    mem = MemoryStore(StoredPair("c-100", mock.mint()))
    with Session.with_store(mem, client) as session:
        session.access_token()
        mock.expire()
        session.call("authenticationService/isAuthenticated")
    assert mem.saves == 0 and mem.locks == mem.unlocks == 2


def test_a_store_without_lock(client: Client, mock: Mock) -> None:
    mock.config(rotate=True)

    class Plain(PairStore):
        def __init__(self, pair: StoredPair) -> None:
            self.pair = pair

        def load(self) -> Optional[StoredPair]:
            return self.pair

        def save(self, pair: StoredPair) -> None:
            self.pair = pair

    plain = Plain(StoredPair("c-100", mock.mint()))
    with Session.with_store(plain, client) as session:
        session.access_token()
        assert plain.pair.refresh_token == session.refresh_token


def test_a_duck_typed_store(client: Client, mock: Mock) -> None:
    class Duck:  # not a PairStore subclass: load and save are enough
        def __init__(self, pair: StoredPair) -> None:
            self.pair = pair

        def load(self) -> Optional[StoredPair]:
            return self.pair

        def save(self, pair: StoredPair) -> None:
            self.pair = pair

    mock.config(rotate=True)
    duck = Duck(StoredPair("c-100", mock.mint()))
    with Session.with_store(duck, client) as session:  # type: ignore[arg-type]
        session.access_token()
        assert duck.pair.refresh_token == session.refresh_token


def test_empty_store_is_not_found(client: Client, mock: Mock) -> None:
    with pytest.raises(NotFoundError):
        Session.with_store(MemoryStore(None), client)


def test_store_keeps_its_callbacks_alive(client: Client, mock: Mock) -> None:
    mock.config(rotate=True)
    mem = MemoryStore(StoredPair("c-100", mock.mint()))
    session = Session.with_store(mem, client)
    del mem
    gc.collect()
    try:
        session.access_token()  # calls lock/load/save/unlock through the kept objects
        bridge = session._store_bridge
        assert bridge is not None and bridge.store.saves == 1
    finally:
        session.close()
    assert session._store_bridge is None  # dropped once the native session is freed


def test_save_that_raises_is_a_storage_error(
    client: Client, mock: Mock, caplog: pytest.LogCaptureFixture
) -> None:
    mock.config(rotate=True)

    class Failing(MemoryStore):
        broken = True

        def save(self, pair: StoredPair) -> None:
            if self.broken:
                raise ConnectionError("the database is down")
            super().save(pair)

    failing = Failing(StoredPair("c-100", mock.mint()))
    with Session.with_store(failing, client) as session:
        with caplog.at_level(logging.ERROR, logger="alfaview_auth"):
            with pytest.raises(StorageError) as e:
                session.access_token()
        assert "save" in e.value.message
        assert failing.locks == failing.unlocks == 1 and not failing.held
        records = [r for r in caplog.records if r.name == "alfaview_auth" and r.exc_info]
        assert records and "save()" in records[0].getMessage()
        assert "the database is down" in str(records[0].exc_info[1])
        # The rotated token is kept in memory; once the store works it is saved first.
        kept = session.refresh_token
        failing.broken = False
        mock.expire()
        session.call("authenticationService/isAuthenticated")
        assert failing.saved[0] == StoredPair("c-100", kept)
        assert failing.pair == StoredPair("c-100", session.refresh_token)
    assert mock.stats()["refreshFailures"] == 0


@pytest.mark.parametrize(
    "loaded",
    [
        StoredPair("c-100", "x" * 70000),  # does not fit the library's buffer
        StoredPair("c-100", "tok\x00en"),  # would be cut short at the NUL
        StoredPair("c\x00-100", "token"),
        ("c-100", "token"),  # not a StoredPair
    ],
    ids=["too-long", "nul-in-token", "nul-in-company", "tuple"],
)
def test_load_refuses_what_cannot_be_written_whole(
    client: Client, mock: Mock, caplog: pytest.LogCaptureFixture, loaded: Any
) -> None:
    class Bad(PairStore):
        def load(self) -> Any:
            return loaded

        def save(self, pair: StoredPair) -> None:
            raise AssertionError("not reached")

    with caplog.at_level(logging.ERROR, logger="alfaview_auth"):
        with pytest.raises(StorageError) as e:
            Session.with_store(Bad(), client)
    assert "load" in e.value.message
    assert any(r.exc_info and "load()" in r.getMessage() for r in caplog.records)
    assert "tok\x00en" not in caplog.text and "x" * 100 not in caplog.text


def test_load_that_raises(client: Client, mock: Mock) -> None:
    class Raising(PairStore):
        def load(self) -> Optional[StoredPair]:
            raise KeyError("boom")

        def save(self, pair: StoredPair) -> None:
            pass

    with pytest.raises(StorageError):
        Session.with_store(Raising(), client)


def test_largest_values_that_fit(client: Client, mock: Mock) -> None:
    # 64 KiB is the library's limit for a refresh token: it fits the buffer whole.
    mem = MemoryStore(StoredPair("c-100", "t" * 65536))
    with Session.with_store(mem, client) as session:
        assert session.refresh_token == "t" * 65536


def test_lock_not_had_and_lock_that_raises(client: Client, mock: Mock) -> None:
    class Busy(MemoryStore):
        def lock(self, timeout: float) -> bool:
            self.locks += 1
            return False

    busy = Busy(StoredPair("c-100", mock.mint()))
    with Session.with_store(busy, client) as session:
        with pytest.raises(StorageError) as e:
            session.access_token()
        assert "lock" in e.value.message and "TIMEOUT" in e.value.message
    assert busy.locks == 1 and busy.unlocks == 0 and mock.stats()["requests"] == 0

    class Raising(MemoryStore):
        def lock(self, timeout: float) -> bool:
            raise RuntimeError("no lock for you")

    raising = Raising(StoredPair("c-100", mock.mint()))
    with Session.with_store(raising, client) as session:
        with pytest.raises(StorageError):
            session.access_token()
    assert raising.unlocks == 0


def test_unlock_that_raises_is_logged_only(
    client: Client, mock: Mock, caplog: pytest.LogCaptureFixture
) -> None:
    class BadUnlock(MemoryStore):
        def unlock(self) -> None:
            super().unlock()
            raise RuntimeError("unlock failed")

    bad = BadUnlock(StoredPair("c-100", mock.mint()))
    with caplog.at_level(logging.ERROR, logger="alfaview_auth"):
        with Session.with_store(bad, client) as session:
            assert session.access_token()
    assert bad.unlocks == 1
    assert any("unlock()" in r.getMessage() for r in caplog.records)


def test_lock_without_unlock_is_refused(client: Client, mock: Mock) -> None:
    class Half(PairStore):
        def load(self) -> Optional[StoredPair]:
            return StoredPair("c-100", "t")

        def save(self, pair: StoredPair) -> None:
            pass

        def lock(self, timeout: float) -> bool:
            return True

    with pytest.raises(TypeError, match="unlock"):
        Session.with_store(Half(), client)
    with pytest.raises(TypeError):
        Session.with_store(object(), client)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        PairStore()  # type: ignore[abstract]


def test_store_callbacks_may_use_other_threads(client: Client, mock: Mock) -> None:
    # The session is renewed from several threads at once: one renewal, one lock.
    mock.config(rotate=True)
    mem = MemoryStore(StoredPair("c-100", mock.mint()))
    with Session.with_store(mem, client) as session:
        mock.config(fault={"kind": "delay", "delayMs": 300, "count": 1})
        results: List[str] = []
        threads = [threading.Thread(target=lambda: results.append(session.access_token())) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(20)
        assert len(results) == 8 and len(set(results)) == 1
        assert mem.locks == mem.unlocks == mem.saves == 1
