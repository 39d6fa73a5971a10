//! `cargo xtask <task>`: Assent's build, dist, size, serve and test tasks.
//!
//! Every task installs what a fresh machine lacks (the wasm32 target, the wasm-bindgen CLI matching
//! Cargo.lock, npm packages, Debian's Chromium) before it needs it.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};

mod dist;
mod fuzz;
mod postgres;
mod size;
#[cfg(test)]
mod tidy;
mod warehouse;

const USAGE: &str = "usage: cargo xtask <dist|serve|test|size|schema|check-locales|screenshots>
  dist           build the drop-in bundle into dist/assent/ (npm run build)
  serve          build, then serve the demo at http://127.0.0.1:8080 (npm start)
  test           every test: lints, native, the warehouse recipes, wasm-bindgen-test in Chromium,
                 Playwright e2e, and the three-engine suite in Chromium, Firefox ESR and WebKitGTK (npm test)
  warehouse      the warehouse recipes of docs/ai-training-data.md against the CLI (npm test runs it)
  size           raw/gzip/brotli bytes a site downloads on first and returning visits; fails over a
                 budget in xtask/size-budgets.toml (npm test runs it)
  schema         regenerate docs/config.schema.json from the config model
  fuzz [SECONDS] every fuzz target (fuzz/) for SECONDS each (default 600) from the committed seeds,
                 with cargo-fuzz on the pinned nightly; a crash fails with the input to keep
  check-locales  fail on missing or surplus keys or placeholder mismatches in locales/
  screenshots    build, then screenshot the banner and dialog into docs/screenshots/
  bench collector  receipts/s verified and stored, p50/p99, against bare signature verification
  bench feed       a withdrawal posted to the collector until the example consumer has quarantined the rows
  bench filter     assent filter's records/s against 100,000 subjects' intervals, on one core
  bench loader     what the loader's interception adds per appendChild/innerHTML call, in Chromium
  bench first-visit  Assent, vanilla-cookieconsent and Klaro side by side in one Chromium under
                 Lighthouse's mobile profile: time to a visible banner, returning visit, bytes, round trips";

fn main() -> Result<()> {
    let task = std::env::args().nth(1).unwrap_or_default();
    let root = root();
    std::env::set_current_dir(&root)?;
    match task.as_str() {
        "dist" => dist::dist(&root),
        "serve" => serve(&root),
        "test" => test(&root),
        "size" => {
            dist::dist(&root)?;
            size::report(&root)
        }
        "schema" => dist::write_schema(&root.join("docs/config.schema.json")),
        "fuzz" => {
            let seconds = match std::env::args().nth(2) {
                Some(s) => {
                    s.parse().with_context(|| format!("cargo xtask fuzz [SECONDS]: {s} is not a number of seconds"))?
                }
                None => 600,
            };
            fuzz::fuzz(&root, seconds)
        }
        "check-locales" => dist::check_locales(&root),
        "bench" => match std::env::args().nth(2).as_deref() {
            Some("collector") => {
                let pg = postgres::TestPostgres::start()?;
                run(Command::new("cargo")
                    .args(["run", "--release", "-p", "assent-collector", "--example", "bench"])
                    .env("ASSENT_BENCH_DATABASE_URL", &pg.url))
            }
            Some("feed") => {
                run(Command::new("cargo").args([
                    "build",
                    "--release",
                    "-p",
                    "assent-collector",
                    "--bin",
                    "assent-collector",
                ]))?;
                run(Command::new("cargo").args(["run", "--release", "-p", "assent-collector", "--example", "feed"]))
            }
            Some("filter") => {
                run(Command::new("cargo").args(["build", "--release", "-p", "assent-cli", "--bin", "assent"]))?;
                run(Command::new("cargo").args(["run", "--release", "-p", "assent-cli", "--example", "filter"]))
            }
            Some("loader") => {
                dist::dist(&root)?;
                run(Command::new("node").arg("tests/bench/loader.mjs"))
            }
            Some("first-visit") => {
                ensure_chromium()?;
                dist::dist(&root)?;
                run(Command::new("node").arg("tests/bench/first-visit.mjs"))
            }
            _ => bail!("usage: cargo xtask bench <collector|feed|filter|loader|first-visit>"),
        },
        "warehouse" => warehouse::test(&root),
        "screenshots" => {
            ensure_chromium()?;
            ensure_japanese_font()?;
            dist::dist(&root)?;
            run(Command::new("node").arg("tests/e2e/screenshots.mjs"))
        }
        _ => {
            eprintln!("{USAGE}");
            bail!("unknown task `{task}`")
        }
    }
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("xtask sits in the workspace").to_path_buf()
}

