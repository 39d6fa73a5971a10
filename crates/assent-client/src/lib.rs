//! Assent's browser adapter. The loader (`web/assent.js`) calls [`start`] when the core must decide,
//! show or record something. This crate runs the core's [`Session`] and carries out its effects: the
//! cookie, tag activation (through the loader's single activation chain), the UI, the JS API and the
//! `assent:change` event.
//!
//! Bad input never leaves a half-state: a broken config leaves every optional tag blocked and logs
//! one console error naming the field; storage that throws keeps the decision for this page view.

/// Talc instead of dlmalloc: -2.5 KB brotli (docs/performance.md, "Levers"). Wasm-bindgen's threads
/// are not used, so the single-threaded allocator holds.
#[cfg(all(target_arch = "wasm32", not(target_feature = "atomics")))]
#[global_allocator]
static ALLOCATOR: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();

mod fetch;
mod gates;
mod gpp;
mod placeholders;
mod prefs;
mod receipts;
mod region;
mod toggles;
mod ui;

use std::cell::RefCell;
use std::rc::Rc;

use assent_core::hash::config_fingerprint;
use assent_core::purpose::NECESSARY;
use assent_core::region::Region;
use assent_core::scoped::{self, Kind, Scope};
use assent_core::{Config, ConfigError, Effect, Event, Record, Session, Source, Visitor};
use assent_ui::Overlay;
use js_sys::{Array, Date, Function, Object, Reflect};
use wasm_bindgen::prelude::*;
use web_sys::{console, CustomEvent, CustomEventInit, HtmlDocument, Storage};

use crate::receipts::receipt_marker;
use crate::region::{ask_geo, timezone_country};
use crate::toggles::Toggle;

fn local_storage() -> Option<Storage> {
    web_sys::window().and_then(|w| w.local_storage().ok().flatten())
}

/// The `conversation` member of an options object (`{conversation: 'c-123'}`), if any.
fn conversation_option(options: &JsValue) -> Option<String> {
    member(options, "conversation")
}

/// A string member of an options object that may be absent.
fn member(options: &JsValue, key: &str) -> Option<String> {
    if options.is_undefined() || options.is_null() {
        return None;
    }
    option_string(options, key)
}

/// Reads one string property of the loader's options; absent or null is `None`.
fn option_string(options: &JsValue, key: &str) -> Option<String> {
    Reflect::get(options, &key.into()).ok().and_then(|v| v.as_string())
}

/// Calls `object[name](...args)`: a method of a JS module the client was handed (the receipt module,
/// the preferences module).
fn call(object: &JsValue, name: &str, args: &[JsValue]) -> Result<JsValue, JsValue> {
    let f: Function = Reflect::get(object, &name.into())?.dyn_into()?;
    f.apply(object, &args.iter().collect::<Array>())
}

/// Sets `key` on a plain JS object.
fn put(object: &Object, key: &str, value: &JsValue) {
    let _ = Reflect::set(object, &key.into(), value);
}

/// The client's state, grouped by concern; each group is defined beside the code that uses it.
#[derive(Default)]
struct Inner {
    session: Option<Session>,
    overlay: Option<Overlay>,
    /// The preferences module, and what waits for it.
    prefs: prefs::Prefs,
    /// The visitor's strings.
    texts: ui::TextsState,
    /// Choices whose receipts are still to be made.
    receipts: receipts::Queue,
    /// `<assent-ai-toggle>` elements on the page, with their rendered views.
    toggles: Vec<Toggle>,
    /// Blocked embeds showing a placeholder.
    placeholders: placeholders::Shown,
    /// Traces removed on this page view, removed again at `pagehide`.
    cleanup: gates::Cleanup,
    /// What was reported once already.
    warned: gates::Warned,
}

/// The running client behind `window.assent` once the wasm is loaded.
#[wasm_bindgen]
pub struct Client {
    inner: Rc<RefCell<Inner>>,
    shared: Rc<Shared>,
}

