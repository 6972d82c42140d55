"""The library's log, forwarded to the standard :mod:`logging` module.

On import the package installs one callback (``av_set_log_callback``) that hands every
message to the logger ``"alfaview_auth"``; whether a message is emitted is then decided by
that logger's level and handlers, as for any Python library. The library logs little
(mostly while renewing a session's token), and never a secret.

Levels: 1 error -> ``ERROR``, 2 warn -> ``WARNING``, 3 info -> ``INFO``, 4 debug ->
``DEBUG``, 5 trace -> :data:`TRACE` (5).
"""

from __future__ import annotations

import atexit
import logging
import threading
from typing import Dict, Optional

from . import _ffi

__all__ = ["logger", "TRACE", "enable_logging", "disable_logging"]

#: The logger every native message goes to.
logger = logging.getLogger("alfaview_auth")

#: The level of the library's trace messages (below ``DEBUG``).
TRACE = 5
if logging.getLevelName(TRACE) == f"Level {TRACE}":
    logging.addLevelName(TRACE, "TRACE")

_LEVELS: Dict[int, int] = {
    1: logging.ERROR,
    2: logging.WARNING,
    3: logging.INFO,
    4: logging.DEBUG,
    5: TRACE,
}

_native_max_level = 5
_state_lock = threading.Lock()


def _on_log(_user_data: Optional[int], level: int, message: Optional[bytes]) -> None:
    # Called by the library from any thread. Nothing may escape into C.
    try:
        py_level = _LEVELS.get(level, logging.DEBUG if level > 5 else logging.ERROR)
        if logger.isEnabledFor(py_level):
            text = message.decode("utf-8", "replace") if message else ""
            logger.log(py_level, "%s", text)
    except BaseException:  # noqa: BLE001 - a log failure must never reach the library
        pass


# Module-level and never freed: the library may call it from any thread (even just after
# it is replaced), so the ctypes object must outlive every such call.
_TRAMPOLINE = _ffi.av_log_cb(_on_log)
_NO_CALLBACK = _ffi.av_log_cb()


def enable_logging(level: Optional[int] = None, *, native_max_level: int = 5) -> None:
    """Forwards the library's log to the ``"alfaview_auth"`` logger (done on import).

    ``level``, if given, is set on that logger (e.g. ``logging.DEBUG``).
    ``native_max_level`` (1 error .. 5 trace) limits what the library sends at all.
    """
    global _native_max_level
    if level is not None:
        logger.setLevel(level)
    with _state_lock:
        _native_max_level = max(1, min(5, int(native_max_level)))
        _ffi.lib.av_set_log_callback(_TRAMPOLINE, None, _native_max_level)


def disable_logging() -> None:
    """Stops forwarding the library's log (the library then formats no message)."""
    with _state_lock:
        _ffi.lib.av_set_log_callback(_NO_CALLBACK, None, 0)


def _at_exit() -> None:
    # No callbacks into an interpreter that is shutting down.
    try:
        disable_logging()
    except Exception:  # pragma: no cover - best effort at shutdown
        pass


atexit.register(_at_exit)
