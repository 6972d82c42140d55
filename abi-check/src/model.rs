// The ABI list (src/abi.rs) as data: `abi_list!(emit_table)` defines `pub const ABI: Abi`.
// Plain `std`-free Rust, because build.rs `include!`s this file too (to tell ctest which
// structs are opaque and which are by value).

/// Everything src/abi.rs lists.
#[allow(dead_code)] // build.rs reads only part of it
#[derive(Debug)]
pub struct Abi {
    pub status: Status,
    pub opaques: &'static [Item],
    pub typedefs: &'static [Typedef],
    pub structs: &'static [Struct],
    pub functions: &'static [Function],
}

/// The status type and its values.
#[allow(dead_code)]
#[derive(Debug)]
pub struct Status {
    /// The module of `alfaview_auth::ffi` that defines it.
    pub module: &'static str,
    pub name: &'static str,
    /// Its C representation, as a Rust type (`i32`).
    pub repr: &'static str,
    pub values: &'static [(&'static str, i64)],
}

/// An opaque handle type (`typedef struct NAME NAME;`).
#[allow(dead_code)]
#[derive(Debug)]
pub struct Item {
    pub module: &'static str,
    pub name: &'static str,
}

/// A typedef, e.g. a callback type.
#[allow(dead_code)]
#[derive(Debug)]
pub struct Typedef {
    pub module: &'static str,
    pub name: &'static str,
    /// The Rust type, as `stringify!` spells it.
    pub rust: &'static str,
}

/// A by-value struct (`typedef struct { .. } NAME;`).
#[allow(dead_code)]
#[derive(Debug)]
pub struct Struct {
    pub module: &'static str,
    pub name: &'static str,
    /// `(name, Rust type)` of each field, in order.
    pub fields: &'static [(&'static str, &'static str)],
}

/// A function.
#[allow(dead_code)]
#[derive(Debug)]
pub struct Function {
    pub module: &'static str,
    pub name: &'static str,
    /// `(name, Rust type)` of each parameter.
    pub params: &'static [(&'static str, &'static str)],
    /// The Rust return type; "" for none.
    pub ret: &'static str,
}

#[allow(dead_code)]
impl Abi {
    /// Whether `name` is the status type, an opaque type, a typedef or a struct.
    pub fn has_type(&self, name: &str) -> bool {
        self.type_names().any(|n| n == name)
    }

    /// The names of the status type, the opaque types, the typedefs and the structs.
    pub fn type_names(&self) -> impl Iterator<Item = &'static str> + '_ {
        core::iter::once(self.status.name)
            .chain(self.opaques.iter().map(|o| o.name))
            .chain(self.typedefs.iter().map(|t| t.name))
            .chain(self.structs.iter().map(|s| s.name))
    }

    /// The struct called `name`.
    pub fn structure(&self, name: &str) -> Option<&'static Struct> {
        self.structs.iter().find(|s| s.name == name)
    }

    /// The function called `name`.
    pub fn function(&self, name: &str) -> Option<&'static Function> {
        self.functions.iter().find(|f| f.name == name)
    }
}

macro_rules! emit_table {
    (
        status $smod:ident :: $status:ident : $repr:ty { $($c:ident = $v:expr),* $(,)? }
        $(opaque $omod:ident :: $opaque:ident;)*
        $(typedef $tmod:ident :: $typedef:ident = $tty:ty;)*
        $(struct $stmod:ident :: $struct:ident { $($field:ident : $fty:ty),* $(,)? })*
        $(mod $fmod:ident { $(fn $f:ident($($a:ident : $t:ty),* $(,)?) $(-> $r:ty)?;)* })*
    ) => {
        /// The ABI as src/abi.rs lists it.
        pub const ABI: Abi = Abi {
            status: Status {
                module: stringify!($smod),
                name: stringify!($status),
                repr: stringify!($repr),
                values: &[$((stringify!($c), $v as i64),)*],
            },
            opaques: &[$(Item { module: stringify!($omod), name: stringify!($opaque) },)*],
            typedefs: &[$(Typedef {
                module: stringify!($tmod),
                name: stringify!($typedef),
                rust: stringify!($tty),
            },)*],
            structs: &[$(Struct {
                module: stringify!($stmod),
                name: stringify!($struct),
                fields: &[$((stringify!($field), stringify!($fty)),)*],
            },)*],
            functions: &[$($(Function {
                module: stringify!($fmod),
                name: stringify!($f),
                params: &[$((stringify!($a), stringify!($t)),)*],
                ret: concat!("" $(, stringify!($r))?),
            },)*)*],
        };
    };
}
