"""Build hook: a wheel that carries the native library is a platform wheel.

The metadata is in pyproject.toml; this file only decides the wheel's tag. When the
package directory holds a native library (``alfaview_auth/libalfaview_auth.so``,
``.dylib`` or ``alfaview_auth.dll``: ``build-wheel.sh`` puts one into a staging copy of
this directory, never into the source tree), the wheel is tagged
``py3-none-<this platform>`` (e.g. ``py3-none-linux_x86_64``): any CPython 3 (the binding
is pure ctypes, no extension module), but only this operating system and architecture,
since the library is built for them. Without a library (``pip install ./bindings/python``
from a checkout) the wheel stays ``py3-none-any`` as before and the library is found
through ``$ALFAVIEW_AUTH_LIBRARY`` or the system loader.

A different platform tag, e.g. a manylinux one after checking compliance with auditwheel,
can be given with ``--plat-name``: ``pip wheel --config-settings=--build-option=--plat-name=TAG``.
"""

from __future__ import annotations

import os

from setuptools import setup
from setuptools.dist import Distribution

try:  # setuptools >= 70.1 has bdist_wheel built in (pyproject.toml asks for >= 77)
    from setuptools.command.bdist_wheel import bdist_wheel
except ImportError:  # pragma: no cover - older setuptools with the wheel package
    from wheel.bdist_wheel import bdist_wheel  # type: ignore[no-redef]

NATIVE_NAMES = ("libalfaview_auth.so", "libalfaview_auth.dylib", "alfaview_auth.dll")
PACKAGE_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "alfaview_auth")


def bundled_libraries() -> list:
    """The native library files present in the package directory."""
    return [name for name in NATIVE_NAMES if os.path.isfile(os.path.join(PACKAGE_DIR, name))]


_BUNDLED = bundled_libraries()
if len(_BUNDLED) > 1:
    raise SystemExit(
        f"setup.py: more than one native library in {PACKAGE_DIR} ({', '.join(_BUNDLED)}); "
        "a wheel is for one platform: remove all but the one to ship"
    )


class NativeDistribution(Distribution):
    """Reports platform-specific content when a native library is bundled, so that
    setuptools builds a non-pure wheel (``Root-Is-Purelib: false``) installed into
    platlib."""

    def has_ext_modules(self) -> bool:  # noqa: D102 - setuptools' hook
        return bool(_BUNDLED) or super().has_ext_modules()


class bdist_wheel_py3(bdist_wheel):
    """``py3-none-<platform>`` instead of ``cp3X-cp3X-<platform>``: the package holds no
    extension module, so it works with every CPython 3 (and PyPy) on that platform."""

    def get_tag(self):
        python, abi, plat = super().get_tag()
        if not self.root_is_pure:
            python, abi = "py3", "none"
        return python, abi, plat


setup(distclass=NativeDistribution, cmdclass={"bdist_wheel": bdist_wheel_py3})
