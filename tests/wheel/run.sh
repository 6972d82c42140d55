#!/usr/bin/env bash
# The binary wheel's suite (`make test-wheel`, after `make wheel` and `make build`):
#
#   tests/wheel/run.sh [WHEEL]
#
# WHEEL defaults to bindings/python/dist/alfaview_auth-<version>-py3-none-<platform>.whl,
# <platform> being this machine's (e.g. linux_x86_64). The suite
#   - checks the wheel's name, tag and WHEEL metadata (not pure, py3-none-<platform>), that
#     it holds the package's modules and target/release/libalfaview_auth.so byte for byte,
#     and that no library copy was left in the source tree;
#   - installs it into a fresh virtualenv (/usr/bin/python3 -m venv) with
#     `pip install --no-index --no-deps`, inside a network namespace with no network
#     (`unshare -n`) where that is allowed (root), and without ALFAVIEW_AUTH_LIBRARY;
#   - checks that `import alfaview_auth` loads the bundled library from site-packages, and
#     falls back to it (with a RuntimeWarning) from a bad ALFAVIEW_AUTH_LIBRARY;
#   - runs bindings/python/examples/example.py from that virtualenv against the mock
#     server (scripts/with-mock.sh);
#   - uninstalls it and checks the library went with it;
#   - checks bindings/csharp/src/Alfaview.Auth.csproj offline (check-csproj.py).
# Ends with `wheel tests: N passed, M failed`; exits 1 if any failed.
# Environment: ALFAVIEW_TEST_PYTHON (the interpreter for the virtualenv, default
# /usr/bin/python3).
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
HERE="$ROOT/tests/wheel"
PY_SRC="$ROOT/bindings/python"
PYTHON="${ALFAVIEW_TEST_PYTHON:-/usr/bin/python3}"
RELEASE_LIB="$ROOT/target/release/libalfaview_auth.so"
MOCK="$ROOT/target/debug/alfaview-mock"

die() { echo "tests/wheel: $*" >&2; exit 1; }
command -v "$PYTHON" >/dev/null 2>&1 || die "$PYTHON not found (set ALFAVIEW_TEST_PYTHON)"
[ -x "$MOCK" ] || die "$MOCK is missing; build it with: make build"
[ -f "$RELEASE_LIB" ] || die "$RELEASE_LIB is missing; build it with: make wheel"

version="$(sed -n 's/^version *= *"\([^"]*\)".*/\1/p' "$PY_SRC/pyproject.toml" | head -n1)"
[ -n "$version" ] || die "no version in $PY_SRC/pyproject.toml"
# The platform tag bdist_wheel gives a non-pure wheel built here.
plat="$("$PYTHON" -c 'import sysconfig; print(sysconfig.get_platform().replace("-", "_").replace(".", "_"))')"
lib_name="libalfaview_auth.so"
wheel="${1:-$PY_SRC/dist/alfaview_auth-$version-py3-none-$plat.whl}"
[ -f "$wheel" ] || die "$wheel is missing; build it with: make wheel"
wheel="$(cd "$(dirname "$wheel")" && pwd)/$(basename "$wheel")"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
venv="$work/venv"
vpy="$venv/bin/python"
# Nothing from the caller's environment may point at another copy of the library or
# change how pip finds packages.
unset ALFAVIEW_AUTH_LIBRARY ALFAVIEW_API_URL ALFAVIEW_CA_FILE ALFAVIEW_TIMEOUT_MS LD_LIBRARY_PATH PYTHONPATH
unset PIP_FIND_LINKS PIP_INDEX_URL PIP_EXTRA_INDEX_URL
export PIP_CONFIG_FILE=/dev/null PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1 PYTHONNOUSERSITE=1
export NO_PROXY=127.0.0.1,localhost no_proxy=127.0.0.1,localhost

passed=0
failed=0
run_test() { # name, function: runs it with its output indented, counts the result
  local name="$1"
  shift
  echo "== $name"
  if "$@" >"$work/out" 2>&1; then
    sed 's/^/   /' "$work/out"
    echo "   ok"
    passed=$((passed + 1))
  else
    sed 's/^/   /' "$work/out"
    echo "   FAILED: $name"
    failed=$((failed + 1))
  fi
}

# A command without network access where a network namespace can be made.
if unshare -n true >/dev/null 2>&1; then
  offline=(unshare -n)
else
  offline=()
fi

# ---- the wheel file ----------------------------------------------------------------------
t_name_and_tag() {
  basename "$wheel"
  case "$(basename "$wheel")" in
    "alfaview_auth-$version-py3-none-$plat.whl") ;;
    *) echo "expected alfaview_auth-$version-py3-none-$plat.whl"; return 1 ;;
  esac
  "$PYTHON" - "$wheel" "py3-none-$plat" <<'EOF'
import sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
[meta] = [n for n in z.namelist() if n.endswith(".dist-info/WHEEL")]
fields = [line.split(":", 1) for line in z.read(meta).decode().splitlines() if ":" in line]
fields = [(k.strip(), v.strip()) for k, v in fields]
print(*(f"{k}: {v}" for k, v in fields), sep="\n")
assert ("Root-Is-Purelib", "false") in fields, "Root-Is-Purelib must be false (the wheel holds a native library)"
tags = [v for k, v in fields if k == "Tag"]
assert tags == [sys.argv[2]], f"Tag: {tags}, expected {sys.argv[2]}"
EOF
}

