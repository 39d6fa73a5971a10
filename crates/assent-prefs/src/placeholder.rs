//! The placeholder shown in place of a blocked embed. It is rendered into the embed's own `<iframe>`
//! (as `srcdoc`), so it takes exactly the box the page gave the embed: no layout shift, and page CSS
//! cannot reach it. Its buttons are wired from here (the document is same-origin, so it needs no script
//! of its own and no CSP exception): "Load it" loads this embed, this page view; "Always allow X"
//! allows that service from now on. The client decides which frames get one, and what they say.

use std::cell::RefCell;
use std::rc::Rc;

use assent_ui::{wire, PlaceholderProps};
use gloo_events::EventListener;
use js_sys::Function;
use wasm_bindgen::prelude::*;
use web_sys::Element;

/// A placeholder shown in a frame. Dropping it (`free()` from JavaScript, when the embed loads) ends
/// its listeners.
#[wasm_bindgen]
pub struct Placeholder {
    _on_frame_load: EventListener,
    _buttons: Rc<RefCell<Vec<EventListener>>>,
}

/// Shows the placeholder described by `props` ([`wire::placeholder_to_wire`]'s text) in `frame`.
/// "Load it" calls `on_load`; "Always allow X" calls `on_always`, offered only when `props` names the
/// button's text (and `on_always` is given). `html`, the loader's Trusted Types wrapper (the `assent`
/// policy, docs/csp.md), makes the document a TrustedHTML where the page requires one.
#[wasm_bindgen]
pub fn placeholder(
    frame: Element,
    props: &str,
    on_load: Function,
    on_always: Option<Function>,
    html: Option<Function>,
) -> Result<Placeholder, JsValue> {
    let props =
        wire::placeholder_from_wire(props).ok_or("assent-prefs: the placeholder's props are not in the wire format")?;
    let buttons = Rc::new(RefCell::new(Vec::new()));
    let wired = buttons.clone();
    let target = frame.clone();
    // Each time the frame's document loads (the srcdoc, once), it is styled and its buttons are wired
    // afresh.
    let on_frame_load = EventListener::new(&frame, "load", move |_| {
        let mut wired = wired.borrow_mut();
        wired.clear();
        let Some(frame) = target.dyn_ref::<web_sys::HtmlIFrameElement>() else { return };
        let Some(doc) = frame.content_document() else { return };
        style(frame, &doc);
        for (id, callback) in [(LOAD_BUTTON_ID, Some(&on_load)), (ALWAYS_BUTTON_ID, on_always.as_ref())] {
            if let (Some(button), Some(callback)) = (doc.get_element_by_id(id), callback) {
                let callback = callback.clone();
                wired.push(EventListener::new(&button, "click", move |_| {
                    let _ = callback.call0(&JsValue::NULL);
                }));
            }
        }
    });
    let document = placeholder_document(&props);
    match html {
        Some(html) => {
            js_sys::Reflect::set(&frame, &"srcdoc".into(), &html.call1(&JsValue::NULL, &document.into())?)?;
        }
        None => frame.set_attribute("srcdoc", &document)?,
    }
    Ok(Placeholder { _on_frame_load: on_frame_load, _buttons: buttons })
}

/// Styles the placeholder document with a stylesheet constructed in the frame's own window (a sheet is
/// adopted only by documents of the window that made it), which a strict CSP's `style-src`, inherited
/// by the srcdoc document, does not govern; then shows its body. Where constructable stylesheets are
/// missing, a `<style>` element.
fn style(frame: &web_sys::HtmlIFrameElement, doc: &web_sys::Document) {
    let adopted = frame.content_window().and_then(|w| {
        let constructor: Function = js_sys::Reflect::get(&w, &"CSSStyleSheet".into()).ok()?.dyn_into().ok()?;
        let sheet = js_sys::Reflect::construct(&constructor, &js_sys::Array::new()).ok()?;
        let replace: Function = js_sys::Reflect::get(&sheet, &"replaceSync".into()).ok()?.dyn_into().ok()?;
        replace.call1(&sheet, &STYLE.into()).ok()?;
        js_sys::Reflect::set(doc, &"adoptedStyleSheets".into(), &js_sys::Array::of1(&sheet)).ok()?.then_some(())
    });
    if adopted.is_none() {
        if let (Ok(style), Some(head)) = (doc.create_element("style"), doc.head()) {
            style.set_text_content(Some(STYLE));
            let _ = head.append_child(&style);
        }
    }
    if let Some(body) = doc.body() {
        body.set_hidden(false);
    }
}

