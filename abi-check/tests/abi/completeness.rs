//! Nothing left out: every function, type, by-value struct and constant that the header
//! declares (and each listed type and struct is in the header), every
//! `#[no_mangle]` function in the library's source and every `av_*` symbol its shared
//! library exports must be in src/abi.rs (and the other way round), so that a new ABI
//! function fails here until it is listed, and is then checked like the others.

use crate::lex::{tokens, Lang, Tok};
use abi_check::{Abi, WORKSPACE};
use std::collections::BTreeSet;
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
    /// `#define`d names that start with `AV_`/`av_`.
    pub macros: BTreeSet<String>,
}

pub fn header_path() -> PathBuf {
    Path::new(WORKSPACE).join("include/alfaview_auth.h")
}

pub fn parse_header(text: &str) -> Header {
    let mut h = Header::default();
    // Preprocessor lines (with their continuations) apart, the rest as tokens.
    let mut code = String::new();
    let mut in_directive = false;
    for line in text.lines() {
        if in_directive || line.trim_start().starts_with('#') {
            let words: Vec<&str> = line
                .trim_start()
                .trim_start_matches('#')
                .split_whitespace()
                .collect();
            if !in_directive && words.first() == Some(&"define") {
                if let Some(name) = words.get(1) {
                    let name = name.split('(').next().unwrap_or(name);
                    if name.starts_with("AV_") || name.starts_with("av_") {
                        h.macros.insert(name.to_string());
                    }
                }
            }
            in_directive = line.ends_with('\\');
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
    for m in &h.macros {
        problems.push(format!(
            "macro {m} is in the header: abi-check/src/abi.rs has no entry kind for constants yet (see abi-check/README.md)"
        ));
    }
    problems
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

/// The library's shared object from this build (cargo builds the cdylib along with the
/// rlib this test links), if it is newer than every source file.
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
        return Err("no libalfaview_auth.so next to this test (not Linux?)".to_string());
    }
    found
        .into_iter()
        .filter(|p| mtime(p).is_some_and(|t| t >= newest_source))
        .max_by_key(|p| mtime(p))
        .cloned()
        .ok_or_else(|| "libalfaview_auth.so is older than the source".to_string())
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
