//! Assent's preferences module with IAB TCF v2.3: everything `assent-prefs` exports (the dialog, the
//! AI toggle, `__gpp`, the placeholders), plus TCF. The loader serves this build instead of
//! `assent-prefs` only to sites whose config has a `tcf` section, so no other site downloads any of it.
//!
//! The loader starts it (`tcfStart`) before the client: it fetches the site's copy of the Global
//! Vendor List and the strings, and reads the visitor's stored TCF choices. Once the client has
//! started, the loader hands it over (`tcfAttach`): TCF learns the visitor's region from it, and shows
//! the first layer where the visitor must be asked again (no choices yet, or the policy version, the
//! disclosed vendors or their declarations changed). From then on it follows the overlay: it adds the
//! TCF block to the first layer and to the preferences dialog, shows the vendor and purpose layers
//! from that block, and records the visitor's "Accept all", "Reject all" and "Save" there. It answers
//! `__tcfapi` (`tcfApi`). The client knows nothing of TCF: a site without it loads none of this. The
//! strings and the policy come from `assent_core::tcf`.

use std::cell::RefCell;

use assent_core::json::{string_map, Json};
use assent_core::region::Region;
use assent_core::tcf::{self, Choices, Gvl, Ids, Signals, TcfConfig};
use assent_core::Method;
use assent_ui::{keys, Texts};
use js_sys::{Function, Object, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::console;

// The preferences module's exports are this module's too.
pub use assent_prefs::*;

mod view;

/// Where the choices are kept (this site only: the strings are service-specific).
const STORAGE_KEY: &str = "assent.tcf";

/// What the module knows once started.
struct State {
    config: TcfConfig,
    /// Where the bundle is served from (the TCF strings are in `tcf/` beside it).
    base: String,
    /// In the language of the view shown last (the TC string's `ConsentLanguage`). `None` when the GVL
    /// could not be loaded: nothing is consented to, and `cmpStatus` says `error`.
    gvl: Option<Gvl>,
    /// The GVL as served (English).
    english: Option<Gvl>,
    /// Whether TCF applies to this visitor: `None` until the client has resolved the region.
    gdpr_applies: Option<bool>,
    /// The stored choices, if they answer today's disclosure.
    choices: Option<Choices>,
    /// Whether the TCF block is on screen.
    shown: bool,
    /// Whether the visitor acted on this page view.
    acted: bool,
    listeners: Vec<(u32, Function)>,
    next_listener: u32,
}

/// One language's strings and GVL texts.
struct Language {
    code: String,
    texts: std::rc::Rc<Texts>,
    /// The GVL in this language, where the site serves its translation.
    gvl: Option<Gvl>,
}

thread_local! {
    static STATE: RefCell<Option<State>> = const { RefCell::new(None) };
    static LANGUAGES: RefCell<Vec<Language>> = const { RefCell::new(Vec::new()) };
    /// The view waiting for its language's files, if any (a newer view replaces it).
    static WANTED: RefCell<Option<web_sys::ShadowRoot>> = const { RefCell::new(None) };
    /// Languages whose files are on their way.
    static LOADING: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
    /// `__tcfapi` calls made before TCF started, answered in order once it has.
    static WAITING: RefCell<Vec<(String, Function, JsValue)>> = const { RefCell::new(Vec::new()) };
    /// The `tcf` section is invalid: every call fails.
    static FAILED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

fn now_ms() -> f64 {
    js_sys::Date::now()
}

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}

/// Starts a request (several go out at once; [`text_of`] reads each).
fn fetch(url: &str) -> Option<js_sys::Promise> {
    Some(web_sys::window()?.fetch_with_str(url))
}

async fn fetch_text(url: &str) -> Result<String, String> {
    text_of(fetch(url)).await
}

async fn text_of(request: Option<js_sys::Promise>) -> Result<String, String> {
    let response: web_sys::Response = JsFuture::from(request.ok_or("no window")?)
        .await
        .map_err(|e| format!("{e:?}"))?
        .dyn_into()
        .map_err(|_| "not a response")?;
    if !response.ok() {
        return Err(format!("HTTP {}", response.status()));
    }
    let text = JsFuture::from(response.text().map_err(|e| format!("{e:?}"))?).await.map_err(|e| format!("{e:?}"))?;
    text.as_string().ok_or_else(|| "not text".into())
}

/// Starts TCF from the config's `tcf` section (as JSON text): fetches the vendor list, and the TCF
/// strings and GVL translation for `language` (the likely one) beside it, and reads the stored
/// choices. The loader calls it before it starts the client; `base` is where the bundle is served.
#[wasm_bindgen(js_name = tcfStart)]
pub async fn tcf_start(section: String, base: String, language: String) -> Result<(), JsValue> {
    let config = match Json::parse(&section).and_then(|json| TcfConfig::parse(&json, "tcf")) {
        Ok(config) => config,
        Err(e) => {
            // Nothing can be answered: the calls that waited, and every later one, fail.
            FAILED.set(true);
            for (_, callback, _) in WAITING.with_borrow_mut(std::mem::take) {
                let _ = callback.call2(&JsValue::NULL, &JsValue::NULL, &JsValue::FALSE);
            }
            return Err(e.to_string().into());
        }
    };
    let requests = requests(&config, &base, &language);
    let gvl = match fetch_text(&config.gvl).await.and_then(|text| Gvl::parse(&text).map_err(|e| e.to_string())) {
        Ok(gvl) => Some(gvl),
        Err(e) => {
            console::error_1(
                &format!(
                    "assent: could not load the Global Vendor List from {} ({e}); TCF vendors get no consent. Serve the site's copy of vendor-list.json at that URL (tcf.gvl).",
                    config.gvl
                )
                .into(),
            );
            None
        }
    };
    let stored = storage().and_then(|s| s.get_item(STORAGE_KEY).ok().flatten()).and_then(|t| Choices::from_text(&t));
    let today = tcf::day_of(now_ms());
    let choices = match &gvl {
        Some(gvl) => stored.filter(|c| c.current(&config, gvl, today)),
        None => None,
    };
    if let Some(english) = &gvl {
        let loaded = load_language(&language, requests, english, &base).await;
        LANGUAGES.with_borrow_mut(|l| l.push(loaded));
    }
    STATE.with_borrow_mut(|s| {
        *s = Some(State {
            config,
            base,
            english: gvl.clone(),
            gvl,
            gdpr_applies: None,
            choices,
            shown: false,
            acted: false,
            listeners: Vec::new(),
            next_listener: 1,
        })
    });
    answer_waiting();
    Ok(())
}

/// Answers the calls that waited, in order, as far as they can be answered now.
fn answer_waiting() {
    for (command, callback, parameter) in WAITING.with_borrow_mut(std::mem::take) {
        tcf_api(&command, callback, parameter);
    }
}

/// The requests for a language's TCF strings and GVL translation, started at once.
fn requests(config: &TcfConfig, base: &str, language: &str) -> [Option<js_sys::Promise>; 2] {
    let code = language.to_ascii_lowercase();
    let translation = config.translations.as_ref().filter(|_| !code.starts_with("en"));
    [fetch(&format!("{base}tcf/{language}.json")), translation.and_then(|t| fetch(&t.replace("{lang}", &code)))]
}

/// Reads a language's strings (English where the file is missing) and GVL texts (the GVL's own where
/// the site serves no translation).
async fn load_language(
    code: &str,
    [strings, translation]: [Option<js_sys::Promise>; 2],
    english: &Gvl,
    base: &str,
) -> Language {
    let parse = |text: String| Json::parse(&text).and_then(|v| string_map(&v, "")).map_err(|e| e.to_string());
    let mut texts = text_of(strings).await.and_then(parse);
    if texts.is_err() && code != "en" {
        texts = fetch_text(&format!("{base}tcf/en.json")).await.and_then(parse);
    }
    let texts = texts.unwrap_or_else(|e| {
        console::error_1(
            &format!("assent: the TCF strings (tcf/{code}.json beside assent.js) could not be read ({e})").into(),
        );
        Vec::new()
    });
    let gvl = match translation {
        Some(_) => match text_of(translation)
            .await
            .map_err(|e| e.to_string())
            .and_then(|t| english.translated(&t, code).map_err(|e| e.to_string()))
        {
            Ok(gvl) => Some(gvl),
            Err(e) => {
                console::warn_1(&format!("assent: no usable GVL translation for `{code}` (tcf.translations: {e}); the TCF texts are shown in English").into());
                None
            }
        },
        None => None,
    };
    Language { code: code.to_string(), texts: std::rc::Rc::new(Texts(texts)), gvl }
}

/// Hands TCF the started client (the loader calls it once, when `start` has resolved). Whether TCF
/// applies follows the region the client resolved; where the visitor must be asked (again), the first
/// layer shows. From then on the TCF block follows what the overlay shows ([`watch`]).
#[wasm_bindgen(js_name = tcfAttach)]
pub fn tcf_attach(client: JsValue) {
    // A trap in the client goes on to the loader, which ends the client (one console line).
    let method = |name: &str| {
        let f: Function = Reflect::get(&client, &name.into()).ok()?.dyn_into().ok()?;
        Some(f.call0(&client).unwrap_or_else(|e| wasm_bindgen::throw_val(e)))
    };
    if applies_to(method("region").and_then(|r| r.as_string())) {
        method("showBanner");
    }
    watch();
}

/// The visitor's region, as the client resolved it (`None`: unknown, and TCF applies, on the safe
/// side): whether TCF applies is `tcf.regions`' answer. Returns whether the visitor must be asked
/// (again): TCF applies and no stored choices answer today's vendor list and policy.
fn applies_to(region: Option<String>) -> bool {
    let ask = STATE.with_borrow_mut(|s| {
        let Some(s) = s.as_mut() else { return false };
        let applies = match region.as_deref().and_then(Region::parse) {
            Some(region) => assent_core::region::matches_any(&s.config.regions, Some(&region)),
            None => true,
        };
        s.gdpr_applies = Some(applies);
        applies && s.gvl.is_some() && s.choices.is_none()
    });
    // Vendors' calls that waited for `gdprApplies` (where it applies and the visitor must be asked,
    // they wait on for the first layer).
    answer_waiting();
    ask
}

fn put(object: &Object, key: &str, value: impl Into<JsValue>) {
    let _ = Reflect::set(object, &key.into(), &value.into());
}

/// `{"1": true, …}` for each id in `all`.
fn flags(all: &[u32], on: &Ids) -> Object {
    let o = Object::new();
    for id in all {
        put(&o, &id.to_string(), on.contains(*id));
    }
    o
}

impl State {
    /// Whether `getTCData` and `addEventListener` can be answered: once `gdprApplies` is known, and
    /// where TCF applies, once there is a string (stored choices, or the first layer on screen).
    fn answerable(&self) -> bool {
        match self.gdpr_applies {
            None => false,
            Some(false) => true,
            Some(true) => self.gvl.is_none() || self.choices.is_some() || self.shown,
        }
    }

    /// The signals in force: the visitor's choices, or, while they are asked, the disclosed vendors'
    /// legitimate interest and no consent (the CMP API's `cmpuishown` string).
    fn signals(&self) -> Option<(Signals, &Gvl)> {
        let gvl = self.gvl.as_ref()?;
        let blank;
        let choices = match &self.choices {
            Some(c) => c,
            None => {
                blank = Choices::blank(&self.config, gvl, tcf::day_of(now_ms()), None);
                &blank
            }
        };
        Some((tcf::signals(&self.config, gvl, choices), gvl))
    }

    /// `useractioncomplete` after the visitor's choice on this view, `cmpuishown` while the block is
    /// on screen, `tcloaded` otherwise.
    fn event_status(&self) -> &'static str {
        if self.acted {
            "useractioncomplete"
        } else if self.shown {
            "cmpuishown"
        } else {
            "tcloaded"
        }
    }

    fn ping(&self) -> Object {
        let o = Object::new();
        if let Some(applies) = self.gdpr_applies {
            put(&o, "gdprApplies", applies);
        }
        put(&o, "cmpLoaded", true);
        put(&o, "cmpStatus", if self.gvl.is_some() { "loaded" } else { "error" });
        let display = match self.gdpr_applies {
            Some(false) => "disabled",
            _ if self.shown => "visible",
            _ => "hidden",
        };
        put(&o, "displayStatus", display);
        put(&o, "apiVersion", "2.2");
        put(&o, "cmpVersion", self.config.cmp_version);
        put(&o, "cmpId", self.config.cmp_id);
        if let Some(gvl) = &self.gvl {
            put(&o, "gvlVersion", gvl.vendor_list_version);
            put(&o, "tcfPolicyVersion", gvl.policy_version);
        }
        o
    }

    /// The `TCData` object of the CMP API v2.2.
    fn tc_data(&self, listener: Option<u32>) -> Object {
        let o = Object::new();
        put(&o, "tcfPolicyVersion", self.gvl.as_ref().map_or(0, |g| g.policy_version));
        put(&o, "cmpId", self.config.cmp_id);
        put(&o, "cmpVersion", self.config.cmp_version);
        put(&o, "gdprApplies", self.gdpr_applies == Some(true));
        put(&o, "eventStatus", self.event_status());
        put(&o, "cmpStatus", if self.gvl.is_some() { "loaded" } else { "error" });
        if let Some(id) = listener {
            put(&o, "listenerId", id);
        }
        // Where TCF does not apply, that is all there is to say.
        if self.gdpr_applies != Some(true) {
            put(&o, "tcString", "");
            return o;
        }
        let signals = self.signals();
        put(&o, "tcString", signals.as_ref().map(|(s, _)| s.tc_string()).unwrap_or_default());
        put(&o, "isServiceSpecific", true);
        put(&o, "useNonStandardTexts", false);
        put(&o, "publisherCC", self.config.publisher_country.clone());
        put(&o, "purposeOneTreatment", false);
        let empty = Ids::default();
        let (purposes, vendors, special) = match &self.gvl {
            Some(gvl) => (
                gvl.purposes.iter().map(|p| p.id).collect::<Vec<_>>(),
                tcf::disclosed(&self.config, gvl).iter().map(|v| v.id).collect::<Vec<_>>(),
                gvl.special_features.iter().map(|f| f.id).collect::<Vec<_>>(),
            ),
            None => Default::default(),
        };
        let s = signals.as_ref().map(|(s, _)| s);
        let pick = |f: fn(&Signals) -> &Ids| s.map_or(&empty, f);
        let pair = |consents: Object, li: Object| {
            let o = Object::new();
            put(&o, "consents", consents);
            put(&o, "legitimateInterests", li);
            o
        };
        put(
            &o,
            "purpose",
            pair(flags(&purposes, pick(|s| &s.purpose_consents)), flags(&purposes, pick(|s| &s.purpose_li))),
        );
        let vendor = pair(flags(&vendors, pick(|s| &s.vendor_consents)), flags(&vendors, pick(|s| &s.vendor_li)));
        put(&vendor, "disclosedVendors", flags(&vendors, pick(|s| &s.disclosed)));
        put(&o, "vendor", vendor);
        put(&o, "specialFeatureOptins", flags(&special, pick(|s| &s.special_features)));
        let publisher =
            pair(flags(&purposes, pick(|s| &s.publisher_consents)), flags(&purposes, pick(|s| &s.publisher_li)));
        put(&publisher, "customPurpose", pair(Object::new(), Object::new()));
        // `{purposeId: {vendorId: restrictionType}}`, every restriction on a purpose in one object.
        let restrictions = Object::new();
        for r in s.map(|s| s.restrictions.as_slice()).unwrap_or_default() {
            let key = JsValue::from(r.purpose.to_string());
            let by_vendor =
                Reflect::get(&restrictions, &key).ok().and_then(|v| v.dyn_into::<Object>().ok()).unwrap_or_default();
            for v in &r.vendors {
                put(&by_vendor, &v.to_string(), r.kind as u8);
            }
            let _ = Reflect::set(&restrictions, &key, &by_vendor);
        }
        put(&publisher, "restrictions", restrictions);
        put(&o, "publisher", publisher);
        // Google's Additional Consent Mode reads this beside the TC string.
        if let Some(s) = s.filter(|_| !self.config.google_atps.is_empty()) {
            put(&o, "addtlConsent", s.ac_string());
        }
        o
    }
}