/// The id of the "Load it" button inside the placeholder document.
const LOAD_BUTTON_ID: &str = "assent-load";
/// The id of the "Always allow X" button inside the placeholder document.
const ALWAYS_BUTTON_ID: &str = "assent-always";

const STYLE: &str = "html,body{margin:0;height:100%}body{display:flex;align-items:center;justify-content:center;\
font:15px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;background:#eef0f3;color:#1b1f24;\
box-sizing:border-box;padding:12px;overflow:auto;text-align:center}\
main{max-width:32em}h1{font:inherit;margin:0 0 .75em}p{margin:0}small{display:block;color:#454c56;margin-top:.6em}\
.actions{display:flex;flex-wrap:wrap;gap:8px;justify-content:center}\
button{font:inherit;font-weight:600;min-height:36px;min-width:44px;padding:6px 18px;border-radius:6px;\
border:2px solid #1d4ed8;background:#1d4ed8;color:#fff;cursor:pointer}\
button.quiet{background:transparent;color:#1d4ed8}\
button:focus-visible{outline:3px solid #1b1f24;outline-offset:2px}\
@media (prefers-color-scheme:dark){body{background:#1f242b;color:#f1f3f5}small{color:#c2c8d0}\
button{background:#93b4ff;border-color:#93b4ff;color:#0b1220}button.quiet{background:transparent;color:#93b4ff}\
button:focus-visible{outline-color:#fff}}\
@media (prefers-reduced-motion:reduce){*{transition:none!important}}";

/// The placeholder as a whole HTML document, every string escaped.
fn placeholder_document(props: &PlaceholderProps) -> String {
    let note = if props.note.is_empty() { String::new() } else { format!("<small>{}</small>", escape(&props.note)) };
    let always = if props.always.is_empty() {
        String::new()
    } else {
        format!("<button type=\"button\" class=\"quiet\" id=\"{ALWAYS_BUTTON_ID}\">{}</button>", escape(&props.always))
    };
    format!(
        "<!doctype html><html lang=\"{}\" dir=\"{}\"><head><meta charset=\"utf-8\"><title>{}</title></head>\
<body hidden><main><h1>{}</h1><p class=\"actions\"><button type=\"button\" id=\"{LOAD_BUTTON_ID}\">{}</button>{always}</p>{note}</main></body></html>",
        escape(&props.lang),
        if props.rtl { "rtl" } else { "ltr" },
        escape(&props.title),
        escape(&props.message),
        escape(&props.load)
    )
}

/// Text and attribute escaping for the placeholder document.
fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&#39;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_escaped() {
        let doc = placeholder_document(&PlaceholderProps {
            lang: "en".into(),
            rtl: false,
            title: "Blocked".into(),
            message: "Hosted by <b>X</b> & co".into(),
            load: "Load \"it\"".into(),
            always: String::new(),
            note: String::new(),
        });
        assert!(doc.contains("Hosted by &lt;b&gt;X&lt;/b&gt; &amp; co"));
        assert!(doc.contains("Load &quot;it&quot;"));
        assert!(!doc.contains("<small>"));
        assert!(!doc.contains(ALWAYS_BUTTON_ID), "no service, no lasting choice to offer");
    }
}
