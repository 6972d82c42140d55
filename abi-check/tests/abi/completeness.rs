//! Nothing left out: every function, type, by-value struct and constant that the header
//! declares (and each listed type and struct is in the header), every
//! `#[no_mangle]` function in the library's source and every `av_*` symbol its shared
//! library exports must be in src/abi.rs (and the other way round), so that a new ABI
//! function fails here until it is listed, and is then checked like the others.

use crate::lex::{tokens, Lang, Tok};
use abi_check::{Abi, WORKSPACE};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::SystemTime;

/// What include/alfaview_auth.h declares.
#[derive(Debug, Default)]
pub struct Header {
    pub functions: BTreeSet<String>,
    /// Typedef names and struct/enum/union tags defined with a body.
    pub types: BTreeSet<String>,
    /// Structs defined with a body (by-value structs): the typedef name of
    /// `typedef struct [TAG] { .. } NAME;`, the tag of `struct TAG { .. }`.
    pub structs: BTreeSet<String>,
    /// Enumerators and their values.
    pub constants: Vec<(String, i64)>,
    /// `#define`d names that start with `AV_`/`av_`, each with its replacement text
    /// (trimmed; continuation lines joined).
    pub macros: BTreeMap<String, String>,
}

pub fn header_path() -> PathBuf {
    Path::new(WORKSPACE).join("include/alfaview_auth.h")
}

pub fn parse_header(text: &str) -> Header {
    let mut h = Header::default();
    // Preprocessor lines (with their continuations) apart, the rest as tokens.
    let mut code = String::new();
    let mut in_directive = false;
    let mut current_macro: Option<String> = None;
    let mut macro_text: Option<String> = None;
    for line in text.lines() {
        if in_directive || line.trim_start().starts_with('#') {
            let words: Vec<&str> = line
                .trim_start()
                .trim_start_matches('#')
                .split_whitespace()
                .collect();
            if in_directive {
                // A continuation line of the last macro (if it is one of ours).
                if let Some(text) = macro_text.as_mut() {
                    text.push(' ');
                    text.push_str(line.trim().trim_end_matches('\\').trim());
                }
            } else {
                macro_text = None;
            }
            if !in_directive && words.first() == Some(&"define") {
                if let Some(name) = words.get(1) {
                    let name = name.split('(').next().unwrap_or(name);
                    if name.starts_with("AV_") || name.starts_with("av_") {
                        let text = words[2..].join(" ");
                        macro_text = Some(text.trim_end_matches('\\').trim().to_string());
                        current_macro = Some(name.to_string());
                    }
                }
            }
            in_directive = line.ends_with('\\');
            if !in_directive {
                if let (Some(name), Some(text)) = (current_macro.take(), macro_text.take()) {
                    h.macros.insert(name, text.trim().to_string());
                }
            }
            code.push('\n');
        } else {
            code.push_str(line);
            code.push('\n');
        }
    }

    let t = tokens(&code, Lang::C);
    let word = |i: usize| t.get(i).and_then(Tok::word);
    let punct = |i: usize, c: char| t.get(i).is_some_and(|x| x.is_punct(c));
    let mut i = 0;
    while i < t.len() {
        match &t[i] {
            Tok::Word(w) if w == "typedef" => {
                // The declared name: `(*name)` for a function pointer, else the last word
                // before the `;`. Both outside any `{ .. }` body: the fields of
                // `typedef struct { int (*load)(..); .. } NAME;` declare no type.
                let mut name = None;
                let mut depth = 0usize;
                let mut j = i + 1;
                while j < t.len() && !(depth == 0 && punct(j, ';')) {
                    if punct(j, '{') {
                        depth += 1;
                    } else if punct(j, '}') {
                        depth = depth.saturating_sub(1);
                    } else if depth == 0 && punct(j, '(') && punct(j + 1, '*') && punct(j + 3, ')')
                    {
                        name = name.or(word(j + 2));
                    }
                    j += 1;
                }
                if let Some(n) = name.or_else(|| word(j - 1)) {
                    h.types.insert(n.to_string());
                    // `typedef struct [TAG] { .. } NAME;`: a struct with a body.
                    let has_body = (i + 1..j).any(|k| punct(k, '{'));
                    if word(i + 1) == Some("struct") && has_body {
                        h.structs.insert(n.to_string());
                    }
                }
                // The body of `typedef struct X {..} Y;` is scanned below all the same.
            }
            Tok::Word(w) if w == "struct" || w == "enum" || w == "union" => {
                if let Some(tag) = word(i + 1) {
                    if punct(i + 2, '{') || punct(i + 2, ':') {
                        h.types.insert(tag.to_string());
                        if w == "struct" {
                            h.structs.insert(tag.to_string());
                        }
                    }
                }
            }
            Tok::Word(w) if w.starts_with("av_") && punct(i + 1, '(') => {
                h.functions.insert(w.clone());
            }
            Tok::Word(w) if w.starts_with("AV_") && punct(i + 1, '=') => {
                let (neg, at) = if punct(i + 2, '-') {
                    (-1, i + 3)
                } else {
                    (1, i + 2)
                };
                let value = word(at)
                    .and_then(|v| v.parse::<i64>().ok())
                    .map(|v| neg * v);
                h.constants.push((w.clone(), value.unwrap_or(i64::MIN)));
            }
            _ => {}
        }
        i += 1;
    }
    h
}

