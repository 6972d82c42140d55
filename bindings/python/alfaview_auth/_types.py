"""Plain result types: :class:`Tokens` and :class:`AccessToken`. Their reprs never show a
token (only whether there is one)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Iterator, Optional, Tuple

from . import _ffi

__all__ = ["Tokens", "AccessToken"]

_REDACTED = "<redacted>"


def from_unix(seconds: int) -> datetime:
    """Unix seconds as an aware UTC datetime (clamped to what ``datetime`` can hold)."""
    try:
        return datetime.fromtimestamp(seconds, tz=timezone.utc)
    except (OverflowError, OSError, ValueError):
        edge = datetime.max if seconds > 0 else datetime.min
        return edge.replace(tzinfo=timezone.utc)


@dataclass(frozen=True)
class Tokens:
    """The result of a sign-in or refresh.

    Attributes:
        access_token: the bearer token for calls (secret: never shown by ``repr``).
        expires_at: when the access token expires, as the server said (aware, UTC).
        refresh_token: the refresh token to keep (secret): after a sign-in the one issued,
            after a refresh the new one if the server rotated it, otherwise the one used;
            ``None`` if the server issued none.
        refresh_expires_at: when the refresh token's cookie expires (UTC), or ``None``.
        company_id: the company the access token is for.
        user_id: the user the access token is for, or ``None`` if the reply did not say.
        accessible_company_ids: every company the user can reach.
    """

    access_token: str = field(repr=False)
    expires_at: datetime
    refresh_token: Optional[str] = field(repr=False)
    refresh_expires_at: Optional[datetime]
    company_id: str
    user_id: Optional[str]
    accessible_company_ids: Tuple[str, ...]

    def __repr__(self) -> str:
        return (
            f"Tokens(access_token={_REDACTED}, expires_at={self.expires_at.isoformat()}, "
            f"refresh_token={_REDACTED if self.refresh_token else None}, "
            f"refresh_expires_at="
            f"{self.refresh_expires_at.isoformat() if self.refresh_expires_at else None}, "
            f"company_id={self.company_id!r}, user_id={self.user_id!r}, "
            f"accessible_company_ids={self.accessible_company_ids!r})"
        )

    __str__ = __repr__

    @classmethod
    def _from_native(cls, ptr: Any) -> "Tokens":
        """Reads every field of an ``av_tokens *`` (which the caller still frees)."""
        lib = _ffi.lib
        count = int(lib.av_tokens_accessible_company_count(ptr))
        companies = tuple(
            _ffi.borrowed(lib.av_tokens_accessible_company_id(ptr, i)) for i in range(count)
        )
        refresh_expires = int(lib.av_tokens_refresh_expires_at(ptr))
        return cls(
            access_token=_ffi.borrowed(lib.av_tokens_access_token(ptr)),
            expires_at=from_unix(int(lib.av_tokens_expires_at(ptr))),
            refresh_token=_ffi.borrowed(lib.av_tokens_refresh_token(ptr)) or None,
            refresh_expires_at=from_unix(refresh_expires) if refresh_expires else None,
            company_id=_ffi.borrowed(lib.av_tokens_company_id(ptr)),
            user_id=_ffi.borrowed(lib.av_tokens_user_id(ptr)) or None,
            accessible_company_ids=companies,
        )


@dataclass(frozen=True)
class AccessToken:
    """An access token and when it expires (aware, UTC). Unpacks like a tuple:
    ``token, expires_at = alfaview_auth.refresh(...)``."""

    access_token: str = field(repr=False)
    expires_at: datetime

    def __iter__(self) -> Iterator[Any]:
        yield self.access_token
        yield self.expires_at

    def __repr__(self) -> str:
        return f"AccessToken(access_token={_REDACTED}, expires_at={self.expires_at.isoformat()})"

    __str__ = __repr__
