"""Keeping the pair (company id + refresh token) between runs.

Two ways:

* **The library's store** (:func:`save`, :func:`load`, :func:`delete`,
  :meth:`Session.from_store <alfaview_auth.Session.from_store>`): the operating system's
  protected store where there is one, else a file readable by the user alone.
  ``ALFAVIEW_TOKEN_STORE`` chooses explicitly: ``os``, ``file`` or ``file:<directory>``; it
  is read at every call. An app id is 1 to 64 characters (letters, digits, ``.``, ``_``,
  ``-``; starting with a letter or digit)::

      alfaview_auth.store.save("com.example.tool", tokens.company_id, tokens.refresh_token)
      with alfaview_auth.Session.from_store("com.example.tool", client) as session:
          ...   # every renewal re-reads the stored pair and saves a rotated token

* **Your own store** (:class:`PairStore`, :meth:`Session.with_store
  <alfaview_auth.Session.with_store>`): e.g. Redis or a database shared by several hosts.
  Implement :meth:`PairStore.load` and :meth:`PairStore.save`, and :meth:`PairStore.lock`
  / :meth:`PairStore.unlock` when several processes share the pair.
"""

from __future__ import annotations

import abc
from ctypes import byref, c_void_p, memmove
from dataclasses import dataclass, field
from typing import Any, Optional, Tuple

from . import _ffi
from ._errors import Status, c_str, check
from ._log import logger

__all__ = ["StoredPair", "PairStore", "save", "load", "delete"]

_REDACTED = "<redacted>"


@dataclass(frozen=True)
class StoredPair:
    """A company id and the refresh token issued for it. ``repr`` never shows the token."""

    company_id: str
    refresh_token: str = field(repr=False)

    def __post_init__(self) -> None:
        for name in ("company_id", "refresh_token"):
            value = getattr(self, name)
            if not isinstance(value, str):
                raise TypeError(f"StoredPair.{name} must be a str, not {type(value).__name__}")

    def __repr__(self) -> str:
        return f"StoredPair(company_id={self.company_id!r}, refresh_token={_REDACTED})"

    __str__ = __repr__


# ---- the library's store -----------------------------------------------------------------


def save(app_id: str, company_id: str, refresh_token: str) -> None:
    """Saves the pair for ``app_id`` (replacing what was stored), atomically: a crash
    leaves the old pair or the new one. An invalid app id raises
    :class:`~alfaview_auth.InvalidArgumentError`; a failing store
    :class:`~alfaview_auth.StorageError`."""
    args = (
        c_str(app_id, "app_id"),
        c_str(company_id, "company_id"),
        c_str(refresh_token, "refresh_token"),
    )
    check(_ffi.require("av_store_save")(*args))


def load(app_id: str) -> StoredPair:
    """The pair stored for ``app_id``. Nothing stored raises
    :class:`~alfaview_auth.NotFoundError`; a failing store, a corrupt entry or a file other
    users can read raise :class:`~alfaview_auth.StorageError` (the message says which file
    and how to fix it)."""
    company, token = _load(app_id, with_token=True)
    return StoredPair(company, token)


def _load(app_id: str, *, with_token: bool) -> Tuple[str, str]:
    """``av_store_load``: the company id, and the token if ``with_token`` (else "": the
    library's copy is freed, and wiped, unread)."""
    name = c_str(app_id, "app_id")
    company = c_void_p()
    token = c_void_p()
    try:
        check(_ffi.require("av_store_load")(name, byref(company), byref(token)))
        return _ffi.take_string(company), _ffi.take_string(token) if with_token else ""
    finally:
        _ffi.free_string(company)
        _ffi.free_string(token)


def stored_company_id(app_id: str) -> str:
    """The company id stored for ``app_id`` (for ``Session.from_store``)."""
    return _load(app_id, with_token=False)[0]


def delete(app_id: str) -> None:
    """Deletes the pair stored for ``app_id``; deleting what is not there is no error."""
    check(_ffi.require("av_store_delete")(c_str(app_id, "app_id")))


# ---- an application's store ----------------------------------------------------------------


class PairStore(abc.ABC):
    """A store for one pair that the application provides, for
    :meth:`Session.with_store <alfaview_auth.Session.with_store>`.

    The session loads the pair when it is created. At each renewal it calls :meth:`lock`,
    :meth:`load` (another process may have rotated the token), refreshes, calls
    :meth:`save` if the server rotated the refresh token, then :meth:`unlock`. The methods
    run on whichever thread renews the token, never two at once for one session; a store
    shared by several sessions must be thread-safe.

    An exception raised by any method is logged (logger ``"alfaview_auth"``) and fails the
    session's operation with :class:`~alfaview_auth.StorageError`.
    """

    @abc.abstractmethod
    def load(self) -> Optional[StoredPair]:
        """The stored pair, or ``None`` if nothing is stored."""

    @abc.abstractmethod
    def save(self, pair: StoredPair) -> None:
        """Replaces the stored pair, atomically (a reader sees the old pair or the new one)."""

    def lock(self, timeout: float) -> bool:
        """Takes the pair's exclusive lock, shared by every process (and host) using the
        pair, waiting at most ``timeout`` seconds. Returns ``True`` once held, ``False``
        if it could not be had in time (or raises).

        Optional: override both :meth:`lock` and :meth:`unlock`, or neither (then no
        locking is done: fine for a store only one process uses)."""
        return True

    def unlock(self) -> None:
        """Releases the lock :meth:`lock` took (called on the same thread, once per
        successful :meth:`lock`)."""