/// The problems of the header against the list.
pub fn check_header(abi: &Abi, h: &Header) -> Vec<String> {
    let mut problems = Vec::new();
    for f in &h.functions {
        if abi.function(f).is_none() {
            problems.push(format!(
                "function {f} is in the header but not in abi-check/src/abi.rs"
            ));
        }
    }
    for f in abi.functions {
        if !h.functions.contains(f.name) {
            problems.push(format!(
                "function {} is in abi-check/src/abi.rs but not in the header",
                f.name
            ));
        }
    }
    // Structs with a body are taken below, with what the list says of them.
    for ty in h.types.difference(&h.structs) {
        if !abi.has_type(ty) {
            problems.push(format!(
                "type {ty} is in the header but not in abi-check/src/abi.rs"
            ));
        }
    }
    for ty in abi.type_names() {
        if !h.types.contains(ty) {
            problems.push(format!(
                "type {ty} is in abi-check/src/abi.rs but not in the header"
            ));
        }
    }
    for s in h.structs.iter().filter(|s| abi.structure(s).is_none()) {
        problems.push(if abi.has_type(s) {
            format!(
                "struct {s} has a body in the header (a by-value struct) but \
                 abi-check/src/abi.rs does not list it as `struct MODULE::{s} {{ .. }}`"
            )
        } else {
            format!(
                "struct {s} is in the header but not in abi-check/src/abi.rs (add \
                 `struct MODULE::{s} {{ field: TYPE, .. }}`)"
            )
        });
    }
    for s in abi.structs {
        if h.types.contains(s.name) && !h.structs.contains(s.name) {
            problems.push(format!(
                "struct {} is in abi-check/src/abi.rs but the header does not define it \
                 with a body (`typedef struct {{ .. }} {};`)",
                s.name, s.name
            ));
        }
    }
    for (name, value) in &h.constants {
        match abi.status.values.iter().find(|(n, _)| n == name) {
            None => problems.push(format!(
                "constant {name} is in the header but not in abi-check/src/abi.rs"
            )),
            Some((_, v)) if v != value => problems.push(format!(
                "constant {name} is {value} in the header but {v} in abi-check/src/abi.rs"
            )),
            Some(_) => {}
        }
    }
    for (name, _) in abi.status.values {
        if !h.constants.iter().any(|(n, _)| n == name) {
            problems.push(format!(
                "constant {name} is in abi-check/src/abi.rs but not in the header"
            ));
        }
    }
    for m in h
        .macros
        .keys()
        .filter(|m| !VERSION_MACROS.contains(&m.as_str()))
    {
        problems.push(format!(
            "macro {m} is in the header: abi-check/src/abi.rs has no entry kind for constants yet (see abi-check/README.md)"
        ));
    }
    problems
}

/// The version macros gen-header writes from the crate's `[package]` version; checked by
/// [`check_version_macros`], not listed in src/abi.rs.
pub const VERSION_MACROS: [&str; 4] = [
    "AV_VERSION_MAJOR",
    "AV_VERSION_MINOR",
    "AV_VERSION_PATCH",
    "AV_VERSION_STRING",
];

/// The `version = ".."` of the `[package]` table of the crate's Cargo.toml.
pub fn cargo_version() -> Result<String, String> {
    let path = Path::new(WORKSPACE).join("Cargo.toml");
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut in_package = false;
    for line in text.lines().map(str::trim) {
        if line.starts_with('[') {
            in_package = line.split('#').next().unwrap_or_default().trim() == "[package]";
        } else if let Some((key, value)) = line.split_once('=').filter(|_| in_package) {
            if key.trim() == "version" {
                let value = value.trim();
                return value
                    .strip_prefix('"')
                    .and_then(|v| v.split_once('"'))
                    .map(|(v, _)| v.to_string())
                    .ok_or_else(|| {
                        format!("Cargo.toml: [package] version is {value}, not a string")
                    });
            }
        }
    }
    Err("Cargo.toml: no version in [package]".to_string())
}

