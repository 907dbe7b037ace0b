//! Development tools of the `idmefv2` crate, kept out of it: nothing here is
//! published or compiled for the crate's users.
//!
//! The library part is shared by the tools in `src/bin/` and by the crate's
//! own tests and benchmarks (a dev-dependency):
//!
//! - [`gen`]: a seeded generator of messages driven by the crate's schemas,
//!   and of mutations that break them in known ways (the conformance check
//!   and the property tests);
//! - [`bench`](mod@bench): the three benchmark inputs and the side-by-side measurement
//!   against the untyped `serde_json::Value` baseline (the criterion bench
//!   and the measuring tools);
//! - [`fixtures`]: the fixture files of the repository;
//! - [`support`]: what the tests and benchmarks that run real programs
//!   share (child processes, ports, the test PKI, curl, nginx,
//!   nats-server, dnsmasq, `idmefv2 serve` and `send`, the fault and load
//!   runs).
//!
//! The tools: `conformance` and `drafts_conformance` (the differential
//! checks against the official schemas), `ratio`, `profile`, `alloc_count`,
//! `gen_ndjson` and `ndjson_baseline` (measurements; see `BENCHMARKS.md`).

pub mod bench;
pub mod gen;
pub mod support;

/// The fixture files of the repository (`fixtures/` at its root).
pub mod fixtures {
    use std::path::{Path, PathBuf};

    /// The repository's root: the crate `idmefv2` itself.
    pub fn repository() -> &'static Path {
        Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
    }

    /// The `.json` files of `fixtures/<dir>`, sorted, as (file name,
    /// bytes).
    pub fn read(dir: &str) -> Vec<(String, Vec<u8>)> {
        let dir: PathBuf = repository().join("fixtures").join(dir);
        let mut out: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|e| e.expect("directory entry").path())
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .map(|p| {
                let name = p
                    .file_name()
                    .unwrap_or_default()
                    .to_string_lossy()
                    .into_owned();
                let bytes = std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
                (name, bytes)
            })
            .collect();
        out.sort();
        out
    }
}
