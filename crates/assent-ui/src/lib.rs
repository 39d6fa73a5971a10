//! Assent's UI: the first-layer banner, the preferences dialog and the per-conversation AI-training
//! toggle, rendered with Leptos into open shadow roots so host CSS cannot break them and they cannot
//! break the host; and the placeholder of a blocked embed, rendered into the embed's own frame.
//!
//! The UI takes props in ([`Props`]) and sends intents out ([`Intent`]). It never reads or writes
//! storage and holds no policy: what is on by default, what "Accept all" means and whether closing
//! counts as anything are the core's business.

use std::rc::Rc;

use leptos::mount::mount_to;
use leptos::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{HtmlElement, KeyboardEvent, ShadowRoot};

mod overlay;
mod placeholder;
mod toggle;
pub use overlay::Overlay;
pub use placeholder::{placeholder_document, PlaceholderProps, ALWAYS_BUTTON_ID, LOAD_BUTTON_ID};
pub use toggle::{MountedToggle, OnToggle, ToggleProps, TOGGLE_STYLES};

/// The stylesheet injected into the shadow root. Theming goes through `--assent-*` custom properties,
/// which inherit through the shadow boundary.
pub const STYLES: &str = include_str!("assent.css");

/// Which first layer to show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layer {
    /// Accept all / Reject all / Preferences with equal prominence.
    OptIn,
    /// A notice with "Your privacy choices" and an acknowledgment.
    OptOut,
    /// Information with a link to preferences and an acknowledgment.
    Notice,
}

/// What the visitor asked for. The adapter turns these into core events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Intent {
    /// "Accept all".
    AcceptAll,
    /// "Reject all".
    RejectAll,
    /// "Save choices" with every toggleable purpose's switch state.
    Save(Vec<(String, bool)>),
    /// "OK" on an opt-out or notice banner.
    Acknowledge,
    /// Open the preferences dialog.
    OpenPreferences,
    /// Close without deciding (Escape or the close button).
    Close,
    /// Stop allowing one service always (its name): back to its purpose's answer.
    StopService(String),
}

/// Resolved strings for one language (locale file plus config overrides; a later entry wins).
#[derive(Debug, Clone, Default)]
pub struct Texts(pub Vec<(String, String)>);

impl Texts {
    /// The string for `key`; the key itself if missing, so a gap is visible rather than blank.
    pub fn get(&self, key: &str) -> String {
        self.0.iter().rev().find(|(k, _)| k == key).map_or_else(|| key.to_string(), |(_, v)| v.clone())
    }

    /// [`Texts::get`] with placeholders filled.
    pub fn fill(&self, key: &str, values: &[(&str, &str)]) -> String {
        let mut s = self.get(key);
        for (name, value) in values {
            s = s.replace(&format!("{{{name}}}"), value);
        }
        s
    }
}

/// One purpose as the preferences dialog shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PurposeItem {
    /// Purpose id (`analytics`).
    pub id: String,
    /// Display name.
    pub name: String,
    /// Display description.
    pub description: String,
    /// Always on; shown without a working switch.
    pub required: bool,
    /// Asked on its own: never part of "Accept all" (AI training).
    pub separate: bool,
    /// Service names.
    pub services: Vec<String>,
    /// Data categories.
    pub data_categories: Vec<String>,
    /// How long its cookies are kept, already worded for the language ("Cookies kept up to 30
    /// days"), if known.
    pub retention: Option<String>,
    /// Switch state when the dialog opens.
    pub on: bool,
}

/// Everything the UI shows.
#[derive(Debug, Clone)]
pub struct Props {
    /// First-layer variant.
    pub layer: Layer,
    /// Strings in the visitor's language.
    pub texts: Rc<Texts>,
    /// BCP 47 language tag of `texts`.
    pub lang: String,
    /// Who asks (the controller).
    pub controller: String,
    /// Link to the full notice.
    pub notice_url: Option<String>,
    /// Purposes in display order.
    pub purposes: Vec<PurposeItem>,
    /// A status line announced to assistive technology and shown on the banner and in the dialog,
    /// e.g. "Opt-Out Request Honored" when Global Privacy Control was applied.
    pub status: Option<Legal>,
    /// The label of the persistent entry point back to the choices (opt-out regions), if any.
    pub entry_label: Option<Legal>,
    /// Written right to left (`dir="rtl"`: Arabic, Hebrew, Persian).
    pub rtl: bool,
    /// Light, dark, or the visitor's system setting.
    pub scheme: Scheme,
    /// Where the first layer sits.
    pub position: Position,
    /// Services the visitor allows always ("Always allow" on an embed's placeholder), listed in the
    /// preferences so that ending one is as easy as giving it.
    pub allowed_services: Vec<AllowedService>,
}

