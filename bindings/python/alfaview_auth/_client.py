"""``Client`` (``av_client``) and the one-shot :func:`refresh` (``av_refresh``)."""

from __future__ import annotations

import asyncio
import ctypes
import json
import math
import os
from ctypes import byref, c_int64, c_void_p
from datetime import timedelta
from typing import Any, Dict, Mapping, Optional, Union

from . import _ffi
from ._errors import ProtocolError, c_opt_str, c_str, check, invalid_argument, raise_last_error
from ._handle import NativeHandle
from ._types import AccessToken, Tokens, from_unix

__all__ = ["Client", "refresh", "refresh_async", "JsonBody"]

#: A request body: a mapping (sent as JSON), a JSON text, or ``None`` for ``{}``.
JsonBody = Union[Mapping[str, Any], str, None]

_U32_MAX = 2**32 - 1
_SIZE_MAX = 2 ** (8 * ctypes.sizeof(ctypes.c_size_t)) - 1

# C argument names -> this package's parameter names, for error messages.
_BUILDER_NAMES = {
    "url": "base_url",
    "ms": "timeout",
    "pem_path": "ca_file",
    "ua": "user_agent",
    "retries": "max_retries",
    "bytes": "max_reply_bytes",
}
_API_KEY_NAMES = {"api_key_secret": "secret"}


def _timeout_ms(timeout: Union[float, timedelta]) -> int:
    if isinstance(timeout, timedelta):
        seconds = timeout.total_seconds()
    elif isinstance(timeout, (int, float)) and not isinstance(timeout, bool):
        seconds = float(timeout)
    else:
        raise TypeError(f"timeout must be seconds (a number) or a timedelta, not {type(timeout).__name__}")
    if not math.isfinite(seconds) or seconds <= 0:
        raise invalid_argument("timeout", f"must be a positive number of seconds, not {timeout!r}")
    ms = math.ceil(seconds * 1000)
    if ms > _U32_MAX:
        raise invalid_argument("timeout", f"must be at most {_U32_MAX / 1000:.0f} seconds")
    return ms


def _count(value: int, name: str, minimum: int, maximum: int) -> int:
    """A whole-number setting (``max_retries``, ``max_reply_bytes``) checked against the
    range of its C type, so ctypes never wraps it silently."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, not {type(value).__name__}")
    if not minimum <= value <= maximum:
        raise invalid_argument(name, f"must be from {minimum} to {maximum}, not {value}")
    return value


def encode_body(json_body: JsonBody) -> Optional[bytes]:
    """A call's body as the C argument: a mapping is serialized, a str passed as is."""
    if json_body is None:
        return None
    if isinstance(json_body, str):
        return c_str(json_body, "json_body")
    if isinstance(json_body, Mapping):
        text = json.dumps(dict(json_body), ensure_ascii=False, separators=(",", ":"))
        return c_str(text, "json_body")
    raise TypeError(
        f"json_body must be a mapping, a JSON str or None, not {type(json_body).__name__}"
    )


def parse_reply(text: str) -> Dict[str, Any]:
    """A call's reply as a dict."""
    try:
        value = json.loads(text)
    except ValueError as e:
        raise ProtocolError(f"the reply is not JSON: {e}") from None
    if not isinstance(value, dict):
        raise ProtocolError(f"the reply is a JSON {type(value).__name__}, not an object")
    return value