t_contents() {
  "$PYTHON" - "$wheel" "$RELEASE_LIB" "$PY_SRC/alfaview_auth" "$lib_name" <<'EOF'
import base64, hashlib, pathlib, sys, zipfile
wheel, release_lib, src, lib_name = sys.argv[1], pathlib.Path(sys.argv[2]), pathlib.Path(sys.argv[3]), sys.argv[4]
z = zipfile.ZipFile(wheel)
names = z.namelist()
package = sorted(n for n in names if n.startswith("alfaview_auth/"))
print("package files:", ", ".join(p.split("/", 1)[1] for p in package))
want = sorted({f"alfaview_auth/{p.name}" for p in src.glob("*.py")}
              | {"alfaview_auth/py.typed", f"alfaview_auth/{lib_name}", "alfaview_auth/THIRD-PARTY-LICENSES.txt"})
assert package == want, f"package files differ from the source: extra {sorted(set(package) - set(want))}, missing {sorted(set(want) - set(package))}"
for p in src.glob("*.py"):
    assert z.read(f"alfaview_auth/{p.name}") == p.read_bytes(), f"{p.name} differs from the source"
bundled = z.read(f"alfaview_auth/{lib_name}")
assert bundled == release_lib.read_bytes(), f"the bundled {lib_name} is not {release_lib} (stale wheel? run make wheel)"
print(f"alfaview_auth/{lib_name}: {len(bundled)} bytes, identical to {release_lib}")
info = z.getinfo(f"alfaview_auth/{lib_name}")
mode = (info.external_attr >> 16) & 0o777
assert mode & 0o444 == 0o444, f"the library's mode in the wheel is {oct(mode)}"
[record] = [n for n in names if n.endswith(".dist-info/RECORD")]
rows = {line.split(",")[0]: line.split(",")[1] for line in z.read(record).decode().splitlines() if line}
digest = "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(bundled).digest()).rstrip(b"=").decode()
assert rows.get(f"alfaview_auth/{lib_name}") == digest, "RECORD does not list the library with its hash"
third_party = z.read("alfaview_auth/THIRD-PARTY-LICENSES.txt")
assert third_party == (release_lib.parent / "THIRD-PARTY-LICENSES.txt").read_bytes(), \
    "the bundled THIRD-PARTY-LICENSES.txt is not the one make wheel wrote next to the library"
assert b"- ring " in third_party and b"Academic Free License" in third_party, "THIRD-PARTY-LICENSES.txt lacks ring or libdbus"
print(f"alfaview_auth/THIRD-PARTY-LICENSES.txt: {len(third_party)} bytes, the licences of what the library links")
licences = [n for n in names if "/licenses/" in n]
print("licence files:", ", ".join(licences) or "none")
assert licences, "no licence file in the wheel"
assert not [n for n in names if n.startswith(("tests/", "examples/")) or "__pycache__" in n], "tests, examples or caches in the wheel"
EOF
}