/// Runs a command, failing with its name if it fails.
pub(crate) fn run(cmd: &mut Command) -> Result<()> {
    let shown = format!("{cmd:?}");
    eprintln!("$ {shown}");
    let status = cmd.status().with_context(|| format!("could not start {shown}"))?;
    if !status.success() {
        bail!("{shown} failed: {status}");
    }
    Ok(())
}

/// The demo with the reference collector behind it (SQLite in target/demo/, the embedded default).
fn serve(root: &Path) -> Result<()> {
    dist::dist(root)?;
    run(Command::new("cargo").args(["build", "-p", "assent-collector", "-p", "assent-cli"]))?;
    std::fs::create_dir_all(root.join("target/demo"))?;
    let key = "demo-export-key";
    let mut collector = Command::new(root.join("target/debug/assent-collector"))
        .args(["--listen", "127.0.0.1:8081", "--db"])
        .arg(root.join("target/demo/receipts.sqlite"))
        .args(["--api-key", key])
        .spawn()
        .context("start assent-collector")?;
    let demo = run(Command::new("node")
        .arg("web/demo/serve.mjs")
        .env("ASSENT_COLLECTOR", "http://127.0.0.1:8081")
        .env("ASSENT_API_KEY", key)
        .env("ASSENT_CLI", root.join("target/debug/assent"))
        .env("ASSENT_DB", root.join("target/demo/receipts.sqlite")));
    let _ = collector.kill();
    demo
}

/// Formatting and lints, as tests: an unformatted file, a clippy warning (native or wasm, tests
/// included), a JS lint or type error, or a loader/core disagreement on a conformance vector fails the
/// run, in its first minutes.
fn lint() -> Result<()> {
    let have = |tool: &str| Command::new("cargo").args([tool, "--version"]).output().is_ok_and(|o| o.status.success());
    if !have("fmt") || !have("clippy") {
        run(Command::new("rustup").args(["component", "add", "rustfmt", "clippy"]))?;
    }
    run(Command::new("cargo").args(["fmt", "--all", "--check"]))?;
    // The client's wasm tests run the bundled loader: bundled before anything compiles them.
    let root = root();
    dist::bundle_loader(&root)?;
    // The JS: Biome's lints over web/ and tests/, the type check against web/assent.d.ts, and the
    // loader's twins of the core against the conformance vectors in data/conformance/.
    run(Command::new(root.join("node_modules/.bin/biome")).args(["lint", "--error-on-warnings"]))?;
    run(Command::new(root.join("node_modules/.bin/tsc")).args(["-p", "."]))?;
    run(Command::new("node").args(["--test", "tests/loader/", "tests/vectors/"]))?;
    run(Command::new("cargo").args(["clippy", "--workspace", "--all-targets", "--", "-D", "warnings"]))?;
    dist::ensure_wasm_target()?;
    run(Command::new("cargo").args([
        "clippy",
        "-p",
        "assent-client",
        "-p",
        "assent-ui",
        "-p",
        "assent-prefs",
        "-p",
        "assent-tcf",
        "--target",
        "wasm32-unknown-unknown",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ]))
}

