"""The raw C ABI (``include/alfaview_auth.h``) as ctypes declarations. Nothing here
checks results or raises library errors: that is ``_errors.check``'s job, and the public
classes are the only callers.

Rules every declaration follows (see ``/work/shared/STYLE.md``, Python section):

* every function gets ``argtypes`` and ``restype`` (the table :data:`FUNCTIONS`);
* strings the library *allocates* come back through a ``char **`` out-parameter declared
  as ``POINTER(c_void_p)``, never ``c_char_p``: :func:`take_string` copies the bytes and
  hands the pointer back to ``av_string_free`` (which wipes it);
* *borrowed* ``const char *`` results (getters, ``av_last_error_*``, static names) are
  ``c_char_p``: ctypes copies them and nothing is freed;
* opaque handles are typed pointers to empty structures, so a client can never be passed
  where a session is expected;
* callbacks are ``CFUNCTYPE`` types; whoever installs one keeps the ctypes object alive
  for as long as the library may call it.

Adding a function: append one ``Fn`` to :data:`FUNCTIONS`; pass ``optional=True`` while
older libraries without it must still load (``lib.av_store_save`` is then ``None``, and
:func:`require` raises ``NotImplementedError`` naming it). ``tests/test_ffi.py`` compares the table
with the header, so a function in the header but not here (or with other argument types)
fails the tests.
"""

from __future__ import annotations

import ctypes
from ctypes import CFUNCTYPE, POINTER, c_char_p, c_int32, c_int64, c_size_t, c_uint32, c_void_p
from dataclasses import dataclass
from typing import Any, Dict, Optional, Sequence

from ._loader import load_library

# ---- types -------------------------------------------------------------------------------

#: ``av_status``: an int32 enum (values in ``_errors.Status``).
av_status = c_int32


class av_client_builder(ctypes.Structure):
    """Opaque ``struct av_client_builder``."""


class av_client(ctypes.Structure):
    """Opaque ``struct av_client``."""


class av_tokens(ctypes.Structure):
    """Opaque ``struct av_tokens``."""


class av_session(ctypes.Structure):
    """Opaque ``struct av_session``."""


BuilderPtr = POINTER(av_client_builder)
ClientPtr = POINTER(av_client)
TokensPtr = POINTER(av_tokens)
SessionPtr = POINTER(av_session)

#: ``char **out``: a library-allocated string, freed with ``av_string_free``.
OutString = POINTER(c_void_p)

#: ``typedef void (*av_refresh_token_cb)(void *user_data, const char *company_id,
#: const char *new_refresh_token);``
av_refresh_token_cb = CFUNCTYPE(None, c_void_p, c_char_p, c_char_p)

#: ``typedef void (*av_log_cb)(void *user_data, int32_t level, const char *message);``
av_log_cb = CFUNCTYPE(None, c_void_p, c_int32, c_char_p)

# The four members of ``av_store_callbacks``. Each fallible one returns an ``av_status``
# value as a plain int32_t. ``load``'s two buffers are writable ``char *``: declared as
# ``c_void_p`` (an address) because ctypes would turn a ``c_char_p`` argument into an
# immutable ``bytes`` copy.

#: ``int32_t (*load)(void *user_data, char *company_id, size_t company_id_size,
#: char *refresh_token, size_t refresh_token_size)``
av_store_load_fn = CFUNCTYPE(c_int32, c_void_p, c_void_p, c_size_t, c_void_p, c_size_t)
#: ``int32_t (*save)(void *user_data, const char *company_id, const char *refresh_token)``
av_store_save_fn = CFUNCTYPE(c_int32, c_void_p, c_char_p, c_char_p)
#: ``int32_t (*lock)(void *user_data, uint32_t timeout_ms)``
av_store_lock_fn = CFUNCTYPE(c_int32, c_void_p, c_uint32)
#: ``void (*unlock)(void *user_data)``
av_store_unlock_fn = CFUNCTYPE(None, c_void_p)


class av_store_callbacks(ctypes.Structure):
    """``av_store_callbacks``: an application's store (the library copies the struct;
    whoever passes it keeps the four function objects alive as long as the session)."""

    _fields_ = [
        ("load", av_store_load_fn),
        ("save", av_store_save_fn),
        ("lock", av_store_lock_fn),
        ("unlock", av_store_unlock_fn),
    ]


@dataclass(frozen=True)
class Fn:
    """One exported function: its name, result type and argument types."""

    name: str
    restype: Any
    argtypes: Sequence[Any]
    optional: bool = False


