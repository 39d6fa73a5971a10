//! The banner and the preferences dialog, mounted in headless Chromium (`wasm-pack test --headless --chrome`
//! or `cargo test --target wasm32-unknown-unknown`). `#[wasm_bindgen(start)]` does not run here, so each
//! test mounts its view itself, as a widget team's tests would.

use std::cell::RefCell;
use std::rc::Rc;

use assent_ui::{AllowedService, Intent, Layer, Legal, Overlay, Position, Props, PurposeItem, Scheme, Texts, View};
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;
use web_sys::{Element, HtmlElement, KeyboardEvent, KeyboardEventInit};

wasm_bindgen_test_configure!(run_in_browser);

fn texts() -> Rc<Texts> {
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

fn purpose(id: &str, required: bool, separate: bool, on: bool) -> PurposeItem {
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

fn props(layer: Layer) -> Props {
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

/// Mounts a view and returns the overlay and the intents it sends.
fn mount(view: View, layer: Layer) -> (Overlay, Rc<RefCell<Vec<Intent>>>) {
    mount_with(view, props(layer))
}

fn mount_with(view: View, props: Props) -> (Overlay, Rc<RefCell<Vec<Intent>>>) {
    let document = web_sys::window().unwrap().document().unwrap();
    if let Some(old) = document.get_element_by_id("assent-ui") {
        old.remove();
    }
    let sent = Rc::new(RefCell::new(Vec::new()));
    let sink = sent.clone();
    let mut overlay = Overlay::new(&document).unwrap();
    overlay.show(view, props, Rc::new(move |i| sink.borrow_mut().push(i)));
    (overlay, sent)
}

fn all(overlay: &Overlay, selector: &str) -> Vec<HtmlElement> {
    let list = overlay.shadow_root().query_selector_all(selector).unwrap();
    (0..list.length()).map(|i| list.item(i).unwrap().unchecked_into()).collect()
}

fn button(overlay: &Overlay, text: &str) -> HtmlElement {
    all(overlay, "button").into_iter().find(|b| b.text_content().as_deref() == Some(text)).expect(text)
}

fn press(target: &Element, key: &str) {
    let init = KeyboardEventInit::new();
    init.set_key(key);
    init.set_bubbles(true);
    target.dispatch_event(&KeyboardEvent::new_with_keyboard_event_init_dict("keydown", &init).unwrap()).unwrap();
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

/// Lets Leptos run its scheduled effects (attribute updates happen after the event handler returns).
async fn tick() {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        web_sys::window().unwrap().set_timeout_with_callback(&resolve).unwrap();
    });
    wasm_bindgen_futures::JsFuture::from(promise).await.unwrap();
}

#[wasm_bindgen_test]
async fn preferences_switches_start_as_given_and_save_sends_every_optional_purpose() {
    let (overlay, sent) = mount(View::Preferences, Layer::OptIn);
    let switches = all(&overlay, "[role=switch]");
    let ids: Vec<String> = switches.iter().map(|s| s.get_attribute("data-purpose").unwrap()).collect();
    assert_eq!(ids, ["analytics", "marketing", "ai_training"], "necessary has no switch; AI training comes last, apart");
    assert!(switches.iter().all(|s| s.get_attribute("aria-checked").as_deref() == Some("false")), "nothing pre-ticked");
    assert_eq!(all(&overlay, ".separate-title").len(), 1);
    switches[0].click();
    tick().await;
    assert_eq!(switches[0].get_attribute("aria-checked").as_deref(), Some("true"));
    button(&overlay, "Save choices").click();
    assert_eq!(
        *sent.borrow(),
        [Intent::Save(vec![("analytics".into(), true), ("marketing".into(), false), ("ai_training".into(), false)])]
    );
}

#[wasm_bindgen_test]
async fn services_allowed_always_are_listed_and_one_click_ends_one_with_focus_kept_in_the_dialog() {
    // Without any, the dialog has no such section.
    let (overlay, _) = mount(View::Preferences, Layer::OptIn);
    assert!(!overlay.shadow_root().text_content().unwrap().contains("Services you always allow"));
    drop(overlay);

    let mut with = props(Layer::OptIn);
    with.allowed_services = ["YouTube", "Vimeo"].map(|n| AllowedService { name: n.into(), purpose: "Marketing".into() }).to_vec();
    let (overlay, sent) = mount_with(View::Preferences, with);
    let rows = all(&overlay, ".allowed-services li");
    assert_eq!(rows.iter().map(|r| r.text_content().unwrap()).collect::<Vec<_>>(), [
        "YouTube · MarketingStop allowing YouTube",
        "Vimeo · MarketingStop allowing Vimeo",
    ]);
    button(&overlay, "Stop allowing YouTube").click();
    tick().await;
    assert!(rows[0].hidden(), "the row goes");
    assert!(!rows[1].hidden());
    let focused = overlay.shadow_root().active_element().unwrap();
    assert_eq!(focused.text_content().as_deref(), Some("Services you always allow"), "focus lands on the list's heading");
    assert_eq!(*sent.borrow(), [Intent::StopService("YouTube".into())], "at once, without Save");
}

#[wasm_bindgen_test]
fn focus_moves_into_the_dialog_and_returns_on_hide() {
    let document = web_sys::window().unwrap().document().unwrap();
    let opener: HtmlElement = document.create_element("button").unwrap().unchecked_into();
    opener.set_text_content(Some("open"));
    document.body().unwrap().append_child(&opener).unwrap();
    opener.focus().unwrap();
    let (mut overlay, _) = mount(View::Preferences, Layer::OptIn);
    let active = overlay.shadow_root().active_element().expect("focus is inside the shadow root");
    assert_eq!(active.get_attribute("role").as_deref(), Some("dialog"));
    assert_eq!(active.get_attribute("aria-modal").as_deref(), Some("true"));
    overlay.hide();
    assert_eq!(document.active_element().as_ref(), Some(opener.unchecked_ref::<Element>()));
    assert_eq!(overlay.shadow_root().query_selector("[role=dialog]").unwrap(), None, "unmounted");
    opener.remove();
}

/// Issue 4: the AI-training toggle inside another component's shadow root is a labelled switch whose
/// flips go to the adapter, and whose state shows only what the adapter sets.
#[wasm_bindgen_test]
async fn ai_toggle_renders_inside_a_host_shadow_root_as_a_labelled_switch() {
    use assent_ui::{MountedToggle, ToggleProps};
    use web_sys::{ShadowRootInit, ShadowRootMode};
    let document = web_sys::window().unwrap().document().unwrap();
    let widget = document.create_element("div").unwrap();
    document.body().unwrap().append_child(&widget).unwrap();
    let widget_root = widget.attach_shadow(&ShadowRootInit::new(ShadowRootMode::Closed)).unwrap();
    let element = document.create_element("assent-ai-toggle").unwrap();
    widget_root.append_child(&element).unwrap();

    let flips = Rc::new(RefCell::new(Vec::new()));
    let sink = flips.clone();
    let props = ToggleProps {
        label: "Use this conversation to improve our support assistant".into(),
        description: "Off unless you turn it on.".into(),
        learn_more: "Learn more".into(),
        notice_url: Some("/privacy".into()),
        lang: "en".into(),
        rtl: false,
        scheme: Scheme::Auto,
    };
    let toggle = MountedToggle::mount(&element, props, false, Rc::new(move |on| sink.borrow_mut().push(on))).unwrap();
    let switch = toggle.switch().expect("a switch in the element's own shadow root");
    assert_eq!(switch.tag_name(), "BUTTON", "a button: Space and Enter flip it, and it takes focus");
    assert_eq!(switch.get_attribute("aria-checked").as_deref(), Some("false"), "off until the adapter says otherwise");
    assert_eq!(switch.text_content().as_deref(), Some("Use this conversation to improve our support assistant"), "the label is visible");
    let root = element.shadow_root().unwrap();
    let link = root.query_selector("a").unwrap().unwrap();
    assert_eq!(link.get_attribute("href").as_deref(), Some("/privacy"));
    assert_eq!(link.text_content().as_deref(), Some("Learn more"));
    let desc_id = switch.get_attribute("aria-describedby").unwrap();
    assert!(root.get_element_by_id(&desc_id).unwrap().text_content().unwrap().starts_with("Off unless you turn it on."));

    switch.focus().unwrap();
    assert_eq!(root.active_element().as_ref(), Some(switch.unchecked_ref::<Element>()), "focusable inside nested shadow roots");
    switch.click();
    tick().await;
    assert_eq!(*flips.borrow(), [true], "the flip goes to the adapter");
    assert_eq!(switch.get_attribute("aria-checked").as_deref(), Some("false"), "not shown as on until recorded");
    toggle.set(true);
    tick().await;
    assert_eq!(switch.get_attribute("aria-checked").as_deref(), Some("true"));
    drop(toggle);
    assert!(root.query_selector("[role=switch]").unwrap().is_none(), "dropping the handle unmounts it");
    widget.remove();
}

/// Issue 5: GPC honoured is announced in a status region on the banner and in the dialog, and the
/// opt-out entry point reopens the choices without taking focus.
#[wasm_bindgen_test]
async fn gpc_status_is_announced_and_the_entry_point_opens_preferences() {
    let document = web_sys::window().unwrap().document().unwrap();
    for view in [View::Banner, View::Preferences] {
        if let Some(old) = document.get_element_by_id("assent-ui") {
            old.remove();
        }
        let mut overlay = Overlay::new(&document).unwrap();
        let mut p = props(Layer::OptOut);
        p.status = Some(Legal::plain("Opt-Out Request Honored".into()));
        overlay.show(view, p, Rc::new(|_| {}));
        let status = overlay.shadow_root().query_selector("[role=status]").unwrap().expect("a status region");
        assert_eq!(status.text_content().as_deref(), Some("Opt-Out Request Honored"), "{view:?}");
    }
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
    overlay.show_entry_point(p, Rc::new(move |i| sink.borrow_mut().push(i)));
    assert_eq!(document.active_element().as_ref(), Some(&outside), "the entry point never takes focus");
    let entry = button(&overlay, "Your Privacy Choices");
    entry.click();
    assert_eq!(*sent.borrow(), [Intent::OpenPreferences]);
    outside.remove();
}
