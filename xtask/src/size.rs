//! `cargo xtask size`: what a site downloads from Assent, raw, gzip and brotli, checked against the
//! byte budgets in `xtask/size-budgets.toml`. Bytes are deterministic, so a budget that is exceeded
//! fails the task (and `npm test`, which runs it).

use std::fs;
use std::io::Write;
use std::path::Path;

use anyhow::{bail, Context, Result};
use serde::Deserialize;

use crate::dist::{GLUE, LOADER, PREFS_GLUE, PREFS_WASM, RECEIPTS, TCF_GLUE, TCF_WASM, WASM};

/// Where the budgets live: one file, each budget with the reason for its figure.
pub(crate) const BUDGETS: &str = "xtask/size-budgets.toml";

/// Compressed sizes of one file.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Sizes {
    /// Bytes as stored.
    pub raw: usize,
    /// gzip -9.
    pub gzip: usize,
    /// brotli quality 11, window 22 (what `brotli` and CDNs use for static files).
    pub brotli: usize,
}

impl std::ops::Add for Sizes {
    type Output = Sizes;
    fn add(self, o: Sizes) -> Sizes {
        Sizes { raw: self.raw + o.raw, gzip: self.gzip + o.gzip, brotli: self.brotli + o.brotli }
    }
}

/// One budget: at most `brotli` bytes for a file of the bundle or a visit's total.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Budget {
    /// A file in `dist/assent/`, or a visit named in [`VISITS`].
    pub what: String,
    /// The most brotli bytes it may take.
    pub brotli: usize,
    /// Why the figure is what it is (kept with the figure, so a raise says what it buys).
    pub why: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct BudgetFile {
    budget: Vec<Budget>,
}

/// Reads and checks the budget file: every budget names a measured file or visit, once.
pub(crate) fn budgets(root: &Path) -> Result<Vec<Budget>> {
    let text = fs::read_to_string(root.join(BUDGETS)).with_context(|| format!("read {BUDGETS}"))?;
    let file: BudgetFile = toml::from_str(&text).with_context(|| format!("{BUDGETS} is not a valid budget file"))?;
    let known: Vec<&str> = MEASURED.iter().copied().chain(VISITS.iter().map(|(name, _, _)| *name)).collect();
    for (i, b) in file.budget.iter().enumerate() {
        if !known.contains(&b.what.as_str()) {
            bail!(
                "{BUDGETS}: budget[{i}].what `{}` is neither a bundle file nor a visit ({})",
                b.what,
                known.join(", ")
            );
        }
        if file.budget[..i].iter().any(|o| o.what == b.what) {
            bail!("{BUDGETS}: `{}` has two budgets", b.what);
        }
        if b.why.trim().is_empty() {
            bail!("{BUDGETS}: `{}` needs a reason in `why`", b.what);
        }
    }
    Ok(file.budget)
}

/// The files a site downloads from `dist/assent/` (the locale is the reference language's).
const MEASURED: [&str; 10] =
    [LOADER, GLUE, WASM, "locales/en.json", PREFS_GLUE, PREFS_WASM, RECEIPTS, TCF_GLUE, TCF_WASM, "tcf/en.json"];

/// Each visit: its name, what it downloads (a `dist/assent/` file, or `config` for the demo config),
/// and the target it is reported against, if it has one (a goal, not a budget: budgets fail, targets
/// are reported).
const VISITS: [(&str, &[&str], Option<f64>); 4] = [
    ("returning visit", &[LOADER, "config"], Some(7.0)),
    ("first visit, banner interactive", &[LOADER, "config", GLUE, WASM, "locales/en.json"], Some(50.0)),
    // The preferences module comes once the banner is idle, the receipt module once the visitor decides.
    (
        "first visit, dialog and receipt too",
        &[LOADER, "config", GLUE, WASM, "locales/en.json", PREFS_GLUE, PREFS_WASM, RECEIPTS],
        None,
    ),
    // A site with `tcf`: the TCF build of the preferences module and its strings come before the
    // banner (the site's GVL too, reported on its own: it is the site's file, like the config).
    (
        "first visit with TCF, banner interactive",
        &[LOADER, "config", GLUE, WASM, "locales/en.json", TCF_GLUE, TCF_WASM, "tcf/en.json"],
        None,
    ),
];

/// Measures bytes.
pub fn measure(bytes: &[u8]) -> Result<Sizes> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(bytes)?;
    let gzip = gz.finish()?.len();
    let mut br = Vec::new();
    let params = brotli::enc::BrotliEncoderParams { quality: 11, lgwin: 22, ..Default::default() };
    brotli::BrotliCompress(&mut &bytes[..], &mut br, &params)?;
    Ok(Sizes { raw: bytes.len(), gzip, brotli: br.len() })
}

/// Prints each file and each visit, with its budget and target, and fails if a budget is exceeded.
pub fn report(root: &Path) -> Result<()> {
    let budgets = budgets(root)?;
    let dist = root.join("dist/assent");
    let size_of = |name: &str| -> Result<Sizes> {
        let path = match name {
            "config" => root.join("web/demo/assent.json"),
            "gvl" => root.join("tests/fixtures/gvl/vendor-list.json"),
            _ => dist.join(name),
        };
        measure(&fs::read(&path).with_context(|| format!("read {}", path.display()))?)
    };
    let budget_of = |what: &str| budgets.iter().find(|b| b.what == what);
    let mut over = Vec::new();
    let mut verdict = |what: &str, brotli: usize| -> String {
        match budget_of(what) {
            Some(b) if brotli > b.brotli => {
                over.push(format!(
                    "{what}: {brotli} B brotli, over its budget of {} B by {} B",
                    b.brotli,
                    brotli - b.brotli
                ));
                format!("OVER {}", b.brotli)
            }
            Some(b) => format!("≤ {}", b.brotli),
            None => "no budget".to_string(),
        }
    };
    println!("{:<40} {:>9} {:>9} {:>9}  budget (brotli)", "file", "raw", "gzip", "brotli");
    for name in MEASURED.iter().copied().chain(["config", "gvl"]) {
        let s = size_of(name)?;
        let (shown, v) = match name {
            "config" => ("web/demo/assent.json (demo config)", "(the site's own)".to_string()),
            "gvl" => ("the test GVL (8 vendors)", "(the site's own)".to_string()),
            _ => (name, verdict(name, s.brotli)),
        };
        println!("{shown:<40} {:>9} {:>9} {:>9}  {v}", s.raw, s.gzip, s.brotli);
    }
    println!();
    println!("{:<40} {:>9} {:>9} {:>9}  budget (brotli)   target", "visit", "raw", "gzip", "brotli");
    for (name, files, target_kb) in VISITS {
        let total = files.iter().try_fold(Sizes::default(), |t, f| Ok::<_, anyhow::Error>(t + size_of(f)?))?;
        let v = verdict(name, total.brotli);
        let kb = total.brotli as f64 / 1024.0;
        let target = match target_kb {
            Some(t) => format!("{kb:.1} KB, {} the {t} KB target", if kb <= t { "within" } else { "over" }),
            None => format!("{kb:.1} KB"),
        };
        println!("{name:<40} {:>9} {:>9} {:>9}  {v:<16}  {target}", total.raw, total.gzip, total.brotli);
    }
    if !over.is_empty() {
        bail!(
            "the bundle is over its size budget:\n  {}\nMake it smaller, or raise the budget in {BUDGETS} in the same commit, saying why in `why`.",
            over.join("\n  ")
        );
    }
    Ok(())
}
