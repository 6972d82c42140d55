//! `gen-header`: writes include/alfaview_auth.h from the crate's source and
//! cbindgen.toml. `gen-header --check` writes nothing and fails if the committed header
//! differs from a fresh generation, printing the first differing line.

use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let check = match std::env::args().nth(1).as_deref() {
        None => false,
        Some("--check") => true,
        Some(other) => {
            eprintln!("gen-header: unknown argument {other:?} (usage: gen-header [--check])");
            return ExitCode::from(2);
        }
    };
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let root = root.canonicalize().unwrap_or(root);
    let header_path = root.join("include/alfaview_auth.h");
    let config = match cbindgen::Config::from_file(root.join("cbindgen.toml")) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("gen-header: cbindgen.toml: {e}");
            return ExitCode::FAILURE;
        }
    };
    let bindings = match cbindgen::Builder::new()
        .with_crate(&root)
        .with_config(config)
        .generate()
    {
        Ok(b) => b,
        Err(e) => {
            eprintln!("gen-header: cannot generate the header: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut fresh = Vec::new();
    bindings.write(&mut fresh);
    let fresh = String::from_utf8(fresh).expect("cbindgen writes UTF-8");

    if check {
        let committed = std::fs::read_to_string(&header_path).unwrap_or_default();
        if committed == fresh {
            println!("header check: {} is current", header_path.display());
            return ExitCode::SUCCESS;
        }
        let line = committed
            .lines()
            .zip(fresh.lines())
            .position(|(a, b)| a != b)
            .unwrap_or_else(|| committed.lines().count().min(fresh.lines().count()));
        eprintln!(
            "header check FAILED: {} differs from a fresh generation (first difference at line {}):\n  committed: {}\n  generated: {}\nRun `make header` and commit the result.",
            header_path.display(),
            line + 1,
            committed.lines().nth(line).unwrap_or("<end of file>"),
            fresh.lines().nth(line).unwrap_or("<end of file>"),
        );
        return ExitCode::FAILURE;
    }
    if let Err(e) = std::fs::create_dir_all(root.join("include"))
        .and_then(|_| std::fs::write(&header_path, fresh))
    {
        eprintln!("gen-header: cannot write {}: {e}", header_path.display());
        return ExitCode::FAILURE;
    }
    println!("wrote {}", header_path.display());
    ExitCode::SUCCESS
}
