//! Repository-wide checks that run with the normal test run (`cargo test -p xtask`).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::{dist, root};

/// Every locale file has exactly the reference's keys and placeholders.
#[test]
fn locale_files_match_the_reference() {
    let problems = dist::locale_problems(&root()).unwrap();
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The published JSON Schema is the one the config model generates. Fix with `cargo xtask schema`.
#[test]
fn config_schema_is_up_to_date() {
    let committed = fs::read_to_string(root().join("docs/config.schema.json")).unwrap();
    assert_eq!(committed.trim_end(), dist::schema_text().unwrap(), "run `cargo xtask schema`");
}

/// The demo config is valid (the same check `assent config check` will run).
#[test]
fn demo_config_is_valid() {
    let text = fs::read_to_string(root().join("web/demo/assent.json")).unwrap();
    assent_core::Config::parse(&text).unwrap();
}

/// The core knows nothing about the DOM: `cargo tree -p assent-core -i web-sys` finds nothing.
#[test]
fn core_has_no_web_sys() {
    for browser_crate in ["web-sys", "js-sys", "wasm-bindgen"] {
        let out = Command::new(env!("CARGO"))
            .args(["tree", "--offline", "-e", "normal", "-p", "assent-core", "-i", browser_crate])
            .current_dir(root())
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(!stdout.contains(browser_crate), "assent-core depends on {browser_crate}:\n{stdout}");
    }
}

/// The loader's modules, by file name, with their text.
fn loader_modules() -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = fs::read_dir(root().join("web/loader"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "js"))
        .map(|p| (p.file_name().unwrap().to_string_lossy().into_owned(), fs::read_to_string(&p).unwrap()))
        .collect();
    out.sort();
    out
}

/// The rows of the tables under ARCHITECTURE.md's "The loader's judgements": each row's cells.
fn judgement_rows() -> Vec<Vec<String>> {
    let text = fs::read_to_string(root().join("ARCHITECTURE.md")).unwrap();
    let section =
        text.split("### The loader's judgements").nth(1).expect("ARCHITECTURE.md lists the loader's judgements");
    let section = section.split("\n## ").next().unwrap();
    section
        .lines()
        .filter(|l| l.starts_with('|') && !l.starts_with("|---") && !l.starts_with("| Judgement"))
        .map(|l| l.trim_matches('|').split(" | ").map(|c| c.trim().to_string()).collect())
        .collect()
}

/// `` `module.js`: `a`, `b` `` as the module and its function names.
fn loader_cell(cell: &str) -> (String, Vec<String>) {
    let names: Vec<String> = cell.split('`').skip(1).step_by(2).map(str::to_string).collect();
    let (module, functions) = names.split_first().unwrap_or_else(|| panic!("no module in `{cell}`"));
    (module.clone(), functions.to_vec())
}

/// The modules whose every export is a twin of the core, pinned by vectors.
const TWIN_MODULES: [&str; 3] = ["rules.js", "stored.js", "trackers.js"];

/// ARCHITECTURE.md lists exactly the judgements the loader makes: each function it names exists in its
/// module; every export of a twin module is listed; every vectors file is listed, and both the core's
/// tests and the loader's node test read it.
#[test]
fn architecture_lists_the_loaders_judgements() {
    let modules = loader_modules();
    let source = |m: &str| &modules.iter().find(|(n, _)| n == m).unwrap_or_else(|| panic!("no web/loader/{m}")).1;
    let rows = judgement_rows();
    assert!(rows.len() >= 10, "the judgement tables were not found: {rows:?}");
    let mut listed: Vec<(String, String)> = Vec::new();
    let mut vector_files: Vec<String> = Vec::new();
    for row in &rows {
        let (module, functions) = loader_cell(&row[1]);
        for f in functions {
            let text = source(&module);
            let defined = [format!("function {f}("), format!("const {f} ="), format!("  {f}(")];
            assert!(
                defined.iter().any(|d| text.contains(d.as_str())),
                "ARCHITECTURE.md names `{f}` in {module}, which has none"
            );
            listed.push((module.clone(), f));
        }
        if TWIN_MODULES.contains(&module.as_str()) {
            let file =
                row.get(3).unwrap_or_else(|| panic!("a twin needs its vectors: {row:?}")).trim_matches('`').to_string();
            vector_files.push(file);
        }
    }
    for m in TWIN_MODULES {
        for line in source(m).lines() {
            let Some(rest) = line.strip_prefix("export function ").or_else(|| line.strip_prefix("export const "))
            else {
                continue;
            };
            let name: String = rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
            assert!(
                listed.contains(&(m.to_string(), name.clone())),
                "web/loader/{m} exports `{name}`, a twin of the core that ARCHITECTURE.md's judgements do not list"
            );
        }
    }
    let core_test = fs::read_to_string(root().join("crates/assent-core/tests/core/conformance.rs")).unwrap();
    let loader_test = fs::read_to_string(root().join("tests/loader/conformance.test.mjs")).unwrap();
    for entry in fs::read_dir(root().join("data/conformance")).unwrap() {
        let file = entry.unwrap().file_name().to_string_lossy().into_owned();
        assert!(vector_files.contains(&file), "data/conformance/{file} pins no judgement ARCHITECTURE.md lists");
        assert!(core_test.contains(&format!("vectors(\"{file}\")")), "the core's conformance tests do not read {file}");
        assert!(
            loader_test.contains(&format!("vectors('{file}')")),
            "the loader's conformance test does not read {file}"
        );
    }
}