/// Calls every `addEventListener` callback with the current `TCData`.
fn notify() {
    let calls: Vec<(Function, Object)> = STATE.with_borrow(|s| {
        s.as_ref()
            .map_or_else(Vec::new, |s| s.listeners.iter().map(|(id, f)| (f.clone(), s.tc_data(Some(*id)))).collect())
    });
    for (f, data) in calls {
        let _ = f.call2(&JsValue::NULL, &data, &JsValue::TRUE);
    }
}

/// One `__tcfapi(command, version, callback, parameter)` call (the loader drops `version`). Calls
/// made before TCF started wait for it.
#[wasm_bindgen(js_name = tcfApi)]
pub fn tcf_api(command: &str, callback: Function, parameter: JsValue) {
    let answer = |value: &JsValue, ok: bool| {
        let _ = callback.call2(&JsValue::NULL, value, &JsValue::from_bool(ok));
    };
    let reply = STATE.with_borrow_mut(|s| {
        let s = s.as_mut()?;
        if matches!(command, "getTCData" | "addEventListener") && !s.answerable() {
            return None;
        }
        Some(match command {
            "ping" => (s.ping().into(), true),
            "getTCData" => (s.tc_data(None).into(), true),
            "addEventListener" => {
                let id = s.next_listener;
                s.next_listener += 1;
                s.listeners.push((id, callback.clone()));
                (s.tc_data(Some(id)).into(), true)
            }
            "removeEventListener" => {
                let id = parameter.as_f64().map(|n| n as u32);
                let before = s.listeners.len();
                s.listeners.retain(|(l, _)| Some(*l) != id);
                let removed = s.listeners.len() < before;
                (JsValue::from_bool(removed), removed)
            }
            _ => (JsValue::NULL, false),
        })
    });
    match reply {
        Some((value, ok)) => answer(&value, ok),
        None if FAILED.get() => answer(&JsValue::NULL, false),
        None => WAITING.with_borrow_mut(|w| w.push((command.into(), callback, parameter))),
    }
}

