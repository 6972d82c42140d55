//! Rust types, as src/abi.rs spells them (`*const c_char`, `Option<unsafe extern "C"
//! fn(..)>`), written as C types and declarations.

use crate::lex::{tokens, Lang, Tok};

/// A C type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CType {
    /// `char`, `int32_t`, `av_status`, `av_client`...; `konst`: const-qualified.
    Named { name: String, konst: bool },
    /// A pointer; `konst`: the pointer itself is const-qualified (it is what a `*const`
    /// points to).
    Pointer { to: Box<CType>, konst: bool },
    /// A function type (behind a pointer, or a declared function).
    Function {
        ret: Box<CType>,
        params: Vec<(Option<String>, CType)>,
    },
}

impl CType {
    fn make_const(&mut self) {
        match self {
            CType::Named { konst, .. } | CType::Pointer { konst, .. } => *konst = true,
            CType::Function { .. } => {}
        }
    }

    /// This type declaring `declarator` (a name, or "" for the type alone), in C syntax.
    pub fn declare(&self, declarator: &str) -> String {
        match self {
            CType::Named { name, konst } => {
                let konst = if *konst { "const " } else { "" };
                if declarator.is_empty() {
                    format!("{konst}{name}")
                } else {
                    format!("{konst}{name} {declarator}")
                }
            }
            CType::Pointer { to, konst } => {
                let mut d = String::from("*");
                if *konst {
                    d.push_str("const");
                    if !declarator.is_empty() {
                        d.push(' ');
                    }
                }
                d.push_str(declarator);
                if matches!(**to, CType::Function { .. }) {
                    d = format!("({d})");
                }
                to.declare(&d)
            }
            CType::Function { ret, params } => {
                let params = if params.is_empty() {
                    "void".to_string()
                } else {
                    params
                        .iter()
                        .map(|(name, ty)| ty.declare(name.as_deref().unwrap_or("")))
                        .collect::<Vec<_>>()
                        .join(", ")
                };
                ret.declare(&format!("{declarator}({params})"))
            }
        }
    }

    /// The same type without parameter names (for the compiler).
    pub fn unnamed(&self) -> CType {
        match self {
            CType::Named { .. } => self.clone(),
            CType::Pointer { to, konst } => CType::Pointer {
                to: Box::new(to.unnamed()),
                konst: *konst,
            },
            CType::Function { ret, params } => CType::Function {
                ret: Box::new(ret.unnamed()),
                params: params.iter().map(|(_, t)| (None, t.unnamed())).collect(),
            },
        }
    }
}

/// The C type of the Rust type `rust` ("" is `void`, as for a function with no return type).
pub fn c_type(rust: &str) -> Result<CType, String> {
    let toks = tokens(rust, Lang::Rust);
    if toks.is_empty() {
        return Ok(named("void"));
    }
    let mut p = Parser { toks: &toks, at: 0 };
    let shown = rust.split_whitespace().collect::<Vec<_>>().join(" ");
    let ty = p.ty().map_err(|e| format!("`{shown}`: {e}"))?;
    if p.at != toks.len() {
        return Err(format!("`{shown}`: unexpected {:?}", toks[p.at]));
    }
    Ok(ty)
}

/// The C function `name` with these Rust parameters and return type.
pub fn c_function(params: &[(&str, &str)], ret: &str) -> Result<CType, String> {
    Ok(CType::Function {
        ret: Box::new(c_type(ret)?),
        params: params
            .iter()
            .map(|(name, ty)| Ok((Some(name.to_string()), c_type(ty)?)))
            .collect::<Result<_, String>>()?,
    })
}

fn named(name: &str) -> CType {
    CType::Named {
        name: name.to_string(),
        konst: false,
    }
}

/// The C name of a Rust type name; any other name is a C typedef of the header's.
fn c_name(rust: &str) -> &str {
    match rust {
        "c_char" => "char",
        "c_schar" => "signed char",
        "c_uchar" => "unsigned char",
        "c_short" => "short",
        "c_ushort" => "unsigned short",
        "c_int" => "int",
        "c_uint" => "unsigned int",
        "c_long" => "long",
        "c_ulong" => "unsigned long",
        "c_longlong" => "long long",
        "c_ulonglong" => "unsigned long long",
        "c_float" | "f32" => "float",
        "c_double" | "f64" => "double",
        "c_void" => "void",
        "bool" => "bool",
        "i8" => "int8_t",
        "i16" => "int16_t",
        "i32" => "int32_t",
        "i64" => "int64_t",
        "u8" => "uint8_t",
        "u16" => "uint16_t",
        "u32" => "uint32_t",
        "u64" => "uint64_t",
        "usize" => "size_t",
        "isize" => "ptrdiff_t",
        other => other,
    }
}

struct Parser<'a> {
    toks: &'a [Tok],
    at: usize,
}

