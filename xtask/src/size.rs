//! `cargo xtask size`: what a site downloads from Assent, raw, gzip and brotli.

use std::fs;
use std::io::Write;
use std::path::Path;

use anyhow::Result;

use crate::dist::{GLUE, LOADER, RECEIPTS, WASM};

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

/// Prints the first-visit and returning-visit totals against the targets.
pub fn report(root: &Path) -> Result<()> {
    let dist = root.join("dist/assent");
    let config = root.join("web/demo/assent.json");
    let locale = dist.join("locales/en.json");
    let file = |p: &Path| -> Result<(String, Sizes)> {
        let name = p.strip_prefix(root).unwrap_or(p).display().to_string();
        Ok((name, measure(&fs::read(p)?)?))
    };
    let returning = vec![file(&dist.join(LOADER))?, file(&config)?];
    let mut first = returning.clone();
    first.extend([file(&dist.join(GLUE))?, file(&dist.join(WASM))?, file(&locale)?, file(&dist.join(RECEIPTS))?]);
    for (title, files, target_kb) in
        [("Returning visit (nothing to show)", &returning, 4.0), ("First visit (banner shown, then a receipt signed and sent)", &first, 45.0)]
    {
        println!("\n{title}");
        println!("  {:<44} {:>9} {:>9} {:>9}", "file", "raw", "gzip", "brotli");
        let mut total = Sizes::default();
        for (name, s) in files {
            println!("  {:<44} {:>9} {:>9} {:>9}", name, s.raw, s.gzip, s.brotli);
            total = total + *s;
        }
        let kb = total.brotli as f64 / 1024.0;
        let verdict = if kb <= target_kb { "within" } else { "OVER" };
        println!("  {:<44} {:>9} {:>9} {:>9}", "total", total.raw, total.gzip, total.brotli);
        println!("  brotli {kb:.1} KB: {verdict} the {target_kb} KB target");
    }
    Ok(())
}
