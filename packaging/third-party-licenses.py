#!/usr/bin/env python3
"""Writes the licences of everything compiled into the C library besides our own code.

    packaging/third-party-licenses.py [--target TRIPLE]... [-o FILE]

libalfaview_auth.so and .a link the Rust standard library and every crate the library
depends on (for the target: the OS credential store differs per platform) statically,
including C code some of them build (ring's, and libdbus, vendored by libdbus-sys). Their
licences (MIT, Apache-2.0, ISC, BSD, AFL-2.1/GPL-2.0+ for libdbus, ...) ask that their
notices travel with the binary: `make release` writes this file next to the library,
`make install` installs it, and the wheel carries it.

Which crates: the normal (not build, dev or proc-macro) dependencies of the alfaview-auth
package for the target, as `cargo tree --locked` resolves them (the versions in Cargo.lock). What of each: the
SPDX expression and repository from its Cargo.toml, and every licence file at the root of
its package (LICENSE*, LICENCE*, COPYING*, NOTICE*, UNLICENSE), plus COPYING files of C
sources vendored under vendor/*/. Identical texts are printed once and referred to.
With several --target options the file covers all of those platforms (for a package that
carries the library for each, like the .NET one). A package that ships no licence file is listed with its SPDX expression and repository,
and named on stderr (the file is still written).
"""

import argparse
import hashlib
import json
import os
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
PACKAGE = "alfaview-auth"
PATTERNS = ("LICENSE*", "LICENCE*", "COPYING*", "NOTICE*", "UNLICENSE")


def run(*cmd):
    return subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True, text=True).stdout


def host_triple():
    for line in run(os.environ.get("RUSTC", "rustc"), "-vV").splitlines():
        if line.startswith("host: "):
            return line.split(": ", 1)[1].strip()
    sys.exit("third-party-licenses: rustc -vV printed no host triple")


def linked_packages(meta, targets):
    """The packages the library links: its normal dependencies, transitively, for the
    target, with the features the library itself enables. `cargo tree` resolves those
    (`cargo metadata` unifies the features of the whole workspace, which would add the
    mock server's and the CLI's optional dependencies); proc-macros are left out, since
    they run in the compiler."""
    target_args = [a for t in targets for a in ("--target", t)]
    tree = run("cargo", "tree", "-q", "--locked", "-p", PACKAGE, "-e", "normal,no-proc-macro",
               "--prefix", "none", *target_args, "-f", "{p}")
    wanted = set()
    for line in tree.splitlines():
        if not line.strip():
            continue  # between the trees of several targets
        name, version = line.split()[:2]
        if name != PACKAGE:
            wanted.add((name, version.lstrip("v")))
    found = [p for p in meta["packages"] if (p["name"], p["version"]) in wanted]
    if len(found) != len(wanted):
        sys.exit("third-party-licenses: cargo metadata lacks some of cargo tree's packages")
    return sorted(found, key=lambda p: (p["name"], p["version"]))


def licence_files(package):
    root = pathlib.Path(package["manifest_path"]).parent
    found = []
    for pattern in PATTERNS:
        found += [p for p in root.glob(pattern) if p.is_file()]
    # C sources built from the package itself (libdbus-sys's vendored libdbus).
    found += [p for p in root.glob("vendor/*/COPYING*") if p.is_file()]
    return sorted(set(found))


def std_licences():
    """The standard library's licence files from the toolchain, if it ships them."""
    sysroot = pathlib.Path(run(os.environ.get("RUSTC", "rustc"), "--print", "sysroot").strip())
    doc = sysroot / "share" / "doc" / "rust"
    return sorted(p for p in doc.glob("LICENSE*") if p.is_file()) if doc.is_dir() else []


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--target", action="append",
                    help="target triple, repeatable (default: this machine's)")
    ap.add_argument("-o", "--output", help="file to write (default: standard output)")
    args = ap.parse_args()
    targets = args.target or [host_triple()]

    # Only the targets' packages: others need not be downloaded.
    platforms = [a for t in targets for a in ("--filter-platform", t)]
    meta = json.loads(run("cargo", "metadata", "--format-version", "1", "--locked", *platforms))
    packages = linked_packages(meta, targets)
    version = next(p["version"] for p in meta["packages"] if p["name"] == PACKAGE and p["source"] is None)

    texts = {}  # digest -> (number, text)
    entries = []
    missing = []

    def cite(path):
        text = path.read_text(encoding="utf-8", errors="replace").strip("\n")
        digest = hashlib.sha256(text.encode()).hexdigest()
        if digest not in texts:
            texts[digest] = (len(texts) + 1, text)
        return texts[digest][0]

    # The toolchain may not ship the standard library's licence files (rustup's minimal
    # profile does not); its licence is then named with the upstream files' addresses.
    rust_std = std_licences()
    entries.append(("Rust standard library (std, core, alloc; copyright the Rust project "
                    "developers)", "MIT OR Apache-2.0",
                    "https://github.com/rust-lang/rust (LICENSE-MIT, LICENSE-APACHE)",
                    [(p.name, cite(p)) for p in rust_std]))
    for p in packages:
        files = licence_files(p)
        root = pathlib.Path(p["manifest_path"]).parent
        entries.append((f'{p["name"]} {p["version"]}', p.get("license") or "(not declared)",
                        p.get("repository") or "", [(str(f.relative_to(root)), cite(f)) for f in files]))
        if not files:
            missing.append(f'{p["name"]} {p["version"]}')

    out = []
    out.append(f"Third-party software in alfaview-auth {version} (libalfaview_auth) for "
               + ", ".join(targets))
    out.append("=" * len(out[0]))
    out.append("")
    out.append("The library links the following software statically. Each is listed with its")
    out.append("licence (SPDX expression), its repository and its licence files; the texts")
    out.append("follow, each printed once. Generated by packaging/third-party-licenses.py from")
    out.append("Cargo.lock.")
    out.append("")
    for name, spdx, repo, files in entries:
        out.append(f"- {name}: {spdx}")
        if repo:
            out.append(f"  {repo}")
        for fname, number in files:
            out.append(f"  {fname}: text [{number}]")
        if not files:
            out.append("  (the package ships no licence file; its SPDX licence applies)")
    out.append("")
    for number, text in sorted(texts.values()):
        out.append("-" * 78)
        out.append(f"[{number}]")
        out.append("")
        out.append(text)
        out.append("")
    data = "\n".join(out) + "\n"

    if args.output:
        pathlib.Path(args.output).write_text(data, encoding="utf-8")
    else:
        sys.stdout.write(data)
    if missing:
        print("third-party-licenses: no licence file shipped by: " + ", ".join(missing),
              file=sys.stderr)


if __name__ == "__main__":
    main()