/// The version macros of the header against the crate's version (`cargo`, from
/// Cargo.toml) and the one the library reports at run time (`library`, `av_version()`):
/// all four present, `AV_VERSION_MAJOR/MINOR/PATCH` plain decimal numbers equal to
/// MAJOR.MINOR.PATCH, `AV_VERSION_STRING` the whole version as a string literal.
pub fn check_version_macros(h: &Header, cargo: &str, library: &str) -> Vec<String> {
    let mut problems = Vec::new();
    if cargo != library {
        problems.push(format!(
            "av_version() says {library:?} but Cargo.toml's [package] version is {cargo:?} \
             (a stale build of the library?)"
        ));
    }
    let core = cargo.split(['-', '+']).next().unwrap_or_default();
    let numbers: Vec<&str> = core.split('.').collect();
    if numbers.len() != 3 {
        problems.push(format!(
            "Cargo.toml's version {cargo:?} is not MAJOR.MINOR.PATCH"
        ));
        return problems;
    }
    let expected = [
        (VERSION_MACROS[0], numbers[0].to_string()),
        (VERSION_MACROS[1], numbers[1].to_string()),
        (VERSION_MACROS[2], numbers[2].to_string()),
        (VERSION_MACROS[3], format!("\"{cargo}\"")),
    ];
    for (name, want) in expected {
        match h.macros.get(name) {
            None => problems.push(format!(
                "macro {name} is not in the header (gen-header writes it: `make header`)"
            )),
            Some(got) if *got != want => problems.push(format!(
                "macro {name} is `{got}` in the header but Cargo.toml's version {cargo:?} \
                 makes it `{want}` (`make header`)"
            )),
            Some(_) => {}
        }
    }
    problems
}

/// The version check against headers that drifted: each must give exactly the problems
/// expected (and a header that agrees, none), so that a check that passes everything
/// cannot go unnoticed.
pub fn self_test_version_macros(abi: &Abi) -> Result<String, String> {
    let header = |major: &str, minor: &str, string: &str, extra: &str| {
        parse_header(&format!(
            "#ifndef X\n#define X\n#define AV_VERSION_MAJOR {major}\n#define AV_VERSION_MINOR \\\n  {minor}\n\
             #define AV_VERSION_PATCH 3\n#define AV_VERSION_STRING {string}\n{extra}#endif\n"
        ))
    };
    let cases = [
        (
            header("1", "2", "\"1.2.3-rc.1\"", ""),
            "1.2.3-rc.1",
            "1.2.3-rc.1",
            0,
        ),
        (header("1", "3", "\"1.2.3\"", ""), "1.2.3", "1.2.3", 1),
        (
            header("1", "2", "\"1.2.3\"", ""),
            "1.2.3-rc.1",
            "1.2.3-rc.1",
            1,
        ),
        (header("2", "2", "\"1.2.3\"", ""), "1.2.3", "1.2.4", 2),
        (
            header("1", "2", "\"1.2.3\"", "#define AV_VERSION_OTHER 1\n"),
            "1.2.3",
            "1.2.3",
            0,
        ),
    ];
    for (i, (h, cargo, library, want)) in cases.iter().enumerate() {
        let got = check_version_macros(h, cargo, library);
        if got.len() != *want {
            return Err(format!(
                "case {i}: {want} problems expected, got {}: {got:?}",
                got.len()
            ));
        }
    }
    // A missing macro, and an unknown AV_ macro is still an unlisted constant.
    let mut h = header("1", "2", "\"1.2.3\"", "#define AV_VERSION_OTHER 1\n");
    h.macros.remove("AV_VERSION_PATCH");
    let got = check_version_macros(&h, "1.2.3", "1.2.3");
    if got.len() != 1 || !got[0].contains("AV_VERSION_PATCH") {
        return Err(format!("a missing AV_VERSION_PATCH gives {got:?}"));
    }
    let macros: Vec<_> = check_header(abi, &h)
        .into_iter()
        .filter(|p| p.starts_with("macro "))
        .collect();
    if macros.len() != 1 || !macros[0].starts_with("macro AV_VERSION_OTHER ") {
        return Err(format!(
            "the completeness check should name AV_VERSION_OTHER (only): {macros:?}"
        ));
    }
    Ok(format!(
        "{} drifted or incomplete headers rejected, agreeing ones accepted",
        cases.iter().filter(|c| c.3 > 0).count() + 1
    ))
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The library's source files (src/, recursively).
pub fn source_files() -> Vec<PathBuf> {
    let mut files = Vec::new();
    rust_files(&Path::new(WORKSPACE).join("src"), &mut files);
    files.sort();
    files
}

/// The names exported with `#[no_mangle]` / `#[unsafe(no_mangle)]` (the item's name) or
/// `#[export_name = ".."]`, each with the file it is in.
pub fn rust_exports(files: &[PathBuf]) -> Result<Vec<(String, PathBuf)>, String> {
    let mut out = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(file).map_err(|e| format!("{}: {e}", file.display()))?;
        let t = tokens(&text, Lang::Rust);
        let mut pending = false;
        for (i, tok) in t.iter().enumerate() {
            if tok.is_word("no_mangle")
                && i > 0
                && (t[i - 1].is_punct('[') || t[i - 1].is_punct('('))
            {
                pending = true;
            } else if tok.is_word("export_name") && t.get(i + 1).is_some_and(|x| x.is_punct('=')) {
                if let Some(Tok::Str(name)) = t.get(i + 2) {
                    out.push((name.clone(), file.clone()));
                }
                pending = false;
            } else if pending && (tok.is_word("fn") || tok.is_word("static")) {
                let name = t[i + 1..]
                    .iter()
                    .filter_map(Tok::word)
                    .find(|w| *w != "mut");
                if let Some(name) = name {
                    out.push((name.to_string(), file.clone()));
                }
                pending = false;
            }
        }
    }
    Ok(out)
}