/// Things that never change after start.
struct Shared {
    base: String,
    run: Function,
    pending: Function,
    receipts: Option<Function>,
    /// The loader's loader of the preferences module: resolves to its exports, initialised.
    prefs: Option<Function>,
    /// The loader's `gtag` (pushes onto `window.dataLayer`), for Google Consent Mode.
    gtag: Option<Function>,
    /// The loader's `fetch`, which hands over a request it started before the wasm (the likely locale
    /// file, the timezone table) instead of asking again.
    fetch: Option<Function>,
    /// The loader's Trusted Types wrapper for markup Assent writes (the `assent` policy; docs/csp.md).
    html: Option<Function>,
    cookie_suffix: String,
    cookie_name: String,
}

/// Starts the client: parses and validates the config, starts the core session and carries out its
/// first effects. `options` is `{configText, configError, region, timezone, gpc, gtag, stored, base,
/// run, pending, receipts, prefs, fetch}`.
#[wasm_bindgen]
pub async fn start(options: JsValue) -> Result<Client, JsValue> {
    let run: Function = Reflect::get(&options, &"run".into())?.dyn_into()?;
    let pending: Function = Reflect::get(&options, &"pending".into())?.dyn_into()?;
    let fetch: Option<Function> = Reflect::get(&options, &"fetch".into()).ok().and_then(|f| f.dyn_into().ok());
    let config_text = option_string(&options, "configText");
    let parsed = match (&config_text, option_string(&options, "configError")) {
        (Some(text), _) => Config::parse(text).map(|c| (c, config_fingerprint(text))),
        (None, Some(err)) => Err(ConfigError::Unavailable(err)),
        (None, None) => Err(ConfigError::Unavailable("no config given".into())),
    };
    let (session, effects, cookie_name, domain) = match parsed {
        Ok((config, fingerprint)) => {
            let name = config.cookie.name.clone();
            let domain = config.cookie.domain.clone();
            let region = option_string(&options, "region");
            // The geo endpoint is asked only when the page's region names no place (none, `XX`, a typo).
            let placed = |code: &Option<String>| code.as_deref().and_then(Region::parse).is_some();
            let geo = match (placed(&region), &config.regions.geo_endpoint) {
                (false, Some(url)) => ask_geo(url).await,
                _ => None,
            };
            let timezone = option_string(&options, "timezone");
            // The timezone's country only when nothing better is known: the table is a separate file.
            let timezone_country = match (placed(&region) || placed(&geo), &timezone) {
                (false, Some(zone)) => {
                    let base = option_string(&options, "base").unwrap_or_default();
                    timezone_country(fetch.as_ref(), &base, zone).await
                }
                _ => None,
            };
            let visitor = Visitor {
                region,
                geo,
                timezone,
                timezone_country,
                gpc: Reflect::get(&options, &"gpc".into()).ok().and_then(|v| v.as_bool()) == Some(true),
            };
            let stored = option_string(&options, "stored");
            let (session, effects) =
                Session::start(config, fingerprint, &visitor, stored.as_deref(), now(), random_bytes);
            (Some(session), effects, name, domain)
        }
        Err(err) => {
            console::error_1(&format!("assent: {err}. Optional tags stay blocked until this is fixed.").into());
            (None, vec![Effect::ApplyGates], "assent".to_string(), None)
        }
    };
    let secure = web_sys::window().and_then(|w| w.location().protocol().ok()).is_some_and(|p| p == "https:");
    let cookie_suffix = format!(
        "; Path=/; SameSite=Lax{}{}",
        if secure { "; Secure" } else { "" },
        domain.map(|d| format!("; Domain={d}")).unwrap_or_default()
    );
    let client = Client {
        inner: Rc::new(RefCell::new(Inner { session, ..Inner::default() })),
        shared: Rc::new(Shared {
            base: option_string(&options, "base").unwrap_or_default(),
            run,
            pending,
            receipts: Reflect::get(&options, &"receipts".into()).ok().and_then(|f| f.dyn_into().ok()),
            prefs: Reflect::get(&options, &"prefs".into()).ok().and_then(|f| f.dyn_into().ok()),
            gtag: Reflect::get(&options, &"gtag".into()).ok().and_then(|f| f.dyn_into().ok()),
            html: Reflect::get(&options, &"html".into()).ok().and_then(|f| f.dyn_into().ok()),
            fetch,
            cookie_suffix,
            cookie_name,
        }),
    };
    let storage = local_storage();
    let read = |key: &str| storage.as_ref().and_then(|s| s.get_item(key).ok().flatten());
    client.restore_scoped();
    // Decisions an earlier page view made whose receipts it could not make (it went away first): first,
    // in the order they were made, so that each links to the one before.
    client.queue_pending();
    client.carry_out(effects);
    // Stored choices whose receipts were never made: make them now (`scoped::unmade`); receipts
    // already made are skipped by assent-receipts.js (by id).
    let (decision, scoped) = {
        let inner = client.inner.borrow();
        let session = inner.session.as_ref();
        let unmade = |kind: Kind| -> Vec<assent_core::ScopedChoice> {
            let Some(s) = session else { return Vec::new() };
            scoped::unmade(s.scoped(), kind, &read(receipt_marker(kind)).unwrap_or_default())
        };
        (session.and_then(|s| s.decision()).cloned(), [unmade(Kind::Conversation), unmade(Kind::Service)])
    };
    // The stored choices' own receipts, for what the pending list does not hold (stored by a version
    // without it, or while storage refused it).
    if storage.is_some() {
        let decision = decision.filter(|d| !client.queued(&d.receipt));
        if let Some(d) = decision.filter(|d| read("assent.receipt").as_deref() != Some(d.receipt.as_str())) {
            client.queue_receipt(Record::Site(d));
        }
        for c in scoped.into_iter().flatten().filter(|c| !client.queued(&c.receipt)) {
            client.queue_receipt(Record::Scoped(c));
        }
    }
    Ok(client)
}

