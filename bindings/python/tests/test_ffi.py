"""The ctypes declarations against include/alfaview_auth.h: every function in the header
is declared with matching types, and every declared function is used by the package."""

from __future__ import annotations

import ctypes
import re
from pathlib import Path
from typing import Any, Dict, List, Tuple

import pytest

import alfaview_auth
from alfaview_auth import _ffi

from conftest import ROOT

HEADER = ROOT / "include" / "alfaview_auth.h"

SCALARS: Dict[str, Any] = {
    "void": None,
    "av_status": ctypes.c_int32,
    "int32_t": ctypes.c_int32,
    "int64_t": ctypes.c_int64,
    "uint32_t": ctypes.c_uint32,
    "size_t": ctypes.c_size_t,
}


def header_text() -> str:
    if not HEADER.exists():
        pytest.skip(f"{HEADER} not found (not a checkout)")
    text = HEADER.read_text()
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    return re.sub(r"//[^\n]*", " ", text)


def c_type(decl: str, *, is_return: bool = False) -> Any:
    """The ctypes type a C declaration (type plus optional name) must be bound as."""
    decl = re.sub(r"\s+", " ", decl).strip()
    stars = decl.count("*")
    words = decl.replace("*", " ").split()
    words = [w for w in words if w != "const"]
    base = words[0]
    const_char = "const char" in decl
    if base == "char":
        if stars == 1:  # const char * in, or a borrowed const char * out; char * to free
            return ctypes.c_char_p if const_char else ctypes.c_void_p
        assert stars == 2 and not const_char, decl
        return _ffi.OutString  # char **: library-allocated, freed with av_string_free
    if base == "void" and stars == 1:
        return ctypes.c_void_p
    if base in SCALARS:
        t = SCALARS[base]
    else:
        t = getattr(_ffi, base)  # av_client, av_log_cb, ...
    for _ in range(stars):
        t = ctypes.POINTER(t)
    return t


def header_functions() -> Dict[str, Tuple[str, List[str]]]:
    """Every function prototype in the header: name -> (result type, argument decls)."""
    text = header_text()
    found: Dict[str, Tuple[str, List[str]]] = {}
    for ret, name, args in re.findall(r"([A-Za-z_][\w \*]*?)\b(av_\w+)\s*\(([^()]*)\)\s*;", text):
        if ret.strip().startswith("typedef"):
            continue
        arg_list = [] if args.strip() in ("", "void") else args.split(",")
        found[name] = (ret, arg_list)
    return found


def test_every_header_function_is_declared_with_the_header_types() -> None:
    functions = header_functions()
    assert len(functions) >= 44, sorted(functions)
    declared = _ffi.declarations()
    missing = sorted(set(functions) - set(declared))
    assert not missing, f"declare these in alfaview_auth/_ffi.py FUNCTIONS: {missing}"
    for name, (ret, args) in functions.items():
        restype, argtypes = c_type(ret, is_return=True), [c_type(a) for a in args]
        fn = declared[name]
        assert fn.restype == restype, f"{name}: restype {fn.restype} != header's {restype}"
        assert list(fn.argtypes) == argtypes, f"{name}: argtypes {fn.argtypes} != header's {argtypes}"
        bound = getattr(_ffi.lib, name)
        if fn.optional and bound is None:
            continue
        assert bound is not None and bound.restype == restype and bound.argtypes == argtypes


def test_store_callbacks_struct_matches() -> None:
    text = header_text()
    found = re.search(r"typedef\s+struct\s*\{(.*?)\}\s*av_store_callbacks\s*;", text, re.S)
    assert found, "no av_store_callbacks in the header"
    members = re.findall(r"([A-Za-z_][\w \*]*?)\(\s*\*\s*(\w+)\s*\)\s*\(([^()]*)\)\s*;", found.group(1))
    fields = dict(_ffi.av_store_callbacks._fields_)
    assert [name for _, name, _ in members] == [name for name, _ in _ffi.av_store_callbacks._fields_]
    for ret, name, args in members:
        cfunc = fields[name]
        want_args = []
        for a in args.split(","):
            t = c_type(a)
            # A writable char * buffer (load's) is bound as an address, not c_char_p.
            if "char" in a and "const" not in a:
                assert t is ctypes.c_void_p, a
            want_args.append(t)
        assert cfunc._restype_ == c_type(ret, is_return=True), name
        assert list(cfunc._argtypes_) == want_args, name


def test_optional_functions_raise_a_clear_error_when_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_ffi.lib, "av_store_delete", None)
    with pytest.raises(NotImplementedError, match="av_store_delete"):
        alfaview_auth.store.delete("app")


def test_no_declaration_is_missing_from_the_header() -> None:
    extra = sorted(set(_ffi.declarations()) - set(header_functions()))
    assert not extra, f"declared but not in the header: {extra}"


def test_callback_typedefs_match() -> None:
    text = header_text()
    typedefs = dict(
        (name, args)
        for name, args in re.findall(r"typedef\s+void\s*\(\s*\*\s*(av_\w+)\s*\)\s*\(([^()]*)\)\s*;", text)
    )
    assert set(typedefs) == {"av_refresh_token_cb", "av_log_cb"}
    for name, args in typedefs.items():
        cfunc = getattr(_ffi, name)
        assert cfunc._restype_ is None
        assert list(cfunc._argtypes_) == [c_type(a) for a in args.split(",")], name


def test_owned_strings_are_never_c_char_p() -> None:
    for fn in _ffi.FUNCTIONS:
        assert ctypes.POINTER(ctypes.c_char_p) not in fn.argtypes, fn.name


def test_every_function_is_used_by_the_package() -> None:
    package = Path(alfaview_auth.__file__).parent
    # Everything but the declaration table itself.
    texts = []
    for p in package.glob("*.py"):
        text = p.read_text()
        if p.name == "_ffi.py":
            start = text.index("FUNCTIONS: Sequence[Fn] = (")
            end = text.index("\n)\n", start)
            text = text[:start] + text[end:]
        texts.append(text)
    source = "\n".join(texts)
    unused = [
        fn.name
        for fn in _ffi.FUNCTIONS
        if fn.name not in source
        and fn.name not in ("av_client_free", "av_session_free")  # via _free_name
    ]
    assert not unused, f"declared but never called: {unused}"
    assert '"av_client_free"' in source and '"av_session_free"' in source
