//! Stylesheets as constructed stylesheets (`adoptedStyleSheets`), which a strict Content Security
//! Policy's `style-src` does not govern: the banner, the dialog and the toggle are styled under a
//! nonce-based policy without `'unsafe-inline'` (docs/csp.md). A browser without constructable
//! stylesheets (Safari before 16.4) gets a `<style>` element.

use web_sys::{CssStyleSheet, ShadowRoot};

/// Adds `css` to `root`'s styles. Returns the constructed sheet, which other shadow roots of the
/// document can [`adopt`] too (none where a `<style>` element stands in).
pub fn add_styles(root: &ShadowRoot, css: &str) -> Result<Option<CssStyleSheet>, wasm_bindgen::JsValue> {
    // (Constructable stylesheets and `adoptedStyleSheets` came together in every engine.)
    if let Ok(sheet) = CssStyleSheet::new() {
        sheet.replace_sync(css)?;
        adopt(root, &sheet);
        return Ok(Some(sheet));
    }
    let document = root.owner_document().ok_or("the shadow root has no document")?;
    let style = document.create_element("style")?;
    style.set_text_content(Some(css));
    root.insert_before(&style, root.first_child().as_ref())?;
    Ok(None)
}

/// Adopts `sheet` into `root`, unless it has it already.
pub fn adopt(root: &ShadowRoot, sheet: &CssStyleSheet) {
    let list = root.adopted_style_sheets();
    if !list.includes(sheet, 0) {
        list.push(sheet);
        root.set_adopted_style_sheets(&list);
    }
}