/// Keeps `choices` as the visitor's, tells listeners (`useractioncomplete`): a decision in the first
/// layer or the dialog, or the layers' "Save" (or their own "Accept all" / "Reject all").
pub(crate) fn record(choices: Choices) {
    if let Some(s) = storage() {
        let _ = s.set_item(STORAGE_KEY, &choices.to_text());
    }
    STATE.with_borrow_mut(|s| {
        if let Some(s) = s.as_mut() {
            s.choices = Some(choices);
            s.acted = true;
        }
    });
    notify();
}

/// The visitor used the overlay's button `key` ([`assent_ui::keys`]) and Assent recorded its decision:
/// the first layer's or the preferences dialog's "Accept all" or "Reject all", or the dialog's "Save"
/// of Assent's own purposes (TCF choices not made yet are then recorded as refused; made ones stay).
/// Assent's purposes, and AI training, are not TCF purposes: nothing here touches them.
fn decide(key: &str) {
    let next = STATE.with_borrow(|s| {
        let s = s.as_ref().filter(|s| s.gdpr_applies == Some(true))?;
        let gvl = s.gvl.as_ref()?;
        let today = tcf::day_of(now_ms());
        let before = s.choices.as_ref();
        match key {
            keys::ACCEPT_ALL => Some(Choices::accept_all(&s.config, gvl, today, before)),
            keys::REJECT_ALL => Some(Choices::reject_all(&s.config, gvl, today, before)),
            keys::SAVE if before.is_none() => Some(Choices::reject_all(&s.config, gvl, today, None)),
            _ => None,
        }
    });
    if let Some(choices) = next {
        record(choices);
    }
}

