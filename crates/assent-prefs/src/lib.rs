//! Assent's preferences module: the preferences dialog and the per-conversation AI toggle, rendered
//! with Leptos, and what else is not needed before the banner is on screen: the `__gpp` handler and
//! the placeholders of blocked embeds. It is a wasm module of its own, fetched by the client when one
//! of them is first needed (and prefetched once the banner is idle), so the first layer carries no
//! framework.
//!
//! The client hands props over as JSON text ([`assent_ui::wire`]) and gets intents back the same way:
//! the two modules have separate memories. Like the rest of the UI, the views hold no policy.

use std::any::Any;
use std::rc::Rc;

use assent_ui::{wire, AllowedService, Intent, Legal, OnIntent, Props, PurposeItem, Texts};
use js_sys::Function;
use leptos::mount::mount_to;
use leptos::prelude::*;
use wasm_bindgen::prelude::*;
use web_sys::{Element, HtmlElement, KeyboardEvent};

mod gpp;
mod placeholder;
mod toggle;
pub use toggle::MountedToggle;

/// The wire format this module reads ([`wire::WIRE_VERSION`]); the client checks it when the module lands.
#[wasm_bindgen(js_name = wireVersion)]
pub fn wire_version() -> u32 {
    wire::WIRE_VERSION
}