t_source_tree_clean() {
  local left=()
  for f in libalfaview_auth.so libalfaview_auth.dylib alfaview_auth.dll; do
    [ -e "$PY_SRC/alfaview_auth/$f" ] && left+=("$PY_SRC/alfaview_auth/$f")
  done
  if [ ${#left[@]} -gt 0 ]; then
    echo "library copies left in the source tree: ${left[*]}"
    return 1
  fi
  echo "no library copy in $PY_SRC/alfaview_auth/"
}

# ---- install ---------------------------------------------------------------------------
t_install() {
  "$PYTHON" -m venv "$venv" || return 1
  if [ ${#offline[@]} -gt 0 ]; then
    echo "installing with no network (unshare -n), --no-index --no-deps"
  else
    echo "no network namespace available (not root?): installing with --no-index --no-deps only"
  fi
  "${offline[@]}" "$vpy" -m pip install --no-index --no-deps "$wheel" || return 1
  "$vpy" -m pip show -f alfaview-auth | grep -E '^(Name|Version|Location):|libalfaview_auth'
}

# Runs the virtualenv's Python from an empty directory, so only the installed copy can
# be imported.
vpython() { (cd "$work" && "${offline[@]}" "$vpy" "$@"); }

t_import_bundled() {
  [ -x "$vpy" ] || { echo "not installed"; return 1; }
  vpython -W error::RuntimeWarning - "$version" "$lib_name" <<'EOF'
import os, sys, sysconfig
assert "ALFAVIEW_AUTH_LIBRARY" not in os.environ
import alfaview_auth
expected = os.path.join(sysconfig.get_paths()["platlib"], "alfaview_auth", sys.argv[2])
print("alfaview_auth imported from", os.path.dirname(alfaview_auth.__file__))
print("library_path =", alfaview_auth.library_path)
assert os.path.samefile(alfaview_auth.library_path, expected), f"expected {expected}"
assert "site-packages" in alfaview_auth.library_path
print("version() =", alfaview_auth.version())
assert alfaview_auth.version() == sys.argv[1] == alfaview_auth.__version__, "version mismatch"
EOF
}

t_bad_override_falls_back() {
  [ -x "$vpy" ] || { echo "not installed"; return 1; }
  ALFAVIEW_AUTH_LIBRARY="$work/no-such-library.so" vpython - <<'EOF'
import sysconfig, warnings
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    import alfaview_auth
print("library_path =", alfaview_auth.library_path)
assert alfaview_auth.library_path.startswith(sysconfig.get_paths()["platlib"])
messages = [str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)]
print("warning:", *messages)
assert any("no-such-library.so" in m for m in messages), "no RuntimeWarning naming the bad ALFAVIEW_AUTH_LIBRARY"
EOF
}

t_example() {
  [ -x "$vpy" ] || { echo "not installed"; return 1; }
  local site
  site="$("$vpy" -c 'import sysconfig; print(sysconfig.get_paths()["platlib"])')" || return 1
  # shellcheck disable=SC2016 # expanded by the inner shell
  (cd "$work" && timeout -k 5 60 "$ROOT/scripts/with-mock.sh" \
    bash -c 'ALFAVIEW_API_URL="$ALFAVIEW_MOCK_URL" exec "$0" "$1"' "$vpy" "$PY_SRC/examples/example.py") \
    >"$work/example.out" 2>&1
  local status=$?
  cat "$work/example.out"
  [ "$status" = 0 ] || { echo "example.py exited with $status"; return 1; }
  grep -qF "(library $site/alfaview_auth/$lib_name)" "$work/example.out" ||
    { echo "example.py did not use the bundled library in $site"; return 1; }
  grep -q '^roomService/create: ' "$work/example.out" || { echo "example.py made no API call"; return 1; }
}

t_uninstall() {
  [ -x "$vpy" ] || { echo "not installed"; return 1; }
  local site
  site="$("$vpy" -c 'import sysconfig; print(sysconfig.get_paths()["platlib"])')" || return 1
  "${offline[@]}" "$vpy" -m pip uninstall -y alfaview-auth || return 1
  if [ -e "$site/alfaview_auth" ]; then
    echo "left behind in $site/alfaview_auth:"
    ls -la "$site/alfaview_auth"
    return 1
  fi
  echo "$site/alfaview_auth removed with the library"
}

t_csproj() {
  "$PYTHON" "$HERE/check-csproj.py" --require-release
}

run_test "wheel name and tag (py3-none-$plat)" t_name_and_tag
run_test "wheel contents" t_contents
run_test "no library copy left in the source tree" t_source_tree_clean
run_test "offline install into a fresh virtualenv" t_install
run_test "import loads the bundled library (no ALFAVIEW_AUTH_LIBRARY)" t_import_bundled
run_test "a bad ALFAVIEW_AUTH_LIBRARY falls back to the bundled library" t_bad_override_falls_back
run_test "examples/example.py against the mock" t_example
run_test "pip uninstall removes the library" t_uninstall
run_test "Alfaview.Auth.csproj (offline checks)" t_csproj

echo "wheel tests: $passed passed, $failed failed"
[ "$failed" = 0 ]
