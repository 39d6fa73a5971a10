//! What the UI crates' browser tests share: the strings, the props, mounting a view in an overlay,
//! and finding and pressing its controls. Included by `assent-ui` and `assent-prefs` (each uses part).
#![allow(dead_code)]

use std::cell::RefCell;
use std::rc::Rc;

use assent_ui::{Intent, Layer, Mount, OnIntent, Overlay, Position, Props, PurposeItem, Scheme, Texts, View};
use wasm_bindgen::JsCast;
use web_sys::{Element, HtmlElement, KeyboardEvent, KeyboardEventInit};

pub fn texts() -> Rc<Texts> {
    let pairs = [
        ("banner.title", "Your privacy choices"),
        ("banner.body", "{controller} asks."),
        ("banner.acceptAll", "Accept all"),
        ("banner.rejectAll", "Reject all"),
        ("banner.preferences", "Preferences"),
        ("banner.privacyChoices", "Your privacy choices"),
        ("banner.ok", "OK"),
        ("prefs.title", "Privacy preferences"),
        ("prefs.save", "Save choices"),
        ("prefs.acceptAll", "Accept all"),
        ("prefs.rejectAll", "Reject all"),
        ("prefs.alwaysOn", "Always on"),
        ("prefs.separateTitle", "AI training"),
        ("prefs.allowedTitle", "Services you always allow"),
        ("prefs.stopAllowing", "Stop allowing {service}"),
    ];
    Rc::new(Texts(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()))
}

pub fn purpose(id: &str, required: bool, separate: bool, on: bool) -> PurposeItem {
    PurposeItem {
        id: id.into(),
        name: format!("{id} name"),
        description: format!("{id} description"),
        required,
        separate,
        services: vec![],
        data_categories: vec!["usage data".into()],
        retention: Some("Cookies kept up to 30 days".into()),
        on,
    }
}

pub fn props(layer: Layer) -> Props {
    Props {
        layer,
        texts: texts(),
        lang: "en".into(),
        controller: "Acme".into(),
        notice_url: Some("/privacy".into()),
        purposes: vec![
            purpose("necessary", true, false, true),
            purpose("analytics", false, false, false),
            purpose("marketing", false, false, false),
            purpose("ai_training", false, true, false),
        ],
        status: None,
        entry_label: None,
        allowed_services: vec![],
        rtl: false,
        scheme: Scheme::Auto,
        position: Position::Bar,
    }
}

/// Mounts `view` with `props` in a fresh overlay, through the `Mount` that `mount` makes from the
/// intent sink; returns the overlay and the intents sent.
pub fn mount_with(
    view: View,
    props: Props,
    mount: impl FnOnce(OnIntent) -> Mount,
) -> (Overlay, Rc<RefCell<Vec<Intent>>>) {
    let document = web_sys::window().unwrap().document().unwrap();
    if let Some(old) = document.get_element_by_id("assent-ui") {
        old.remove();
    }
    let sent = Rc::new(RefCell::new(Vec::new()));
    let sink = sent.clone();
    let mut overlay = Overlay::new(&document).unwrap();
    overlay.show(view, props, mount(Rc::new(move |i| sink.borrow_mut().push(i))));
    (overlay, sent)
}

/// [`mount_with`] the default props of `layer`.
pub fn mount(view: View, layer: Layer, make: impl FnOnce(OnIntent) -> Mount) -> (Overlay, Rc<RefCell<Vec<Intent>>>) {
    mount_with(view, props(layer), make)
}

pub fn all(overlay: &Overlay, selector: &str) -> Vec<HtmlElement> {
    let list = overlay.shadow_root().query_selector_all(selector).unwrap();
    (0..list.length()).map(|i| list.item(i).unwrap().unchecked_into()).collect()
}

pub fn button(overlay: &Overlay, text: &str) -> HtmlElement {
    all(overlay, "button").into_iter().find(|b| b.text_content().as_deref() == Some(text)).expect(text)
}

pub fn press(target: &Element, key: &str) {
    let init = KeyboardEventInit::new();
    init.set_key(key);
    init.set_bubbles(true);
    target.dispatch_event(&KeyboardEvent::new_with_keyboard_event_init_dict("keydown", &init).unwrap()).unwrap();
}
