//! `cargo xtask bench filter`: the release `assent` binary on the synthetic data set
//! (tests/support/dataset.rs), by default 1,000,000 chat records against 100,000 subjects.
//!
//! - Records a second: `assent filter --intervals` over the records, less the same run over no records
//!   (loading the table), on one core: the filter reads records on one thread.
//! - The interval table: `assent intervals` from the signed receipts (signature checks use every core).
//! - Receipts a second: `assent filter --receipts` over no records (verify, chain, timelines).
//!
//! Each figure is the median of three runs. `BENCH_SUBJECTS`, `BENCH_RECORDS` change the set.

#[path = "../tests/support/dataset.rs"]
mod dataset;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn median(mut runs: Vec<Duration>) -> Duration {
    runs.sort();
    runs[runs.len() / 2]
}

/// The median wall time of three runs of `assent args…`, its output to `out` (or nowhere).
fn time(assent: &Path, args: &[&str], out: Option<&Path>) -> Duration {
    median(
        (0..3)
            .map(|_| {
                let stdout = match out {
                    Some(p) => Stdio::from(std::fs::File::create(p).expect("create the output")),
                    None => Stdio::null(),
                };
                let start = Instant::now();
                let status = Command::new(assent).args(args).stdout(stdout).stderr(Stdio::null()).status();
                assert!(status.expect("run assent").success(), "assent {args:?} failed");
                start.elapsed()
            })
            .collect(),
    )
}

fn lines(path: &Path) -> usize {
    std::fs::read_to_string(path).expect("read").lines().count()
}

fn main() {
    let number = |name: &str, default: u64| std::env::var(name).map_or(default, |v| v.parse().expect("a whole number"));
    let (subjects, records) = (number("BENCH_SUBJECTS", 100_000), number("BENCH_RECORDS", 1_000_000));
    let assent = std::env::current_exe()
        .expect("this binary")
        .parent()
        .and_then(Path::parent)
        .expect("target dir")
        .join("assent");
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = |name: &str| dir.path().join(name);
    let s = |p: &Path| p.to_str().expect("a UTF-8 path").to_string();
    eprintln!("writing {records} records and the receipts of {subjects} subjects…");
    dataset::write(dir.path(), subjects, records, 1);
    std::fs::write(path("empty.jsonl"), "").expect("write");
    let (receipts, data, empty, table) =
        (s(&path("receipts.jsonl")), s(&path("records.jsonl")), s(&path("empty.jsonl")), s(&path("intervals.ndjson")));
    let intervals = time(
        &assent,
        &["intervals", "--purpose", "ai_training", "--receipts", &receipts],
        Some(&path("intervals.ndjson")),
    );
    let load = time(&assent, &["filter", "--purpose", "ai_training", "--intervals", &table, &empty], None);
    let full =
        time(&assent, &["filter", "--purpose", "ai_training", "--intervals", &table, &data], Some(&path("kept.jsonl")));
    let verify = time(&assent, &["filter", "--purpose", "ai_training", "--receipts", &receipts, &empty], None);
    let loop_time = full.saturating_sub(load).max(Duration::from_millis(1));
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!(
        "assent filter, {records} records against {subjects} subjects' intervals ({} spans):",
        lines(&path("intervals.ndjson"))
    );
    println!(
        "  records:        {:>9.0} records/s on one core ({:.2} s for the records, {:.2} s to load the table; kept {})",
        records as f64 / loop_time.as_secs_f64(),
        loop_time.as_secs_f64(),
        load.as_secs_f64(),
        lines(&path("kept.jsonl"))
    );
    let receipts_n = lines(&path("receipts.jsonl"));
    println!(
        "  receipts:       {:>9.0} receipts/s verified into timelines on {cores} cores ({receipts_n} in {:.2} s)",
        receipts_n as f64 / verify.as_secs_f64(),
        verify.as_secs_f64()
    );
    println!("  assent intervals: {:.2} s for the table of {subjects} subjects", intervals.as_secs_f64());
}
