//! The Rust declarations of the C ABI that ctest compares with include/alfaview_auth.h:
//! the `extern "C"` block, the status type and its constants, the opaque handle types, the
//! typedefs and the by-value structs, all emitted from the one list in `abi.rs`.
//!
//! build.rs hands this file to ctest as a crate root of its own (ctest expands it with
//! `rustc -Zunpretty=expanded`, so it sees the macro's output), which is why it names
//! nothing outside `std`. The library also compiles it as `abi_check::decls`, which the
//! generated ctest code in tests/abi/ uses.

#![allow(non_camel_case_types)]

include!("abi.rs");

macro_rules! emit_decls {
    (
        status $smod:ident :: $status:ident : $repr:ty { $($c:ident = $v:expr),* $(,)? }
        $(opaque $omod:ident :: $opaque:ident;)*
        $(typedef $tmod:ident :: $typedef:ident = $tty:ty;)*
        $(struct $stmod:ident :: $struct:ident { $($field:ident : $fty:ty),* $(,)? })*
        $(mod $fmod:ident { $(fn $f:ident($($a:ident : $t:ty),* $(,)?) $(-> $r:ty)?;)* })*
    ) => {
        pub use std::ffi::{c_char, c_void};

        /// The status type as C sees it: an integer (`typedef int32_t av_status;`).
        pub type $status = $repr;
        $(pub const $c: $status = $v;)*

        $(
            /// An opaque handle: only ever behind a pointer.
            #[repr(C)]
            pub struct $opaque {
                _opaque: [u8; 0],
                _not_send_sync_unpin:
                    std::marker::PhantomData<(*mut u8, std::marker::PhantomPinned)>,
            }
        )*

        $(pub type $typedef = $tty;)*

        $(
            /// A struct C passes by value: the listed fields, in the listed order. ctest
            /// compares its size, alignment, each field's offset, size and type with the
            /// header's, and hands one to C and back (padding stays in place).
            #[repr(C)]
            pub struct $struct {
                $(pub $field: $fty,)*
            }
        )*

        extern "C" {
            $($(pub fn $f($($a: $t),*) $(-> $r)?;)*)*
        }
    };
}

abi_list!(emit_decls);
