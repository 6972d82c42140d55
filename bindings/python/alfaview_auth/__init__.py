"""alfaview-auth for Python: sign in to alfaview's JSON API and keep an access token fresh.

A thin ctypes binding of the native ``libalfaview_auth`` (standard library only)::

    import alfaview_auth

    with alfaview_auth.Client(base_url="https://apis.alfaview.com/json/v1/") as client:
        tokens = client.login_password("me@example.com", "...", company_id="c-100")
    with alfaview_auth.Session(tokens.company_id, tokens.refresh_token) as session:
        session.on_refresh_token(lambda company, token: save(company, token))
        reply = session.call("roomService/create", {"room": {"name": "Standup"}})

Keeping the pair between runs: :mod:`alfaview_auth.store` (``store.save(app_id, ...)``,
``Session.from_store(app_id)``), or your own :class:`PairStore` with
``Session.with_store(store)``.

Blocking calls release the GIL; every ``*_async`` variant runs the blocking call in a
worker thread. Failures raise subclasses of :class:`AlfaviewError`. The library's log goes
to the ``logging`` logger ``"alfaview_auth"``.

Where the native library is loaded from: ``$ALFAVIEW_AUTH_LIBRARY``, then a copy bundled
in this package, then the system loader (see :mod:`alfaview_auth._loader`).
"""

from __future__ import annotations

from . import _ffi, store
from ._client import Client, JsonBody, refresh, refresh_async
from ._errors import (
    AlfaviewError,
    ApiError,
    AuthenticationError,
    HttpError,
    InternalError,
    InvalidArgumentError,
    NetworkError,
    NotFoundError,
    ProtocolError,
    Status,
    StorageError,
    TimeoutError,
    TlsError,
    TokenExpiredError,
)
from ._loader import LibraryNotFoundError
from ._log import TRACE, disable_logging, enable_logging, logger
from ._session import RefreshTokenCallback, Session
from ._types import AccessToken, Tokens
from .store import PairStore, StoredPair

__all__ = [
    "__version__",
    "version",
    "library_path",
    "Client",
    "Session",
    "Tokens",
    "AccessToken",
    "store",
    "StoredPair",
    "PairStore",
    "JsonBody",
    "RefreshTokenCallback",
    "refresh",
    "refresh_async",
    "enable_logging",
    "disable_logging",
    "logger",
    "TRACE",
    "Status",
    "LibraryNotFoundError",
    "AlfaviewError",
    "InvalidArgumentError",
    "NetworkError",
    "TimeoutError",
    "TlsError",
    "AuthenticationError",
    "TokenExpiredError",
    "ApiError",
    "HttpError",
    "ProtocolError",
    "NotFoundError",
    "StorageError",
    "InternalError",
]


def version() -> str:
    """The native library's version (``av_version``), e.g. ``"0.1.0"``."""
    return _ffi.borrowed(_ffi.lib.av_version())


#: The native library's version.
__version__: str = version()

#: Where the native library was loaded from.
library_path: str = _ffi.library_path

# The library's log goes to the "alfaview_auth" logger from the start.
enable_logging()
