//! Generates the region-group table from `data/region-groups.json`, the single source of region groups.
use std::{env, fs, path::Path};

fn main() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/region-groups.json");
    println!("cargo::rerun-if-changed={}", src.display());
    let text = fs::read_to_string(&src).expect("read data/region-groups.json");
    let groups: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(&text).expect("data/region-groups.json is a JSON object");
    let mut out = String::from("/// Generated from data/region-groups.json.\npub(crate) static GROUPS: &[(&str, &[&str])] = &[\n");
    for (name, members) in &groups {
        if name.starts_with('_') {
            continue;
        }
        let members = members.as_array().expect("group members are an array");
        let list: Vec<String> = members
            .iter()
            .map(|m| format!("{:?}", m.as_str().expect("member is a string")))
            .collect();
        out.push_str(&format!("    ({name:?}, &[{}]),\n", list.join(", ")));
    }
    out.push_str("];\n");
    fs::write(Path::new(&env::var("OUT_DIR").unwrap()).join("region_groups.rs"), out).unwrap();
}