fn now() -> u64 {
    (Date::now() / 1000.0) as u64
}

fn random_bytes() -> [u8; 16] {
    let mut bytes = [0u8; 16];
    if let Some(crypto) = web_sys::window().and_then(|w| w.crypto().ok()) {
        let _ = crypto.get_random_values_with_u8_array(&mut bytes);
    }
    bytes
}

fn document() -> web_sys::Document {
    web_sys::window().and_then(|w| w.document()).expect("a document")
}

#[wasm_bindgen]
impl Client {
    /// The current decision, or `null` before the visitor has made one.
    pub fn consent(&self) -> JsValue {
        self.sync_stored();
        let inner = self.inner.borrow();
        let Some(d) = inner.session.as_ref().and_then(|s| s.decision()) else { return JsValue::NULL };
        // The same shape the loader builds from the stored form (`view` in assent.js).
        let iso = |t: u64| Date::new(&JsValue::from_f64(t as f64 * 1000.0)).to_iso_string().into();
        let purposes = Object::new();
        for p in &d.granted {
            put(&purposes, p, &JsValue::TRUE);
        }
        for p in &d.denied {
            put(&purposes, p, &JsValue::FALSE);
        }
        let view = Object::new();
        put(&view, "subject", &d.subject.as_str().into());
        put(&view, "noticeVersion", &d.notice_version.as_str().into());
        put(&view, "decidedAt", &iso(d.decided_at));
        put(&view, "expiresAt", &iso(d.expires_at));
        put(&view, "method", &d.method.as_str().into());
        put(&view, "region", &d.region.as_deref().map_or(JsValue::NULL, JsValue::from));
        put(&view, "flow", &d.flow.as_str().into());
        put(&view, "receipt", &d.receipt.as_str().into());
        put(&view, "purposes", &purposes);
        view.into()
    }

    /// Whether `purpose` is allowed now; with `{conversation}`, in that conversation (its own
    /// `ai_training` choice wins over the site-wide one); with `{service}`, for that service (allowed
    /// always by the visitor, or through its purpose).
    pub fn allowed(&self, purpose: &str, options: JsValue) -> bool {
        self.sync_stored();
        self.restore_scoped();
        match &self.inner.borrow().session {
            Some(s) => match member(&options, "service") {
                Some(service) => s.allowed_for_service(purpose, &service, now()),
                None => s.allowed_in(purpose, conversation_option(&options).as_deref(), now()),
            },
            None => purpose == NECESSARY,
        }
    }

