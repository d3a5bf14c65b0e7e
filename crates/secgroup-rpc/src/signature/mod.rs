//! The two live signature schemes as pure functions: canonicalize → string to sign → sign.
//! Each stage is tested separately against the vectors of docs/protocol.md §3.4.

pub mod v1;
pub mod v3;

use subtle::ConstantTimeEq;

/// Compares a computed signature with the one a client sent, in constant time.
pub fn signatures_match(computed: &str, provided: &str) -> bool {
    computed.as_bytes().ct_eq(provided.as_bytes()).into()
}
