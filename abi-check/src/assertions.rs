//! Compile-time half of the check: every definition in `alfaview_auth::ffi` has exactly
//! the type that src/abi.rs declares, so that what ctest compares with the header (the
//! declarations) is what the library exports (the definitions).
//!
//! The names the list uses (`av_status`, `av_client`, `av_log_cb`, ...) are bound here to
//! the library's own types, and each function is assigned to a function pointer of the
//! listed type: any difference in an argument, its constness, the return type or the
//! ABI string is a type error naming the function. Safety (`unsafe` or not) is not part
//! of the C ABI, so every definition is taken as an `unsafe extern "C" fn`.
//!
//! Each by-value struct must have exactly the listed fields (no more, no fewer), each of
//! exactly the listed type, and the size, alignment and field offsets of the declaration
//! in src/decls.rs (the one ctest compares with the header).

// The helpers of the struct assertions (unused while the list has no struct).

/// Implemented for `Listed` alone: a field's type (`Self`) is the listed one. `Struct` and
/// `Name` (a marker named after the field) are there for the error message.
#[allow(dead_code)]
#[diagnostic::on_unimplemented(
    message = "field {Struct}.{Name} is `{Self}`, not `{Listed}` as abi-check/src/abi.rs \
               lists it",
    label = "not the listed type"
)]
trait FieldIs<Listed, Struct, Name> {}
impl<T, Struct, Name> FieldIs<T, Struct, Name> for T {}

/// Compiles if `field` is a `&mut Listed` (no coercion turns a `&mut F` into a `&mut` of
/// another type, and `F` is inferred from `field` itself).
#[allow(dead_code)]
fn listed_field<Listed, Struct, Name>(field: &mut impl FieldIs<Listed, Struct, Name>) {
    let _ = field;
}

/// A value of any type, for the type checker alone (never called).
#[allow(dead_code)]
fn value_of<T>() -> T {
    unreachable!("only type-checked")
}

macro_rules! emit_asserts {
    (
        status $smod:ident :: $status:ident : $repr:ty { $($c:ident = $v:expr),* $(,)? }
        $(opaque $omod:ident :: $opaque:ident;)*
        $(typedef $tmod:ident :: $typedef:ident = $tty:ty;)*
        $(struct $stmod:ident :: $struct:ident { $($field:ident : $fty:ty),* $(,)? })*
        $(mod $fmod:ident { $(fn $f:ident($($a:ident : $t:ty),* $(,)?) $(-> $r:ty)?;)* })*
    ) => {
        #[allow(unused_imports)]
        use std::ffi::{c_char, c_void};
        use alfaview_auth::ffi::$smod::$status;
        $(use alfaview_auth::ffi::$omod::$opaque;)*
        $(use alfaview_auth::ffi::$tmod::$typedef;)*
        $(use alfaview_auth::ffi::$stmod::$struct;)*

        // The status enum: 4 bytes, aligned as its C type...
        const _: () = assert!(
            size_of::<$status>() == 4 && size_of::<$status>() == size_of::<$repr>(),
            concat!("alfaview_auth::ffi::", stringify!($status), " is not 4 bytes")
        );
        const _: () = assert!(
            align_of::<$status>() == 4 && align_of::<$status>() == align_of::<$repr>(),
            concat!("alfaview_auth::ffi::", stringify!($status), " is not aligned to 4")
        );
        // ... each value as listed...
        $(
            const _: () = assert!(
                $status::$c as $repr == $v,
                concat!(
                    "alfaview_auth::ffi::", stringify!($status), "::", stringify!($c),
                    " is not ", stringify!($v), " as abi-check/src/abi.rs lists it"
                )
            );
        )*
        // ... and no variant that the list leaves out (this match must be exhaustive).
        const _: fn($status) = |s| match s {
            $($status::$c => {})*
        };

        // Each typedef is the library's type.
        $(const _: fn($tty) -> $typedef = |same| same;)*

        // Marker types that name each field in an error message.
        #[allow(non_camel_case_types, dead_code)]
        mod field {
            $(pub mod $struct {
                $(pub struct $field;)*
            })*
        }

        // Each struct has exactly the listed fields, each of exactly the listed type, laid
        // out as the declaration that ctest compares with the header.
        $(
            // Built with a value for each listed field, and no `..`: a field the list lacks
            // is "missing field `NAME` in initializer" (E0063), one the struct lacks
            // "struct has no field named `NAME`" (E0560). (Never called.)
            const _: fn() -> $struct = || $struct {
                $($field: value_of(),)*
            };
            // Each field must be exactly of its listed type, not just take a value of it
            // (a `*mut T` is taken where a `*const T` is expected): the error names the
            // field and both types.
            const _: fn(&mut $struct) = |value| {
                $(listed_field::<$fty, $struct, field::$struct::$field>(&mut value.$field);)*
            };
            const _: () = assert!(
                size_of::<$struct>() == size_of::<crate::decls::$struct>(),
                concat!(
                    "alfaview_auth::ffi::", stringify!($stmod), "::", stringify!($struct),
                    " is not the size of the fields abi-check/src/abi.rs lists"
                )
            );
            const _: () = assert!(
                align_of::<$struct>() == align_of::<crate::decls::$struct>(),
                concat!(
                    "alfaview_auth::ffi::", stringify!($stmod), "::", stringify!($struct),
                    " is not aligned as the fields abi-check/src/abi.rs lists"
                )
            );
            // Same fields and types, so a different offset means another order, or a
            // struct that is not #[repr(C)].
            $(
                const _: () = assert!(
                    std::mem::offset_of!($struct, $field)
                        == std::mem::offset_of!(crate::decls::$struct, $field),
                    concat!(
                        "alfaview_auth::ffi::", stringify!($stmod), "::", stringify!($struct),
                        ".", stringify!($field), " is not where abi-check/src/abi.rs puts it \
                         (fields in another order, or not #[repr(C)]?)"
                    )
                );
            )*
        )*

        // Each function has exactly the listed type (an error names it: `{av_...}`).
        $($(
            const _: unsafe extern "C" fn($($t),*) $(-> $r)? = alfaview_auth::ffi::$fmod::$f;
        )*)*
    };
}

abi_list!(emit_asserts);
