//! Minifies the UI's stylesheets into `OUT_DIR`: comments, the whitespace around `{`, `}`, `;` and
//! `,` and after `:`, and each block's last `;` go. The sources stay readable and commented; the bundle
//! carries what the browser reads. A space before `:` stays: in a selector (`.root :focus`) it is the
//! descendant combinator.

use std::{env, fs, path::Path};

fn minify(css: &str) -> String {
    let mut out = String::with_capacity(css.len());
    let mut rest = css;
    while let Some(start) = rest.find("/*") {
        out.push_str(&rest[..start]);
        let end = rest[start..].find("*/").map_or(rest.len(), |e| start + e + 2);
        rest = &rest[end..];
    }
    out.push_str(rest);
    let collapsed = out.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut min = String::with_capacity(collapsed.len());
    let chars: Vec<char> = collapsed.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        let tight = |c: Option<&char>| matches!(c, Some('{' | '}' | ';' | ','));
        let before = if i > 0 { chars.get(i - 1) } else { None };
        if c == ' ' && (tight(chars.get(i + 1)) || tight(before) || before == Some(&':')) {
            continue;
        }
        // The last declaration of a block needs no `;`.
        let next = chars[i + 1..].iter().find(|c| **c != ' ');
        if c == ';' && next == Some(&'}') {
            continue;
        }
        min.push(c);
    }
    min
}

fn main() {
    let out = env::var("OUT_DIR").expect("cargo sets OUT_DIR");
    for name in ["assent.css", "dialog.css", "toggle.css"] {
        let source = Path::new("src").join(name);
        println!("cargo::rerun-if-changed={}", source.display());
        let css = fs::read_to_string(&source).expect("the stylesheet is readable");
        fs::write(Path::new(&out).join(name), minify(&css)).expect("OUT_DIR is writable");
    }
}
