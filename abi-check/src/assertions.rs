//! Compile-time half of the check: every definition in `alfaview_auth::ffi` has exactly
//! the type that src/abi.rs declares, so that what ctest compares with the header (the
//! declarations) is what the library exports (the definitions).
//!
//! The names the list uses (`av_status`, `av_client`, `av_log_cb`, ...) are bound here to
//! the library's own types, and each function is assigned to a function pointer of the
//! listed type: any difference in an argument, its constness, the return type or the
//! ABI string is a type error naming the function. Safety (`unsafe` or not) is not part
//! of the C ABI, so every definition is taken as an `unsafe extern "C" fn`.

macro_rules! emit_asserts {
    (
        status $smod:ident :: $status:ident : $repr:ty { $($c:ident = $v:expr),* $(,)? }
        $(opaque $omod:ident :: $opaque:ident;)*
        $(typedef $tmod:ident :: $typedef:ident = $tty:ty;)*
        $(mod $fmod:ident { $(fn $f:ident($($a:ident : $t:ty),* $(,)?) $(-> $r:ty)?;)* })*
    ) => {
        #[allow(unused_imports)]
        use std::ffi::{c_char, c_void};
        use alfaview_auth::ffi::$smod::$status;
        $(use alfaview_auth::ffi::$omod::$opaque;)*
        $(use alfaview_auth::ffi::$tmod::$typedef;)*

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

        // Each function has exactly the listed type (an error names it: `{av_...}`).
        $($(
            const _: unsafe extern "C" fn($($t),*) $(-> $r)? = alfaview_auth::ffi::$fmod::$f;
        )*)*
    };
}

abi_list!(emit_asserts);