/// A string that may have to be shown in the language it has legal force in ("Do Not Sell or Share
/// My Personal Information" in California), with a translation next to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Legal {
    /// The text as shown first.
    pub text: String,
    /// The language of `text` when it differs from the UI's (`en`), for its `lang` attribute.
    pub lang: Option<String>,
    /// The translation in the UI's language, shown after it.
    pub translation: Option<String>,
}

impl Legal {
    /// A string in the UI's own language.
    pub fn plain(text: String) -> Legal {
        Legal { text, lang: None, translation: None }
    }
}

/// Light or dark colours.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Scheme {
    /// The visitor's system setting (`prefers-color-scheme`).
    #[default]
    Auto,
    /// Always light.
    Light,
    /// Always dark.
    Dark,
}

impl Scheme {
    /// The value of the container's `data-scheme`.
    pub fn as_str(self) -> &'static str {
        match self {
            Scheme::Auto => "auto",
            Scheme::Light => "light",
            Scheme::Dark => "dark",
        }
    }
}

/// Where the first layer sits. The preferences dialog is always a centred modal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Position {
    /// Across the bottom of the viewport, over the page (non-modal).
    #[default]
    Bar,
    /// A box in the bottom corner at the end of the reading direction (non-modal).
    Box,
    /// Centred over a dimmed page, modal: the page waits for an answer.
    Modal,
}

impl Position {
    /// The value of the container's `data-position`.
    pub fn as_str(self) -> &'static str {
        match self {
            Position::Bar => "bar",
            Position::Box => "box",
            Position::Modal => "modal",
        }
    }
}

/// A service the visitor allows always, as the preferences dialog lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowedService {
    /// The service's name (`YouTube`).
    pub name: String,
    /// The display name of the purpose it would otherwise wait for.
    pub purpose: String,
}

/// The intent sink the adapter provides.
pub type OnIntent = Rc<dyn Fn(Intent)>;

/// Which view to mount.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    /// The first layer.
    Banner,
    /// The preferences dialog.
    Preferences,
    /// The small persistent "Your Privacy Choices" button (opt-out regions), shown when nothing else is.
    EntryPoint,
}

/// Mounts one view under `parent` (inside the shadow root) and returns the handle that unmounts it on drop.
pub(crate) fn mount_view(parent: HtmlElement, view: View, props: Props, on_intent: OnIntent) -> Box<dyn std::any::Any> {
    match view {
        View::Banner => Box::new(mount_to(parent, move || view! { <Banner props=props on_intent=on_intent/> })),
        View::Preferences => {
            Box::new(mount_to(parent, move || view! { <Preferences props=props on_intent=on_intent/> }))
        }
        View::EntryPoint => Box::new(mount_to(parent, move || view! { <EntryPoint props=props on_intent=on_intent/> })),
    }
}