    /// Sets some purposes: `set({analytics: true, marketing: false})`.
    pub fn set(&self, choices: JsValue) {
        let entries: Option<Vec<(String, bool)>> = choices.dyn_ref::<Object>().and_then(|o| {
            Object::entries(o)
                .iter()
                .map(|pair| {
                    let pair = Array::from(&pair);
                    Some((pair.get(0).as_string()?, pair.get(1).as_bool()?))
                })
                .collect()
        });
        match entries {
            Some(map) => self.dispatch(Event::Save(map, Source::Api)),
            None => console::error_1(
                &"assent.set() takes an object of purpose ids and booleans, e.g. {analytics: true}".into(),
            ),
        }
    }

    /// Allows every optional purpose except `ai_training`.
    #[wasm_bindgen(js_name = acceptAll)]
    pub fn accept_all(&self) {
        self.dispatch(Event::AcceptAll(Source::Api));
    }

    /// Refuses every optional purpose.
    #[wasm_bindgen(js_name = rejectAll)]
    pub fn reject_all(&self) {
        self.dispatch(Event::RejectAll(Source::Api));
    }

    /// Withdraws one purpose, or every optional purpose when called without one.
    pub fn withdraw(&self, purpose: Option<String>) {
        self.dispatch(Event::Withdraw(purpose));
    }

    /// The visitor's region as resolved (`US-CA`, `DE`), or `undefined` when it is unknown. The TCF
    /// build of the preferences module asks, to know whether TCF applies.
    pub fn region(&self) -> JsValue {
        self.inner.borrow().session.as_ref().and_then(Session::region).map_or(JsValue::UNDEFINED, |r| r.as_str().into())
    }

    /// Shows the first layer.
    #[wasm_bindgen(js_name = showBanner)]
    pub fn show_banner(&self) {
        self.dispatch(Event::OpenBanner);
    }

    /// Shows the preferences dialog.
    #[wasm_bindgen(js_name = showPreferences)]
    pub fn show_preferences(&self) {
        self.dispatch(Event::OpenPreferences);
    }

    /// The consent facts `assent.stamp` adds to outgoing data: `{receipt, purposes, do_not_train}`,
    /// plus `scope` with `{conversation}`. The receipt is the one that decides `ai_training` there.
    #[wasm_bindgen(js_name = stampFacts)]
    pub fn stamp_facts(&self, options: JsValue) -> JsValue {
        self.sync_stored();
        self.restore_scoped();
        let inner = self.inner.borrow();
        let conversation = conversation_option(&options);
        let conv = conversation.as_deref();
        let facts = Object::new();
        let t = now();
        let (receipt, granted, do_not_train) = match &inner.session {
            Some(s) => {
                let own = conv.and_then(|c| s.conversation_choice(c, t));
                let receipt = own.map(|c| c.receipt.as_str()).or(s.decision().map(|d| d.receipt.as_str()));
                let granted = s
                    .config()
                    .purposes
                    .iter()
                    .filter(|p| s.allowed_in(&p.id, conv, t))
                    .map(|p| JsValue::from(p.id.as_str()));
                let shown = conv.is_some_and(|c| {
                    inner
                        .toggles
                        .iter()
                        .any(|tg| tg.conversation == c && tg.view.is_some() && tg.element.is_connected())
                });
                (
                    receipt.map_or(JsValue::NULL, JsValue::from),
                    granted.collect::<Array>(),
                    s.do_not_train(conv, shown, t),
                )
            }
            None => (JsValue::NULL, Array::new(), true),
        };
        put(&facts, "receipt", &receipt);
        put(&facts, "purposes", &granted);
        put(&facts, "do_not_train", &JsValue::from_bool(do_not_train));
        if let Some(c) = conv {
            put(&facts, "scope", &assent_core::scoped::conversation_scope(c).into());
        }
        facts.into()
    }

    /// Gates elements added to the page since the last scan.
    pub fn rescan(&self) {
        self.apply_gates();
    }
}

