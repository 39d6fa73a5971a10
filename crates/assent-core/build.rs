//! Generates the region-group table from `data/region-groups.json`, the single source of region groups,
//! the timezone → country table from tzdb's `data/zone.tab` (with the aliases in `data/tz-links.txt`),
//! the tracker table from `data/trackers.json`, and the list of shipped languages from `locales/`.
use std::{env, fs, path::Path};

fn main() {
    let locales = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../locales");
    println!("cargo::rerun-if-changed={}", locales.display());
    let mut langs: Vec<String> = fs::read_dir(&locales)
        .expect("read locales/")
        .filter_map(|e| e.ok()?.file_name().to_str()?.strip_suffix(".json").map(String::from))
        .collect();
    langs.sort();
    fs::write(
        Path::new(&env::var("OUT_DIR").unwrap()).join("languages.rs"),
        format!("/// Generated from the file names in locales/.\nconst SHIPPED: &[&str] = &{langs:?};\n"),
    )
    .unwrap();
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/region-groups.json");
    println!("cargo::rerun-if-changed={}", src.display());
    let text = fs::read_to_string(&src).expect("read data/region-groups.json");
    let groups: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(&text).expect("data/region-groups.json is a JSON object");
    let mut out = String::from(
        "/// Generated from data/region-groups.json.\npub(crate) static GROUPS: &[(&str, &[&str])] = &[\n",
    );
    for (name, members) in &groups {
        if name.starts_with('_') {
            continue;
        }
        let members = members.as_array().expect("group members are an array");
        let list: Vec<String> =
            members.iter().map(|m| format!("{:?}", m.as_str().expect("member is a string"))).collect();
        out.push_str(&format!("    ({name:?}, &[{}]),\n", list.join(", ")));
    }
    out.push_str("];\n");
    fs::write(Path::new(&env::var("OUT_DIR").unwrap()).join("region_groups.rs"), out).unwrap();

    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data");
    println!("cargo::rerun-if-changed={}", data.join("zone.tab").display());
    println!("cargo::rerun-if-changed={}", data.join("tz-links.txt").display());
    let mut zones: Vec<(String, String)> = fs::read_to_string(data.join("zone.tab"))
        .expect("read data/zone.tab")
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            (f[2].to_string(), f[0].to_string())
        })
        .collect();
    let links = fs::read_to_string(data.join("tz-links.txt")).expect("read data/tz-links.txt");
    for line in links.lines().filter(|l| l.starts_with("L ")) {
        let f: Vec<&str> = line.split_whitespace().collect();
        // zone.tab's own entry wins: some aliases (Europe/Busingen, Europe/Vatican) are zones of their
        // own country there.
        if zones.iter().any(|(zone, _)| zone == f[2]) {
            continue;
        }
        let country = zones.iter().find(|(zone, _)| zone == f[1]).map(|(_, c)| c.clone());
        if let Some(country) = country {
            zones.push((f[2].to_string(), country));
        }
    }
    zones.sort();
    zones.dedup_by(|a, b| a.0 == b.0);
    // One string of `zone country` lines rather than a table of string pairs: a third of the bytes in
    // the wasm (no pointer per entry), and it is read once per page view at most.
    let lines: String = zones.iter().map(|(zone, country)| format!("{zone} {country}\n")).collect();
    let out = format!(
        "/// Generated from data/zone.tab and data/tz-links.txt: `IANA-zone COUNTRY` lines.\npub(crate) static TIMEZONES: &str = {lines:?};\n"
    );
    fs::write(Path::new(&env::var("OUT_DIR").unwrap()).join("timezones.rs"), out).unwrap();

    trackers(&data);
}

/// `data/trackers.json` → `static DATABASE: &[ServiceData]`. The loader's compact table is made from
/// this static at `cargo xtask dist` ([`assent_core::trackers::loader_table`]), so the two cannot differ.
fn trackers(data: &Path) {
    let path = data.join("trackers.json");
    println!("cargo::rerun-if-changed={}", path.display());
    let db: serde_json::Value = serde_json::from_str(&fs::read_to_string(&path).expect("read data/trackers.json"))
        .expect("data/trackers.json is JSON");
    let strings = |v: &serde_json::Value, key: &str| -> Vec<String> {
        v[key]
            .as_array()
            .unwrap_or_else(|| panic!("trackers.json: `{key}` is a list"))
            .iter()
            .map(|s| s.as_str().expect("a string").to_string())
            .collect()
    };
    let mut out =
        String::from("/// Generated from data/trackers.json.\npub(crate) static DATABASE: &[ServiceData] = &[\n");
    for s in db["services"].as_array().expect("trackers.json: `services` is a list") {
        let name = s["name"].as_str().expect("service name");
        let purpose = s["purpose"].as_str().expect("service purpose");
        // The loader's table separates fields with `|`, patterns with `,` and services with `;`.
        for field in std::iter::once(name.to_string()).chain(strings(s, "match")) {
            assert!(!field.contains(['|', ';', ',', '"', '\\', '\'']), "trackers.json: `{field}` holds a separator");
        }
        out.push_str(&format!(
            "    ServiceData {{ name: {name:?}, purpose: {purpose:?}, matches: &{:?}, cookies: &{:?}, storage: &{:?} }},\n",
            strings(s, "match"),
            strings(s, "cookies"),
            strings(s, "storage"),
        ));
    }
    out.push_str("];\n");
    fs::write(Path::new(&env::var("OUT_DIR").unwrap()).join("trackers.rs"), out).unwrap();
}
