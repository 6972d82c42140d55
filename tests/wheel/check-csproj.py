#!/usr/bin/env python3
"""Offline checks of bindings/csharp/src/Alfaview.Auth.csproj (there is no dotnet here).

    tests/wheel/check-csproj.py [--require-release]

Parses the project (it must be well-formed XML) and evaluates the small part of MSBuild it
uses: properties in document order ($(Name) references, command-line properties that
the project cannot override, conditions made of '...' == '...', '...' != '...',
Exists('...') and `and`), then the None/Content items. Anything else in a condition or a
property function makes the check fail, so this script has to learn a new construct
before the project can use it. Then it checks, for several layouts of cargo's target
directory made up in a temporary directory:

  - the package's version is the Rust crate's, the target framework netstandard2.0;
  - each native library goes to runtimes/<rid>/native/ with the file name of that RID's
    OS (.so for linux-*, .dylib for osx-*, .dll for win-*), none twice;
  - a release build of this machine (target/release/) is packed for this machine's RID
    only, per-triple builds (target/<triple>/release/) for theirs;
  - ProjectReference users get this machine's library copied next to their output;
  - the pack fails (the Error target's condition holds) when there is no library at all;
  - the README and the Mono dllmap it packs exist;
  - THIRD-PARTY-LICENSES.txt next to this machine's library (make release writes it) is
    packed at the package root, and nothing in its place without it.

With --require-release it also evaluates the real target/ and requires
target/release/libalfaview_auth.so to be packed as runtimes/linux-x64/native/ (on an
x86_64 Linux machine, after `make release`).

Exits 1 if a check fails.
"""

from __future__ import annotations

import os
import platform
import re
import sys
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Dict, List, Optional, Tuple

ROOT = Path(__file__).resolve().parents[2]
CSPROJ = ROOT / "bindings" / "csharp" / "src" / "Alfaview.Auth.csproj"

# RID -> (cargo target triple, library file name)
RIDS = {
    "linux-x64": ("x86_64-unknown-linux-gnu", "libalfaview_auth.so"),
    "linux-arm64": ("aarch64-unknown-linux-gnu", "libalfaview_auth.so"),
    "osx-x64": ("x86_64-apple-darwin", "libalfaview_auth.dylib"),
    "osx-arm64": ("aarch64-apple-darwin", "libalfaview_auth.dylib"),
    "win-x64": ("x86_64-pc-windows-msvc", "alfaview_auth.dll"),
}
HOST_ARCH_FUNCTION = "$([System.Runtime.InteropServices.RuntimeInformation]::OSArchitecture)"


class Unsupported(Exception):
    """A construct this evaluator does not know."""


def host_arch() -> str:
    """What RuntimeInformation.OSArchitecture says on this machine."""
    machine = platform.machine().lower()
    return {"x86_64": "X64", "amd64": "X64", "aarch64": "Arm64", "arm64": "Arm64"}.get(machine, machine)


