"""The one base class that owns a native pointer."""

from __future__ import annotations

import threading
from types import TracebackType
from typing import Any, ClassVar, Optional, Type, TypeVar

from . import _ffi
from ._errors import InvalidArgumentError

_H = TypeVar("_H", bound="NativeHandle")


class NativeHandle:
    """Owns one native pointer and frees it exactly once.

    * :meth:`close` is idempotent and thread-safe. If other threads are inside a call on
      the object when it is closed, the pointer is freed when the last of them returns
      (the C library forbids freeing an object another thread is using; this makes that
      impossible from Python). Calls started after :meth:`close` raise
      :class:`InvalidArgumentError`.
    * ``with obj: ...`` closes it at the end of the block.
    * ``__del__`` closes it as a last resort.

    Subclasses set :attr:`_free_name` to the C function that frees their pointer and
    wrap every use of the pointer in ``ptr = self._borrow()`` ... ``finally:
    self._unborrow()``.
    """

    _free_name: ClassVar[str] = ""
    _ptr: Any = None
    _closed: bool = True

    def __init__(self, ptr: Any) -> None:
        self._lock = threading.Lock()
        self._users = 0
        self._ptr = ptr
        self._closed = False

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` has been called."""
        return self._closed

    def _borrow(self) -> Any:
        """The pointer, counted as in use until :meth:`_unborrow`."""
        with self._lock:
            if self._closed:
                raise InvalidArgumentError(
                    f"this {type(self).__name__} is closed", argument="self"
                )
            self._users += 1
            return self._ptr

    def _unborrow(self) -> None:
        with self._lock:
            self._users -= 1
            release = self._closed and self._users == 0
        if release:
            self._release()

    def close(self) -> None:
        """Frees the native object (now, or when the last call in progress returns)."""
        lock = self.__dict__.get("_lock")
        if lock is None:  # __init__ never ran
            return
        with lock:
            if self._closed:
                return
            self._closed = True
            release = self._users == 0
        if release:
            self._release()

    def _release(self) -> None:
        ptr, self._ptr = self._ptr, None
        if ptr:
            getattr(_ffi.lib, self._free_name)(ptr)
        self._after_release()

    def _after_release(self) -> None:
        """Hook: drop what had to outlive the native object (callbacks)."""

    def __enter__(self: _H) -> _H:
        return self

    def __exit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # interpreter shutdown: modules may be half torn down
            pass
