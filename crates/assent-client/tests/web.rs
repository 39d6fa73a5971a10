//! The wasm client with the real loader in headless Chromium: config in, effects out on the DOM,
//! the cookie and the JS API.

use assent_client::start;
use js_sys::{Function, Object, Reflect};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::*;
use web_sys::HtmlDocument;

wasm_bindgen_test_configure!(run_in_browser);

// The bundled loader (`cargo xtask test` bundles it before any build: xtask's `dist::bundle_loader`).
const LOADER: &str = include_str!("../../../target/loader/assent.js");
const CONFIG: &str = include_str!("../../../web/demo/assent.json");

fn document() -> HtmlDocument {
    web_sys::window().unwrap().document().unwrap().unchecked_into()
}

fn global(name: &str) -> JsValue {
    Reflect::get(&js_sys::global(), &name.into()).unwrap()
}

/// Installs the loader's primitives (evaluated without a script tag it only installs `window.assent`),
/// resets the page, adds gated elements and returns the options the loader would pass to `start`.
fn page(config: Option<&str>, stored: Option<&str>) -> JsValue {
    if global("assent").is_undefined() {
        Function::new_no_args(LOADER).call0(&JsValue::NULL).unwrap();
    }
    let doc = document();
    doc.set_cookie("assent=; Max-Age=0; Path=/").unwrap();
    if let Some(old) = doc.get_element_by_id("assent-ui") {
        old.remove();
    }
    let fixture = doc.get_element_by_id("fixture").unwrap_or_else(|| {
        let div = doc.create_element("div").unwrap();
        div.set_id("fixture");
        doc.body().unwrap().append_child(&div).unwrap();
        div
    });
    fixture.set_inner_html(
        r#"<script type="text/plain" data-category="analytics">window.ranAnalytics = (window.ranAnalytics || 0) + 1</script>
           <script type="text/plain" data-category="marketing">window.ranMarketing = (window.ranMarketing || 0) + 1</script>
           <script type="text/plain" data-category="necessary">window.ranNecessary = (window.ranNecessary || 0) + 1</script>"#,
    );
    for flag in ["ranAnalytics", "ranMarketing", "ranNecessary"] {
        Reflect::set(&js_sys::global(), &flag.into(), &JsValue::from(0)).unwrap();
    }
    let internals = Reflect::get(&global("assent"), &"_".into()).unwrap();
    let options = Object::new();
    let set = |k: &str, v: JsValue| Reflect::set(&options, &k.into(), &v).unwrap();
    set("configText", config.map_or(JsValue::NULL, JsValue::from));
    set("configError", JsValue::NULL);
    set("region", "DE".into());
    set("stored", stored.map_or(JsValue::NULL, JsValue::from));
    set("base", "/".into());
    set("run", Reflect::get(&internals, &"run".into()).unwrap());
    set("pending", Reflect::get(&internals, &"pending".into()).unwrap());
    set("prefs", prefs_loader());
    options.into()
}

/// What the loader's `prefs` resolves to: the preferences module's exports. Here the module is linked
/// into the test, so its two exports are handed over as the loader would (props and intents still go
/// over as wire text, through JavaScript).
fn prefs_loader() -> JsValue {
    use wasm_bindgen::closure::Closure;
    let exports = Object::new();
    let preferences = Closure::<dyn Fn(web_sys::HtmlElement, String, Function) -> JsValue>::new(
        |parent, props: String, on_intent| {
            assent_prefs::preferences(parent, &props, on_intent).map_or_else(|e| e, JsValue::from)
        },
    );
    let toggle = Closure::<dyn Fn(web_sys::Element, String, bool, Function) -> JsValue>::new(
        |host, props: String, on, on_toggle| {
            assent_prefs::toggle(host, &props, on, on_toggle).map_or_else(|e| e, JsValue::from)
        },
    );
    Reflect::set(&exports, &"preferences".into(), &preferences.into_js_value()).unwrap();
    Reflect::set(&exports, &"toggle".into(), &toggle.into_js_value()).unwrap();
    let version = Closure::<dyn Fn() -> u32>::new(assent_prefs::wire_version);
    Reflect::set(&exports, &"wireVersion".into(), &version.into_js_value()).unwrap();
    let resolved = js_sys::Promise::resolve(&JsValue::from(exports));
    Closure::<dyn Fn() -> js_sys::Promise>::new(move || resolved.clone()).into_js_value()
}

fn count(flag: &str) -> f64 {
    global(flag).as_f64().unwrap_or(0.0)
}

#[wasm_bindgen_test]
async fn first_visit_blocks_until_accept_all_then_runs_each_tag_once_and_stores_the_decision() {
    let client = start(page(Some(CONFIG), None)).await.unwrap();
    assert!(client.consent().is_null());
    assert_eq!((count("ranAnalytics"), count("ranMarketing"), count("ranNecessary")), (0.0, 0.0, 1.0));
    client.accept_all();
    assert_eq!((count("ranAnalytics"), count("ranMarketing")), (1.0, 1.0));
    client.rescan();
    assert_eq!(count("ranAnalytics"), 1.0, "each element runs once");
    let cookie = document().cookie().unwrap();
    assert!(cookie.contains("|api|DE|optIn"), "{cookie}");
    let purposes = Reflect::get(&client.consent(), &"purposes".into()).unwrap();
    assert_eq!(
        Reflect::get(&purposes, &"ai_training".into()).unwrap(),
        JsValue::FALSE,
        "Accept all never grants AI training"
    );
    assert!(client.allowed("analytics", JsValue::UNDEFINED));
}

