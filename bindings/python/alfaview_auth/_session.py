"""``Session`` (``av_session``): a refresh token that keeps an access token fresh."""

from __future__ import annotations

import asyncio
import math
from ctypes import byref, c_int64, c_void_p
from datetime import timedelta
from typing import Any, Callable, Dict, Optional, TypeVar, Union

from . import _ffi, store as _store
from ._client import Client, JsonBody, encode_body, parse_reply
from ._errors import c_str, check, invalid_argument, raise_last_error
from ._handle import NativeHandle
from ._log import logger
from ._types import AccessToken, Tokens, from_unix

__all__ = ["Session", "RefreshTokenCallback"]

#: ``callback(company_id, new_refresh_token)``, told when the server rotates the token.
RefreshTokenCallback = Callable[[str, str], Any]
_F = TypeVar("_F", bound=RefreshTokenCallback)

_U32_MAX = 2**32 - 1


class _RotationHandler:
    """What the C callback calls: forwards to the current Python callback and keeps any
    exception out of the library (it is logged instead)."""

    __slots__ = ("callback",)

    def __init__(self) -> None:
        self.callback: Optional[RefreshTokenCallback] = None

    def __call__(
        self, _user_data: Optional[int], company_id: Optional[bytes], token: Optional[bytes]
    ) -> None:
        callback = self.callback
        if callback is None:
            return
        company = _ffi.borrowed(company_id)
        try:
            callback(company, _ffi.borrowed(token))
        except BaseException:  # noqa: BLE001 - nothing may unwind into C
            try:
                logger.exception(
                    "the on_refresh_token callback raised for company %s; the session keeps "
                    "the new refresh token (Session.refresh_token) and goes on",
                    company,
                )
            except BaseException:  # noqa: BLE001
                pass


def _check_client(client: Optional[Client]) -> None:
    if client is not None and not isinstance(client, Client):
        raise TypeError(f"client must be a Client or None, not {type(client).__name__}")


def _with_client(client: Optional[Client], create: Callable[[Any], None]) -> None:
    """Runs ``create(client pointer)`` (NULL: the default client) with the client
    borrowed for the call."""
    if client is None:
        create(None)
        return
    ptr = client._borrow()
    try:
        create(ptr)
    finally:
        client._unborrow()


