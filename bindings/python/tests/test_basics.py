"""Version, status codes, the exception hierarchy, and that the package under test is
the installed one."""

from __future__ import annotations

import builtins
import os
import pickle
import re
from pathlib import Path

import pytest

import alfaview_auth
from alfaview_auth import Status

from conftest import ROOT


def cargo_version() -> str:
    text = (ROOT / "Cargo.toml").read_text()
    package = text.split("[package]", 1)[1].split("\n[", 1)[0]
    found = re.search(r'^version\s*=\s*"([^"]+)"', package, re.M)
    assert found, "no version in Cargo.toml's [package]"
    return found.group(1)


def test_version_comes_from_the_library() -> None:
    assert alfaview_auth.version() == alfaview_auth.__version__
    assert re.fullmatch(r"\d+\.\d+\.\d+\S*", alfaview_auth.__version__)
    assert alfaview_auth.__version__ == cargo_version()


def test_package_version_matches_the_crate() -> None:
    from importlib import metadata

    try:
        installed = metadata.version("alfaview-auth")
    except metadata.PackageNotFoundError:
        pytest.skip("the package is not installed (running from the source tree)")
    assert installed == cargo_version(), "bump bindings/python/pyproject.toml with Cargo.toml"


def test_the_installed_package_is_under_test() -> None:
    if os.environ.get("ALFAVIEW_EXPECT_INSTALLED") != "1":
        pytest.skip("only checked by bindings/python/test.sh")
    package = Path(alfaview_auth.__file__).resolve()
    assert "site-packages" in package.parts, package
    assert (package.parent / "py.typed").exists()
    assert Path(alfaview_auth.library_path) == Path(os.environ["ALFAVIEW_AUTH_LIBRARY"]).resolve()


def test_status_mirrors_av_status() -> None:
    names = {
        0: "AV_OK",
        1: "AV_ERR_INVALID_ARGUMENT",
        2: "AV_ERR_NETWORK",
        3: "AV_ERR_TIMEOUT",
        4: "AV_ERR_TLS",
        5: "AV_ERR_AUTHENTICATION",
        6: "AV_ERR_TOKEN_EXPIRED",
        7: "AV_ERR_API",
        8: "AV_ERR_HTTP",
        9: "AV_ERR_PROTOCOL",
        10: "AV_ERR_NOT_FOUND",
        11: "AV_ERR_STORAGE",
        12: "AV_ERR_INTERNAL",
    }
    assert {int(s): s.c_name for s in Status} == names
    assert all(s.c_name.endswith(s.name) for s in Status)


@pytest.mark.parametrize(
    "cls, status, extra_base",
    [
        (alfaview_auth.InvalidArgumentError, Status.INVALID_ARGUMENT, ValueError),
        (alfaview_auth.NetworkError, Status.NETWORK, None),
        (alfaview_auth.TimeoutError, Status.TIMEOUT, builtins.TimeoutError),
        (alfaview_auth.TlsError, Status.TLS, None),
        (alfaview_auth.AuthenticationError, Status.AUTHENTICATION, None),
        (alfaview_auth.TokenExpiredError, Status.TOKEN_EXPIRED, None),
        (alfaview_auth.ApiError, Status.API, None),
        (alfaview_auth.HttpError, Status.HTTP, None),
        (alfaview_auth.ProtocolError, Status.PROTOCOL, None),
        (alfaview_auth.NotFoundError, Status.NOT_FOUND, None),
        (alfaview_auth.StorageError, Status.STORAGE, None),
        (alfaview_auth.InternalError, Status.INTERNAL, None),
    ],
)
def test_one_exception_class_per_status(cls, status, extra_base) -> None:  # type: ignore[no-untyped-def]
    assert issubclass(cls, alfaview_auth.AlfaviewError)
    if extra_base is not None:
        assert issubclass(cls, extra_base)
    e = cls("it failed", api_status="X", request_id="r-1", http_status=500)
    assert e.status is status and str(e) == "it failed (server status X) [request r-1]"
    assert (e.message, e.api_status, e.request_id, e.http_status) == ("it failed", "X", "r-1", 500)
    again = pickle.loads(pickle.dumps(e))
    assert type(again) is cls and again.request_id == "r-1" and again.status is status


def test_library_not_found_error_is_an_import_error() -> None:
    assert issubclass(alfaview_auth.LibraryNotFoundError, ImportError)