/// A view shown by this module. Dropping it (`free()` from JavaScript) takes the view away.
#[wasm_bindgen]
pub struct Shown(#[allow(dead_code)] Box<dyn Any>);

/// Shows the preferences dialog under `parent` (the overlay's container, in its shadow root). `props`
/// is [`wire::props_to_wire`]'s text; each intent goes to `on_intent` as [`wire::intent_to_wire`]'s.
#[wasm_bindgen]
pub fn preferences(parent: HtmlElement, props: &str, on_intent: Function) -> Result<Shown, JsValue> {
    let props = wire::props_from_wire(props).ok_or("assent-prefs: the dialog's props are not in the wire format")?;
    let on_intent: OnIntent = Rc::new(move |intent| {
        let _ = on_intent.call1(&JsValue::NULL, &wire::intent_to_wire(&intent).into());
    });
    Ok(Shown(mount_preferences(parent, props, on_intent)))
}

/// The preferences dialog under `parent`, for Rust callers (the tests); dropping the result unmounts it.
pub fn mount_preferences(parent: HtmlElement, props: Props, on_intent: OnIntent) -> Box<dyn Any> {
    add_dialog_styles(&parent);
    Box::new(mount_to(parent, move || view! { <Preferences props=props on_intent=on_intent/> }))
}

/// Adds the dialog's stylesheet to the shadow root `parent` is in, once.
pub fn add_dialog_styles(parent: &HtmlElement) {
    if let Ok(root) = parent.get_root_node().dyn_into::<web_sys::ShadowRoot>() {
        let _ = style_once(&root, assent_ui::DIALOG_STYLES);
    }
}

thread_local! {
    /// This module's stylesheets, one per text, shared by every shadow root that adopts it.
    static SHEETS: std::cell::RefCell<Vec<(&'static str, web_sys::CssStyleSheet)>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Adds `css` to `root`'s styles unless it has them already (`assent_ui::add_styles`).
pub fn style_once(root: &web_sys::ShadowRoot, css: &'static str) -> Result<(), JsValue> {
    if let Some(sheet) =
        SHEETS.with(|s| s.borrow().iter().find(|(text, _)| std::ptr::eq(*text, css)).map(|(_, s)| s.clone()))
    {
        assent_ui::adopt(root, &sheet);
        return Ok(());
    }
    // Without constructable stylesheets, a `<style>` element: once per root.
    let styles = root.query_selector_all("style")?;
    if (0..styles.length()).filter_map(|i| styles.item(i)).any(|s| s.text_content().as_deref() == Some(css)) {
        return Ok(());
    }
    if let Some(sheet) = assent_ui::add_styles(root, css)? {
        SHEETS.with(|s| s.borrow_mut().push((css, sheet)));
    }
    Ok(())
}

/// An `<assent-ai-toggle>` shown by this module.
#[wasm_bindgen]
pub struct Toggle(MountedToggle);

#[wasm_bindgen]
impl Toggle {
    /// Shows a new state (recorded here, in another toggle for the same conversation, or site-wide).
    pub fn set(&self, on: bool) {
        self.0.set(on);
    }
}

/// Renders the AI toggle into `host`'s shadow root, showing `on`. `props` is
/// [`wire::toggle_to_wire`]'s text; a flip calls `on_toggle` with the state asked for.
#[wasm_bindgen]
pub fn toggle(host: Element, props: &str, on: bool, on_toggle: Function) -> Result<Toggle, JsValue> {
    let props = wire::toggle_from_wire(props).ok_or("assent-prefs: the toggle's props are not in the wire format")?;
    let on_toggle = Rc::new(move |on: bool| {
        let _ = on_toggle.call1(&JsValue::NULL, &JsValue::from_bool(on));
    });
    MountedToggle::mount(&host, props, on, on_toggle).map(Toggle)
}

/// The preferences dialog: modal, focus trapped inside, one switch per optional purpose, AI training
/// in a section of its own. Nothing is pre-ticked unless the current state says so.
#[component]
fn Preferences(
    /// What to show.
    props: Props,
    /// Where the visitor's choice goes.
    on_intent: OnIntent,
) -> impl IntoView {
    let t = props.texts.clone();
    let switches: Vec<(PurposeItem, RwSignal<bool>)> =
        props.purposes.iter().map(|p| (p.clone(), RwSignal::new(p.on))).collect();
    let send = |intent: Intent| emit(&on_intent, intent);
    let save = {
        let switches = switches.clone();
        let on_intent = on_intent.clone();
        move |_| {
            let choices =
                switches.iter().filter(|(p, _)| !p.required).map(|(p, s)| (p.id.clone(), s.get_untracked())).collect();
            on_intent(Intent::Save(choices))
        }
    };
    let close = on_intent.clone();
    let on_key = move |ev: KeyboardEvent| match ev.key().as_str() {
        "Escape" => {
            ev.stop_propagation();
            close(Intent::Close);
        }
        "Tab" => assent_ui::trap_tab(&ev),
        _ => {}
    };
    let row = {
        let t = t.clone();
        move |(p, on): (PurposeItem, RwSignal<bool>)| purpose_row(&t, p, on)
    };
    let (separate, regular): (Vec<_>, Vec<_>) = switches.into_iter().partition(|(p, _)| p.separate);
    let has_separate = !separate.is_empty();
    let allowed = allowed_services(&t, props.allowed_services.clone(), on_intent.clone());
    view! {
        <div class="backdrop">
            <section class="dialog" role="dialog" aria-modal="true" aria-labelledby="assent-prefs-title"
                tabindex="-1" data-autofocus="" on:keydown=on_key>
                <div class="head">
                    <h2 id="assent-prefs-title">{t.get("prefs.title")}</h2>
                    <button type="button" class="close" aria-label=t.get("prefs.close") on:click=send(Intent::Close)>"×"</button>
                </div>
                <div class="body">
                    {status_line(&props.status)}
                    <p>{t.fill("prefs.intro", &[("controller", &props.controller)])}</p>
                    <ul class="purposes">{regular.into_iter().map(row.clone()).collect_view()}</ul>
                    {has_separate.then(|| view! {
                        <h3 class="separate-title">{t.get("prefs.separateTitle")}</h3>
                        <p class="separate-note">{t.get("prefs.separateNote")}</p>
                        <ul class="purposes">{separate.into_iter().map(row.clone()).collect_view()}</ul>
                    })}
                    {allowed}
                    // What a withdrawal cannot undo (scripts that already ran), said before it is made.
                    <p class="withdraw-note">{t.get("prefs.withdrawNote")}</p>
                </div>
                <div class="foot actions">
                    <button type="button" class="btn" data-key="reject" on:click=send(Intent::RejectAll)>{t.get("prefs.rejectAll")}</button>
                    <button type="button" class="btn" data-key="accept" on:click=send(Intent::AcceptAll)>{t.get("prefs.acceptAll")}</button>
                    <button type="button" class="btn" data-key="save" on:click=save>{t.get("prefs.save")}</button>
                </div>
            </section>
        </div>
    }
}

/// The services allowed always, each with a button that ends it at once (it needs no "Save"). A row
/// hides when its button is used, and focus moves to the list's heading, never to nowhere (the heading
/// stays while the dialog is open).
fn allowed_services(t: &Texts, services: Vec<AllowedService>, on_intent: OnIntent) -> impl IntoView {
    if services.is_empty() {
        return None;
    }
    let heading = NodeRef::<leptos::html::H3>::new();
    let rows = services
        .into_iter()
        .map(|s| {
            let gone = RwSignal::new(false);
            let on_intent = on_intent.clone();
            let name = s.name.clone();
            let stop = move |_| {
                gone.set(true);
                if let Some(h) = heading.get_untracked() {
                    let _ = h.focus();
                }
                on_intent(Intent::StopService(name.clone()));
            };
            let label = t.get("prefs.stopAllowing").replace("{service}", &s.name);
            view! {
                <li class="purpose" hidden=move || gone.get()>
                    <div class="purpose-head">
                        <span class="purpose-name">{s.name.clone()}<span class="purpose-of">{format!(" · {}", s.purpose)}</span></span>
                        <button type="button" class="btn btn-small" data-service=s.name.clone() on:click=stop>{label}</button>
                    </div>
                </li>
            }
        })
        .collect_view();
    Some(view! {
        <h3 class="separate-title" tabindex="-1" node_ref=heading>{t.get("prefs.allowedTitle")}</h3>
        <p class="separate-note">{t.get("prefs.allowedNote")}</p>
        <ul class="purposes allowed-services">{rows}</ul>
    })
}

/// `role="status"`, so screen readers announce it without moving focus.
fn status_line(status: &Option<Legal>) -> impl IntoView {
    status.clone().map(|text| view! { <p class="status" role="status">{legal(&text)}</p> })
}

/// A legal string in its own language (marked with `lang`), then its translation in brackets.
fn legal(l: &Legal) -> impl IntoView {
    let text = l.text.clone();
    let original = match l.lang.clone() {
        Some(lang) => view! { <span lang=lang>{text}</span> }.into_any(),
        None => text.into_any(),
    };
    view! { {original}{l.translation.clone().map(|t| format!(" ({t})"))} }
}

/// A click handler that sends one intent.
fn emit(on_intent: &OnIntent, intent: Intent) -> impl Fn(web_sys::MouseEvent) + 'static {
    let on_intent = on_intent.clone();
    move |_| on_intent(intent.clone())
}

fn purpose_row(t: &Texts, p: PurposeItem, on: RwSignal<bool>) -> impl IntoView {
    let label_id = format!("assent-p-{}", p.id);
    let desc_id = format!("assent-d-{}", p.id);
    let switch = if p.required {
        view! { <span class="always">{t.get("prefs.alwaysOn")}</span> }.into_any()
    } else {
        view! {
            <button type="button" class="switch" role="switch" data-purpose=p.id.clone()
                aria-checked=move || on.get().to_string()
                aria-labelledby=label_id.clone() aria-describedby=desc_id.clone()
                on:click=move |_| on.update(|v| *v = !*v)>
                // In braces: Leptos would otherwise build this static markup through `innerHTML`, which a
                // page that requires Trusted Types refuses (docs/csp.md).
                <span class="knob" aria-hidden={"true"}></span>
            </button>
        }
        .into_any()
    };
    let mut details = Vec::new();
    if !p.services.is_empty() {
        details.push(format!("{}: {}", t.get("prefs.services"), assent_core::joined(&p.services, ", ")));
    }
    if !p.data_categories.is_empty() {
        details.push(format!("{}: {}", t.get("prefs.dataCategories"), assent_core::joined(&p.data_categories, ", ")));
    }
    if let Some(retention) = p.retention.clone() {
        details.push(retention);
    }
    view! {
        <li class="purpose">
            <div class="purpose-head">
                <span class="purpose-name" id=label_id.clone()>{p.name.clone()}</span>
                {switch}
            </div>
            <p class="purpose-desc" id=desc_id.clone()>{p.description.clone()}</p>
            {(!details.is_empty()).then(|| view! { <p class="purpose-details">{assent_core::joined(&details, " · ")}</p> })}
        </li>
    }
}