class Session(NativeHandle):
    """A company id and refresh token that hand out a valid access token whenever asked.

    Safe to share between threads: the cached token costs no request; when a renewal is
    due exactly one request goes out however many threads ask, and all of them get its
    result. A rotated refresh token is kept and handed to :meth:`on_refresh_token`'s
    callback before the new access token is used.

    Args:
        company_id: the company the refresh token belongs to.
        refresh_token: the refresh token (e.g. ``Tokens.refresh_token``).
        client: the :class:`Client` to use; ``None``: the process-wide default client
            (configured by ``ALFAVIEW_API_URL`` etc. when it is first used). The session
            keeps its connection alive even if the client is closed afterwards.

    Nothing is sent until a token is asked for.
    """

    _free_name = "av_session_free"

    def __init__(self, company_id: str, refresh_token: str, client: Optional[Client] = None) -> None:
        _check_client(client)
        cid = c_str(company_id, "company_id")
        token = c_str(refresh_token, "refresh_token")
        self._setup(company_id)
        out = _ffi.SessionPtr()
        _with_client(client, lambda ptr: check(_ffi.lib.av_session_new(ptr, cid, token, byref(out))))
        super().__init__(out)

    def _setup(self, company_id: str, store_bridge: Optional[_store.StoreBridge] = None) -> None:
        # All of these live as long as this object: the library may call the trampoline
        # (and a store's callbacks) until the session is freed.
        self._handler = _RotationHandler()
        self._trampoline = _ffi.av_refresh_token_cb(self._handler)
        self._store_bridge = store_bridge
        self._company_id = company_id

    @classmethod
    def from_store(cls, app_id: str, client: Optional[Client] = None) -> "Session":
        """A session on the pair stored for ``app_id`` in the library's store (see
        :mod:`alfaview_auth.store`; :class:`NotFoundError` if nothing is stored).

        Every renewal takes the entry's exclusive lock, re-reads the stored pair (another
        process may have rotated it) and saves a rotated refresh token before releasing the
        lock: processes sharing an app id never refresh with a stale token nor lose a new
        one. A rotated token that cannot be saved makes the call raise
        :class:`StorageError` (the session keeps it and saves it at the next renewal)."""
        _check_client(client)
        name = c_str(app_id, "app_id")
        company_id = _store.stored_company_id(app_id)
        create = _ffi.require("av_session_new_from_store")
        self = cls.__new__(cls)
        self._setup(company_id)
        out = _ffi.SessionPtr()
        _with_client(client, lambda ptr: check(create(ptr, name, byref(out))))
        NativeHandle.__init__(self, out)
        return self

    @classmethod
    def with_store(cls, store: "_store.PairStore", client: Optional[Client] = None) -> "Session":
        """A session on the pair held by ``store``, the application's
        :class:`~alfaview_auth.store.PairStore` (e.g. on Redis, shared by several hosts).

        The pair is loaded now (:class:`NotFoundError` if ``store.load()`` returns
        ``None``). Each renewal then calls ``store.lock(timeout)``, ``store.load()``, and
        after a rotation ``store.save(pair)``, then ``store.unlock()``, on the thread that
        renews. An exception raised by the store is logged (logger ``"alfaview_auth"``)
        and the operation raises :class:`StorageError`. The session keeps ``store``
        alive."""
        _check_client(client)
        bridge = _store.StoreBridge(store)
        create = _ffi.require("av_session_new_with_store")
        self = cls.__new__(cls)
        self._setup("", bridge)
        out = _ffi.SessionPtr()
        _with_client(
            client, lambda ptr: check(create(ptr, byref(bridge.callbacks), None, byref(out)))
        )
        self._company_id = bridge.company_id or ""
        NativeHandle.__init__(self, out)
        return self

    @classmethod
    def from_tokens(cls, tokens: Tokens, client: Optional[Client] = None) -> "Session":
        """A session from a sign-in's result (its company id and refresh token)."""
        if not tokens.refresh_token:
            raise invalid_argument("tokens", "the server issued no refresh token")
        return cls(tokens.company_id, tokens.refresh_token, client)

    @property
    def company_id(self) -> str:
        """The company this session's tokens are for."""
        return self._company_id

    def __repr__(self) -> str:
        state = ", closed" if self.closed else ""
        return f"Session(company_id={self._company_id!r}{state})"

    def _after_release(self) -> None:
        # The native session is gone: nothing calls back any more.
        self._handler.callback = None
        self._store_bridge = None

    # ---- tokens --------------------------------------------------------------------------

    def token(self) -> AccessToken:
        """A valid access token and when it expires (the cached one while it has more than
        the refresh margin left, otherwise a renewed one). If renewing fails while the
        cached token is still valid, the cached token is returned (and a warning logged)."""
        out = c_void_p()
        expires = c_int64()
        ptr = self._borrow()
        try:
            status = _ffi.lib.av_session_access_token(ptr, byref(out), byref(expires))
            if status:
                raise_last_error(status)
        finally:
            self._unborrow()
        return AccessToken(_ffi.take_string(out), from_unix(expires.value))

    def access_token(self) -> str:
        """A valid access token (see :meth:`token`)."""
        return self.token().access_token

    @property
    def refresh_token(self) -> str:
        """The refresh token to keep: the newest the server issued."""
        out = c_void_p()
        ptr = self._borrow()
        try:
            status = _ffi.lib.av_session_refresh_token(ptr, byref(out))
            if status:
                raise_last_error(status)
        finally:
            self._unborrow()
        return _ffi.take_string(out)

    def set_refresh_margin(self, seconds: Union[int, float, timedelta]) -> None:
        """Renew the access token this long before it expires (default 60 s; tokens
        living less than twice the margin are renewed half-way through their life)."""
        if isinstance(seconds, timedelta):
            value = seconds.total_seconds()
        elif isinstance(seconds, (int, float)) and not isinstance(seconds, bool):
            value = float(seconds)
        else:
            raise TypeError(f"seconds must be a number or a timedelta, not {type(seconds).__name__}")
        if not math.isfinite(value) or value < 0 or value > _U32_MAX:
            raise invalid_argument("seconds", f"must be from 0 to {_U32_MAX}, not {seconds!r}")
        whole = math.ceil(value)
        ptr = self._borrow()
        try:
            check(_ffi.lib.av_session_set_refresh_margin_s(ptr, whole))
        finally:
            self._unborrow()

    def on_refresh_token(self, callback: Optional[_F]) -> Optional[_F]:
        """Calls ``callback(company_id, new_refresh_token)`` whenever the server rotates
        the refresh token (``None`` removes it). Persist the new token there: the old one
        may no longer be accepted. It runs on the thread that renewed the token, before
        the new access token is handed out. An exception it raises is logged (logger
        ``"alfaview_auth"``) and otherwise ignored: the session goes on with the new token.

        Returns ``callback``, so it also works as a decorator."""
        if callback is not None and not callable(callback):
            raise TypeError("callback must be callable or None")
        self._handler.callback = callback
        native = self._trampoline if callback is not None else _ffi.av_refresh_token_cb()
        ptr = self._borrow()
        try:
            check(_ffi.lib.av_session_on_refresh_token(ptr, native, None))
        finally:
            self._unborrow()
        return callback

    # ---- calls ---------------------------------------------------------------------------

    def call_raw(self, service_method: str, json_body: JsonBody = None) -> str:
        """Like :meth:`call`, returning the reply's JSON text."""
        method = c_str(service_method, "service_method")
        body = encode_body(json_body)
        out = c_void_p()
        ptr = self._borrow()
        try:
            status = _ffi.lib.av_session_call(ptr, method, body, byref(out))
            if status:
                raise_last_error(status)
        finally:
            self._unborrow()
        return _ffi.take_string(out)

    def call(self, service_method: str, json_body: JsonBody = None) -> Dict[str, Any]:
        """Calls ``service_method`` with the session's access token and returns the reply
        as a dict. If the server says TOKEN_OUTDATED, the token is renewed and the call
        retried once."""
        return parse_reply(self.call_raw(service_method, json_body))

    # ---- asyncio -------------------------------------------------------------------------

    async def token_async(self) -> AccessToken:
        """:meth:`token` in a worker thread."""
        return await asyncio.to_thread(self.token)

    async def access_token_async(self) -> str:
        """:meth:`access_token` in a worker thread."""
        return await asyncio.to_thread(self.access_token)

    async def call_async(self, service_method: str, json_body: JsonBody = None) -> Dict[str, Any]:
        """:meth:`call` in a worker thread."""
        return await asyncio.to_thread(self.call, service_method, json_body)

    async def call_raw_async(self, service_method: str, json_body: JsonBody = None) -> str:
        """:meth:`call_raw` in a worker thread."""
        return await asyncio.to_thread(self.call_raw, service_method, json_body)