class Evaluation:
    """The project evaluated with the given command-line (global) properties."""

    def __init__(self, root: ET.Element, project_dir: Path, globals_: Dict[str, str]) -> None:
        self.project_dir = project_dir
        self.globals = dict(globals_)
        self.props: Dict[str, str] = {"MSBuildThisFileDirectory": str(project_dir) + os.sep}
        self.props.update(self.globals)
        self.items: List[Tuple[str, str, Dict[str, str]]] = []  # (type, include, metadata)
        self.updates: List[Tuple[str, str, Dict[str, str]]] = []
        self.targets: Dict[str, ET.Element] = {}
        for group in root:
            if group.tag == "PropertyGroup" and self.condition(group.get("Condition")):
                for prop in group:
                    if not isinstance(prop.tag, str):
                        continue  # a comment
                    if self.condition(prop.get("Condition")) and prop.tag not in self.globals:
                        self.props[prop.tag] = self.expand(prop.text or "")
            elif group.tag == "ItemGroup" and self.condition(group.get("Condition")):
                for item in group:
                    if not isinstance(item.tag, str) or not self.condition(item.get("Condition")):
                        continue
                    meta = {k: self.expand(v) for k, v in item.attrib.items() if k not in ("Include", "Update", "Condition")}
                    meta.update({m.tag: self.expand(m.text or "") for m in item if isinstance(m.tag, str)})
                    if "Include" in item.attrib:
                        include = self.expand(item.get("Include", ""))
                        if include:
                            self.items.append((item.tag, include, meta))
                    elif "Update" in item.attrib:
                        self.updates.append((item.tag, self.expand(item.get("Update", "")), meta))
            elif group.tag == "Target":
                self.targets[group.get("Name", "")] = group

    def expand(self, text: str) -> str:
        text = text.strip()
        if "$([" in text:
            if HOST_ARCH_FUNCTION not in text:
                raise Unsupported(f"property function in {text!r}")
            text = text.replace(HOST_ARCH_FUNCTION, host_arch())
        if "@(" in text or "%(" in text:
            raise Unsupported(f"item or metadata reference in {text!r}")
        return re.sub(r"\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)", lambda m: self.props.get(m.group(1), ""), text)

    def path(self, value: str) -> Path:
        """A path as MSBuild takes it: relative to the project's directory."""
        p = Path(value.replace("\\", os.sep))
        return p if p.is_absolute() else self.project_dir / p

    def condition(self, cond: Optional[str]) -> bool:
        if cond is None or not cond.strip():
            return True
        bare = re.sub(r"\$\([A-Za-z_][A-Za-z0-9_.-]*\)", "", cond).replace("Exists(", "")
        if re.search(r"\bor\b", bare, re.IGNORECASE) or "(" in bare:
            raise Unsupported(f"condition {cond!r}")
        return all(self.clause(c) for c in re.split(r"\s+and\s+", cond.strip(), flags=re.IGNORECASE))

    def clause(self, clause: str) -> bool:
        clause = clause.strip()
        m = re.fullmatch(r"(!?)Exists\('([^']*)'\)", clause)
        if m:
            value = self.expand(m.group(2))
            exists = bool(value) and self.path(value).exists()
            return exists != bool(m.group(1))
        m = re.fullmatch(r"'([^']*)'\s*(==|!=)\s*'([^']*)'", clause)
        if m:
            # MSBuild compares strings case-insensitively.
            equal = self.expand(m.group(1)).lower() == self.expand(m.group(3)).lower()
            return equal if m.group(2) == "==" else not equal
        raise Unsupported(f"condition clause {clause!r}")

    def packed(self) -> Dict[str, Path]:
        """package path -> source file, for every item with Pack="true"."""
        out: Dict[str, Path] = {}
        entries = [(t, inc, meta) for t, inc, meta in self.items]
        # Update items apply to the SDK's default None items (every file in the project
        # directory that is not compiled).
        for t, upd, meta in self.updates:
            entries.append((t, upd, meta))
        for _type, include, meta in entries:
            if meta.get("Pack", "").lower() != "true":
                continue
            src = self.path(include)
            package_path = meta.get("PackagePath", "").replace("\\", "/")
            if package_path in ("", "/"):
                dest = src.name
            elif package_path.endswith("/"):
                dest = package_path + src.name
            else:
                dest = package_path
            if dest in out:
                raise AssertionError(f"two items packed as {dest}: {out[dest]} and {src}")
            out[dest] = src
        return out

    def copied(self) -> Dict[str, Path]:
        """output file name -> source, for Content items copied to the output directory."""
        return {
            meta.get("Link") or self.path(include).name: self.path(include)
            for t, include, meta in self.items
            if t == "Content" and meta.get("CopyToOutputDirectory")
        }

    def pack_error(self) -> bool:
        """Whether the check target's Error fires."""
        target = self.targets.get("AlfaviewCheckNativeLibraries")
        if target is None:
            raise AssertionError("no AlfaviewCheckNativeLibraries target")
        if target.get("BeforeTargets") != "GenerateNuspec":
            raise AssertionError("AlfaviewCheckNativeLibraries must run before GenerateNuspec")
        errors = [e for e in target if e.tag == "Error"]
        if len(errors) != 1:
            raise AssertionError("AlfaviewCheckNativeLibraries must hold one Error")
        return self.condition(errors[0].get("Condition"))


def natives(packed: Dict[str, Path]) -> Dict[str, Path]:
    return {dest: src for dest, src in packed.items() if dest.startswith("runtimes/")}


