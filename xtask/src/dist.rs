//! `cargo xtask dist`: the drop-in bundle in `dist/assent/`.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;
use std::process::Command;

use anyhow::{bail, Context, Result};

use crate::run;

/// Files a site serves from `/assent/`.
pub(crate) const LOADER: &str = "assent.js";
pub(crate) const GLUE: &str = "assent_client.js";
pub(crate) const WASM: &str = "assent_client_bg.wasm";
/// The preferences module (the dialog and the AI toggle), fetched when first needed.
pub(crate) const PREFS_GLUE: &str = "assent_prefs.js";
pub(crate) const PREFS_WASM: &str = "assent_prefs_bg.wasm";
/// The preferences module's TCF build, served instead of it where the config has `tcf`.
pub(crate) const TCF_GLUE: &str = "assent_tcf.js";
pub(crate) const TCF_WASM: &str = "assent_tcf_bg.wasm";
pub(crate) const RECEIPTS: &str = "assent-receipts.js";

/// The pinned nightly that builds the browser bundle's wasm, and only that: its standard library is
/// rebuilt for size (`-Zbuild-std`), and a panic traps at once instead of formatting a message nobody
/// reads (the loader names the failure on the console). Native crates and tests use stable.
pub(crate) const WASM_TOOLCHAIN: &str = "nightly-2026-05-20";

/// The unstable flags the bundle's wasm is built with, each kept for its measured worth
/// (`docs/performance.md`, "Levers").
const WASM_RUSTFLAGS: &str = "-Zunstable-options -Cpanic=immediate-abort -Zlocation-detail=none";

