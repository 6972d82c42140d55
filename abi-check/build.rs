//! Runs ctest: it expands src/decls.rs (the declarations emitted from src/abi.rs), writes a
//! C file that includes include/alfaview_auth.h and a Rust file that compares the two
//! sides (constants, the size, alignment and signedness of types, the layout and field
//! types of by-value structs, function addresses),
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
    // The same for structs: `} NAME;` closes `typedef struct { .. } NAME;`.
    let defined = |name: &str| {
        let closing = format!("}} {name};");
        let tagged = format!("struct {name} {{");
        header.lines().any(|l| {
            let l = l.trim();
            l.starts_with(&closing) || l.starts_with(&tagged) || l.contains(&format!(" {tagged}"))
        })
    };
    let missing: Vec<&str> = ABI
        .structs
        .iter()
        .map(|s| s.name)
        .filter(|name| !defined(name))
        .collect();
    if !missing.is_empty() {
        fail(&format!(
            "abi-check/src/abi.rs lists structs that include/alfaview_auth.h does not \
             define: {}",
            missing.join(", ")
        ));
    }

    let mut cfg = ctest::TestGenerator::new();
    cfg.header("alfaview_auth.h")
        .include(&include)
        // The handles are opaque: incomplete types in C, with no size or fields to
        // compare.
        .skip_struct(|s| ABI.opaques.iter().any(|o| o.name == s.ident()))
        // The by-value structs (`struct` entries) are compared field by field: size and
        // alignment, each field's offset and size, each field's type (ctest returns
        // `&value->field` from a C function declared to return a pointer to the field's
        // type as ctest spells it, which -Werror turns into an error on any difference;
        // ctest 0.5.1 spells `Option<unsafe extern "C" fn(..)>` as the C function pointer,
        // so the callback fields are checked too), and a round trip through C by value.
        // cbindgen (style = "type") writes them as `typedef struct { .. } NAME;`, with no
        // tag: C must call them `NAME`, not ctest's default `struct NAME`.
        .rename_struct_ty(|ty| ABI.structure(ty).map(|s| s.name.to_string()));

    // ctest compiles its C file with cc, which ends the process when the compiler rejects
    // it (its output then among cc's `cargo:warning=` lines). So generate the files first
    // and compile the C one for syntax: if that fails, say which item differs.
    let generated = cfg.generate_files("src/decls.rs", "abi_ctest.rs");
    if let Err(e) = generated.map(|rust| c_errors(&include, &rust.with_extension("c"))) {
        fail(&format!(
            "ctest could not generate its tests from src/decls.rs: {e}"
        ));
    }
    if let Err(e) = ctest::generate_test(&mut cfg, "src/decls.rs", "abi_ctest.rs") {
        fail(&format!(
            "ctest could not generate its tests from src/decls.rs: {e}"
        ));
    }
}

/// Stops the build if the C compiler rejects ctest's C file `file`, with its errors, each
/// prefixed with what it means for the list: a field whose type differs fails in
/// `ctest_field_ptr__STRUCT__FIELD`, which returns `&value->FIELD` as a pointer to the
/// listed type. (The flags that matter are ctest's: -Wall -Wextra -Werror.)
fn c_errors(include: &std::path::Path, file: &std::path::Path) {
    let compiler = env::var("CC").unwrap_or_else(|_| "cc".to_string());
    let mut words = compiler.split_whitespace();
    let program = words.next().unwrap_or("cc");
    let Ok(output) = std::process::Command::new(program)
        .args(words)
        .args(["-fsyntax-only", "-Wall", "-Wextra", "-Werror"])
        .args(["-Wno-unused-parameter", "-Wno-type-limits"])
        .env("LC_ALL", "C")
        .arg("-I")
        .arg(include)
        .arg(file)
        .output()
    else {
        return; // ctest will say what is wrong with the compiler.
    };
    if output.status.success() {
        return;
    }
    let stderr = String::from_utf8_lossy(&output.stderr);
    let mut function = "";
    let mut lines: Vec<String> = Vec::new();
    for line in stderr.lines() {
        if let Some((_, rest)) = line.split_once("In function ") {
            function = rest.trim_matches([':', '\'', '‘', '’']);
        } else if let Some((_, error)) = line.split_once("error: ") {
            // ctest's per-field functions: ctest_{field_ptr,offset_of,size_of}__STRUCT__FIELD.
            let field = ["ctest_field_ptr__", "ctest_offset_of__", "ctest_size_of__"]
                .iter()
                .find_map(|p| function.strip_prefix(p))
                .and_then(|sf| sf.split_once("__"));
            let line = match field {
                Some((s, f)) if error.contains("no member named") => {
                    format!("  {s}.{f}: the header's {s} has no field {f}")
                }
                Some((s, f)) if function.starts_with("ctest_field_ptr__") => format!(
                    "  {s}.{f}: the header gives this field another type than \
                     abi-check/src/abi.rs (the type returned is the header's, the return \
                     type the list's):\n    {error}"
                ),
                _ if function.is_empty() => format!("  {error}"),
                _ => format!("  in {function}: {error}"),
            };
            if !lines.contains(&line) {
                lines.push(line);
            }
        }
    }
    if lines.is_empty() {
        lines.push(stderr.to_string());
    }
    fail(&format!(
        "the C compiler rejects ctest's comparison of abi-check/src/abi.rs with \
         include/alfaview_auth.h ({}):\n{}",
        file.display(),
        lines.join("\n")
    ));
}

/// Stops the build with `message` (no backtrace: it is not a bug here).
fn fail(message: &str) -> ! {
    eprintln!("abi-check: {message}");
    std::process::exit(1)
}
