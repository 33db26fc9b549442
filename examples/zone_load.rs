//! Loads datasets with the library alone and reports what the load cost: the peak resident
//! memory of the process before and after (Linux `VmHWM`), the compiled list's own bytes,
//! and the load time.
//!
//! ```text
//! cargo run --release --example zone_load -- ZONE:TYPE:FILE[,FILE…]…
//! ```
//!
//! `scripts/bench-load.sh` runs it beside `rblkit zone check` and rbldnsd.

use rblkit::zone::{Dataset, DatasetSpec, LoadOptions};
use std::time::Instant;

/// The process's peak resident memory in KiB (0 where /proc is missing).
fn peak_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let specs: Vec<DatasetSpec> = std::env::args()
        .skip(1)
        .map(|a| a.parse())
        .collect::<Result<_, _>>()?;
    if specs.is_empty() {
        return Err("usage: zone_load ZONE:TYPE:FILE[,FILE...]...".into());
    }
    for spec in &specs {
        let before = peak_kib();
        let t = Instant::now();
        let ds = Dataset::load(spec, LoadOptions::default())?;
        let secs = t.elapsed().as_secs_f64();
        let after = peak_kib();
        let s = ds.list().stats();
        println!(
            "{spec}: {} lines, {} entries, {} warnings, {secs:.3} s, list {:.1} MB, \
             peak RSS {:.1} MB (process before loading {:.1} MB)",
            ds.lines(),
            ds.entries(),
            ds.warnings().len(),
            s.memory_bytes as f64 / 1048576.0,
            after as f64 / 1024.0,
            before as f64 / 1024.0,
        );
    }
    Ok(())
}
