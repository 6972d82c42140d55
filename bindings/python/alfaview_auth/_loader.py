"""Finding and loading the native library (``libalfaview_auth``).

Places tried, in order; the first one that loads wins:

1. ``$ALFAVIEW_AUTH_LIBRARY``: a path to the library file (or to the directory holding
   it). Relative paths are taken from the current directory.
2. A copy bundled in this package's directory (what a binary wheel ships).
3. The system's dynamic loader: the plain file name (``libalfaview_auth.so``, found through
   the loader's usual search: ``ld.so.cache``, ``LD_LIBRARY_PATH``, ...), then
   ``ctypes.util.find_library("alfaview_auth")``.

If ``$ALFAVIEW_AUTH_LIBRARY`` is set but cannot be loaded while a later place works, the
later one is used and a ``RuntimeWarning`` says so. If nothing works,
:class:`LibraryNotFoundError` (an ``ImportError``) lists every place tried and why it
failed.

This module does not load anything on import and needs nothing but the standard library.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys
import warnings
from pathlib import Path
from typing import List, Optional, Tuple

__all__ = ["ENV_VAR", "LibraryNotFoundError", "library_file_name", "load_library"]

#: The environment variable that overrides where the library is loaded from.
ENV_VAR = "ALFAVIEW_AUTH_LIBRARY"

_PACKAGE_DIR = Path(__file__).resolve().parent


class LibraryNotFoundError(ImportError):
    """The native library could not be loaded from any of the places tried.

    ``tried`` lists ``(place, reason)`` pairs in the order they were tried.
    """

    def __init__(self, message: str, tried: List[Tuple[str, str]]) -> None:
        super().__init__(message, name="alfaview_auth")
        self.tried = tried


def library_file_name(platform: Optional[str] = None) -> str:
    """The library's file name on ``platform`` (default: this one)."""
    platform = sys.platform if platform is None else platform
    if platform == "win32" or platform == "cygwin":
        return "alfaview_auth.dll"
    if platform == "darwin":
        return "libalfaview_auth.dylib"
    return "libalfaview_auth.so"


def _try_load(target: str) -> Tuple[Optional[ctypes.CDLL], str]:
    """``(library, "")`` or ``(None, why not)``."""
    try:
        # CDLL (not PyDLL): ctypes releases the GIL around every call into it.
        return ctypes.CDLL(target), ""
    except OSError as e:
        return None, str(e) or e.__class__.__name__


def load_library() -> Tuple[ctypes.CDLL, str]:
    """Loads the library: ``(handle, where it came from)``; raises
    :class:`LibraryNotFoundError` if no place works."""
    name = library_file_name()
    tried: List[Tuple[str, str]] = []
    override_failure: Optional[str] = None

    override = os.environ.get(ENV_VAR, "")
    if override:
        path = Path(override).expanduser()
        if path.is_dir():
            path = path / name
        path = Path(os.path.abspath(path))
        place = f"${ENV_VAR} = {path}"
        if not path.exists():
            tried.append((place, "no such file"))
        else:
            lib, why = _try_load(str(path))
            if lib is not None:
                return lib, str(path)
            tried.append((place, why))
        override_failure = f"{place}: {tried[-1][1]}"
    else:
        tried.append((f"${ENV_VAR}", "not set"))

    bundled = _PACKAGE_DIR / name
    if bundled.exists():
        lib, why = _try_load(str(bundled))
        if lib is not None:
            _warn_override(override_failure, str(bundled))
            return lib, str(bundled)
        tried.append((f"bundled copy {bundled}", why))
    else:
        tried.append((f"bundled copy {bundled}", "no such file"))

    lib, why = _try_load(name)
    if lib is not None:
        _warn_override(override_failure, name)
        return lib, name
    tried.append((f"system loader: {name}", why))

    found = ctypes.util.find_library("alfaview_auth")
    if found:
        lib, why = _try_load(found)
        if lib is not None:
            _warn_override(override_failure, found)
            return lib, found
        tried.append((f'ctypes.util.find_library("alfaview_auth") -> {found}', why))
    else:
        tried.append(('ctypes.util.find_library("alfaview_auth")', "found nothing"))

    lines = [f"cannot load the alfaview-auth native library ({name}). Places tried:"]
    lines += [f"  - {place}: {why}" for place, why in tried]
    lines += [
        "To fix it, do one of:",
        f"  - set {ENV_VAR} to the library's full path, e.g. "
        f"{ENV_VAR}=/path/to/alfaview-auth/target/debug/{name} "
        "(build it with `make build`);",
        f"  - install a wheel of this package that bundles {name};",
        f"  - install {name} where the system loader finds it (e.g. /usr/local/lib, "
        "then run ldconfig).",
    ]
    raise LibraryNotFoundError("\n".join(lines), tried)


def _warn_override(failure: Optional[str], used: str) -> None:
    if failure is not None:
        warnings.warn(
            f"alfaview_auth: could not load the library named by {failure}; using {used} instead",
            RuntimeWarning,
            stacklevel=4,
        )
