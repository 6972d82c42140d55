//! ABI verification of alfaview-auth's C interface (see README.md).
//!
//! - [`decls`]: the Rust declarations ctest compares with include/alfaview_auth.h.
//! - `assertions` (private): compile-time proof that the library's definitions have the
//!   declared types; this crate does not compile otherwise.
//! - [`ABI`]: the same list as data, for the checks in tests/abi/.
//!
//! All three come from the one list in src/abi.rs.

#[macro_use]
pub mod decls;
#[macro_use]
mod model;
mod assertions;

pub use model::{Abi, Function, Item, Status, Struct, Typedef};

abi_list!(emit_table);

/// The workspace root (the alfaview-auth crate), as seen when this crate was compiled.
pub const WORKSPACE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
