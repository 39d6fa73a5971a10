//! `cargo xtask fuzz [SECONDS]`: every target in `fuzz/fuzz_targets/` for SECONDS each (default 600),
//! with cargo-fuzz on the pinned nightly, starting from the committed seeds (`fuzz/corpus/<target>/`).
//! What the fuzzers add goes to `target/fuzz-corpus/<target>/`, so the committed seeds stay as they
//! are. A crash stops the run with the input's path; it becomes a regression (`fuzz/regressions/`),
//! which `npm test` replays (crates/assent-fuzz/tests/seeds.rs), and a named test beside the code.

use std::fs;
use std::path::Path;
use std::process::Command;
use std::time::Instant;

use anyhow::{bail, Context, Result};

use crate::dist::{ensure_wasm_toolchain, WASM_TOOLCHAIN};
use crate::run;

const CARGO_FUZZ: &str = "0.13.2";

pub(crate) fn fuzz(root: &Path, seconds: u64) -> Result<()> {
    ensure_wasm_toolchain()?;
    let has_fuzz = Command::new("cargo").args(["fuzz", "--version"]).output().is_ok_and(|o| o.status.success());
    if !has_fuzz {
        run(Command::new("cargo").args(["install", "cargo-fuzz", "--version", CARGO_FUZZ, "--locked"]))?;
    }
    let mut targets: Vec<String> = fs::read_dir(root.join("fuzz/fuzz_targets"))?
        .filter_map(|e| e.ok()?.path().file_stem()?.to_str().map(str::to_string))
        .collect();
    targets.sort();
    let toolchain = format!("+{WASM_TOOLCHAIN}");
    // Our crates forbid `unsafe`, so a sanitizer would find little: what the fuzzers look for is a
    // panic, a failed property or an overflow (debug assertions are on), at full speed.
    run(Command::new("cargo").args([&toolchain, "fuzz", "build", "--sanitizer", "none"]))?;
    let mut report = Vec::new();
    for target in &targets {
        let grown = root.join("target/fuzz-corpus").join(target);
        fs::create_dir_all(&grown)?;
        let started = Instant::now();
        let output = Command::new("cargo")
            .args([&toolchain, "fuzz", "run", "--sanitizer", "none", target])
            .arg(&grown)
            .arg(root.join("fuzz/corpus").join(target))
            .args([
                "--",
                &format!("-max_total_time={seconds}"),
                "-timeout=10",
                "-rss_limit_mb=4096",
                "-print_final_stats=1",
            ])
            .output()
            .context("cargo fuzz")?;
        let log = String::from_utf8_lossy(&output.stderr);
        let runs = log
            .lines()
            .find_map(|l| l.strip_prefix("stat::number_of_executed_units:"))
            .map_or("?".into(), |n| n.trim().to_string());
        let coverage = log
            .lines()
            .rev()
            .find_map(|l| l.split_once(" cov: "))
            .map_or("?".into(), |(_, rest)| rest.split_whitespace().next().unwrap_or("?").to_string());
        let corpus = fs::read_dir(&grown)?.count();
        if !output.status.success() {
            let tail: Vec<&str> = log.lines().rev().take(40).collect();
            let tail: Vec<&str> = tail.into_iter().rev().collect();
            bail!(
                "fuzz target {target} failed after {:.0} s:\n{}\nCopy the input it names into fuzz/regressions/{target}/ and fix the cause.",
                started.elapsed().as_secs_f64(),
                tail.join("\n")
            );
        }
        report.push(format!(
            "{target:<10} {:>6.0} s {runs:>12} runs  coverage {coverage:>6}  corpus {corpus:>6}  crashes 0",
            started.elapsed().as_secs_f64()
        ));
        println!("{}", report.last().unwrap());
    }
    println!("\nfuzzed with cargo-fuzz {CARGO_FUZZ} on {WASM_TOOLCHAIN}, {seconds} s per target:");
    for line in report {
        println!("  {line}");
    }
    Ok(())
}