/// The first layer: a non-modal dialog fixed to the bottom of the viewport, overlaying the page
/// (it never pushes content). All its buttons share one style: refusing is as easy as accepting.
#[component]
fn Banner(
    /// What to show.
    props: Props,
    /// Where the visitor's choice goes.
    on_intent: OnIntent,
) -> impl IntoView {
    let t = props.texts.clone();
    let send = |intent: Intent| emit(&on_intent, intent);
    let body_key = match props.layer {
        Layer::OptIn => "banner.body",
        Layer::OptOut => "banner.optOutBody",
        Layer::Notice => "banner.noticeBody",
    };
    let buttons = match props.layer {
        Layer::OptIn => view! {
            <button type="button" class="btn" data-key="accept" on:click=send(Intent::AcceptAll)>{t.get("banner.acceptAll")}</button>
            <button type="button" class="btn" data-key="reject" on:click=send(Intent::RejectAll)>{t.get("banner.rejectAll")}</button>
            <button type="button" class="btn" data-key="prefs" on:click=send(Intent::OpenPreferences)>{t.get("banner.preferences")}</button>
        }
        .into_any(),
        Layer::OptOut => view! {
            <button type="button" class="btn" data-key="prefs" on:click=send(Intent::OpenPreferences)>{t.get("banner.privacyChoices")}</button>
            <button type="button" class="btn" data-key="ok" on:click=send(Intent::Acknowledge)>{t.get("banner.ok")}</button>
        }
        .into_any(),
        Layer::Notice => view! {
            <button type="button" class="btn" data-key="prefs" on:click=send(Intent::OpenPreferences)>{t.get("banner.preferences")}</button>
            <button type="button" class="btn" data-key="ok" on:click=send(Intent::Acknowledge)>{t.get("banner.ok")}</button>
        }
        .into_any(),
    };
    let close = on_intent.clone();
    let modal = props.position == Position::Modal;
    let on_key = move |ev: KeyboardEvent| match ev.key().as_str() {
        // A modal first layer must be answered: Escape does not dismiss it.
        "Escape" if !modal => {
            ev.stop_propagation();
            close(Intent::Close);
        }
        // It keeps focus inside until then.
        "Tab" if modal => overlay::trap_tab(&ev),
        _ => {}
    };
    view! {
        {modal.then(|| view! { <div class="modal-backdrop"></div> })}
        <section class="banner" role="dialog" aria-modal=modal.to_string() aria-labelledby="assent-banner-title"
            aria-describedby="assent-banner-body" tabindex="-1" data-autofocus="" on:keydown=on_key>
            <div class="banner-text">
                <h2 id="assent-banner-title">{t.get("banner.title")}</h2>
                <p id="assent-banner-body">
                    {t.fill(body_key, &[("controller", &props.controller)])}
                    {props.notice_url.clone().map(|url| view! { " " <a href=url>{t.get("banner.noticeLink")}</a> })}
                </p>
                {status_line(&props.status)}
            </div>
            <div class="actions">{buttons}</div>
        </section>
    }
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
        "Tab" => overlay::trap_tab(&ev),
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
                    <button type="button" class="btn" on:click=send(Intent::RejectAll)>{t.get("prefs.rejectAll")}</button>
                    <button type="button" class="btn" on:click=send(Intent::AcceptAll)>{t.get("prefs.acceptAll")}</button>
                    <button type="button" class="btn" on:click=save>{t.get("prefs.save")}</button>
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

/// The persistent way back to the choices in opt-out regions ("Your Privacy Choices"). It never takes
/// focus on its own and sits in a corner, clear of the page's content.
#[component]
fn EntryPoint(
    /// What to show (only `entry_label` is used).
    props: Props,
    /// Where the visitor's click goes.
    on_intent: OnIntent,
) -> impl IntoView {
    let label = props.entry_label.clone().unwrap_or_else(|| Legal::plain(String::new()));
    view! {
        <button type="button" class="entry" data-key="entry" on:click=emit(&on_intent, Intent::OpenPreferences)>
            <span class="entry-icon" aria-hidden="true"></span><span>{legal(&label)}</span>
        </button>
    }
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
                <span class="knob" aria-hidden="true"></span>
            </button>
        }
        .into_any()
    };
    let mut details = Vec::new();
    if !p.services.is_empty() {
        details.push(format!("{}: {}", t.get("prefs.services"), p.services.join(", ")));
    }
    if !p.data_categories.is_empty() {
        details.push(format!("{}: {}", t.get("prefs.dataCategories"), p.data_categories.join(", ")));
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
            {(!details.is_empty()).then(|| view! { <p class="purpose-details">{details.join(" · ")}</p> })}
        </li>
    }
}

/// Focuses the element marked `data-autofocus` in `root`, so keyboard and screen-reader users land in the dialog.
pub(crate) fn focus_first(root: &ShadowRoot) {
    if let Ok(Some(el)) = root.query_selector("[data-autofocus]") {
        if let Ok(el) = el.dyn_into::<HtmlElement>() {
            let _ = el.focus();
        }
    }
}
