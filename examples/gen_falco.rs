//! Writes N realistic Falco `json_output` lines to stdout, for measuring casefile on big inputs.
//!
//! `cargo run --release --example gen_falco -- 100000 > falco-100k.jsonl`
//!
//! Deterministic (a fixed seed), with known needles: user `needle` in about 0.1% of events,
//! container `c0ffee000001` in about 0.5%, and image tag (commit) `9f1c2ab` in about 1%.

use std::io::{BufWriter, Write};

#[path = "support/falco_gen.rs"]
mod falco_gen;

fn main() {
    let n: u64 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(100_000);
    let out = std::io::stdout();
    let mut out = BufWriter::with_capacity(1 << 20, out.lock());
    for line in falco_gen::lines(n) {
        if writeln!(out, "{line}").is_err() {
            return;
        }
    }
    let _ = out.flush();
}