# In the header's order.
FUNCTIONS: Sequence[Fn] = (
    # errors, names, version, strings
    Fn("av_last_error_message", c_char_p, ()),
    Fn("av_last_error_api_status", c_char_p, ()),
    Fn("av_last_error_request_id", c_char_p, ()),
    Fn("av_last_error_http_status", c_int32, ()),
    Fn("av_status_name", c_char_p, (c_int32,)),
    Fn("av_version", c_char_p, ()),
    Fn("av_string_free", None, (c_void_p,)),
    # one-shot refresh on the default client
    Fn("av_refresh", av_status, (c_char_p, c_char_p, OutString, POINTER(c_int64))),
    # client
    Fn("av_client_builder_new", BuilderPtr, ()),
    Fn("av_client_builder_set_base_url", av_status, (BuilderPtr, c_char_p)),
    Fn("av_client_builder_set_timeout_ms", av_status, (BuilderPtr, c_uint32)),
    Fn("av_client_builder_set_ca_file", av_status, (BuilderPtr, c_char_p)),
    Fn("av_client_builder_set_user_agent", av_status, (BuilderPtr, c_char_p)),
    Fn("av_client_builder_set_max_retries", av_status, (BuilderPtr, c_uint32), optional=True),
    Fn("av_client_builder_set_max_reply_bytes", av_status, (BuilderPtr, c_size_t), optional=True),
    Fn("av_client_build", av_status, (BuilderPtr, POINTER(ClientPtr))),
    Fn("av_client_builder_free", None, (BuilderPtr,)),
    Fn("av_client_free", None, (ClientPtr,)),
    # signing in, tokens
    Fn(
        "av_login_password",
        av_status,
        (ClientPtr, c_char_p, c_char_p, c_char_p, POINTER(TokensPtr)),
    ),
    Fn(
        "av_login_api_key",
        av_status,
        (ClientPtr, c_char_p, c_char_p, c_char_p, POINTER(TokensPtr)),
    ),
    Fn("av_client_refresh", av_status, (ClientPtr, c_char_p, c_char_p, POINTER(TokensPtr))),
    Fn("av_tokens_access_token", c_char_p, (TokensPtr,)),
    Fn("av_tokens_expires_at", c_int64, (TokensPtr,)),
    Fn("av_tokens_refresh_token", c_char_p, (TokensPtr,)),
    Fn("av_tokens_refresh_expires_at", c_int64, (TokensPtr,)),
    Fn("av_tokens_company_id", c_char_p, (TokensPtr,)),
    Fn("av_tokens_user_id", c_char_p, (TokensPtr,)),
    Fn("av_tokens_accessible_company_count", c_size_t, (TokensPtr,)),
    Fn("av_tokens_accessible_company_id", c_char_p, (TokensPtr, c_size_t)),
    Fn("av_tokens_free", None, (TokensPtr,)),
    # calls
    Fn("av_client_call", av_status, (ClientPtr, c_char_p, c_char_p, c_char_p, OutString)),
    # session
    Fn("av_session_new", av_status, (ClientPtr, c_char_p, c_char_p, POINTER(SessionPtr))),
    Fn("av_session_access_token", av_status, (SessionPtr, OutString, POINTER(c_int64))),
    Fn("av_session_refresh_token", av_status, (SessionPtr, OutString)),
    Fn("av_session_set_refresh_margin_s", av_status, (SessionPtr, c_uint32)),
    Fn("av_session_on_refresh_token", av_status, (SessionPtr, av_refresh_token_cb, c_void_p)),
    Fn("av_session_call", av_status, (SessionPtr, c_char_p, c_char_p, OutString)),
    Fn("av_session_free", None, (SessionPtr,)),
    # the token store
    Fn("av_store_save", av_status, (c_char_p, c_char_p, c_char_p), optional=True),
    Fn("av_store_load", av_status, (c_char_p, OutString, OutString), optional=True),
    Fn("av_store_delete", av_status, (c_char_p,), optional=True),
    Fn(
        "av_session_new_from_store",
        av_status,
        (ClientPtr, c_char_p, POINTER(SessionPtr)),
        optional=True,
    ),
    Fn(
        "av_session_new_with_store",
        av_status,
        (ClientPtr, POINTER(av_store_callbacks), c_void_p, POINTER(SessionPtr)),
        optional=True,
    ),
    # logging
    Fn("av_set_log_callback", None, (av_log_cb, c_void_p, c_int32)),
)


class Library:
    """The loaded library: one attribute per function in :data:`FUNCTIONS` (``None`` for
    an optional function the library lacks)."""

    def __init__(self, handle: ctypes.CDLL, path: str) -> None:
        self.handle = handle
        self.path = path
        missing = []
        for fn in FUNCTIONS:
            try:
                func = getattr(handle, fn.name)
            except AttributeError:
                if not fn.optional:
                    missing.append(fn.name)
                setattr(self, fn.name, None)
                continue
            func.restype = fn.restype
            func.argtypes = list(fn.argtypes)
            setattr(self, fn.name, func)
        if missing:
            raise ImportError(
                f"the alfaview-auth library at {path} lacks {', '.join(missing)}: it is older "
                "than this Python package; build or install a matching version",
                name="alfaview_auth",
            )

    def __getattr__(self, name: str) -> Any:  # only reached for unknown names
        raise AttributeError(f"alfaview_auth._ffi: no declaration for {name!r} in FUNCTIONS")


_handle, library_path = load_library()
#: The library, every function declared.
lib: Any = Library(_handle, library_path)


# ---- strings -----------------------------------------------------------------------------


def take_string(out: c_void_p) -> str:
    """Copies the library-allocated string in ``out`` (filled by a ``char **``
    out-parameter) and frees it with ``av_string_free``. NULL reads as ""."""
    address = out.value
    if not address:
        return ""
    try:
        return ctypes.string_at(address).decode("utf-8", "replace")
    finally:
        lib.av_string_free(address)
        out.value = None


def free_string(out: c_void_p) -> None:
    """Frees what ``out`` holds, if anything (for error paths)."""
    if out.value:
        lib.av_string_free(out.value)
        out.value = None


def borrowed(value: Optional[bytes]) -> str:
    """A borrowed ``const char *`` result (already copied by ctypes) as ``str``."""
    return "" if value is None else value.decode("utf-8", "replace")


def require(name: str) -> Any:
    """The bound function ``name``; an optional one the loaded library lacks raises
    :class:`NotImplementedError` naming the library and the fix."""
    func = getattr(lib, name)
    if func is None:
        raise NotImplementedError(
            f"the alfaview-auth library at {library_path} lacks {name}: it is older than "
            "this Python package; build or install a matching version"
        )
    return func


def declarations() -> Dict[str, Fn]:
    """The declaration table by name (for tests and tools)."""
    return {fn.name: fn for fn in FUNCTIONS}