fn test(root: &Path) -> Result<()> {
    lint()?;
    dist::dist(root)?;
    // Bytes are deterministic: a bundle over its budget fails the run.
    size::report(root)?;
    ensure_chromium()?;
    // Native: the core's data-driven tests, the collector over HTTP on SQLite, the CLI on a real-run
    // fixture, and the repository checks ("tidy").
    // The collector suite runs on SQLite and on a real PostgreSQL started here on loopback.
    let pg = postgres::TestPostgres::start()?;
    run(Command::new("cargo")
        .args([
            "test",
            "-p",
            "assent-core",
            "-p",
            "assent-jose",
            "-p",
            "assent-collector",
            "-p",
            "assent-cli",
            "-p",
            "assent-fuzz",
            "-p",
            "xtask",
        ])
        .env("ASSENT_TEST_DATABASE_URL", &pg.url)
        .env("ASSENT_TEST_DATABASE_CA", &pg.ca))?;
    drop(pg);
    // The DuckDB recipe of docs/ai-training-data.md, as written there, against `assent filter`.
    warehouse::test(root)?;
    // The UI crates' unit tests (the wire format between the two modules, the placeholder's escaping)
    // are plain Rust.
    run(Command::new("cargo").args(["test", "-p", "assent-ui", "-p", "assent-prefs", "--lib"]))?;
    // The client crates in headless Chromium, as front-end teams run them (wasm-pack test --headless --chrome).
    run(Command::new("cargo")
        .args([
            "test",
            "-p",
            "assent-ui",
            "-p",
            "assent-prefs",
            "-p",
            "assent-client",
            "--target",
            "wasm32-unknown-unknown",
        ])
        .env("CHROMEDRIVER", "/usr/bin/chromedriver"))?;
    // Whole pages in Debian's Chromium through playwright-core, with the real collector binary.
    run(Command::new("cargo").args(["build", "-p", "assent-collector", "-p", "assent-cli"]))?;
    // A test that waits on a signal which never comes fails after five minutes instead of holding
    // the run (each test takes seconds).
    run(Command::new("node").args(["--test", "--test-concurrency=1", "--test-timeout=300000", "tests/e2e/"]))?;
    // The same promises in Chromium, Firefox and WebKit, through one harness.
    ensure_engines()?;
    run(Command::new("node").args(["--test", "--test-concurrency=1", "--test-timeout=300000", "tests/engines/"]))
}

/// A Japanese font for the screenshots (Debian's Chromium has none of its own; Arabic comes with
/// DejaVu). Tests do not need it: they read text, not glyphs.
fn ensure_japanese_font() -> Result<()> {
    let listed =
        Command::new("fc-list").args([":lang=ja", "family"]).output().map(|o| !o.stdout.is_empty()).unwrap_or(false);
    if listed {
        return Ok(());
    }
    apt_install(&["fonts-ipafont-gothic"], "no Japanese font, so the Japanese screenshots would show empty boxes")
}

/// Debian's Chromium and ChromeDriver (a test tool's own browser download cannot work here).
/// Firefox ESR, WebKitGTK's WebDriver and the X server it runs under, for the three-engine suite
/// (`tests/engines/`).
fn ensure_engines() -> Result<()> {
    let wanted = [
        ("/usr/bin/firefox-esr", "firefox-esr"),
        ("/usr/bin/WebKitWebDriver", "webkit2gtk-driver"),
        ("/usr/bin/Xvfb", "xvfb"),
        ("/usr/bin/xauth", "xauth"),
    ];
    let missing: Vec<&str> = wanted.iter().filter(|(path, _)| !Path::new(path).exists()).map(|(_, p)| *p).collect();
    if missing.is_empty() {
        return Ok(());
    }
    apt_install(&missing, "a browser engine for tests/engines/ is missing")
}

fn ensure_chromium() -> Result<()> {
    if Path::new("/usr/bin/chromium").exists() && Path::new("/usr/bin/chromedriver").exists() {
        return Ok(());
    }
    apt_install(&["chromium", "chromium-driver"], "Chromium is missing")
}

/// Installs Debian packages as root (without recommends); otherwise says what to install.
pub(crate) fn apt_install(packages: &[&str], missing: &str) -> Result<()> {
    let root_user = Command::new("id").arg("-u").output().map(|o| o.stdout == b"0\n").unwrap_or(false);
    if !root_user {
        bail!("{missing}: install Debian's `{}` (apt-get install --no-install-recommends)", packages.join(" "));
    }
    run(Command::new("apt-get").args(["update", "-qq"]))?;
    run(Command::new("apt-get")
        .args(["install", "-y", "-qq", "--no-install-recommends"])
        .args(packages)
        .env("DEBIAN_FRONTEND", "noninteractive"))
}