/// Builds the wasm with the `wasm-release` profile (opt-level z, fat LTO) on the pinned nightly with
/// its standard library rebuilt for size, binds it, runs `wasm-opt -Oz` until it converges, minifies the JS and copies the
/// locale files and type declarations.
/// A wasm module of the bundle: its crate's library name, its glue's and its wasm's file names.
type Module = (&'static str, &'static str, &'static str);

pub fn dist(root: &Path) -> Result<()> {
    ensure_wasm_toolchain()?;
    ensure_wasm_bindgen(root)?;
    ensure_npm(root)?;
    check_locales(root)?;
    let bindgen = root.join("target/bindgen");
    let out = root.join("dist/assent");
    if out.exists() {
        fs::remove_dir_all(&out)?;
    }
    fs::create_dir_all(out.join("locales"))?;
    let esbuild = root.join("node_modules/.bin/esbuild");
    // Two builds, each in a target directory of its own (the nightly's flags would otherwise rebuild
    // the stable wasm tests' dependencies on every switch). The TCF build's `assent-core/tcf` feature,
    // unified into the others', would change how the core's shared code inlines in the first layer
    // (0.2 KB brotli of code it never runs). In one directory, the two builds of `assent-prefs` (a
    // cdylib, so its files carry no hash) would write the same files, and a later build could take the
    // other's as fresh.
    let builds: [(&str, &[Module]); 2] = [
        ("target/wasm-dist", &[("assent_client", GLUE, WASM), ("assent_prefs", PREFS_GLUE, PREFS_WASM)]),
        ("target/wasm-dist-tcf", &[("assent_tcf", TCF_GLUE, TCF_WASM)]),
    ];
    for (target_dir, modules) in builds {
        let target_dir = root.join(target_dir);
        run(Command::new("cargo")
            .arg(format!("+{WASM_TOOLCHAIN}"))
            .args(["build", "--profile", "wasm-release"])
            .args(modules.iter().flat_map(|(krate, ..)| ["-p".to_string(), krate.replace('_', "-")]))
            .args([
                "--target",
                "wasm32-unknown-unknown",
                "-Zbuild-std=std,panic_abort",
                "-Zbuild-std-features=optimize_for_size",
                "--target-dir",
            ])
            .arg(&target_dir)
            .env("RUSTFLAGS", WASM_RUSTFLAGS)
            .env_remove("RUSTUP_TOOLCHAIN")
            .env_remove("CARGO_ENCODED_RUSTFLAGS"))?;
        // Each module: bound, its wasm optimised until it converges, its glue minified.
        for (krate, glue, wasm) in modules {
            run(Command::new("wasm-bindgen")
                .arg(target_dir.join(format!("wasm32-unknown-unknown/wasm-release/{krate}.wasm")))
                .args(["--target", "web", "--no-typescript", "--out-dir"])
                .arg(&bindgen))?;
            run(Command::new(root.join("node_modules/.bin/wasm-opt"))
                .arg(bindgen.join(wasm))
                .args([
                    // `--zero-filled-memory`: the module defines its own memory, which starts zeroed;
                    // `--low-memory-unused`: Rust puts nothing in the first 1 KB (the stack's far end).
                    // With `--converge`, together -1.4 KB brotli (docs/performance.md, "Levers").
                    "-Oz",
                    "--zero-filled-memory",
                    "--low-memory-unused",
                    "--converge",
                    "--enable-bulk-memory",
                    "--enable-nontrapping-float-to-int",
                    "--enable-sign-ext",
                    "--enable-reference-types",
                    "--enable-multivalue",
                    "--enable-mutable-globals",
                    "--strip-debug",
                    "--strip-producers",
                    "-o",
                ])
                .arg(out.join(wasm)))?;
            run(Command::new(&esbuild)
                .arg(bindgen.join(glue))
                .args(["--minify", "--format=esm", "--target=es2020"])
                .arg(format!("--outfile={}", out.join(glue).display())))?;
        }
    }
    fs::copy(bundle_loader(root)?, out.join(LOADER))?;
    // The receipt module is loaded only by the wasm client, whose wasm features need Chrome 91 or
    // Safari 15: ES2021 syntax costs no visitor.
    run(Command::new(&esbuild)
        .arg(root.join("web").join(RECEIPTS))
        .args(["--minify", "--format=esm", "--target=es2021", "--legal-comments=inline"])
        .arg(format!("--outfile={}", out.join(RECEIPTS).display())))?;
    fs::copy(root.join("web/assent.d.ts"), out.join("assent.d.ts"))?;
    for (lang, strings) in read_locales(root)? {
        fs::write(out.join(format!("locales/{lang}.json")), serde_json::to_string(&strings)?)?;
    }
    fs::create_dir_all(out.join("tcf"))?;
    for (lang, strings) in read_tcf_locales(root)? {
        fs::write(out.join(format!("tcf/{lang}.json")), serde_json::to_string(&strings)?)?;
    }
    write_schema(&out.join("config.schema.json"))?;
    // The timezone → country table, fetched by the client only when the page gives no region: the
    // same table as the core's (generated from data/zone.tab), kept out of the wasm.
    fs::write(out.join("timezones.txt"), assent_core::region::timezone_table())?;
    eprintln!("dist/assent/ is ready");
    Ok(())
}

/// Where [`bundle_loader`] writes the loader (the client's wasm tests run it from there too).
pub(crate) const LOADER_BUNDLE: &str = "target/loader/assent.js";

/// Bundles the loader's modules (`web/loader/`) into the one synchronous script a site adds, with the
/// tracker table and the locale list written in, at [`LOADER_BUNDLE`]. Returns its path.
pub(crate) fn bundle_loader(root: &Path) -> Result<std::path::PathBuf> {
    ensure_npm(root)?;
    let path = root.join(LOADER_BUNDLE);
    // ES2018: the gate must run, and fail closed, even in a browser too old for the wasm.
    run(Command::new(root.join("node_modules/.bin/esbuild"))
        .arg(root.join("web/loader/main.js"))
        .args([
            "--bundle",
            "--format=iife",
            "--minify",
            "--target=es2018",
            "--legal-comments=inline",
            "--log-level=warning",
        ])
        .arg(format!("--outfile={}", path.display())))?;
    // The tracker table, from the core's (generated from data/trackers.json): one source for both.
    let loader = fs::read_to_string(&path)?;
    for placeholder in ["@TRACKERS@", "@LOCALES@"] {
        if loader.matches(placeholder).count() != 1 {
            bail!("web/loader/ must hold the placeholder '{placeholder}' exactly once");
        }
    }
    // The locale files the loader may guess from (it starts the likely one on a first visit), and the
    // tags the core maps to another file than the plain rule would (`zh-TW` → `zh-Hant`).
    let files: Vec<String> = read_locales(root)?.into_keys().collect();
    let locales = locale_guesses(&files);
    let loader = loader.replace("@TRACKERS@", &assent_core::trackers::loader_table()).replace("@LOCALES@", &locales);
    fs::write(&path, loader)?;
    Ok(path)
}

/// The loader's locale table: every file, then `tag:file` (lowercase tag) for each tag the core maps to
/// another file than the loader's plain rule (the entry for the first two subtags, else for the
/// language). Computed with the core's own negotiation over every tag of one or two subtags: each
/// file's language, `nb`, `nn` and `zh`, alone and with every two-letter region, `419`, `Hans` and `Hant`.
pub(crate) fn locale_guesses(files: &[String]) -> String {
    use std::collections::BTreeMap;
    let mut serves: BTreeMap<String, String> = files.iter().map(|f| (f.to_ascii_lowercase(), f.clone())).collect();
    // What the core picks for a browser that sends only `tag`, or None when no file serves it.
    let none = "\u{0}".to_string();
    let available: Vec<String> = std::iter::once(none.clone()).chain(files.iter().cloned()).collect();
    let core = |tag: &str| {
        Some(assent_core::locale::negotiate(&available, None, None, &[tag.to_string()])).filter(|f| *f != none)
    };
    let mut languages: Vec<String> =
        files.iter().map(|f| f.split('-').next().unwrap_or(f).to_ascii_lowercase()).collect();
    languages.extend(["nb", "nn", "zh"].map(String::from));
    languages.sort();
    languages.dedup();
    let regions =
        (b'a'..=b'z').flat_map(|a| (b'a'..=b'z').map(move |b| String::from_utf8(vec![a, b]).unwrap_or_default()));
    let subtags: Vec<String> = regions.chain(["419", "hans", "hant"].map(String::from)).collect();
    let mut guesses = Vec::new();
    // Languages alone first: the two-subtag rule falls back on them.
    let tags =
        languages.iter().cloned().chain(languages.iter().flat_map(|l| subtags.iter().map(move |s| format!("{l}-{s}"))));
    for tag in tags {
        let language = tag.split('-').next().unwrap_or(&tag).to_string();
        let plain = serves.get(&tag).or_else(|| serves.get(&language)).cloned();
        if let Some(file) = core(&tag).filter(|f| Some(f) != plain.as_ref()) {
            guesses.push(format!("{tag}:{file}"));
            serves.insert(tag, file);
        }
    }
    files.iter().cloned().chain(guesses).collect::<Vec<_>>().join(",")
}

/// The JSON Schema of the site config, generated from the core's config model.
pub fn write_schema(path: &Path) -> Result<()> {
    fs::write(path, schema_text()? + "\n").with_context(|| format!("write {}", path.display()))
}

pub(crate) fn schema_text() -> Result<String> {
    let mut schema = schemars::schema_for!(assent_core::Config);
    // `contentUsage` is read by `assent signals`, not by the browser, so it is not a field of the
    // browser's config model; its schema joins the config's here.
    // `tcf` likewise: the preferences module's TCF build reads it (assent_core::tcf).
    let mut usage = schemars::schema_for!(assent_core::aipref::ContentUsage);
    usage.remove("$schema");
    let mut tcf = schemars::schema_for!(assent_core::tcf::TcfSchema);
    tcf.remove("$schema");
    let properties =
        schema.get_mut("properties").and_then(|p| p.as_object_mut()).context("the config schema has properties")?;
    properties.insert("contentUsage".into(), usage.to_value());
    properties.insert("tcf".into(), tcf.to_value());
    Ok(serde_json::to_string_pretty(&schema)?)
}

/// Every locale file, by language code.
pub(crate) fn read_locales(root: &Path) -> Result<BTreeMap<String, BTreeMap<String, String>>> {
    read_locale_dir(&root.join("locales"))
}

/// The TCF strings (`locales/tcf/`), by language code: served as `tcf/{lang}.json` to sites with TCF
/// only, so that no other site downloads them.
pub(crate) fn read_tcf_locales(root: &Path) -> Result<BTreeMap<String, BTreeMap<String, String>>> {
    read_locale_dir(&root.join("locales/tcf"))
}

fn read_locale_dir(dir: &Path) -> Result<BTreeMap<String, BTreeMap<String, String>>> {
    let mut out = BTreeMap::new();
    for entry in fs::read_dir(dir)? {
        let path = entry?.path();
        if path.extension().and_then(|e| e.to_str()) != Some("json") {
            continue;
        }
        let lang = path.file_stem().and_then(|s| s.to_str()).context("locale file name")?.to_string();
        let text = fs::read_to_string(&path)?;
        let strings: BTreeMap<String, String> = serde_json::from_str(&text)
            .with_context(|| format!("{}: must be a JSON object of strings", path.display()))?;
        out.insert(lang, strings);
    }
    Ok(out)
}

/// Fails on a missing key, a surplus key, or a placeholder that differs from the reference language.
pub fn check_locales(root: &Path) -> Result<()> {
    let problems = locale_problems(root)?;
    if !problems.is_empty() {
        bail!(
            "locale files disagree with locales/{}.json:\n  {}",
            assent_core::locale::REFERENCE_LANGUAGE,
            problems.join("\n  ")
        );
    }
    Ok(())
}

pub(crate) fn locale_problems(root: &Path) -> Result<Vec<String>> {
    let locales = read_locales(root)?;
    let tcf = read_tcf_locales(root)?;
    let mut problems = problems_in("locales", &locales)?;
    problems.extend(problems_in("locales/tcf", &tcf)?);
    // Every language has its TCF strings too.
    for lang in locales.keys().filter(|l| !tcf.contains_key(*l)) {
        problems.push(format!("locales/tcf/{lang}.json: missing"));
    }
    Ok(problems)
}

fn problems_in(dir: &str, locales: &BTreeMap<String, BTreeMap<String, String>>) -> Result<Vec<String>> {
    use assent_core::locale::{key_differences, string_problems, REFERENCE_LANGUAGE};
    let reference =
        locales.get(REFERENCE_LANGUAGE).with_context(|| format!("{dir}/en.json, the reference, is missing"))?;
    let mut problems = Vec::new();
    for (lang, strings) in locales {
        let (missing, surplus) =
            key_differences(reference.keys().map(String::as_str), strings.keys().map(String::as_str));
        problems.extend(missing.iter().map(|k| format!("{dir}/{lang}.json: missing key `{k}`")));
        problems.extend(surplus.iter().map(|k| format!("{dir}/{lang}.json: surplus key `{k}`")));
        for (key, text) in strings {
            if let Some(reference_text) = reference.get(key) {
                for problem in string_problems(lang, text, reference_text) {
                    problems.push(format!("{dir}/{lang}.json: `{key}` {problem}"));
                }
            }
        }
    }
    Ok(problems)
}

/// The pinned nightly with `rust-src` (for `-Zbuild-std`) and the wasm32 target, through rustup.
pub(crate) fn ensure_wasm_toolchain() -> Result<()> {
    let has = |what: &[&str], wanted: &str| {
        Command::new("rustup")
            .args(what)
            .args(["--installed", "--toolchain", WASM_TOOLCHAIN])
            .output()
            .map(|o| o.status.success() && String::from_utf8_lossy(&o.stdout).contains(wanted))
            .unwrap_or(false)
    };
    if !has(&["component", "list"], "rust-src") || !has(&["target", "list"], "wasm32-unknown-unknown") {
        run(Command::new("rustup").args([
            "toolchain",
            "install",
            WASM_TOOLCHAIN,
            "--profile",
            "minimal",
            "--component",
            "rust-src",
            "--target",
            "wasm32-unknown-unknown",
        ]))?;
    }
    // The stable toolchain's wasm32 target, for the client crates' wasm-bindgen tests.
    ensure_wasm_target()
}

pub(crate) fn ensure_wasm_target() -> Result<()> {
    let installed = Command::new("rustup").args(["target", "list", "--installed"]).output()?;
    if !String::from_utf8_lossy(&installed.stdout).contains("wasm32-unknown-unknown") {
        run(Command::new("rustup").args(["target", "add", "wasm32-unknown-unknown"]))?;
    }
    Ok(())
}

/// The wasm-bindgen CLI must be exactly the version in Cargo.lock.
fn ensure_wasm_bindgen(root: &Path) -> Result<()> {
    let lock = fs::read_to_string(root.join("Cargo.lock"))?;
    let version = lock
        .split("[[package]]")
        .find(|p| p.contains("name = \"wasm-bindgen\"\n"))
        .and_then(|p| p.lines().find_map(|l| l.strip_prefix("version = \"")))
        .and_then(|v| v.strip_suffix('"'))
        .context("wasm-bindgen is not in Cargo.lock")?
        .to_string();
    let have = Command::new("wasm-bindgen").arg("--version").output().ok();
    let have = have.map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string()).unwrap_or_default();
    if have != format!("wasm-bindgen {version}") {
        // Not --locked: the registry lacks one of the CLI's pinned dependencies.
        run(Command::new("cargo").args(["install", "wasm-bindgen-cli", "--version", &version]))?;
    }
    Ok(())
}

fn ensure_npm(root: &Path) -> Result<()> {
    let wanted = ["esbuild", "wasm-opt", "biome", "tsc"];
    if wanted.iter().all(|b| root.join("node_modules/.bin").join(b).exists())
        && ["playwright-core", "puppeteer-core", "selenium-webdriver"]
            .iter()
            .all(|m| root.join("node_modules").join(m).exists())
    {
        return Ok(());
    }
    run(Command::new("npm").args(["ci", "--no-audit", "--no-fund"]).current_dir(root))
}
