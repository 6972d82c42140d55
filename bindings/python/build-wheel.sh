#!/usr/bin/env bash
# Builds a binary wheel of the Python binding with the native library inside
# (`make wheel` runs it after `make release`):
#
#   bindings/python/build-wheel.sh [LIBRARY]
#
# LIBRARY: the native library to bundle (default: $ALFAVIEW_WHEEL_LIBRARY, else
# target/release/ with this platform's file name: libalfaview_auth.so, .dylib or
# alfaview_auth.dll). It must be built for the machine running this script: the wheel's
# platform tag is this machine's (setup.py), e.g. py3-none-linux_x86_64.
#
# The package is staged in a temporary directory (pyproject.toml, setup.py, README.md,
# alfaview_auth/ and the repository's LICENSE-* files), the library copied into the staged alfaview_auth/ and the wheel built
# from there with `pip wheel` (setuptools, build isolation), so nothing is written into the
# source tree: no library copy, no build/ or *.egg-info. The wheel goes to
# bindings/python/dist/ (ignored by git); its path is the last line printed.
#
# Environment: ALFAVIEW_WHEEL_PYTHON (the interpreter, default /usr/bin/python3; the
# build runs in a virtualenv made from it under build/python-wheel/), and pip's own
# variables (PIP_INDEX_URL, PIP_FIND_LINKS, PIP_NO_BUILD_ISOLATION, ...): the build
# environment needs setuptools>=77 from the package index unless pip's cache has it.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
HERE="$ROOT/bindings/python"
DIST="$HERE/dist"
PYTHON="${ALFAVIEW_WHEEL_PYTHON:-/usr/bin/python3}"
VENV="$ROOT/build/python-wheel/venv"

say() { echo "build-wheel: $*" >&2; }
die() { say "$*"; exit 1; }

[ $# -le 1 ] || die "usage: $0 [LIBRARY]"
command -v "$PYTHON" >/dev/null 2>&1 || die "$PYTHON not found (set ALFAVIEW_WHEEL_PYTHON)"

# The file name the loader looks for on this platform, from the loader itself (loaded on
# its own: importing the package would try to load the library).
name="$("$PYTHON" - "$HERE/alfaview_auth/_loader.py" <<'EOF'
import importlib.util, sys
spec = importlib.util.spec_from_file_location("_alfaview_loader", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
print(module.library_file_name())
EOF
)"

lib="${1:-${ALFAVIEW_WHEEL_LIBRARY:-$ROOT/target/release/$name}}"
[ -f "$lib" ] || die "$lib is missing; build it with: make release (or: make wheel)"
lib="$(cd "$(dirname "$lib")" && pwd)/$(basename "$lib")"

# ---- a virtualenv with pip to build with ---------------------------------------------
if ! "$VENV/bin/python" -m pip --version >/dev/null 2>&1; then
  rm -rf "$VENV"
  mkdir -p "$(dirname "$VENV")"
  if ! "$PYTHON" -m venv "$VENV" >/dev/null 2>&1; then
    rm -rf "$VENV"
    pkg="python3-venv"
    if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
      say "$PYTHON cannot create a virtualenv; installing $pkg"
      apt-get update -qq
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$pkg" >/dev/null
      "$PYTHON" -m venv "$VENV"
    else
      die "$PYTHON cannot create a virtualenv (venv/ensurepip missing); install it with: sudo apt-get install -y $pkg"
    fi
  fi
fi

# ---- stage the package with the library ---------------------------------------------
stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT
mkdir "$stage/src" "$stage/out"
cp "$HERE/pyproject.toml" "$HERE/setup.py" "$HERE/README.md" "$stage/src/"
# The licence texts (setuptools puts LICENSE* into the wheel's .dist-info/licenses/).
for f in "$ROOT"/LICENSE-*; do [ -f "$f" ] && cp "$f" "$stage/src/"; done
mkdir "$stage/src/alfaview_auth"
# The package's own files only: no __pycache__, no library left over from elsewhere.
for f in "$HERE"/alfaview_auth/*.py "$HERE/alfaview_auth/py.typed"; do
  cp "$f" "$stage/src/alfaview_auth/"
done
cp "$lib" "$stage/src/alfaview_auth/$name"
chmod 0755 "$stage/src/alfaview_auth/$name"
# The licences of what the library links statically (make release / make wheel write it).
licences="$(dirname "$lib")/THIRD-PARTY-LICENSES.txt"
[ -f "$licences" ] || die "$licences is missing; write it with: packaging/third-party-licenses.py -o $licences (make wheel does)"
cp "$licences" "$stage/src/alfaview_auth/THIRD-PARTY-LICENSES.txt"

say "bundling $lib as alfaview_auth/$name"
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1
# Run from the staging directory so nothing lands in the caller's directory either.
(cd "$stage" && "$VENV/bin/python" -m pip wheel -q --no-deps --wheel-dir "$stage/out" "$stage/src") ||
  die "pip wheel failed"

shopt -s nullglob
wheels=("$stage"/out/*.whl)
[ ${#wheels[@]} -eq 1 ] || die "expected one wheel, got: ${wheels[*]:-none}"
wheel="${wheels[0]}"
case "$(basename "$wheel")" in
  *-py3-none-any.whl) die "$(basename "$wheel") is tagged as pure although it holds a native library (setup.py not used?)" ;;
  *-py3-none-*.whl) ;;
  *) die "unexpected wheel tag: $(basename "$wheel") (expected py3-none-<platform>)" ;;
esac
# The library must be in it, under the name the loader looks for.
"$PYTHON" - "$wheel" "alfaview_auth/$name" <<'EOF' || die "the wheel does not contain alfaview_auth/$name"
import sys, zipfile
sys.exit(0 if sys.argv[2] in zipfile.ZipFile(sys.argv[1]).namelist() else 1)
EOF

mkdir -p "$DIST"
mv -f "$wheel" "$DIST/"
say "built $(basename "$wheel")"
echo "$DIST/$(basename "$wheel")"
