"""Where the native library is loaded from, and the error when it is nowhere."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import alfaview_auth
from alfaview_auth._loader import library_file_name

from conftest import python_subprocess

PROBE = """
import sys
try:
    import alfaview_auth
except ImportError as e:
    print(type(e).__name__, isinstance(e, ImportError))
    print(e)
    sys.exit(3)
print("loaded", alfaview_auth.library_path)
"""


def env_without_library(**extra: str) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("ALFAVIEW_AUTH_LIBRARY", "LD_LIBRARY_PATH")}
    env.update(extra)
    return env


def test_library_not_found_lists_every_place(tmp_path: Path) -> None:
    bogus = tmp_path / "nowhere" / "libalfaview_auth.so"
    done = python_subprocess(PROBE, env_without_library(ALFAVIEW_AUTH_LIBRARY=str(bogus)), cwd=str(tmp_path))
    package_dir = Path(alfaview_auth.__file__).resolve().parent
    if done.returncode == 0:
        # A copy is installed where the system loader finds it: then the override's
        # failure must at least have been reported.
        assert "RuntimeWarning" in done.stderr and str(bogus) in done.stderr, done.stderr
        return
    assert done.returncode == 3, done.stderr
    out = done.stdout
    assert out.startswith("LibraryNotFoundError True"), out
    assert str(bogus) in out  # the override
    assert str(package_dir / library_file_name()) in out  # the bundled copy
    assert "system loader" in out and "find_library" in out
    assert "ALFAVIEW_AUTH_LIBRARY=" in out and "make build" in out  # how to fix it


def test_a_directory_in_the_override_is_searched() -> None:
    directory = str(Path(alfaview_auth.library_path).parent)
    done = python_subprocess(PROBE, env_without_library(ALFAVIEW_AUTH_LIBRARY=directory))
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.strip() == f"loaded {Path(directory) / library_file_name()}"


def test_bundled_copy_is_found(tmp_path: Path) -> None:
    # What a wheel looks like: the library inside the package directory.
    package = tmp_path / "alfaview_auth"
    shutil.copytree(Path(alfaview_auth.__file__).parent, package, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(alfaview_auth.library_path, package / library_file_name())
    env = env_without_library(PYTHONPATH=str(tmp_path))
    done = python_subprocess(PROBE, env, cwd=str(tmp_path))
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.strip() == f"loaded {package / library_file_name()}"

    # A broken override falls back to it, with a warning naming the override.
    env["ALFAVIEW_AUTH_LIBRARY"] = str(tmp_path / "missing.so")
    done = python_subprocess(PROBE, env, cwd=str(tmp_path))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "RuntimeWarning" in done.stderr and "missing.so" in done.stderr


def test_a_file_that_is_not_a_library(tmp_path: Path) -> None:
    fake = tmp_path / "libalfaview_auth.so"
    fake.write_text("not a shared object")
    done = python_subprocess(PROBE, env_without_library(ALFAVIEW_AUTH_LIBRARY=str(fake)), cwd=str(tmp_path))
    if done.returncode == 0:
        return  # found elsewhere on this machine (see above)
    assert str(fake) in done.stdout