/// The loader holds no policy: outside the stored form's own vocabulary (`stored.js`, pinned by its
/// vectors), no module names a purpose of the demo config, a flow, or a capture method; and the
/// fast path acts only on the core's stored-form version.
#[test]
fn loader_holds_no_policy() {
    let demo: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(root().join("web/demo/assent.json")).unwrap()).unwrap();
    let mut words: Vec<String> =
        demo["purposes"].as_array().unwrap().iter().map(|p| p["id"].as_str().unwrap().to_string()).collect();
    words.extend(["notice", "optOut", "optIn"].map(String::from));
    words.extend(
        ["accept_all", "reject_all", "preferences_saved", "withdrawal", "acknowledged", "ai_toggle", "placeholder"]
            .map(String::from),
    );
    for (name, text) in loader_modules().iter().filter(|(n, _)| n != "stored.js") {
        for word in &words {
            for quoted in [format!("'{word}'"), format!("\"{word}\""), format!("`{word}`")] {
                let code: String = text
                    .lines()
                    .filter(|l| !l.trim_start().starts_with("//") && !l.trim_start().starts_with('*'))
                    .collect();
                assert!(!code.contains(&quoted), "web/loader/{name} names {quoted}: policy belongs in assent-core");
            }
        }
    }
    let main = &loader_modules().into_iter().find(|(n, _)| n == "main.js").unwrap().1;
    let version_check = format!("s.version === '{}'", assent_core::decision::STORED_FORM_VERSION);
    assert!(main.contains(&version_check), "the loader's fast path must act on stored form version {version_check}");
}

/// Relative links in the docs point at files that exist.
#[test]
fn doc_links_resolve() {
    let root = root();
    let mut docs: Vec<PathBuf> = vec![root.join("README.md"), root.join("ARCHITECTURE.md"), root.join("DEVELOPERS.md")];
    docs.extend(
        fs::read_dir(root.join("docs"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "md")),
    );
    let mut broken = Vec::new();
    for doc in &docs {
        let text = fs::read_to_string(doc).unwrap();
        for target in text.split("](").skip(1).filter_map(|rest| rest.split(')').next()) {
            let target = target.split('#').next().unwrap();
            if target.is_empty() || target.contains("://") || target.starts_with("mailto:") {
                continue;
            }
            let resolved = doc.parent().unwrap_or(Path::new(".")).join(target);
            if !resolved.exists() {
                broken.push(format!("{}: {target}", doc.strip_prefix(&root).unwrap().display()));
            }
        }
    }
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
}

/// The size budgets parse, and each names a file of the bundle or a visit once, with its reason.
#[test]
fn size_budgets_are_well_formed() {
    let budgets = crate::size::budgets(&root()).unwrap();
    assert!(budgets.iter().any(|b| b.what == "first visit, banner interactive"), "the first visit has a budget");
}

/// The loader's locale guesses name what the core picks where the plain rule (a file named by the
/// tag or its language) would miss, and nothing the plain rule already gets right.
#[test]
fn locale_guesses_follow_the_core() {
    let files: Vec<String> = dist::read_locales(&root()).unwrap().into_keys().collect();
    let guesses = dist::locale_guesses(&files);
    let pairs: Vec<&str> = guesses.split(',').collect();
    for wanted in ["zh:zh-Hans", "zh-tw:zh-Hant", "es-mx:es-419", "nb:no"] {
        assert!(pairs.contains(&wanted), "{wanted} missing from {guesses}");
    }
    assert!(pairs.contains(&"de") && pairs.contains(&"pt-BR"), "every file is listed: {guesses}");
    for plain in ["pt-br:", "de:", "zh-hant:", "es-es:"] {
        assert!(!pairs.iter().any(|p| p.starts_with(plain)), "{plain} needs no guess: {guesses}");
    }
}

/// ARCHITECTURE.md quotes the stored form the core writes now: its version and its field count.
#[test]
fn architecture_quotes_the_current_stored_form() {
    let text = fs::read_to_string(root().join("ARCHITECTURE.md")).unwrap();
    let quoted = text
        .split('`')
        .find(|s| s.contains("|subject|notice version|"))
        .expect("ARCHITECTURE.md quotes the stored form as `N|subject|notice version|…`");
    let fields: Vec<&str> = quoted.split('|').collect();
    assert_eq!(fields[0], assent_core::decision::STORED_FORM_VERSION, "the stored form's version in `{quoted}`");
    assert_eq!(fields.len(), assent_core::decision::STORED_FORM_FIELDS, "the field count of `{quoted}`");
}
