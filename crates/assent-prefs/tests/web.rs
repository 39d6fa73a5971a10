//! The preferences dialog and the AI toggle (Leptos), mounted in headless Chromium (`cargo test
//! --target wasm32-unknown-unknown` with `CHROMEDRIVER`) inside the first layer's overlay, as the client
//! mounts them.

use std::cell::RefCell;
use std::rc::Rc;

use assent_prefs::mount_preferences;
use assent_ui::{AllowedService, Intent, Layer, Legal, Overlay, Props, Scheme, View};
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;
use web_sys::{Element, HtmlElement};

#[path = "../../assent-ui/tests/support/mod.rs"]
mod support;
use support::{all, button, props};

wasm_bindgen_test_configure!(run_in_browser);

/// The dialog, as the client mounts it.
fn mount(view: View, layer: Layer) -> (Overlay, Rc<RefCell<Vec<Intent>>>) {
    mount_with(view, props(layer))
}

fn mount_with(view: View, props: Props) -> (Overlay, Rc<RefCell<Vec<Intent>>>) {
    assert_eq!(view, View::Preferences, "this module mounts the dialog only");
    support::mount_with(view, props, |sink| {
        Box::new(move |parent, props| mount_preferences(parent.clone(), props.clone(), sink))
    })
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
    assert_eq!(
        ids,
        ["analytics", "marketing", "ai_training"],
        "necessary has no switch; AI training comes last, apart"
    );
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
    with.allowed_services =
        ["YouTube", "Vimeo"].map(|n| AllowedService { name: n.into(), purpose: "Marketing".into() }).to_vec();
    let (overlay, sent) = mount_with(View::Preferences, with);
    let rows = all(&overlay, ".allowed-services li");
    assert_eq!(
        rows.iter().map(|r| r.text_content().unwrap()).collect::<Vec<_>>(),
        ["YouTube · MarketingStop allowing YouTube", "Vimeo · MarketingStop allowing Vimeo",]
    );
    button(&overlay, "Stop allowing YouTube").click();
    tick().await;
    assert!(rows[0].hidden(), "the row goes");
    assert!(!rows[1].hidden());
    let focused = overlay.shadow_root().active_element().unwrap();
    assert_eq!(
        focused.text_content().as_deref(),
        Some("Services you always allow"),
        "focus lands on the list's heading"
    );
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

/// The AI-training toggle inside another component's shadow root is a labelled switch whose
/// flips go to the adapter, and whose state shows only what the adapter sets.
#[wasm_bindgen_test]
async fn ai_toggle_renders_inside_a_host_shadow_root_as_a_labelled_switch() {
    use assent_prefs::MountedToggle;
    use assent_ui::ToggleProps;
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
    assert_eq!(
        switch.text_content().as_deref(),
        Some("Use this conversation to improve our support assistant"),
        "the label is visible"
    );
    let root = element.shadow_root().unwrap();
    let link = root.query_selector("a").unwrap().unwrap();
    assert_eq!(link.get_attribute("href").as_deref(), Some("/privacy"));
    assert_eq!(link.text_content().as_deref(), Some("Learn more"));
    let desc_id = switch.get_attribute("aria-describedby").unwrap();
    assert!(root
        .get_element_by_id(&desc_id)
        .unwrap()
        .text_content()
        .unwrap()
        .starts_with("Off unless you turn it on."));

    switch.focus().unwrap();
    assert_eq!(
        root.active_element().as_ref(),
        Some(switch.unchecked_ref::<Element>()),
        "focusable inside nested shadow roots"
    );
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

/// GPC honoured is announced in a status region in the dialog too.
#[wasm_bindgen_test]
fn gpc_status_is_announced_in_the_dialog() {
    let mut p = props(Layer::OptOut);
    p.status = Some(Legal::plain("Opt-Out Request Honored".into()));
    let (overlay, _) = mount_with(View::Preferences, p);
    let status = overlay.shadow_root().query_selector("[role=status]").unwrap().expect("a status region");
    assert_eq!(status.text_content().as_deref(), Some("Opt-Out Request Honored"));
}

/// The wire entry point the client calls: props as JSON text in, intents as JSON text out.
#[wasm_bindgen_test]
fn the_dialog_takes_props_and_sends_intents_as_wire_text() {
    let document = web_sys::window().unwrap().document().unwrap();
    let parent: HtmlElement = document.create_element("div").unwrap().unchecked_into();
    document.body().unwrap().append_child(&parent).unwrap();
    let sent = Rc::new(RefCell::new(Vec::<String>::new()));
    let sink = sent.clone();
    let on_intent = wasm_bindgen::closure::Closure::<dyn Fn(String)>::new(move |s: String| sink.borrow_mut().push(s));
    let shown = assent_prefs::preferences(
        parent.clone(),
        &assent_ui::wire::props_to_wire(&props(Layer::OptIn)),
        on_intent.as_ref().unchecked_ref::<js_sys::Function>().clone(),
    )
    .unwrap();
    let reject = parent.query_selector(".foot .btn").unwrap().unwrap().unchecked_into::<HtmlElement>();
    assert_eq!(reject.text_content().as_deref(), Some("Reject all"));
    reject.click();
    assert_eq!(
        sent.borrow().iter().filter_map(|s| assent_ui::wire::intent_from_wire(s)).collect::<Vec<_>>(),
        [Intent::RejectAll]
    );
    assert!(
        assent_prefs::preferences(parent.clone(), "{}", js_sys::Function::new_no_args("")).is_err(),
        "bad props are refused, not shown half"
    );
    drop(shown);
    assert!(parent.query_selector(".dialog").unwrap().is_none(), "freeing the handle unmounts it");
    parent.remove();
}
