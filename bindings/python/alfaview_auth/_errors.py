"""Status codes and the exception hierarchy, and the one place where a failed call
becomes an exception (:func:`check`)."""

from __future__ import annotations

import builtins
import enum
import re
from typing import Any, Dict, Mapping, NoReturn, Optional, Tuple, Type, Union

from . import _ffi

__all__ = [
    "Status",
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


class Status(enum.IntEnum):
    """``av_status``: the result of every fallible C function (values fixed by the ABI)."""

    OK = 0
    INVALID_ARGUMENT = 1
    NETWORK = 2
    TIMEOUT = 3
    TLS = 4
    AUTHENTICATION = 5
    TOKEN_EXPIRED = 6
    API = 7
    HTTP = 8
    PROTOCOL = 9
    NOT_FOUND = 10
    STORAGE = 11
    INTERNAL = 12

    @property
    def c_name(self) -> str:
        """The C name, e.g. ``"AV_ERR_TIMEOUT"`` (from ``av_status_name``)."""
        return _ffi.borrowed(_ffi.lib.av_status_name(int(self)))


class AlfaviewError(Exception):
    """A failed alfaview-auth operation.

    Attributes:
        status: the :class:`Status` of the failure.
        message: what went wrong, in plain words (never contains a secret).
        api_status: the server's statusCode name (e.g. ``"TOKEN_OUTDATED"``), or ``None``.
        request_id: the requestId of the failed request (quote it to support), or ``None``.
        http_status: the HTTP status of the failed request, or ``None`` if there was no reply.
    """

    #: The status this class stands for (the base class: none in particular).
    status_code: Optional[Status] = None

    def __init__(
        self,
        message: str,
        *,
        status: Optional[Status] = None,
        api_status: Optional[str] = None,
        request_id: Optional[str] = None,
        http_status: Optional[int] = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        resolved = status if status is not None else self.status_code
        self.status: Status = resolved if resolved is not None else Status.INTERNAL
        self.api_status = api_status
        self.request_id = request_id
        self.http_status = http_status

    def __str__(self) -> str:
        # What a traceback shows: the message, and what to quote to support.
        text = self.message
        if self.api_status and self.api_status not in text:
            text += f" (server status {self.api_status})"
        if self.request_id:
            text += f" [request {self.request_id}]"
        return text

    def __repr__(self) -> str:
        extras = "".join(
            f", {name}={value!r}"
            for name, value in (
                ("api_status", self.api_status),
                ("request_id", self.request_id),
                ("http_status", self.http_status),
            )
            if value is not None
        )
        return f"{type(self).__name__}({self.message!r}, status={self.status.name}{extras})"

    def __reduce__(self) -> Tuple[Any, Tuple[Any, ...]]:
        # Keyword-only fields survive pickling (multiprocessing, concurrent.futures).
        return (
            _rebuild,
            (
                type(self),
                self.message,
                self.status,
                self.api_status,
                self.request_id,
                self.http_status,
            ),
        )


def _rebuild(
    cls: Type[AlfaviewError],
    message: str,
    status: Status,
    api_status: Optional[str],
    request_id: Optional[str],
    http_status: Optional[int],
) -> AlfaviewError:
    return cls(
        message,
        status=status,
        api_status=api_status,
        request_id=request_id,
        http_status=http_status,
    )


class InvalidArgumentError(AlfaviewError, ValueError):
    """A bad argument (empty, NUL or control character, malformed), a closed object, or a
    plaintext ``http://`` base URL to a non-loopback host. ``argument`` names the
    parameter when known."""

    status_code = Status.INVALID_ARGUMENT

    def __init__(
        self,
        message: str,
        *,
        argument: Optional[str] = None,
        status: Optional[Status] = None,
        api_status: Optional[str] = None,
        request_id: Optional[str] = None,
        http_status: Optional[int] = None,
    ) -> None:
        super().__init__(
            message,
            status=status,
            api_status=api_status,
            request_id=request_id,
            http_status=http_status,
        )
        if argument is None:
            found = _ARGUMENT_RE.search(message)
            argument = found.group(1) if found else None
        self.argument = argument


class NetworkError(AlfaviewError):
    """DNS, connect, reset, I/O."""

    status_code = Status.NETWORK


class TimeoutError(AlfaviewError, builtins.TimeoutError):
    """Connect or whole-request timeout. Also a builtin ``TimeoutError``."""

    status_code = Status.TIMEOUT


class TlsError(AlfaviewError):
    """Certificate or handshake failure."""

    status_code = Status.TLS


class AuthenticationError(AlfaviewError):
    """Credentials or refresh token rejected (AUTHENTICATION_ERROR, ACCOUNT_STATUS_ERROR, ...)."""

    status_code = Status.AUTHENTICATION


class TokenExpiredError(AlfaviewError):
    """The server said TOKEN_OUTDATED."""

    status_code = Status.TOKEN_EXPIRED


class ApiError(AlfaviewError):
    """Any other error the server reported; ``api_status`` names it."""

    status_code = Status.API


class HttpError(AlfaviewError):
    """An unexpected HTTP status without an API error body (or a redirect)."""

    status_code = Status.HTTP


class ProtocolError(AlfaviewError):
    """A reply that is not JSON, lacks a required field, or is over the size limit."""

    status_code = Status.PROTOCOL


class NotFoundError(AlfaviewError):
    """The token store has no entry."""

    status_code = Status.NOT_FOUND


class StorageError(AlfaviewError):
    """The token store failed."""

    status_code = Status.STORAGE


class InternalError(AlfaviewError):
    """A bug in the library (a caught panic)."""

    status_code = Status.INTERNAL


_CLASSES: Dict[Status, Type[AlfaviewError]] = {
    cls.status_code: cls
    for cls in (
        InvalidArgumentError,
        NetworkError,
        TimeoutError,
        TlsError,
        AuthenticationError,
        TokenExpiredError,
        ApiError,
        HttpError,
        ProtocolError,
        NotFoundError,
        StorageError,
        InternalError,
    )
    if cls.status_code is not None
}

_ARGUMENT_RE = re.compile(r"invalid argument '([^']+)'")


def error_class(status: Union[Status, int]) -> Type[AlfaviewError]:
    """The exception class for ``status``."""
    try:
        return _CLASSES[Status(status)]
    except (ValueError, KeyError):
        return AlfaviewError


def raise_last_error(status: int, rename: Optional[Mapping[str, str]] = None) -> NoReturn:
    """Raises the exception for ``status`` with the details of this thread's last error.
    Must run right after the failing call, on the same thread. ``rename`` maps C argument
    names to this package's parameter names (``{"url": "base_url"}``)."""
    lib = _ffi.lib
    message = _ffi.borrowed(lib.av_last_error_message())
    api_status = _ffi.borrowed(lib.av_last_error_api_status()) or None
    request_id = _ffi.borrowed(lib.av_last_error_request_id()) or None
    http_status = int(lib.av_last_error_http_status()) or None
    try:
        known: Optional[Status] = Status(status)
    except ValueError:
        known = None
    if known is None:
        message = f"{message} (unknown status {status}: {_ffi.borrowed(lib.av_status_name(status))})"
        known = Status.INTERNAL
    if known == Status.INVALID_ARGUMENT:
        argument = None
        found = _ARGUMENT_RE.search(message)
        if found is not None:
            argument = found.group(1)
            if rename and argument in rename:
                argument = rename[argument]
                message = message[: found.start(1)] + argument + message[found.end(1) :]
        raise InvalidArgumentError(
            message or "invalid argument",
            argument=argument,
            status=known,
            api_status=api_status,
            request_id=request_id,
            http_status=http_status,
        )
    raise error_class(known)(
        message or known.c_name,
        status=known,
        api_status=api_status,
        request_id=request_id,
        http_status=http_status,
    )


def check(status: int, rename: Optional[Mapping[str, str]] = None) -> None:
    """Raises for any status but ``AV_OK``."""
    if status != 0:
        raise_last_error(status, rename)


def invalid_argument(name: str, problem: str) -> InvalidArgumentError:
    """An argument this package rejects before calling the library (same wording)."""
    return InvalidArgumentError(f"invalid argument '{name}': {problem}", argument=name)


def c_str(value: str, name: str) -> bytes:
    """``value`` as a NUL-terminated UTF-8 argument. A NUL character would silently cut
    the string short in C, so it is refused here, naming the argument."""
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a str, not {type(value).__name__}")
    if "\x00" in value:
        raise invalid_argument(name, "contains a NUL character")
    try:
        return value.encode("utf-8")
    except UnicodeEncodeError as e:
        raise invalid_argument(name, f"is not encodable as UTF-8 ({e.reason})") from None


def c_opt_str(value: Optional[str], name: str) -> Optional[bytes]:
    """As :func:`c_str`; ``None`` stays ``None`` (NULL)."""
    return None if value is None else c_str(value, name)