impl<'a> Parser<'a> {
    fn peek(&self) -> Option<&'a Tok> {
        self.toks.get(self.at)
    }

    fn peek_at(&self, n: usize) -> Option<&'a Tok> {
        self.toks.get(self.at + n)
    }

    fn next(&mut self) -> Result<&'a Tok, String> {
        let t = self.toks.get(self.at).ok_or("unexpected end")?;
        self.at += 1;
        Ok(t)
    }

    fn expect_punct(&mut self, c: char) -> Result<(), String> {
        match self.next()? {
            t if t.is_punct(c) => Ok(()),
            t => Err(format!("expected `{c}`, found {t:?}")),
        }
    }

    fn ty(&mut self) -> Result<CType, String> {
        match self.peek().ok_or("a type is missing")? {
            t if t.is_punct('*') => {
                self.at += 1;
                let konst = match self.next()? {
                    t if t.is_word("const") => true,
                    t if t.is_word("mut") => false,
                    t => return Err(format!("expected `const` or `mut`, found {t:?}")),
                };
                let mut to = self.ty()?;
                if konst {
                    to.make_const();
                }
                Ok(CType::Pointer {
                    to: Box::new(to),
                    konst: false,
                })
            }
            t if t.is_punct('(') => {
                self.at += 1;
                self.expect_punct(')')?;
                Ok(named("void"))
            }
            t if t.is_word("unsafe") || t.is_word("extern") || t.is_word("fn") => self.fn_ptr(),
            Tok::Word(_) => {
                // A path: only its last segment counts (`std::ffi::c_char`).
                let mut name = self.next()?.word().unwrap_or_default().to_string();
                while self.peek().is_some_and(|t| t.is_punct(':')) {
                    self.expect_punct(':')?;
                    self.expect_punct(':')?;
                    name = self.next()?.word().ok_or("expected a name")?.to_string();
                }
                if self.peek().is_some_and(|t| t.is_punct('<')) {
                    if name != "Option" {
                        return Err(format!("generic type `{name}<..>` has no C spelling"));
                    }
                    // Option<fn> is a nullable function pointer: the same C type.
                    self.at += 1;
                    let inner = self.ty()?;
                    if self.peek().is_some_and(|t| t.is_punct(',')) {
                        self.at += 1;
                    }
                    self.expect_punct('>')?;
                    return match inner {
                        CType::Pointer { ref to, .. } if matches!(**to, CType::Function { .. }) => {
                            Ok(inner)
                        }
                        _ => Err("Option<T> is C only for a function pointer T".to_string()),
                    };
                }
                Ok(named(c_name(&name)))
            }
            t => Err(format!("unexpected {t:?}")),
        }
    }

    /// `unsafe extern "C" fn(name: T, ..) -> R`
    fn fn_ptr(&mut self) -> Result<CType, String> {
        if self.peek().is_some_and(|t| t.is_word("unsafe")) {
            self.at += 1;
        }
        match self.next()? {
            t if t.is_word("extern") => {}
            _ => return Err("a function pointer must be `extern \"C\"`".to_string()),
        }
        if let Some(Tok::Str(abi)) = self.peek() {
            if abi != "C" {
                return Err(format!("ABI \"{abi}\" is not \"C\""));
            }
            self.at += 1;
        }
        match self.next()? {
            t if t.is_word("fn") => {}
            t => return Err(format!("expected `fn`, found {t:?}")),
        }
        self.expect_punct('(')?;
        let mut params = Vec::new();
        while !self.peek().ok_or("unclosed `(`")?.is_punct(')') {
            // An optional `name:` (but not a path's `::`).
            let mut name = None;
            if let (Some(Tok::Word(w)), Some(colon), next) =
                (self.peek(), self.peek_at(1), self.peek_at(2))
            {
                if colon.is_punct(':') && !next.is_some_and(|t| t.is_punct(':')) {
                    name = Some(w.clone());
                    self.at += 2;
                }
            }
            params.push((name, self.ty()?));
            if self.peek().is_some_and(|t| t.is_punct(',')) {
                self.at += 1;
            }
        }
        self.expect_punct(')')?;
        let ret = if self.peek().is_some_and(|t| t.is_punct('-')) {
            self.expect_punct('-')?;
            self.expect_punct('>')?;
            self.ty()?
        } else {
            named("void")
        };
        Ok(CType::Pointer {
            to: Box::new(CType::Function {
                ret: Box::new(ret),
                params,
            }),
            konst: false,
        })
    }
}

/// Known spellings, checked before anything relies on them: (Rust, C).
pub const SELF_TEST: &[(&str, &str)] = &[
    ("", "void"),
    ("()", "void"),
    ("i32", "int32_t"),
    ("usize", "size_t"),
    ("*const c_char", "const char *"),
    ("*mut *mut c_char", "char **"),
    ("*const *mut c_char", "char *const *"),
    ("*mut *const std::ffi::c_char", "const char **"),
    ("*const av_client", "const av_client *"),
    (
        "Option<unsafe extern \"C\" fn(user_data: *mut c_void, level: i32, message: *const c_char)>",
        "void (*)(void *user_data, int32_t level, const char *message)",
    ),
    ("extern \"C\" fn() -> *const c_char", "const char *(*)(void)"),
    (
        "unsafe extern \"C\" fn(unsafe extern \"C\" fn(i32)) -> extern \"C\" fn() -> u8",
        "uint8_t (*(*)(void (*)(int32_t)))(void)",
    ),
    ("*const unsafe extern \"C\" fn()", "void (*const *)(void)"),
    ("Option<extern \"C\" fn(),>", "void (*)(void)"),
];

/// Checks the spellings in [`SELF_TEST`].
pub fn self_test() -> Result<usize, String> {
    for (rust, c) in SELF_TEST {
        let got = c_type(rust)?.declare("");
        if got != *c {
            return Err(format!("`{rust}` is spelled `{got}` in C, not `{c}`"));
        }
    }
    Ok(SELF_TEST.len())
}