impl Client {
    fn handle(&self) -> Client {
        Client { inner: self.inner.clone(), shared: self.shared.clone() }
    }

    /// Reads the scoped choices this browser stored: other tabs may have added or ended some since.
    fn restore_scoped(&self) {
        let Some(storage) = local_storage() else { return };
        let Ok(mut inner) = self.inner.try_borrow_mut() else { return };
        let Some(session) = inner.session.as_mut() else { return };
        for kind in [Kind::Conversation, Kind::Service] {
            if let Ok(Some(stored)) = storage.get_item(kind.storage_key()) {
                session.restore_scoped(kind, &stored);
            }
        }
    }

    /// Takes in the decision another tab stored since this page read the cookie (see
    /// `Session::adopt_stored`).
    fn sync_stored(&self) {
        let cookies = document().unchecked_into::<HtmlDocument>().cookie().unwrap_or_default();
        let name = format!("{}=", self.shared.cookie_name);
        let Some(value) = cookies.split("; ").find_map(|c| c.strip_prefix(name.as_str())) else { return };
        // Called from the API, which page code may call while this client is busy: skip then.
        let Ok(mut inner) = self.inner.try_borrow_mut() else { return };
        let Some(session) = inner.session.as_mut() else { return };
        let effects = session.adopt_stored(value, now());
        drop(inner);
        self.carry_out(effects);
    }

    fn dispatch(&self, event: Event) {
        // A refusal must end what another tab granted meanwhile, and the dialog must list it.
        self.sync_stored();
        self.restore_scoped();
        let result = {
            let mut inner = self.inner.borrow_mut();
            let Some(session) = inner.session.as_mut() else {
                console::error_1(
                    &"assent: cannot record a choice while the config is broken (see the error above)".into(),
                );
                return;
            };
            session.handle(event, now(), random_bytes)
        };
        match result {
            Ok(effects) => self.carry_out(effects),
            Err(err) => console::error_1(&format!("assent: {err}").into()),
        }
    }

    /// Carries out effects in order. No borrow is held while page code may run (events, tags).
    fn carry_out(&self, effects: Vec<Effect>) {
        for effect in effects {
            match effect {
                Effect::Store { value, max_age } => self.store(&value, max_age),
                Effect::Render(ui) => self.render(ui),
                Effect::ApplyGates => self.apply_gates(),
                Effect::Changed => {
                    let init = CustomEventInit::new();
                    init.set_detail(&self.consent());
                    if let Ok(ev) = CustomEvent::new_with_event_init_dict("assent:change", &init) {
                        let _ = document().dispatch_event(&ev);
                    }
                    // Toggles without a choice of their own show the site-wide state.
                    self.render_toggles();
                    self.gpp_changed();
                }
                Effect::Warn(message) => console::warn_1(&format!("assent: {message}").into()),
                Effect::Receipt(record) => self.record_decision(record),
                Effect::StoreScoped(choice) => {
                    // Merge into what is stored now (other tabs), and pick their choices up too.
                    let kind = choice.scope.kind();
                    let storage = local_storage();
                    let now_stored = storage
                        .as_ref()
                        .and_then(|s| s.get_item(kind.storage_key()).ok().flatten())
                        .unwrap_or_default();
                    let merged = assent_core::scoped::merge(&now_stored, &choice);
                    if storage.and_then(|s| s.set_item(kind.storage_key(), &merged).ok()).is_none() {
                        console::warn_1(
                            &"assent: storage is blocked, so this choice holds for this page view only".into(),
                        );
                    } else if let Some(session) = self.inner.borrow_mut().session.as_mut() {
                        session.restore_scoped(kind, &merged);
                    }
                }
                Effect::ScopedChanged(Scope::Conversation(conversation)) => self.conversation_changed(&conversation),
                Effect::ScopedChanged(Scope::Service(service)) => self.service_changed(&service),
                Effect::ConsentMode(commands) => self.consent_mode(&commands),
                Effect::Cleanup { services, reload } => self.clean_up(&services, reload),
            }
        }
    }
}