def _overrides(store: Any, name: str) -> bool:
    """Whether ``store`` has its own ``name`` method (not :class:`PairStore`'s no-op)."""
    method = getattr(type(store), name, None)
    return method is not None and method is not getattr(PairStore, name)


def _c_bytes(size: int, value: Any, what: str) -> bytes:
    """``value`` as the NUL-terminated bytes to copy into one of the library's
    ``size``-byte buffers; refuses (ValueError) what would not fit whole or would be cut
    short at a NUL."""
    if not isinstance(value, str):
        raise TypeError(f"the {what} must be a str, not {type(value).__name__}")
    data = value.encode("utf-8")
    if b"\0" in data:
        raise ValueError(f"the {what} contains a NUL character")
    if len(data) + 1 > size:
        raise ValueError(f"the {what} is {len(data)} bytes long; at most {size - 1} fit")
    return data + b"\0"


class StoreBridge:
    """The four C callbacks of an ``av_store_callbacks`` for one :class:`PairStore`.

    Holds the ctypes function objects and the structure: whoever passes :attr:`callbacks`
    to the library keeps this object alive as long as the session. No exception escapes
    into C: each is logged and returned as ``AV_ERR_STORAGE``.
    """

    def __init__(self, store: Any) -> None:
        for name in ("load", "save"):
            if not callable(getattr(store, name, None)):
                raise TypeError(f"store must have a {name}() method (see alfaview_auth.PairStore)")
        has_lock, has_unlock = _overrides(store, "lock"), _overrides(store, "unlock")
        if has_lock != has_unlock:
            raise TypeError("store must implement both lock() and unlock(), or neither")
        self.store = store
        #: The company id of the last pair loaded (the session's company).
        self.company_id: Optional[str] = None
        self._load = _ffi.av_store_load_fn(self._on_load)
        self._save = _ffi.av_store_save_fn(self._on_save)
        if has_lock:
            self._lock = _ffi.av_store_lock_fn(self._on_lock)
            self._unlock = _ffi.av_store_unlock_fn(self._on_unlock)
        else:
            self._lock = _ffi.av_store_lock_fn()  # NULL: no locking
            self._unlock = _ffi.av_store_unlock_fn()
        self.callbacks = _ffi.av_store_callbacks(self._load, self._save, self._lock, self._unlock)

    def _failed(self, what: str) -> int:
        try:
            logger.exception(
                "the token store's %s() failed (%s); the session reports a storage error",
                what,
                type(self.store).__name__,
            )
        except BaseException:  # noqa: BLE001 - nothing may unwind into C
            pass
        return int(Status.STORAGE)

    def _on_load(
        self,
        _user_data: Optional[int],
        company_buf: Optional[int],
        company_size: int,
        token_buf: Optional[int],
        token_size: int,
    ) -> int:
        try:
            pair = self.store.load()
            if pair is None:
                return int(Status.NOT_FOUND)
            if not isinstance(pair, StoredPair):
                raise TypeError(
                    f"load() must return a StoredPair or None, not {type(pair).__name__}"
                )
            if not company_buf or not token_buf:
                raise ValueError("the library passed no buffer to load into")
            # Both checked before either buffer is written.
            company = _c_bytes(company_size, pair.company_id, "company id")
            token = _c_bytes(token_size, pair.refresh_token, "refresh token")
            memmove(company_buf, company, len(company))
            memmove(token_buf, token, len(token))
            self.company_id = pair.company_id
            return int(Status.OK)
        except BaseException:  # noqa: BLE001 - nothing may unwind into C
            return self._failed("load")

    def _on_save(
        self, _user_data: Optional[int], company_id: Optional[bytes], token: Optional[bytes]
    ) -> int:
        try:
            pair = StoredPair(
                (company_id or b"").decode("utf-8"), (token or b"").decode("utf-8")
            )
            self.store.save(pair)
            return int(Status.OK)
        except BaseException:  # noqa: BLE001
            return self._failed("save")

    def _on_lock(self, _user_data: Optional[int], timeout_ms: int) -> int:
        try:
            if self.store.lock(timeout_ms / 1000.0) is False:
                return int(Status.TIMEOUT)
            return int(Status.OK)
        except BaseException:  # noqa: BLE001
            return self._failed("lock")

    def _on_unlock(self, _user_data: Optional[int]) -> None:
        try:
            self.store.unlock()
        except BaseException:  # noqa: BLE001
            self._failed("unlock")