thread_local! {
    /// The block on screen, if any (dropping it takes it and its layers away).
    static BLOCK: RefCell<Option<Box<dyn std::any::Any>>> = const { RefCell::new(None) };
    /// Where the overlay's view wants the block (its first layer's text, or its dialog's body), as
    /// last seen; `None` while it shows neither.
    static PLACE: RefCell<Option<web_sys::Element>> = const { RefCell::new(None) };
    /// What follows the overlay, from `tcfAttach` on.
    static WATCH: RefCell<Option<Watch>> = const { RefCell::new(None) };
    /// The `data-key` of the deciding button the visitor used in this page's overlay, until Assent
    /// records its own decision from it.
    static CLICKED: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Follows the overlay (the client's `<div id="assent-ui">`, with an open shadow root). Each view it
/// shows replaces its container's children, and the block goes where the new view wants it. Until
/// the client first shows something, the page is watched for the host (added to `<body>`, or to
/// `<html>` before the body exists).
///
/// The visitor's "Accept all", "Reject all" or "Save" there decides the TCF choices too, once Assent
/// has recorded its own decision from that click (`assent:change` with the matching method): not when
/// the decision fails or the client has stopped, and not for a decision another tab made or the JS
/// API. Dropping it stops all of it.
struct Watch {
    observer: web_sys::MutationObserver,
    _callback: Closure<dyn FnMut()>,
    _changes: gloo_events::EventListener,
    /// The overlay's clicks, once it exists.
    clicks: Option<gloo_events::EventListener>,
}

impl Drop for Watch {
    fn drop(&mut self) {
        self.observer.disconnect();
    }
}

fn watch() {
    let Some(document) = web_sys::window().and_then(|w| w.document()) else { return };
    let callback = Closure::<dyn FnMut()>::new(overlay_changed);
    let Ok(observer) = web_sys::MutationObserver::new(callback.as_ref().unchecked_ref()) else { return };
    let changes = gloo_events::EventListener::new(&document, "assent:change", |ev| {
        let method = Reflect::get(ev.unchecked_ref::<web_sys::CustomEvent>().detail().as_ref(), &"method".into())
            .ok()
            .and_then(|m| m.as_string());
        let made = |key: &str| match key {
            keys::ACCEPT_ALL => Method::AcceptAll,
            keys::REJECT_ALL => Method::RejectAll,
            _ => Method::PreferencesSaved,
        };
        let key = CLICKED.with_borrow_mut(|c| c.take_if(|key| method.as_deref() == Some(made(key).as_str())));
        if let Some(key) = key {
            decide(&key);
        }
    });
    WATCH.with_borrow_mut(|w| *w = Some(Watch { observer, _callback: callback, _changes: changes, clicks: None }));
    overlay_changed();
}

/// Watches `target`'s children.
fn observe(target: &web_sys::Node) {
    let init = web_sys::MutationObserverInit::new();
    init.set_child_list(true);
    WATCH.with_borrow(|w| w.as_ref().map(|w| w.observer.observe_with_options(target, &init)));
}

/// Something changed where the overlay is (or will be): the block follows its view.
fn overlay_changed() {
    let Some(document) = web_sys::window().and_then(|w| w.document()) else { return };
    let Some(root) = document.get_element_by_id(assent_ui::HOST_ID).and_then(|host| host.shadow_root()) else {
        if let Some(html) = document.document_element() {
            observe(&html);
        }
        if let Some(body) = document.body() {
            observe(&body);
        }
        return;
    };
    if WATCH.with_borrow(|w| w.as_ref().is_some_and(|w| w.clicks.is_none())) {
        let Some(container) = root.query_selector(".root").ok().flatten() else { return };
        WATCH.with_borrow(|w| w.as_ref().map(|w| w.observer.disconnect()));
        observe(&container);
        // Which deciding button the visitor used: Assent's decision from it follows (`watch`). In the
        // capture phase: the button's own handler (the client's) decides in a microtask that runs as
        // soon as that handler returns, before the click bubbles up here.
        let options = gloo_events::EventListenerOptions::run_in_capture_phase();
        let clicks = gloo_events::EventListener::new_with_options(&root, "click", options, |ev| {
            let key = ev
                .target()
                .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
                .and_then(|el| el.closest("[data-key]").ok().flatten())
                .and_then(|el| el.get_attribute("data-key"))
                .filter(|key| [keys::ACCEPT_ALL, keys::REJECT_ALL, keys::SAVE].contains(&key.as_str()));
            if key.is_some() {
                CLICKED.with_borrow_mut(|c| *c = key);
            }
        });
        WATCH.with_borrow_mut(|w| w.as_mut().map(|w| w.clicks = Some(clicks)));
    }
    let place = place(&root);
    if PLACE.with_borrow(|p| *p == place) {
        // The same view (the block's own layers opened or closed beside it).
        return;
    }
    let shows = place.is_some();
    PLACE.with_borrow_mut(|p| *p = place);
    // A new view: a click on the old one that Assent did not record a decision from (it reports why)
    // decides nothing later. Assent's own decision came first, in the same task.
    CLICKED.with_borrow_mut(Option::take);
    follow(shows.then_some(root));
}

/// Where the overlay's view wants the block: its first layer's text or its preferences dialog's body
/// (not the body of the block's own layers).
fn place(root: &web_sys::ShadowRoot) -> Option<web_sys::Element> {
    root.query_selector(".banner-text, .backdrop:not(.tcf-dialog) .body").ok().flatten()
}

/// The overlay in `root` shows a new first layer or preferences dialog: the TCF block (what the
/// partners do, how many there are, the way to the vendor and purpose layers) goes into it, where TCF
/// applies, in the overlay's language (`lang` on its container). `None`: the overlay shows neither,
/// and the block goes.
fn follow(root: Option<web_sys::ShadowRoot>) {
    let old = BLOCK.with_borrow_mut(Option::take);
    drop(old);
    WANTED.with_borrow_mut(Option::take);
    let Some(root) = root else { return };
    let Some((config, english, base)) = STATE.with_borrow(|s| {
        let s = s.as_ref().filter(|s| s.gdpr_applies == Some(true))?;
        Some((s.config.clone(), s.english.clone()?, s.base.clone()))
    }) else {
        return;
    };
    let code = language_of(&root);
    if show_in(&root, &code) {
        return;
    }
    // Another language than the loader guessed: its files first (a moment, usually from the cache).
    // The latest view waits for them; one request per language.
    WANTED.with_borrow_mut(|w| *w = Some(root));
    if LOADING.with_borrow(|l| l.contains(&code)) {
        return;
    }
    LOADING.with_borrow_mut(|l| l.push(code.clone()));
    wasm_bindgen_futures::spawn_local(async move {
        let loaded = load_language(&code, requests(&config, &base, &code), &english, &base).await;
        LANGUAGES.with_borrow_mut(|l| l.push(loaded));
        LOADING.with_borrow_mut(|l| l.retain(|c| *c != code));
        let wanted = WANTED.with_borrow_mut(|w| w.take_if(|root| language_of(root) == code));
        if let Some(root) = wanted {
            show_in(&root, &code);
        }
    });
}

/// The overlay's language (`lang` on its container).
fn language_of(root: &web_sys::ShadowRoot) -> String {
    root.query_selector(".root").ok().flatten().and_then(|c| c.get_attribute("lang")).unwrap_or_else(|| "en".into())
}

/// Shows the block in `root` in language `code`, if its files are here; `false` if they are not.
fn show_in(root: &web_sys::ShadowRoot, code: &str) -> bool {
    let Some((texts, gvl)) = LANGUAGES.with_borrow(|l| {
        let english = STATE.with_borrow(|s| s.as_ref().and_then(|s| s.english.clone()))?;
        l.iter().find(|l| l.code == code).map(|l| (l.texts.clone(), l.gvl.clone().unwrap_or(english)))
    }) else {
        return false;
    };
    let Some(config) = STATE.with_borrow(|s| s.as_ref().map(|s| s.config.clone())) else { return true };
    let Some(parent) = place(root) else { return true };
    STATE.with_borrow_mut(|s| {
        if let Some(s) = s.as_mut() {
            s.gvl = Some(gvl.clone());
            s.shown = true;
            // Shown again (the dialog reopened): the visitor is asked anew.
            s.acted = false;
        }
    });
    if let Some(shown) = view::block(root, parent.unchecked_into(), (config, gvl), texts) {
        BLOCK.with_borrow_mut(|b| *b = Some(Box::new(shown)));
    }
    notify();
    answer_waiting();
    true
}

/// The visitor's choices as the layers edit them: the stored ones, or none.
pub(crate) fn current_choices() -> Option<Choices> {
    STATE.with_borrow(|s| s.as_ref()?.choices.clone())
}

/// The block left the screen.
pub(crate) fn hidden() {
    STATE.with_borrow_mut(|s| {
        if let Some(s) = s.as_mut() {
            s.shown = false;
        }
    });
}
