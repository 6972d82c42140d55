//! `gen-header`: writes include/alfaview_auth.h from the crate's source and
//! cbindgen.toml. `gen-header --check` writes nothing and fails if the committed header
//! differs from a fresh generation, printing the first differing line.
//!
//! Besides what cbindgen writes from the source, the header gets the version macros
//! `AV_VERSION_MAJOR`, `AV_VERSION_MINOR`, `AV_VERSION_PATCH` and `AV_VERSION_STRING`,
//! taken from the `[package]` version of the crate's Cargo.toml.

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
    let mut config = match cbindgen::Config::from_file(root.join("cbindgen.toml")) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("gen-header: cbindgen.toml: {e}");
            return ExitCode::FAILURE;
        }
    };
    // The version macros, from the crate's [package] version: written here rather than by
    // hand so that they cannot drift from Cargo.toml (`--check` fails when they do).
    let version = match std::fs::read_to_string(root.join("Cargo.toml"))
        .map_err(|e| e.to_string())
        .and_then(|text| package_version(&text))
    {
        Ok(v) => v,
        Err(e) => {
            eprintln!("gen-header: Cargo.toml: {e}");
            return ExitCode::FAILURE;
        }
    };
    let macros = version.macros();
    config.after_includes = Some(match config.after_includes.take() {
        Some(own) => format!("{own}\n{macros}"),
        None => macros,
    });
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

/// A `[package]` version: MAJOR.MINOR.PATCH, then any pre-release and build metadata
/// (`-rc.1`, `+abc`), which only `AV_VERSION_STRING` shows.
#[derive(Debug, PartialEq, Eq)]
struct Version {
    major: u64,
    minor: u64,
    patch: u64,
    full: String,
}

impl Version {
    fn parse(text: &str) -> Result<Version, String> {
        let bad = || format!("version {text:?} is not MAJOR.MINOR.PATCH[-PRE][+BUILD]");
        let core = text.split(['-', '+']).next().unwrap_or_default();
        let rest = &text[core.len()..];
        let numbers: Vec<u64> = core
            .split('.')
            .map(|n| {
                let plain = !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit());
                // Semantic versioning: no leading zeros.
                if plain && (n == "0" || !n.starts_with('0')) {
                    n.parse::<u64>().map_err(|_| bad())
                } else {
                    Err(bad())
                }
            })
            .collect::<Result<_, _>>()?;
        let [major, minor, patch] = numbers[..] else {
            return Err(bad());
        };
        // What may follow the numbers goes into a C string literal as it is.
        let tail_ok = rest.is_empty()
            || (rest.len() > 1
                && rest
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-+.".contains(&b)));
        if !tail_ok {
            return Err(bad());
        }
        Ok(Version {
            major,
            minor,
            patch,
            full: text.to_string(),
        })
    }

    /// The block after the #includes.
    fn macros(&self) -> String {
        format!(
            "
/**
 * The version of alfaview-auth this header belongs to (the crate's [package] version).
 * Compare with av_version(), the version of the library loaded at run time.
 * All three numbers can be used in #if.
 */
#define AV_VERSION_MAJOR {}
#define AV_VERSION_MINOR {}
#define AV_VERSION_PATCH {}
/**
 * The same version as a string, with any pre-release or build suffix: \"{}\".
 */
#define AV_VERSION_STRING \"{}\"",
            self.major, self.minor, self.patch, self.full, self.full
        )
    }
}

/// The `version` of the `[package]` table of a Cargo.toml. A line parser: enough for
/// `version = "x.y.z"` (with spaces, a trailing comment, single or double quotes); an
/// inherited `version.workspace = true` or any other form is an error that says so.
fn package_version(cargo_toml: &str) -> Result<Version, String> {
    let mut in_package = false;
    for line in cargo_toml.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            in_package = line.split('#').next().unwrap_or_default().trim() == "[package]";
            continue;
        }
        if !in_package {
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        let key = key.trim();
        if key == "version" {
            let value = value.trim();
            let quote = value.chars().next().filter(|c| *c == '"' || *c == '\'');
            let inner = quote.and_then(|q| value[1..].split_once(q)).map(|(v, _)| v);
            return match inner {
                Some(v) => Version::parse(v),
                None => Err(format!("[package] version is not a quoted string: {value}")),
            };
        }
        if key.starts_with("version.") {
            return Err(format!(
                "[package] {line:?}: give the version itself (gen-header reads only \
                 `version = \"x.y.z\"`)"
            ));
        }
    }
    Err("no version in the [package] table".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_package_version() {
        let toml = "[workspace]\nmembers = [\".\"]\n\n[package]\nname = \"x\"\nversion = \"1.22.333\" # c\n\n[dependencies]\nversion = \"9.9.9\"\n";
        let v = package_version(toml).unwrap();
        assert_eq!((v.major, v.minor, v.patch), (1, 22, 333));
        assert_eq!(v.full, "1.22.333");
        let v = package_version("[package]\nversion='0.1.0-rc.1+b5'\n").unwrap();
        assert_eq!((v.major, v.minor, v.patch), (0, 1, 0));
        assert_eq!(v.full, "0.1.0-rc.1+b5");
    }

    #[test]
    fn refuses_what_it_cannot_read() {
        for toml in [
            "[dependencies]\nversion = \"1.0.0\"\n",
            "[package]\nversion.workspace = true\n",
            "[package]\nversion = 1\n",
            "[package]\nversion = \"1.0\"\n",
            "[package]\nversion = \"1.0.0.0\"\n",
            "[package]\nversion = \"01.0.0\"\n",
            "[package]\nversion = \"1.0.0-\"\n",
            "[package]\nversion = \"1.0.0-a\\\"b\"\n",
        ] {
            assert!(package_version(toml).is_err(), "{toml:?}");
        }
    }

    #[test]
    fn macros_are_plain_numbers_and_a_string() {
        let m = Version::parse("2.3.4-beta").unwrap().macros();
        assert!(m.contains("\n#define AV_VERSION_MAJOR 2\n"));
        assert!(m.contains("\n#define AV_VERSION_MINOR 3\n"));
        assert!(m.contains("\n#define AV_VERSION_PATCH 4\n"));
        assert!(m.ends_with("\n#define AV_VERSION_STRING \"2.3.4-beta\""));
    }
}