/// The problems of the library's `#[no_mangle]` exports against the list.
pub fn check_exports(abi: &Abi, exports: &[(String, PathBuf)]) -> Vec<String> {
    let mut problems = Vec::new();
    for (name, file) in exports {
        if abi.function(name).is_none() {
            let file = file.strip_prefix(WORKSPACE).unwrap_or(file);
            problems.push(format!(
                "{name} is exported by {} but not in abi-check/src/abi.rs",
                file.display()
            ));
        }
    }
    for f in abi.functions {
        if !exports.iter().any(|(n, _)| n == f.name) {
            problems.push(format!(
                "{} is in abi-check/src/abi.rs but no #[no_mangle] fn in src/ has that name",
                f.name
            ));
        }
    }
    problems
}

/// The library's shared object that `make build` built (scripts/build-lib.sh puts it in
/// target/debug/, next to this test's deps/ directory), if it is newer than every source
/// file.
pub fn shared_library(sources: &[PathBuf]) -> Result<PathBuf, String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let deps = exe.parent().ok_or("no deps directory")?;
    let candidates = [
        deps.join("libalfaview_auth.so"),
        deps.join("../libalfaview_auth.so"),
    ];
    let mtime = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    let newest_source = sources
        .iter()
        .filter_map(|p| mtime(p))
        .max()
        .unwrap_or(SystemTime::UNIX_EPOCH);
    let found: Vec<_> = candidates.iter().filter(|p| p.exists()).collect();
    if found.is_empty() {
        return Err(
            "no libalfaview_auth.so next to this test: run make build (make test-abi does)"
                .to_string(),
        );
    }
    found
        .into_iter()
        .filter(|p| mtime(p).is_some_and(|t| t >= newest_source))
        .max_by_key(|p| mtime(p))
        .cloned()
        .ok_or_else(|| {
            "libalfaview_auth.so is older than the source: run make build (make test-abi does)"
                .to_string()
        })
}

/// The `av_*` functions `nm -D --defined-only` lists in `lib`.
pub fn dynamic_symbols(lib: &Path) -> Result<BTreeSet<String>, String> {
    let nm = std::env::var("NM").unwrap_or_else(|_| "nm".to_string());
    let out = Command::new(&nm)
        .args(["-D", "--defined-only"])
        .arg(lib)
        .output()
        .map_err(|e| format!("cannot run {nm}: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "{nm} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| {
            let mut cols = l.split_whitespace().rev();
            let name = cols.next()?;
            let kind = cols.next()?;
            (name.starts_with("av_") && kind == "T").then(|| name.to_string())
        })
        .collect())
}

/// The problems of the shared library's symbols against the list.
pub fn check_symbols(abi: &Abi, symbols: &BTreeSet<String>) -> Vec<String> {
    let mut problems = Vec::new();
    for s in symbols {
        if abi.function(s).is_none() {
            problems.push(format!(
                "{s} is exported by libalfaview_auth.so but not in abi-check/src/abi.rs"
            ));
        }
    }
    for f in abi.functions {
        if !symbols.contains(f.name) {
            problems.push(format!(
                "{} is in abi-check/src/abi.rs but libalfaview_auth.so does not export it",
                f.name
            ));
        }
    }
    problems
}
