//! The plain-DOM first layer and entry point, mounted in headless Chromium (`cargo test --target
//! wasm32-unknown-unknown` with `CHROMEDRIVER`). `#[wasm_bindgen(start)]` does not run here, so each
//! test mounts its view itself, as a widget team's tests would.

use std::cell::RefCell;
use std::rc::Rc;

use assent_ui::{first_layer, Intent, Layer, Legal, Overlay, Position, Props, View};
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;
use web_sys::HtmlElement;

mod support;
use support::{all, button, press, props};

wasm_bindgen_test_configure!(run_in_browser);

/// A first-layer view, built by this crate.
fn mount(view: View, layer: Layer) -> (Overlay, Rc<RefCell<Vec<Intent>>>) {
    support::mount(view, layer, |sink| first_layer(view, sink))
}

fn mount_with(view: View, props: Props) -> (Overlay, Rc<RefCell<Vec<Intent>>>) {
    support::mount_with(view, props, |sink| first_layer(view, sink))
}

#[wasm_bindgen_test]
fn opt_in_banner_offers_three_equal_choices_and_sends_intents() {
    let (overlay, sent) = mount(View::Banner, Layer::OptIn);
    let buttons = all(&overlay, ".banner button");
    let labels: Vec<String> = buttons.iter().map(|b| b.text_content().unwrap()).collect();
    assert_eq!(labels, ["Accept all", "Reject all", "Preferences"]);
    assert!(buttons.iter().all(|b| b.class_name() == "btn"), "one style for every choice");
    let dialog = overlay.shadow_root().query_selector("[role=dialog]").unwrap().unwrap();
    assert_eq!(dialog.get_attribute("aria-labelledby").as_deref(), Some("assent-banner-title"));
    assert!(dialog.text_content().unwrap().contains("Acme asks."), "placeholders are filled");
    button(&overlay, "Reject all").click();
    button(&overlay, "Preferences").click();
    press(&dialog, "Escape");
    assert_eq!(*sent.borrow(), [Intent::RejectAll, Intent::OpenPreferences, Intent::Close]);
}

#[wasm_bindgen_test]
fn opt_out_banner_has_privacy_choices_and_acknowledgment() {
    let (overlay, sent) = mount(View::Banner, Layer::OptOut);
    let labels: Vec<String> = all(&overlay, ".banner button").iter().map(|b| b.text_content().unwrap()).collect();
    assert_eq!(labels, ["Your privacy choices", "OK"]);
    button(&overlay, "OK").click();
    assert_eq!(*sent.borrow(), [Intent::Acknowledge]);
}

/// GPC honoured is announced in a status region on the banner, and the opt-out entry point reopens
/// the choices without taking focus.
#[wasm_bindgen_test]
fn gpc_status_is_announced_and_the_entry_point_opens_preferences() {
    let document = web_sys::window().unwrap().document().unwrap();
    if let Some(old) = document.get_element_by_id("assent-ui") {
        old.remove();
    }
    let mut overlay = Overlay::new(&document).unwrap();
    let mut p = props(Layer::OptOut);
    p.status = Some(Legal::plain("Opt-Out Request Honored".into()));
    overlay.show(View::Banner, p, first_layer(View::Banner, Rc::new(|_| {})));
    let status = overlay.shadow_root().query_selector("[role=status]").unwrap().expect("a status region");
    assert_eq!(status.text_content().as_deref(), Some("Opt-Out Request Honored"));
    if let Some(old) = document.get_element_by_id("assent-ui") {
        old.remove();
    }
    let outside = document.create_element("button").unwrap();
    document.body().unwrap().append_child(&outside).unwrap();
    outside.unchecked_ref::<HtmlElement>().focus().unwrap();
    let sent = Rc::new(RefCell::new(Vec::new()));
    let sink = sent.clone();
    let mut overlay = Overlay::new(&document).unwrap();
    let mut p = props(Layer::OptOut);
    p.entry_label = Some(Legal::plain("Your Privacy Choices".into()));
    overlay.show_entry_point(p, first_layer(View::EntryPoint, Rc::new(move |i| sink.borrow_mut().push(i))));
    assert_eq!(document.active_element().as_ref(), Some(&outside), "the entry point never takes focus");
    let entry = button(&overlay, "Your Privacy Choices");
    entry.click();
    assert_eq!(*sent.borrow(), [Intent::OpenPreferences]);
    outside.remove();
}

#[wasm_bindgen_test]
fn a_modal_first_layer_ignores_escape_and_keeps_tab_inside() {
    let mut p = props(Layer::OptIn);
    p.position = Position::Modal;
    let (overlay, sent) = mount_with(View::Banner, p);
    let dialog = overlay.shadow_root().query_selector("[role=dialog]").unwrap().unwrap();
    assert_eq!(dialog.get_attribute("aria-modal").as_deref(), Some("true"));
    assert_eq!(all(&overlay, ".modal-backdrop").len(), 1, "the page is dimmed");
    press(&dialog, "Escape");
    assert!(sent.borrow().is_empty(), "a modal first layer must be answered");
    let buttons = all(&overlay, ".banner button");
    buttons[2].focus().unwrap();
    press(&dialog, "Tab");
    let first = overlay.shadow_root().active_element().unwrap();
    assert_eq!(
        first.get_attribute("href").as_deref(),
        Some("/privacy"),
        "Tab wraps to the first control, the notice link"
    );
}

#[wasm_bindgen_test]
fn hiding_the_banner_removes_it_and_its_listeners() {
    let (mut overlay, sent) = mount(View::Banner, Layer::OptIn);
    let accept = button(&overlay, "Accept all");
    overlay.hide();
    assert!(overlay.shadow_root().query_selector(".banner").unwrap().is_none(), "gone from the shadow root");
    // A listener left on the button after its Rust closure is freed would throw when called.
    let errors = Rc::new(std::cell::Cell::new(0));
    let count = errors.clone();
    let on_error = wasm_bindgen::closure::Closure::<dyn Fn()>::new(move || count.set(count.get() + 1));
    let window = web_sys::window().unwrap();
    window.add_event_listener_with_callback("error", on_error.as_ref().unchecked_ref()).unwrap();
    accept.click();
    window.remove_event_listener_with_callback("error", on_error.as_ref().unchecked_ref()).unwrap();
    assert!(sent.borrow().is_empty(), "a detached button sends nothing");
    assert_eq!(errors.get(), 0, "its listener is removed, not left to throw");
}
