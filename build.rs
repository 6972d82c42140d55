//! Build script of the alfaview-auth library crate.
//!
//! On Linux it gives the shared library an ELF SONAME, `libalfaview_auth.so.<SOVERSION>`,
//! so that programs linked against it record that name (DT_NEEDED) and a later release
//! with an incompatible ABI can be installed next to this one under a new name. `make
//! install` installs the file as `libalfaview_auth.so.<version>` with the symlinks
//! `libalfaview_auth.so.<SOVERSION>` (the name the loader looks for) and
//! `libalfaview_auth.so` (the name `-lalfaview_auth` finds at link time).
//!
//! In the build tree the loader needs the SONAME too: a program linked with
//! `-Ltarget/debug -lalfaview_auth -Wl,-rpath,...` (the C, C++ and TLS suites, the demo,
//! the benchmarks) asks for `libalfaview_auth.so.<SOVERSION>` when it starts. This script
//! therefore also puts the symlink `libalfaview_auth.so.<SOVERSION>` ->
//! `libalfaview_auth.so` into the profile directory (target/debug, target/release). It is
//! relative and made before the library is linked, so it dangles for the seconds until
//! cargo puts `libalfaview_auth.so` there, and it stays right when cargo replaces the file
//! on the next build. `make build` makes it again after `cargo build`, in case it was
//! deleted (this script runs again only when it changes itself).
//!
//! macOS and Windows get nothing here: rustc already names a macOS dylib
//! `@rpath/libalfaview_auth.dylib`, and a Windows DLL has no such name.

use std::env;
use std::path::{Path, PathBuf};

/// The ABI major version: the number in the SONAME. Raise it (and only then) when a
/// release breaks the C ABI of the previous one. The Makefile reads it from this line.
const SOVERSION: u32 = 1;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");

    // The target's OS, not the host's: cross builds ask for the target's conventions.
    if env::var("CARGO_CFG_TARGET_OS").as_deref() != Ok("linux") {
        return;
    }
    let soname = format!("libalfaview_auth.so.{SOVERSION}");
    // Only the cdylib: the staticlib and rlib are not linked by rustc, and the package's
    // binaries, tests and examples must not get this SONAME.
    println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,{soname}");

    if let Some(dir) = profile_dir() {
        link_soname(&dir, &soname);
    }
}

/// target/<profile> (or target/<triple>/<profile>), where cargo puts the final
/// `libalfaview_auth.so`: OUT_DIR is `<that>/build/alfaview-auth-<hash>/out`. None when the
/// layout is not that one (a separate build directory, say): the symlink is then left to
/// whoever uses the library from there.
fn profile_dir() -> Option<PathBuf> {
    let out = PathBuf::from(env::var_os("OUT_DIR")?);
    let build = out.parent()?.parent()?;
    if build.file_name()? != "build" {
        return None;
    }
    Some(build.parent()?.to_path_buf())
}

/// `dir/<soname>` -> `libalfaview_auth.so` (relative), unless it is that already. Failing
/// to make it is not a build error: the library itself is fine; the message says what
/// programs linked against it in this directory will miss.
fn link_soname(dir: &Path, soname: &str) {
    let link = dir.join(soname);
    let target = Path::new("libalfaview_auth.so");
    if std::fs::read_link(&link).is_ok_and(|t| t == target) {
        return;
    }
    let made = std::fs::remove_file(&link)
        .or_else(|e| match e.kind() {
            std::io::ErrorKind::NotFound => Ok(()),
            _ => Err(e),
        })
        .and_then(|()| symlink(target, &link));
    if let Err(e) = made {
        println!(
            "cargo:warning=cannot create {} -> {}: {e}; programs linked against {} will not start until it exists",
            link.display(),
            target.display(),
            dir.join(target).display()
        );
    }
}

#[cfg(unix)]
fn symlink(target: &Path, link: &Path) -> std::io::Result<()> {
    std::os::unix::fs::symlink(target, link)
}

#[cfg(not(unix))]
fn symlink(_target: &Path, _link: &Path) -> std::io::Result<()> {
    // Building for Linux on a host without symlinks: nothing in this tree runs the result.
    Ok(())
}
