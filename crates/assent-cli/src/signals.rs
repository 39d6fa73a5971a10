//! `assent signals`: the site's publisher signals from its config's `contentUsage`, so the config that
//! asks visitors about AI training also tells crawlers the site's own stance.

use std::path::Path;

use anyhow::{bail, Context, Result};
use assent_core::aipref::{ContentUsage, HEADER};
use assent_core::json::Json;

pub fn run(config: &Path, out: Option<&Path>) -> Result<bool> {
    let text = std::fs::read_to_string(config).with_context(|| format!("read {}", config.display()))?;
    assent_core::Config::parse(&text).map_err(|e| anyhow::anyhow!("{}: {e}", config.display()))?;
    let json = Json::parse(&text).map_err(|e| anyhow::anyhow!("{}: {e}", config.display()))?;
    let Some(usage) = ContentUsage::from_config(&json).map_err(|e| anyhow::anyhow!("{}: {e}", config.display()))?
    else {
        bail!(
            "{}: no contentUsage: add e.g. \"contentUsage\": {{\"trainAi\": false, \"search\": true}} to state the site's stance",
            config.display()
        );
    };
    let tdmrep = format!("{}\n", usage.tdmrep().canonical());
    let Some(dir) = out else {
        println!("# robots.txt\n{}\n# {HEADER} header on every response\n{HEADER}: {}\n\n# /.well-known/tdmrep.json\n{tdmrep}", usage.robots(), usage.header());
        return Ok(true);
    };
    std::fs::create_dir_all(dir.join(".well-known")).with_context(|| format!("create {}", dir.display()))?;
    // robots.txt: the group is added once; crawlers merge groups for the same user agent (RFC 9309).
    let robots = dir.join("robots.txt");
    let existing = std::fs::read_to_string(&robots).unwrap_or_default();
    let line = format!("{HEADER}: {}", usage.header());
    if !existing.lines().any(|l| l.trim() == line) {
        let sep = if existing.is_empty() || existing.ends_with("\n\n") {
            ""
        } else if existing.ends_with('\n') {
            "\n"
        } else {
            "\n\n"
        };
        std::fs::write(&robots, format!("{existing}{sep}{}", usage.robots()))
            .with_context(|| format!("write {}", robots.display()))?;
    }
    let tdm = dir.join(".well-known/tdmrep.json");
    std::fs::write(&tdm, tdmrep).with_context(|| format!("write {}", tdm.display()))?;
    println!("wrote {} and {}; send `{line}` as a response header too", robots.display(), tdm.display());
    Ok(true)
}