#[wasm_bindgen_test]
async fn a_stored_refusal_keeps_tags_blocked_and_shows_no_banner() {
    // Make a refusal, then start again from the cookie it stored.
    let first = start(page(Some(CONFIG), None)).await.unwrap();
    first.reject_all();
    let stored = document().cookie().unwrap();
    let value = stored.split("; ").find_map(|c| c.strip_prefix("assent=")).unwrap().to_string();
    let client = start(page(Some(CONFIG), Some(&value))).await.unwrap();
    assert_eq!(Reflect::get(&client.consent(), &"method".into()).unwrap(), "api", "a JS API call is recorded as such");
    assert_eq!((count("ranAnalytics"), count("ranMarketing"), count("ranNecessary")), (0.0, 0.0, 1.0));
    assert!(document().get_element_by_id("assent-ui").is_none(), "no banner for a valid decision");
}

#[wasm_bindgen_test]
async fn a_broken_config_blocks_everything_optional_and_records_nothing() {
    let client = start(page(Some("{\"notice\": "), None)).await.unwrap();
    client.accept_all();
    assert_eq!((count("ranAnalytics"), count("ranMarketing"), count("ranNecessary")), (0.0, 0.0, 1.0));
    assert!(client.consent().is_null());
    assert!(!client.allowed("analytics", JsValue::UNDEFINED));
    assert!(client.allowed("necessary", JsValue::UNDEFINED));
    assert!(!document().cookie().unwrap().contains("assent="));
}

#[wasm_bindgen_test]
async fn set_rejects_unknown_purposes_without_changing_anything() {
    let client = start(page(Some(CONFIG), None)).await.unwrap();
    let choices = Object::new();
    Reflect::set(&choices, &"analytcs".into(), &JsValue::TRUE).unwrap();
    client.set(choices.into());
    assert!(client.consent().is_null());
    let choices = Object::new();
    Reflect::set(&choices, &"analytics".into(), &JsValue::TRUE).unwrap();
    client.set(choices.into());
    assert_eq!((count("ranAnalytics"), count("ranMarketing")), (1.0, 0.0));
}

/// Waits for the browser to run pending tasks (the client renders and records from spawned futures).
async fn settle() {
    for _ in 0..20 {
        let promise = js_sys::Promise::new(&mut |resolve, _| {
            web_sys::window().unwrap().set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, 10).unwrap();
        });
        wasm_bindgen_futures::JsFuture::from(promise).await.unwrap();
    }
}

/// Issue 4, as a widget team would test it: `<assent-ai-toggle>` inside the widget's own shadow root,
/// driven through the client. The flip is recorded for that conversation only, the stamp flips at once,
/// and the element announces it.
#[wasm_bindgen_test]
async fn the_ai_toggle_in_a_widget_shadow_root_scopes_the_choice_to_its_conversation() {
    use web_sys::{ShadowRootInit, ShadowRootMode};
    let _ = web_sys::window().unwrap().local_storage().unwrap().unwrap().remove_item("assent.conversations");
    let client = start(page(Some(CONFIG), None)).await.unwrap();
    client.reject_all();
    let doc = document();
    let widget = doc.create_element("div").unwrap();
    doc.body().unwrap().append_child(&widget).unwrap();
    let root = widget.attach_shadow(&ShadowRootInit::new(ShadowRootMode::Open)).unwrap();
    let toggle = doc.create_element("assent-ai-toggle").unwrap();
    toggle.set_attribute("conversation", "c-123").unwrap();
    root.append_child(&toggle).unwrap();
    let heard = Function::new_with_args("e", "window.heard = e.detail");
    toggle.add_event_listener_with_callback("assent:change", &heard).unwrap();
    client.mount_toggle(toggle.clone());
    settle().await;

    let switch: web_sys::HtmlElement = toggle
        .shadow_root()
        .expect("its own shadow root")
        .query_selector("[role=switch]")
        .unwrap()
        .expect("a switch")
        .unchecked_into();
    assert_eq!(switch.get_attribute("aria-checked").as_deref(), Some("false"), "off: consent is the basis");
    let options = |conversation: &str| {
        let o = Object::new();
        Reflect::set(&o, &"conversation".into(), &conversation.into()).unwrap();
        JsValue::from(o)
    };
    let dnt = |facts: JsValue| Reflect::get(&facts, &"do_not_train".into()).unwrap();
    assert_eq!(dnt(client.stamp_facts(options("c-123"))), JsValue::TRUE);

    switch.click();
    settle().await;
    assert_eq!(switch.get_attribute("aria-checked").as_deref(), Some("true"));
    assert_eq!(dnt(client.stamp_facts(options("c-123"))), JsValue::FALSE, "the stamp flips with no reload");
    assert_eq!(dnt(client.stamp_facts(options("c-999"))), JsValue::TRUE, "another conversation is unaffected");
    assert_eq!(dnt(client.stamp_facts(JsValue::UNDEFINED)), JsValue::TRUE, "the site-wide choice is unaffected");
    assert!(client.allowed("ai_training", options("c-123")));
    let scope = Reflect::get(&client.stamp_facts(options("c-123")), &"scope".into()).unwrap();
    assert_eq!(scope.as_string().as_deref(), Some("conversation:c-123"));
    let detail = global("heard");
    assert_eq!(Reflect::get(&detail, &"on".into()).unwrap(), JsValue::TRUE, "assent:change on the element");
    let stored =
        web_sys::window().unwrap().local_storage().unwrap().unwrap().get_item("assent.conversations").unwrap().unwrap();
    assert!(stored.starts_with("3|c-123|ai_training|1|") && stored.ends_with("|2026-11-01|ai_toggle"), "{stored}");
    widget.remove();
}
