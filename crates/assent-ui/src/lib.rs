//! Assent's UI as the first layer needs it, with no framework: the props and intents every view
//! shares, the shadow-root host ([`Overlay`]) with its focus handling, the first-layer banner and the
//! opt-out entry point built with plain DOM ([`first_layer`]). The preferences dialog and the AI toggle
//! are Leptos views in `assent-prefs`, a module of their own that the client fetches when they are
//! first needed, with the `__gpp` handler and the embed placeholders; [`wire`] carries props, intents
//! and state between the two modules.
//!
//! The UI takes props in ([`Props`]) and sends intents out ([`Intent`]). It never reads or writes
//! storage and holds no policy: what is on by default, what "Accept all" means and whether closing
//! counts as anything are the core's business.

use std::rc::Rc;

use wasm_bindgen::JsCast;
use web_sys::{HtmlElement, ShadowRoot};

mod first_layer;
mod overlay;
mod styles;
pub mod wire;
pub use first_layer::first_layer;

/// The `data-key` of the buttons that decide, in the first layer and in the preferences dialog. The
/// TCF build of the preferences module follows them: the visitor's "Accept all", "Reject all" or
/// "Save" there decides the TCF choices too.
pub mod keys {
    /// "Accept all".
    pub const ACCEPT_ALL: &str = "accept";
    /// "Reject all".
    pub const REJECT_ALL: &str = "reject";
    /// "Save" (the preferences dialog only).
    pub const SAVE: &str = "save";
}
pub use overlay::{trap_tab, Mount, Overlay, HOST_ID};
pub use styles::{add_styles, adopt};

/// The first layer's stylesheet, injected into the shadow root (`src/assent.css`, minified by the
/// build script). Theming goes through `--assent-*` custom properties, which inherit through the
/// shadow boundary.
pub const STYLES: &str = include_str!(concat!(env!("OUT_DIR"), "/assent.css"));

/// The preferences dialog's stylesheet (`src/dialog.css`), added to the same shadow root by the
/// preferences module: only that module embeds it.
pub const DIALOG_STYLES: &str = include_str!(concat!(env!("OUT_DIR"), "/dialog.css"));

/// The AI toggle's stylesheet (`src/toggle.css`), in each toggle's own shadow root. Theming uses the
/// same `--assent-*` custom properties as the banner.
pub const TOGGLE_STYLES: &str = include_str!(concat!(env!("OUT_DIR"), "/toggle.css"));

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
#[derive(Debug, Clone, Default, PartialEq, Eq)]
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
#[derive(Debug, Clone, PartialEq, Eq)]
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

/// What the toggle shows. Strings come resolved (locale file, config overrides, `{controller}`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToggleProps {
    /// The visible label: names the system and the data ("Use this conversation to improve our support assistant").
    pub label: String,
    /// What turning it on means, or (under legitimate interest) how to object.
    pub description: String,
    /// Text of the link to the notice.
    pub learn_more: String,
    /// The notice URL, if configured.
    pub notice_url: Option<String>,
    /// BCP 47 language of the strings.
    pub lang: String,
    /// Written right to left.
    pub rtl: bool,
    /// Light, dark, or the visitor's system setting.
    pub scheme: Scheme,
}

/// What the placeholder says, already localised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlaceholderProps {
    /// Language of the strings (`lang` attribute).
    pub lang: String,
    /// Written right to left (`dir="rtl"`).
    pub rtl: bool,
    /// "This content is hosted by YouTube, which may set cookies."
    pub message: String,
    /// The frame document's title ("Blocked content from YouTube").
    pub title: String,
    /// "Load it": loads this embed only, on this page view.
    pub load: String,
    /// "Always allow YouTube": allows the service from now on; empty when the embed belongs to no
    /// known service (then there is no such button).
    pub always: String,
    /// What is not undone by loading (shown small), or empty.
    pub note: String,
}

/// Called with the new state when the visitor flips the AI toggle.
pub type OnToggle = Rc<dyn Fn(bool)>;

/// Focuses the element marked `data-autofocus` in `root`, so keyboard and screen-reader users land in the dialog.
pub(crate) fn focus_first(root: &ShadowRoot) {
    if let Ok(Some(el)) = root.query_selector("[data-autofocus]") {
        if let Ok(el) = el.dyn_into::<HtmlElement>() {
            let _ = el.focus();
        }
    }
}