class Client(NativeHandle):
    """A connection to the alfaview API (``av_client``): safe to share between threads;
    keeps its connections alive between calls. Close it with :meth:`close` or a ``with``
    block (sessions made from it keep working).

    Every keyword is optional; what is not given comes from the environment
    (``ALFAVIEW_API_URL``, ``ALFAVIEW_TIMEOUT_MS``, ``ALFAVIEW_CA_FILE``) or the defaults.

    Args:
        base_url: the API's base URL, e.g. ``"https://apis.alfaview.com/json/v1/"``; must be
            ``https://`` except to loopback hosts.
        timeout: the whole-request timeout in **seconds** (a float, e.g. ``2.5``) or a
            ``timedelta``; default 30 s. Connecting alone is limited to ``min(timeout, 10 s)``.
        ca_file: a PEM file of extra root certificates to trust (a str or path).
        user_agent: the ``User-Agent`` header (default ``alfaview-auth/<version>``).
        max_retries: how often a transient failure is retried (default 2; 0 turns retries
            off): a connection that could not be made, HTTP 502, 503, 504, and 429 (after
            its ``Retry-After``). Retries back off with jitter within ``timeout``.
        max_reply_bytes: the largest reply to :meth:`call` (and a session's call)
            accepted, in bytes (default 16 MiB; at least 1); a larger one raises
            :class:`ProtocolError`. Sign-in and refresh replies are limited to 1 MiB.
    """

    _free_name = "av_client_free"

    def __init__(
        self,
        *,
        base_url: Optional[str] = None,
        timeout: Union[float, timedelta, None] = None,
        ca_file: Union[str, "os.PathLike[str]", None] = None,
        user_agent: Optional[str] = None,
        max_retries: Optional[int] = None,
        max_reply_bytes: Optional[int] = None,
    ) -> None:
        self._base_url = base_url
        lib = _ffi.lib
        url = c_opt_str(base_url, "base_url")
        ms = None if timeout is None else _timeout_ms(timeout)
        pem = None if ca_file is None else c_str(os.fspath(ca_file), "ca_file")
        ua = c_opt_str(user_agent, "user_agent")
        retries = None if max_retries is None else _count(max_retries, "max_retries", 0, _U32_MAX)
        reply_bytes = (
            None
            if max_reply_bytes is None
            else _count(max_reply_bytes, "max_reply_bytes", 1, _SIZE_MAX)
        )
        set_retries = None if retries is None else _ffi.require("av_client_builder_set_max_retries")
        set_reply_bytes = (
            None if reply_bytes is None else _ffi.require("av_client_builder_set_max_reply_bytes")
        )

        builder = lib.av_client_builder_new()
        if not builder:
            raise MemoryError("av_client_builder_new returned NULL")
        out = _ffi.ClientPtr()
        try:
            if url is not None:
                check(lib.av_client_builder_set_base_url(builder, url), _BUILDER_NAMES)
            if ms is not None:
                check(lib.av_client_builder_set_timeout_ms(builder, ms), _BUILDER_NAMES)
            if pem is not None:
                check(lib.av_client_builder_set_ca_file(builder, pem), _BUILDER_NAMES)
            if ua is not None:
                check(lib.av_client_builder_set_user_agent(builder, ua), _BUILDER_NAMES)
            if set_retries is not None:
                check(set_retries(builder, retries), _BUILDER_NAMES)
            if set_reply_bytes is not None:
                check(set_reply_bytes(builder, reply_bytes), _BUILDER_NAMES)
            check(lib.av_client_build(builder, byref(out)), _BUILDER_NAMES)
        finally:
            lib.av_client_builder_free(builder)
        super().__init__(out)

    def __repr__(self) -> str:
        where = repr(self._base_url) if self._base_url is not None else "<from environment>"
        state = ", closed" if self.closed else ""
        return f"Client(base_url={where}{state})"

    # ---- signing in ----------------------------------------------------------------------

    def _tokens(
        self, name: str, *args: Optional[bytes], rename: Optional[Mapping[str, str]] = None
    ) -> Tokens:
        lib = _ffi.lib
        out = _ffi.TokensPtr()
        ptr = self._borrow()
        try:
            status = getattr(lib, name)(ptr, *args, byref(out))
            if status:
                raise_last_error(status, rename)
        finally:
            self._unborrow()
        try:
            return Tokens._from_native(out)
        finally:
            lib.av_tokens_free(out)

    def login_password(
        self, username: str, password: str, company_id: Optional[str] = None
    ) -> Tokens:
        """Signs in with a username and password. Without ``company_id`` the server picks
        the company; ``Tokens.accessible_company_ids`` lists the ones the user can reach.
        Wrong credentials or a locked account raise :class:`AuthenticationError`."""
        return self._tokens(
            "av_login_password",
            c_str(username, "username"),
            c_str(password, "password"),
            c_opt_str(company_id, "company_id"),
        )

    def login_api_key(self, client_id: str, secret: str, company_id: str) -> Tokens:
        """Signs in with an API key: ``client_id`` is the key's alias, ``secret`` its secret."""
        return self._tokens(
            "av_login_api_key",
            c_str(client_id, "client_id"),
            c_str(secret, "secret"),
            c_str(company_id, "company_id"),
            rename=_API_KEY_NAMES,
        )

    def refresh(self, company_id: str, refresh_token: str) -> Tokens:
        """Exchanges a refresh token for a new access token. If the server rotated the
        refresh token, ``Tokens.refresh_token`` is the new one: keep it. A rejected refresh
        token raises :class:`AuthenticationError`."""
        return self._tokens(
            "av_client_refresh",
            c_str(company_id, "company_id"),
            c_str(refresh_token, "refresh_token"),
        )

    # ---- calls ---------------------------------------------------------------------------

    def call_raw(
        self, service_method: str, json_body: JsonBody = None, *, access_token: str
    ) -> str:
        """Like :meth:`call`, returning the reply's JSON text."""
        lib = _ffi.lib
        args = (
            c_str(access_token, "access_token"),
            c_str(service_method, "service_method"),
            encode_body(json_body),
        )
        out = c_void_p()
        ptr = self._borrow()
        try:
            status = lib.av_client_call(ptr, *args, byref(out))
            if status:
                raise_last_error(status)
        finally:
            self._unborrow()
        return _ffi.take_string(out)

    def call(
        self, service_method: str, json_body: JsonBody = None, *, access_token: str
    ) -> Dict[str, Any]:
        """Calls ``service_method`` (e.g. ``"roomService/create"``) with ``access_token``:
        ``accessInfo`` is added to ``json_body`` (a dict, a JSON str, or ``None`` for
        ``{}``) and the reply is returned as a dict. An expired token raises
        :class:`TokenExpiredError`; any other server error :class:`ApiError`."""
        return parse_reply(self.call_raw(service_method, json_body, access_token=access_token))

    # ---- asyncio -------------------------------------------------------------------------

    async def login_password_async(
        self, username: str, password: str, company_id: Optional[str] = None
    ) -> Tokens:
        """:meth:`login_password` in a worker thread."""
        return await asyncio.to_thread(self.login_password, username, password, company_id)

    async def login_api_key_async(self, client_id: str, secret: str, company_id: str) -> Tokens:
        """:meth:`login_api_key` in a worker thread."""
        return await asyncio.to_thread(self.login_api_key, client_id, secret, company_id)

    async def refresh_async(self, company_id: str, refresh_token: str) -> Tokens:
        """:meth:`refresh` in a worker thread."""
        return await asyncio.to_thread(self.refresh, company_id, refresh_token)

    async def call_async(
        self, service_method: str, json_body: JsonBody = None, *, access_token: str
    ) -> Dict[str, Any]:
        """:meth:`call` in a worker thread."""
        return await asyncio.to_thread(self.call, service_method, json_body, access_token=access_token)

    async def call_raw_async(
        self, service_method: str, json_body: JsonBody = None, *, access_token: str
    ) -> str:
        """:meth:`call_raw` in a worker thread."""
        return await asyncio.to_thread(self.call_raw, service_method, json_body, access_token=access_token)


def refresh(company_id: str, refresh_token: str) -> AccessToken:
    """Exchanges a refresh token for an access token on the process-wide default client
    (``av_refresh``). That client is created at its first use, from ``ALFAVIEW_API_URL``,
    ``ALFAVIEW_CA_FILE`` and ``ALFAVIEW_TIMEOUT_MS`` as they are *then*; it keeps its
    connections alive between calls.

    It cannot hand back a rotated refresh token: where the server rotates, use
    :meth:`Client.refresh` or a :class:`Session`.

    Returns an :class:`AccessToken` (``token, expires_at = refresh(...)`` also works).
    """
    cid = c_str(company_id, "company_id")
    token = c_str(refresh_token, "refresh_token")
    out = c_void_p()
    expires = c_int64()
    status = _ffi.lib.av_refresh(cid, token, byref(out), byref(expires))
    if status:
        raise_last_error(status)
    return AccessToken(_ffi.take_string(out), from_unix(expires.value))


async def refresh_async(company_id: str, refresh_token: str) -> AccessToken:
    """:func:`refresh` in a worker thread."""
    return await asyncio.to_thread(refresh, company_id, refresh_token)
