//! The warehouse recipes of docs/ai-training-data.md and the Python package (`tests/warehouse/`), run
//! against the CLI: a Python virtual environment in target/ with the engines that
//! tests/warehouse/requirements.txt pins (made once and remade when that file changes), and the
//! package built into it with maturin.

use std::fs;
use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result};

use crate::run;

pub fn test(root: &Path) -> Result<()> {
    let venv = root.join("target/warehouse-venv");
    let python = venv.join("bin/python");
    let requirements = root.join("tests/warehouse/requirements.txt");
    let installed = venv.join("requirements.txt");
    let wanted = fs::read(&requirements).context("read tests/warehouse/requirements.txt")?;
    if fs::read(&installed).ok().as_deref() != Some(wanted.as_slice()) {
        if !python.exists() && run(Command::new("python3").args(["-m", "venv"]).arg(&venv)).is_err() {
            crate::apt_install(&["python3-venv"], "Python's venv module is missing")?;
            run(Command::new("python3").args(["-m", "venv"]).arg(&venv))?;
        }
        run(Command::new(&python)
            .args(["-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-r"])
            .arg(&requirements))?;
        fs::write(&installed, &wanted)?;
    }
    // The Python package, built from this repository into the environment (as the README's setup does).
    let bin = venv.join("bin");
    let path = std::env::join_paths(
        std::iter::once(bin.clone()).chain(std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())),
    )?;
    run(Command::new(bin.join("maturin"))
        .args(["develop", "--release", "--quiet", "-m", "crates/assent-py/Cargo.toml"])
        .env("VIRTUAL_ENV", &venv)
        .env("PATH", path))?;
    run(Command::new("cargo").args([
        "build",
        "-p",
        "assent-cli",
        "--bin",
        "assent",
        "--example",
        "dataset",
        "-p",
        "assent-collector",
        "--bin",
        "assent-collector",
    ]))?;
    run(Command::new(&python)
        .args(["-m", "unittest", "discover", "-s", "tests/warehouse", "-v"])
        .env("ASSENT", root.join("target/debug/assent"))
        .env("ASSENT_DATASET", root.join("target/debug/examples/dataset"))
        .env("ASSENT_COLLECTOR", root.join("target/debug/assent-collector")))
}
