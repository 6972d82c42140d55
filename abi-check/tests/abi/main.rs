//! `cargo test -p abi-check`: every check of the C ABI, one line each, and a closing
//! `abi-check: N passed, M failed`. See abi-check/README.md.

mod cdecl;
mod completeness;
mod lex;
mod signatures;

use abi_check::ABI;
use std::process::ExitCode;

/// The code ctest generated in build.rs, in a module of its own. Its `run_all` and
/// counters are private to this module, so `run` (which may use them) reports for it;
/// its own `main` goes unused.
mod ctest_generated {
    #![allow(dead_code, unused_imports, clippy::all)]
    use abi_check::decls::*;

    include!(concat!(env!("OUT_DIR"), "/abi_ctest.rs"));

    /// Runs every generated test: how many comparisons passed, and whether any failed
    /// (each failure is printed by the generated code as `bad ...`).
    pub(crate) fn run() -> (usize, bool) {
        use std::sync::atomic::Ordering::Relaxed;
        run_all();
        (
            generated_tests::NTESTS.load(Relaxed),
            generated_tests::FAILED.load(Relaxed),
        )
    }
}

struct Report {
    passed: usize,
    failed: usize,
}

impl Report {
    fn check(&mut self, what: &str, result: Result<String, String>) {
        match result {
            Ok(detail) => {
                self.passed += 1;
                println!("ok    {what}: {detail}");
            }
            Err(problems) => {
                self.failed += 1;
                println!("FAIL  {what}:");
                for line in problems.lines() {
                    println!("        {line}");
                }
            }
        }
    }
}

fn problems(list: Vec<String>, ok: String) -> Result<String, String> {
    if list.is_empty() {
        Ok(ok)
    } else {
        Err(list.join("\n"))
    }
}

fn main() -> ExitCode {
    let mut r = Report {
        passed: 0,
        failed: 0,
    };
    let abi = &ABI;
    println!(
        "abi-check: {} functions, {} status values, {} opaque types, {} typedefs, {} structs \
         (abi-check/src/abi.rs)",
        abi.functions.len(),
        abi.status.values.len(),
        abi.opaques.len(),
        abi.typedefs.len(),
        abi.structs.len()
    );

    // 1. Compile time (this binary would not exist otherwise).
    r.check(
        "Rust definitions = declarations",
        Ok(format!(
            "checked when abi-check compiled: every alfaview_auth::ffi function and typedef has \
             the listed type, every struct exactly the listed fields, types and layout, {} is \
             4 bytes, aligned to 4, with exactly the listed values",
            abi.status.name
        )),
    );

    // 2. ctest: declarations against the header, in C, and the symbols the library exports.
    let (n, failed) = ctest_generated::run();
    r.check(
        "ctest (declarations = header, in C)",
        if failed {
            Err(format!(
                "{n} comparisons passed; the `bad ...` lines above name the others"
            ))
        } else {
            Ok(format!(
                "{n} comparisons: constant values, size/alignment/signedness of types, \
                 struct field offsets/sizes/types and round trips, function addresses"
            ))
        },
    );

    // 3. Full function types, in C and in C++.
    r.check(
        "Rust type spellings in C (self-test)",
        cdecl::self_test().map(|n| format!("{n} spellings")),
    );
    r.check(
        "struct assertions reject a wrong entry (self-test)",
        signatures::self_test_structs(abi).map(|n| match n {
            0 => "no struct with two fields or more to try".to_string(),
            n => format!(
                "{n} compilations (C, C++) of a struct entry with two fields swapped and a \
                 type changed fail, naming those fields"
            ),
        }),
    );
    r.check(
        "signatures = header, in C",
        signatures::check(abi, signatures::Lang::C),
    );
    r.check(
        "signatures = header, in C++",
        signatures::check(abi, signatures::Lang::Cxx),
    );

    // 4. Nothing left out.
    let header_path = completeness::header_path();
    let header = std::fs::read_to_string(&header_path)
        .map(|text| completeness::parse_header(&text))
        .map_err(|e| format!("cannot read {}: {e}", header_path.display()));
    r.check(
        "complete: the header's functions, types and constants",
        header.and_then(|h| {
            problems(
                completeness::check_header(abi, &h),
                format!(
                    "{} functions, {} types ({} by-value structs), {} constants, all listed",
                    h.functions.len(),
                    h.types.len(),
                    h.structs.len(),
                    h.constants.len()
                ),
            )
        }),
    );
    r.check(
        "version macros: drift is caught (self-test)",
        completeness::self_test_version_macros(abi),
    );
    r.check(
        "version macros = Cargo.toml = av_version()",
        std::fs::read_to_string(&header_path)
            .map(|text| completeness::parse_header(&text))
            .map_err(|e| format!("cannot read {}: {e}", header_path.display()))
            .and_then(|h| {
                let cargo = completeness::cargo_version()?;
                // The version compiled into the library (the rlib this test links).
                // SAFETY: av_version returns a static NUL-terminated string.
                let library =
                    unsafe { std::ffi::CStr::from_ptr(alfaview_auth::ffi::error::av_version()) }
                        .to_string_lossy()
                        .into_owned();
                problems(
                    completeness::check_version_macros(&h, &cargo, &library),
                    format!(
                        "{} are {cargo}, as in Cargo.toml and av_version()",
                        completeness::VERSION_MACROS.join(", ")
                    ),
                )
            }),
    );
    let sources = completeness::source_files();
    r.check(
        "complete: #[no_mangle] functions in src/",
        completeness::rust_exports(&sources).and_then(|exports| {
            problems(
                completeness::check_exports(abi, &exports),
                format!("{} in {} files, all listed", exports.len(), sources.len()),
            )
        }),
    );
    match completeness::shared_library(&sources) {
        Ok(lib) => r.check(
            "complete: av_* symbols of libalfaview_auth.so",
            completeness::dynamic_symbols(&lib).and_then(|symbols| {
                problems(
                    completeness::check_symbols(abi, &symbols),
                    format!("{} in {}, all listed", symbols.len(), lib.display()),
                )
            }),
        ),
        Err(why) => println!("skip  complete: av_* symbols of libalfaview_auth.so: {why}"),
    }

    println!("abi-check: {} passed, {} failed", r.passed, r.failed);
    if r.failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
