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

/// The loader holds no policy: it names no purpose and no flow, and reads the core's stored-form version.
#[test]
fn loader_holds_no_policy() {
    let loader = fs::read_to_string(root().join("web/assent.js")).unwrap();
    for word in ["necessary", "analytics", "marketing", "ai_training", "optIn", "optOut", "notice"] {
        for quoted in [format!("'{word}'"), format!("\"{word}\"")] {
            assert!(!loader.contains(&quoted), "web/assent.js mentions {quoted}: policy belongs in assent-core");
        }
    }
    let version_check = format!("f[0] !== '{}'", assent_core::decision::STORED_FORM_VERSION);
    assert!(loader.contains(&version_check), "the loader must read stored form version {version_check}");
}

/// Relative links in the docs point at files that exist.
#[test]
fn doc_links_resolve() {
    let root = root();
    let mut docs: Vec<PathBuf> = vec![root.join("README.md"), root.join("ARCHITECTURE.md")];
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
