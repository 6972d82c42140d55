//! Runs ctest: it expands src/decls.rs (the declarations emitted from src/abi.rs), writes a
//! C file that includes include/alfaview_auth.h and a Rust file that compares the two
//! sides (constants, the size, alignment and signedness of types, function addresses),
//! compiles the C file with the C compiler (-Wall -Wextra -Werror) into a static library,
//! and leaves the Rust file in OUT_DIR for tests/abi/main.rs to include.
//!
//! ctest 0.5 checks that every declared function exists in the header and is the very
//! symbol the library exports, but not its parameter types: tests/abi/signatures.rs
//! compares those, in C and in C++.

use std::env;
use std::path::PathBuf;

include!("src/model.rs");
include!("src/abi.rs");
abi_list!(emit_table);

fn main() {
    let manifest = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let include = manifest.join("../include");
    for path in ["build.rs", "src/abi.rs", "src/decls.rs", "src/model.rs"] {
        println!("cargo::rerun-if-changed={path}");
    }
    println!("cargo::rerun-if-changed=../include/alfaview_auth.h");
    println!("cargo::rerun-if-env-changed=CC");
    println!("cargo::rerun-if-env-changed=CFLAGS");

    // ctest's C file would fail to compile on a listed function the header lacks; say so
    // plainly first. (Comment lines do not count; tests/abi/ checks the rest properly.)
    let header_path = include.join("alfaview_auth.h");
    let header = std::fs::read_to_string(&header_path)
        .unwrap_or_else(|e| fail(&format!("cannot read {}: {e}", header_path.display())));
    let declared = |name: &str| {
        header.lines().any(|l| {
            let l = l.trim_start();
            !(l.starts_with('*') || l.starts_with("/*") || l.starts_with("//"))
                && l.contains(&format!("{name}("))
        })
    };
    let missing: Vec<&str> = ABI
        .functions
        .iter()
        .map(|f| f.name)
        .filter(|name| !declared(name))
        .collect();
    if !missing.is_empty() {
        fail(&format!(
            "abi-check/src/abi.rs lists functions that include/alfaview_auth.h does not \
             declare: {}",
            missing.join(", ")
        ));
    }

    let mut cfg = ctest::TestGenerator::new();
    cfg.header("alfaview_auth.h")
        .include(&include)
        // The handles are opaque: incomplete types in C, with no size or fields to
        // compare. (A by-value struct would need an entry kind of its own in src/abi.rs;
        // ctest would then compare its layout field by field.)
        .skip_struct(|s| ABI.opaques.iter().any(|o| o.name == s.ident()));

    if let Err(e) = ctest::generate_test(&mut cfg, "src/decls.rs", "abi_ctest.rs") {
        fail(&format!(
            "ctest could not generate its tests from src/decls.rs: {e}"
        ));
    }
}

/// Stops the build with `message` (no backtrace: it is not a bug here).
fn fail(message: &str) -> ! {
    eprintln!("abi-check: {message}");
    std::process::exit(1)
}
