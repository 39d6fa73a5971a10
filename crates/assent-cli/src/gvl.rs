//! `assent gvl`: the IAB's Global Vendor List cut down to the vendors a site's `tcf.vendors` lists,
//! for the site to serve as its copy (`tcf.gvl`). The full list holds every vendor on the framework;
//! a TCF site's first visit downloads its copy before the first layer, so it should hold only the
//! site's. Everything else (purposes, features, stacks, data categories, versions) is kept as it is.

use std::path::Path;

use anyhow::{bail, Context, Result};
use assent_core::json::Json;
use assent_core::tcf::{Gvl, TcfConfig};

pub fn run(config: &Path, gvl: &Path, out: Option<&Path>) -> Result<bool> {
    let text = std::fs::read_to_string(config).with_context(|| format!("read {}", config.display()))?;
    assent_core::Config::parse(&text).map_err(|e| anyhow::anyhow!("{}: {e}", config.display()))?;
    let json = Json::parse(&text).map_err(|e| anyhow::anyhow!("{}: {e}", config.display()))?;
    let Some(section) = json.as_object().and_then(|m| m.iter().find(|(k, _)| k == "tcf")).map(|(_, v)| v) else {
        bail!("{}: no `tcf` section: add one that lists the site's vendors (docs/tcf.md)", config.display());
    };
    let tcf = TcfConfig::parse(section, "tcf").map_err(|e| anyhow::anyhow!("{}: {e}", config.display()))?;
    let list = std::fs::read_to_string(gvl).with_context(|| format!("read {}", gvl.display()))?;
    Gvl::parse(&list).map_err(|e| anyhow::anyhow!("{}: {e}", gvl.display()))?;
    let mut value: serde_json::Value =
        serde_json::from_str(&list).with_context(|| format!("parse {}", gvl.display()))?;
    let vendors = value.get_mut("vendors").and_then(|v| v.as_object_mut()).context("the GVL has no `vendors`")?;
    let all = vendors.len();
    vendors.retain(|id, _| id.parse::<u32>().is_ok_and(|id| tcf.vendors.contains(&id)));
    let kept = vendors.len();
    let missing: Vec<String> =
        tcf.vendors.iter().filter(|id| !vendors.contains_key(&id.to_string())).map(u32::to_string).collect();
    let written = serde_json::to_string(&value)?;
    match out {
        Some(path) => std::fs::write(path, &written).with_context(|| format!("write {}", path.display()))?,
        None => println!("{written}"),
    }
    eprintln!(
        "assent gvl: kept {kept} of {all} vendors ({} B){}",
        written.len(),
        if missing.is_empty() {
            String::new()
        } else {
            format!("; not on this list, so not disclosed: {}", missing.join(", "))
        }
    );
    Ok(true)
}
