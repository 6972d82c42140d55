//! A small tokenizer for C and Rust source: words (identifiers, keywords, numbers), string
//! literals and single punctuation characters. Comments, character literals and lifetimes
//! are dropped, so that nothing inside a comment or a string is taken for code.

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tok {
    Word(String),
    Str(String),
    Punct(char),
}

impl Tok {
    pub fn is_word(&self, w: &str) -> bool {
        matches!(self, Tok::Word(s) if s == w)
    }

    pub fn is_punct(&self, c: char) -> bool {
        *self == Tok::Punct(c)
    }

    pub fn word(&self) -> Option<&str> {
        match self {
            Tok::Word(s) => Some(s),
            _ => None,
        }
    }
}

/// Which comment rules apply: Rust block comments nest, C ones do not.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    C,
    Rust,
}

fn is_word_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// The tokens of `src`.
pub fn tokens(src: &str, lang: Lang) -> Vec<Tok> {
    let s: Vec<char> = src.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < s.len() {
        let c = s[i];
        let next = s.get(i + 1).copied();
        if c.is_whitespace() {
            i += 1;
        } else if c == '/' && next == Some('/') {
            while i < s.len() && s[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            let mut depth = 0;
            while i < s.len() {
                if s[i] == '/' && s.get(i + 1) == Some(&'*') {
                    depth += 1;
                    i += 2;
                } else if s[i] == '*' && s.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    i += 2;
                    if depth == 0 || lang == Lang::C {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
        } else if c == '"' {
            let (text, end) = quoted(&s, i + 1);
            out.push(Tok::Str(text));
            i = end;
        } else if let Some((start, hashes)) = raw_string(&s, i, lang) {
            let mut k = start;
            while k < s.len() && !(s[k] == '"' && closes_raw(&s[k + 1..], hashes)) {
                k += 1;
            }
            out.push(Tok::Str(s[start..k.min(s.len())].iter().collect()));
            i = (k + 1 + hashes).min(s.len());
        } else if c == '\'' {
            if next == Some('\\') {
                // An escaped character literal: skip to its closing quote.
                i += 2;
                while i < s.len() && s[i] != '\'' {
                    i += 1;
                }
                i += 1;
            } else if s.get(i + 2) == Some(&'\'') {
                i += 3; // 'x'
            } else {
                i += 1; // a lifetime or label: its name follows as a word
            }
        } else if is_word_char(c) {
            let start = i;
            while i < s.len() && is_word_char(s[i]) {
                i += 1;
            }
            out.push(Tok::Word(s[start..i].iter().collect()));
        } else {
            out.push(Tok::Punct(c));
            i += 1;
        }
    }
    out
}

/// The text of a string literal whose contents start at `i`, and the index after it.
fn quoted(s: &[char], mut i: usize) -> (String, usize) {
    let mut text = String::new();
    while i < s.len() && s[i] != '"' {
        if s[i] == '\\' && i + 1 < s.len() {
            text.push(s[i + 1]);
            i += 2;
        } else {
            text.push(s[i]);
            i += 1;
        }
    }
    (text, i + 1)
}

/// Where the contents of a Rust raw string (`r".."`, `r#".."#`, `br".."`) starting at `i`
/// begin, and how many `#` close it.
fn raw_string(s: &[char], i: usize, lang: Lang) -> Option<(usize, usize)> {
    if lang != Lang::Rust || (i > 0 && is_word_char(s[i - 1])) {
        return None;
    }
    let j = match (s[i], s.get(i + 1)) {
        ('r', _) => i + 1,
        ('b', Some('r')) => i + 2,
        _ => return None,
    };
    let hashes = s[j..].iter().take_while(|&&h| h == '#').count();
    (s.get(j + hashes) == Some(&'"')).then_some((j + hashes + 1, hashes))
}

fn closes_raw(rest: &[char], hashes: usize) -> bool {
    rest.len() >= hashes && rest[..hashes].iter().all(|&h| h == '#')
}