def main() -> int:
    require_release = "--require-release" in sys.argv[1:]
    passed = failed = 0

    def check(name: str, ok: bool, detail: str = "") -> None:
        nonlocal passed, failed
        if ok:
            passed += 1
            print(f"  ok    {name}")
        else:
            failed += 1
            print(f"  FAIL  {name}{': ' + detail if detail else ''}")

    try:
        tree = ET.parse(CSPROJ)
    except ET.ParseError as e:
        check("the .csproj is well-formed XML", False, str(e))
        print(f"check-csproj: {failed} of {passed + failed} checks failed")
        return 1
    check("the .csproj is well-formed XML", True)
    root = tree.getroot()
    check("<Project Sdk=\"Microsoft.NET.Sdk\">", root.tag == "Project" and root.get("Sdk") == "Microsoft.NET.Sdk",
          f"{root.tag} {root.attrib}")
    project_dir = CSPROJ.parent

    def evaluate(globals_: Dict[str, str]) -> Evaluation:
        return Evaluation(root, project_dir, globals_)

    try:
        base = evaluate({})
    except Unsupported as e:
        check("the project uses only what this script can evaluate", False, str(e))
        print(f"check-csproj: {failed} of {passed + failed} checks failed")
        return 1

    try:
        cargo_version = re.search(r'^version\s*=\s*"([^"]+)"', (ROOT / "Cargo.toml").read_text(), re.MULTILINE)
        check("Version equals the crate's (Cargo.toml)",
              cargo_version is not None and base.props.get("Version") == cargo_version.group(1),
              f"{base.props.get('Version')} vs {cargo_version.group(1) if cargo_version else '?'}")
        check("TargetFramework netstandard2.0", base.props.get("TargetFramework") == "netstandard2.0",
              str(base.props.get("TargetFramework")))
        check("PackageId Alfaview.Auth", base.props.get("PackageId") == "Alfaview.Auth", str(base.props.get("PackageId")))
        packed = base.packed()
        readme = base.props.get("PackageReadmeFile")
        check("PackageReadmeFile is packed at the package root and exists",
              bool(readme) and readme in packed and packed[readme].is_file(), f"{readme}: {packed.get(readme or '')}")
        config = packed.get("lib/netstandard2.0/Alfaview.Auth.dll.config")
        check("the Mono dllmap is packed next to the assembly and exists", config is not None and config.is_file(), str(config))
        check("the DllImport name's files are in the dllmap",
              all(f'target="{name}"' in (project_dir / "Alfaview.Auth.dll.config").read_text()
                  for name in ("libalfaview_auth.so", "libalfaview_auth.dylib", "alfaview_auth.dll")))

        arch = host_arch()
        host_rids = [rid for rid in RIDS if rid.endswith("-x64" if arch == "X64" else "-arm64")]

        with tempfile.TemporaryDirectory() as tmp:
            def layout(name: str, files: List[str]) -> str:
                target = Path(tmp) / name
                for f in files:
                    (target / f).parent.mkdir(parents=True, exist_ok=True)
                    (target / f).write_bytes(b"\x7fELF fake")
                return str(target) + os.sep

            # Nothing built: nothing packed, the pack fails, nothing copied.
            empty = evaluate({"CargoTargetDir": layout("empty", [])})
            check("no library: nothing is packed under runtimes/", not natives(empty.packed()), str(natives(empty.packed())))
            check("no library: the pack fails with an error", empty.pack_error())
            check("no library: nothing is copied to the output", not empty.copied(), str(empty.copied()))
            check("no THIRD-PARTY-LICENSES.txt: none is packed", "THIRD-PARTY-LICENSES.txt" not in empty.packed())

            # The licences of what the library links, written next to it by make release.
            with_licences = layout("licences", ["release/libalfaview_auth.so", "release/THIRD-PARTY-LICENSES.txt"])
            ev = evaluate({"CargoTargetDir": with_licences, "AlfaviewHostArch": "X64"})
            check("target/release/THIRD-PARTY-LICENSES.txt is packed at the package root",
                  ev.packed().get("THIRD-PARTY-LICENSES.txt") == Path(with_licences) / "release/THIRD-PARTY-LICENSES.txt",
                  str(ev.packed().get("THIRD-PARTY-LICENSES.txt")))

            # Every triple built: five RIDs, each from its own directory.
            every = evaluate({"CargoTargetDir": layout("every", [f"{t}/release/{n}" for t, n in RIDS.values()])})
            got = natives(every.packed())
            want = {f"runtimes/{rid}/native/{n}": Path(tmp) / "every" / t / "release" / n for rid, (t, n) in RIDS.items()}
            check("per-triple builds: each RID packed from target/<triple>/release/",
                  {k: str(v) for k, v in got.items()} == {k: str(v) for k, v in want.items()},
                  f"got {sorted(got)}")
            check("per-triple builds: the pack goes ahead", not every.pack_error())

            # A host build in target/release/ of each OS: packed for this machine's arch only.
            for fname, os_prefix in (("libalfaview_auth.so", "linux"), ("libalfaview_auth.dylib", "osx"),
                                     ("alfaview_auth.dll", "win")):
                for fake_arch, suffix in (("X64", "x64"), ("Arm64", "arm64")):
                    ev = evaluate({"CargoTargetDir": layout(f"host-{fname}", [f"release/{fname}"]),
                                   "AlfaviewHostArch": fake_arch})
                    rid = f"{os_prefix}-{suffix}"
                    expect = {f"runtimes/{rid}/native/{fname}"} if rid in RIDS else set()
                    check(f"target/release/{fname} on an {fake_arch} machine -> {sorted(expect) or 'not packed'}",
                          set(natives(ev.packed())) == expect, str(sorted(natives(ev.packed()))))
                copied = ev.copied()
                check(f"ProjectReference: target/release/{fname} copied to the output as {fname}",
                      list(copied) == [fname], str(copied))

            # A per-triple build wins over target/release/ for the same RID; an explicit file wins over both.
            both = layout("both", ["release/libalfaview_auth.so", "x86_64-unknown-linux-gnu/release/libalfaview_auth.so"])
            ev = evaluate({"CargoTargetDir": both, "AlfaviewHostArch": "X64"})
            check("the per-triple build is preferred to target/release/",
                  natives(ev.packed()).get("runtimes/linux-x64/native/libalfaview_auth.so")
                  == Path(both) / "x86_64-unknown-linux-gnu/release/libalfaview_auth.so")
            explicit = layout("explicit", ["mine/libalfaview_auth.dylib"]) + "mine/libalfaview_auth.dylib"
            ev = evaluate({"CargoTargetDir": both, "AlfaviewNative_osx_arm64": explicit})
            check("-p:AlfaviewNative_osx_arm64=<file> is packed as osx-arm64",
                  natives(ev.packed()).get("runtimes/osx-arm64/native/libalfaview_auth.dylib") == Path(explicit))

            # Every native item: the RID's file name, a known RID.
            for dest in natives(every.packed()):
                m = re.fullmatch(r"runtimes/([^/]+)/native/([^/]+)", dest)
                ok = bool(m) and m.group(1) in RIDS and RIDS[m.group(1)][1] == m.group(2)
                check(f"{dest}: the RID's file name", ok)

        if require_release:
            real = evaluate({})
            lib = ROOT / "target" / "release" / "libalfaview_auth.so"
            got = natives(real.packed())
            if sys.platform.startswith("linux") and arch == "X64":
                check("after a release build: target/release/libalfaview_auth.so is packed as runtimes/linux-x64/native/",
                      lib.is_file() and got.get("runtimes/linux-x64/native/libalfaview_auth.so") is not None
                      and got["runtimes/linux-x64/native/libalfaview_auth.so"].resolve() == lib.resolve(),
                      f"{lib} exists: {lib.is_file()}; packed: {sorted(got)}")
                check("after a release build: ProjectReference copies libalfaview_auth.so",
                      "libalfaview_auth.so" in real.copied(), str(real.copied()))
                licences = ROOT / "target" / "release" / "THIRD-PARTY-LICENSES.txt"
                check("after a release build: target/release/THIRD-PARTY-LICENSES.txt is packed at the root",
                      licences.is_file() and real.packed().get("THIRD-PARTY-LICENSES.txt") is not None
                      and real.packed()["THIRD-PARTY-LICENSES.txt"].resolve() == licences.resolve(),
                      f"{licences} exists: {licences.is_file()}")
            else:
                check(f"after a release build: something is packed for {host_rids}", bool(got), str(got))

    except (AssertionError, Unsupported) as e:
        check("the project evaluates", False, f"{type(e).__name__}: {e}")

    print(f"check-csproj: {'all ' + str(passed) + ' checks passed' if not failed else f'{failed} of {passed + failed} checks failed'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
