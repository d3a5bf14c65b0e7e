//! The logic of the fuzz targets in `fuzz/` (cargo-fuzz, nightly): each target there is one
//! call to a function here, so that the same code runs on stable, where `cargo test`
//! replays every committed corpus file through it (`tests/corpus.rs`). Every function
//! panics when a property fails; that panic is what the fuzzer reports.
//!
//! See `fuzz/README.md` for how to run them, the long runs and their findings.
#![forbid(unsafe_code)]

pub mod http;
pub mod params;
pub mod render;
pub mod rules;
pub mod signatures;

/// The names of the targets, as `fuzz/fuzz_targets/<name>.rs` and `fuzz/corpus/<name>/`.
pub const TARGETS: [&str; 5] = ["http", "params", "signatures", "render", "rules"];

/// Runs the target `name` on `data` (the corpus replay's entry point).
pub fn run(name: &str, data: &[u8]) {
    match name {
        "http" => http::fuzz(data),
        "params" => params::fuzz(data),
        "signatures" => signatures::fuzz(data),
        "render" => render::fuzz(data),
        "rules" => rules::fuzz(data),
        other => panic!("no fuzz target {other:?}"),
    }
}

/// `data` cut at `sep` into at most `n` pieces, each read as (lossy) UTF-8.
pub(crate) fn fields(data: &[u8], sep: u8, n: usize) -> Vec<String> {
    data.splitn(n, |&b| b == sep)
        .map(|f| String::from_utf8_lossy(f).into_owned())
        .collect()
}
