//! Assent's browser adapter. The loader (`web/assent.js`) calls [`start`] when the core must decide,
//! show or record something. This crate runs the core's [`Session`] and carries out its effects: the
//! cookie, tag activation (through the loader's single activation chain), the UI, the JS API and the
//! `assent:change` event.
//!
//! Bad input never leaves a half-state: a broken config leaves every optional tag blocked and logs
//! one console error naming the field; storage that throws keeps the decision for this page view.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;

use assent_core::config::TextOverride;
use assent_core::hash::config_fingerprint;
use assent_core::json::{string_map, Json};
use assent_core::receipt::{notice_text, service_text, toggle_keys, toggle_text, Claims};
use assent_core::scoped::{self, Kind, Scope};
use assent_core::region::Region;
use assent_core::purpose::{AI_TRAINING, NECESSARY};
use assent_core::{locale, Config, ConfigError, Effect, Event, Flow, Record, Session, Source, Ui, Visitor};
use assent_ui::{AllowedService, Intent, Layer, Legal, MountedToggle, Overlay, Props, PurposeItem, Texts, ToggleProps, View};
use js_sys::{Array, Date, Function, Object, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::{spawn_local, JsFuture};
use web_sys::{console, CustomEvent, CustomEventInit, Element, HtmlDocument, Storage};

/// The id of the latest scoped receipt of a kind made in this browser (set by assent-receipts.js).
fn receipt_marker(kind: Kind) -> &'static str {
    match kind {
        Kind::Conversation => "assent.receipt.conversation",
        Kind::Service => "assent.receipt.service",
    }
}

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

/// Sets `key` on a plain JS object.
fn put(object: &Object, key: &str, value: &JsValue) {
    let _ = Reflect::set(object, &key.into(), value);
}

struct Inner {
    session: Option<Session>,
    overlay: Option<Overlay>,
    texts: Option<(String, Rc<Texts>)>,
    /// Resolves once `texts` is loaded; shared by the UI and the receipt worker (one download).
    texts_loading: Option<js_sys::Promise>,
    /// No locale file could be loaded: the texts are key names, which no receipt may hash as the notice.
    texts_missing: bool,
    /// Choices whose receipts are still to be made, in order (each links to the one before).
    receipt_queue: VecDeque<Record>,
    /// `<assent-ai-toggle>` elements on the page, with their rendered views.
    toggles: Vec<Toggle>,
    /// `__gpp('addEventListener')` callbacks, by listener id.
    gpp_listeners: Vec<(u32, Function)>,
    receipt_worker: bool,
    reported: Vec<String>,
    storage_warned: bool,
    /// Services whose traces were removed on this page view, removed again at `pagehide` (their
    /// scripts, which cannot be unloaded, may have written them again); `None` until the first.
    clean_again: Option<Vec<String>>,
}

/// One `<assent-ai-toggle>` element and its view.
struct Toggle {
    element: Element,
    conversation: String,
    view: Option<MountedToggle>,
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
    /// The loader's `gtag` (pushes onto `window.dataLayer`), for Google Consent Mode.
    gtag: Option<Function>,
    /// The loader's `fetch`, which hands over a request it started before the wasm (the likely locale
    /// file, the timezone table) instead of asking again.
    fetch: Option<Function>,
    cookie_suffix: String,
    cookie_name: String,
}

/// Starts the client: parses and validates the config, starts the core session and carries out its
/// first effects. `options` is `{configText, configError, region, timezone, gpc, gtag, stored, base,
/// run, pending, receipts, fetch}`.
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
                },
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
            let (session, effects) = Session::start(config, fingerprint, &visitor, stored.as_deref(), now(), random_bytes);
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
        inner: Rc::new(RefCell::new(Inner {
            session,
            overlay: None,
            texts: None,
            texts_loading: None,
            texts_missing: false,
            receipt_queue: VecDeque::new(),
            toggles: Vec::new(),
            gpp_listeners: Vec::new(),
            receipt_worker: false,
            reported: Vec::new(),
            storage_warned: false,
            clean_again: None,
        })),
        shared: Rc::new(Shared {
            base: option_string(&options, "base").unwrap_or_default(),
            run,
            pending,
            receipts: Reflect::get(&options, &"receipts".into()).ok().and_then(|f| f.dyn_into().ok()),
            gtag: Reflect::get(&options, &"gtag".into()).ok().and_then(|f| f.dyn_into().ok()),
            fetch,
            cookie_suffix,
            cookie_name,
        }),
    };
    let storage = local_storage();
    let read = |key: &str| storage.as_ref().and_then(|s| s.get_item(key).ok().flatten());
    client.restore_scoped();
    client.carry_out(effects);
    // Choices whose receipts were never made (the page went away first): make them now
    // (`scoped::unmade`); receipts already made are skipped by assent-receipts.js (by id).
    let (decision, scoped) = {
        let inner = client.inner.borrow();
        let session = inner.session.as_ref();
        let unmade = |kind: Kind| -> Vec<assent_core::ScopedChoice> {
            let Some(s) = session else { return Vec::new() };
            scoped::unmade(s.scoped(), kind, &read(receipt_marker(kind)).unwrap_or_default())
        };
        (session.and_then(|s| s.decision()).cloned(), [unmade(Kind::Conversation), unmade(Kind::Service)])
    };
    let queued = |id: &str| {
        client.inner.borrow().receipt_queue.iter().any(|r| matches!(r, Record::Site(d) if d.receipt == id))
    };
    if storage.is_some() {
        let decision = decision.filter(|d| !queued(&d.receipt));
        if let Some(d) = decision.filter(|d| read("assent.receipt").as_deref() != Some(d.receipt.as_str())) {
            client.queue_receipt(Record::Site(d));
        }
        for c in scoped.into_iter().flatten() {
            client.queue_receipt(Record::Scoped(c));
        }
    }
    Ok(client)
}

/// Asks the config's geo endpoint for `{"region": "US-CA"}`, giving up (and aborting the request)
/// after 1.5 s. Any failure is reported and means "unknown" (the next source, then the strictest flow).
async fn ask_geo(url: &str) -> Option<String> {
    let window = web_sys::window()?;
    let abort = web_sys::AbortController::new().ok()?;
    let init = web_sys::RequestInit::new();
    init.set_signal(Some(&abort.signal()));
    let stop = Closure::once_into_js(move || abort.abort());
    let timer = window.set_timeout_with_callback_and_timeout_and_arguments_0(stop.unchecked_ref(), 1500).ok();
    let answer = async {
        let response: web_sys::Response = JsFuture::from(window.fetch_with_str_and_init(url, &init)).await.ok()?.dyn_into().ok()?;
        if !response.ok() {
            return None;
        }
        let text = JsFuture::from(response.text().ok()?).await.ok()?.as_string()?;
        let json = Json::parse(&text).ok()?;
        json.as_object()?.iter().find(|(k, _)| k == "region").and_then(|(_, v)| match v {
            Json::String(s) => Some(s.clone()),
            _ => None,
        })
    };
    let region = answer.await;
    if let Some(timer) = timer {
        window.clear_timeout_with_handle(timer);
    }
    if region.is_none() {
        console::warn_1(&format!("assent: the geo endpoint {url} gave no region within 1.5 s (expected {{\"region\": \"US-CA\"}}); trying the timezone").into());
    }
    region
}

/// The country of `zone` from `timezones.txt` (written by the build from the core's table). A failure
/// is reported and means "unknown": the strictest flow.
async fn timezone_country(fetch: Option<&Function>, base: &str, zone: &str) -> Option<String> {
    let url = format!("{base}timezones.txt");
    let fetched = async {
        let response = fetch_response(fetch, &url).await.ok()?;
        if !response.ok() {
            return None;
        }
        JsFuture::from(response.text().ok()?).await.ok()?.as_string()
    };
    match fetched.await {
        Some(table) => assent_core::region::country_in(&table, zone).map(String::from),
        None => {
            console::warn_1(&format!("assent: could not load {url}; without data-region the strictest flow applies").into());
            None
        }
    }
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
                let granted = s.config().purposes.iter().filter(|p| s.allowed_in(&p.id, conv, t)).map(|p| JsValue::from(p.id.as_str()));
                let shown = conv.is_some_and(|c| {
                    inner.toggles.iter().any(|tg| tg.conversation == c && tg.view.is_some() && tg.element.is_connected())
                });
                (receipt.map_or(JsValue::NULL, JsValue::from), granted.collect::<Array>(), s.do_not_train(conv, shown, t))
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

    /// The IAB GPP 1.1 API (`window.__gpp` once the loader's stub hands over): `ping`,
    /// `addEventListener`, `removeEventListener`, `hasSection`, `getSection` and `getField`.
    pub fn gpp(&self, command: &str, callback: Function, parameter: JsValue) {
        let answer = |value: &JsValue, ok: bool| {
            let _ = callback.call2(&JsValue::NULL, value, &JsValue::from_bool(ok));
        };
        let section = self.inner.borrow().session.as_ref().and_then(Session::gpp);
        let asks_usnat = parameter.as_string().is_some_and(|p| p == "usnat" || p == "7");
        match command {
            "ping" => answer(&self.gpp_ping(), true),
            "addEventListener" => {
                let id = {
                    let mut inner = self.inner.borrow_mut();
                    let id = inner.gpp_listeners.iter().map(|(id, _)| id + 1).max().unwrap_or(1);
                    inner.gpp_listeners.push((id, callback.clone()));
                    id
                };
                answer(&self.gpp_event("listenerRegistered", id, &JsValue::TRUE), true);
                answer(&self.gpp_event("signalStatus", id, &"ready".into()), true);
            }
            "removeEventListener" => {
                let id = parameter.as_f64().map(|n| n as u32);
                let mut inner = self.inner.borrow_mut();
                let before = inner.gpp_listeners.len();
                inner.gpp_listeners.retain(|(l, _)| Some(*l) != id);
                let removed = inner.gpp_listeners.len() < before;
                drop(inner);
                answer(&JsValue::from_bool(removed), true);
            }
            "hasSection" => answer(&JsValue::from_bool(section.is_some() && asks_usnat), true),
            "getSection" => match section.filter(|_| asks_usnat) {
                Some(usnat) => answer(&gpp_fields(&usnat), true),
                None => answer(&JsValue::NULL, true),
            },
            "getField" => {
                let field = parameter.as_string().and_then(|p| p.strip_prefix("usnat.").map(str::to_string));
                let value = section
                    .zip(field)
                    .and_then(|(usnat, name)| usnat.fields().into_iter().find(|(n, _)| *n == name).map(|(_, v)| gpp_value(&v)));
                answer(&value.unwrap_or(JsValue::NULL), true);
            }
            other => {
                console::warn_1(&format!("assent: __gpp('{other}') is not a GPP 1.1 command this CMP supports").into());
                answer(&JsValue::NULL, false);
            }
        }
    }

    /// Renders an `<assent-ai-toggle>` (the loader's custom element calls this when it is connected
    /// or its `conversation` changes). Reports a missing or bad conversation id and renders nothing.
    #[wasm_bindgen(js_name = mountToggle)]
    pub fn mount_toggle(&self, element: Element) {
        let conversation = element.get_attribute("conversation").unwrap_or_default();
        {
            let mut inner = self.inner.borrow_mut();
            inner.toggles.retain(|t| t.element != element);
            if !element.is_connected() {
                return; // removed before the wasm was ready: never shown
            }
            if !assent_core::scoped::is_conversation_id(&conversation) {
                let err = assent_core::UsageError::BadConversation(conversation, " on <assent-ai-toggle>".into());
                console::error_2(&format!("assent: {err}. The toggle is not shown and the conversation stays do-not-train:").into(), &element);
                return;
            }
            if inner.session.as_ref().is_some_and(|s| s.config().purpose(AI_TRAINING).is_none()) {
                console::error_2(&"assent: <assent-ai-toggle> needs an `ai_training` purpose in the config; the toggle is not shown:".into(), &element);
                return;
            }
            inner.toggles.push(Toggle { element, conversation, view: None });
        }
        let client = self.handle();
        spawn_local(async move {
            client.texts().await;
            client.render_toggles();
        });
    }

    /// Forgets an `<assent-ai-toggle>` that left the page.
    #[wasm_bindgen(js_name = unmountToggle)]
    pub fn unmount_toggle(&self, element: Element) {
        let removed: Vec<Toggle> = {
            let mut inner = self.inner.borrow_mut();
            let (gone, kept) = std::mem::take(&mut inner.toggles).into_iter().partition(|t| t.element == element);
            inner.toggles = kept;
            gone
        };
        drop(removed); // unmounts outside the borrow
    }

    /// Gates elements added to the page since the last scan.
    pub fn rescan(&self) {
        self.apply_gates();
    }
}

impl Client {
    /// GPP `PingReturn`. `cmpId` 0: Assent is not a CMP registered with the IAB (see docs/gpp.md).
    fn gpp_ping(&self) -> JsValue {
        let inner = self.inner.borrow();
        let section = inner.session.as_ref().and_then(Session::gpp);
        let shown = inner.session.as_ref().is_some_and(|s| s.ui() != Ui::Hidden);
        let ping = Object::new();
        put(&ping, "gppVersion", &"1.1".into());
        put(&ping, "cmpStatus", &"loaded".into());
        put(&ping, "cmpDisplayStatus", &if shown { "visible" } else { "hidden" }.into());
        put(&ping, "signalStatus", &"ready".into());
        put(&ping, "supportedAPIs", &Array::of1(&"7:usnat".into()));
        put(&ping, "cmpId", &JsValue::from(0));
        let ids: Array = section.iter().map(|_| JsValue::from(assent_core::gpp::USNAT_ID)).collect();
        put(&ping, "sectionList", &ids);
        let applicable: Array = if section.is_some() { ids.clone() } else { Array::of1(&JsValue::from(-1)) };
        put(&ping, "applicableSections", &applicable);
        put(&ping, "gppString", &section.as_ref().map_or_else(String::new, |s| s.gpp_string()).into());
        let parsed = Object::new();
        if let Some(usnat) = &section {
            put(&parsed, "usnat", &gpp_fields(usnat));
        }
        put(&ping, "parsedSections", &parsed);
        ping.into()
    }

    fn gpp_event(&self, name: &str, listener: u32, data: &JsValue) -> JsValue {
        let event = Object::new();
        put(&event, "eventName", &name.into());
        put(&event, "listenerId", &JsValue::from(listener));
        put(&event, "data", data);
        put(&event, "pingData", &self.gpp_ping());
        event.into()
    }

    /// Tells GPP listeners that the section changed (after every decision).
    fn gpp_changed(&self) {
        let listeners = self.inner.borrow().gpp_listeners.clone();
        for (id, callback) in listeners {
            let _ = callback.call2(&JsValue::NULL, &self.gpp_event("sectionChange", id, &"usnat".into()), &JsValue::TRUE);
        }
    }

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
                console::error_1(&"assent: cannot record a choice while the config is broken (see the error above)".into());
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
                Effect::Receipt(record) => self.queue_receipt(record),
                Effect::StoreScoped(choice) => {
                    // Merge into what is stored now (other tabs), and pick their choices up too.
                    let kind = choice.scope.kind();
                    let storage = local_storage();
                    let now_stored = storage.as_ref().and_then(|s| s.get_item(kind.storage_key()).ok().flatten()).unwrap_or_default();
                    let merged = assent_core::scoped::merge(&now_stored, &choice);
                    if storage.and_then(|s| s.set_item(kind.storage_key(), &merged).ok()).is_none() {
                        console::warn_1(&"assent: storage is blocked, so this choice holds for this page view only".into());
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

    /// Removes the cookies and storage keys that the services which may not run set (the core names
    /// them), then reloads the page when the config asks: scripts that already ran cannot be unloaded.
    fn clean_up(&self, services: &[String], reload: bool) {
        self.remove_traces(services);
        if reload {
            // The decision is stored already; its receipt, if not made before the page goes, is made
            // on the next page view (see `start`).
            if let Some(l) = web_sys::window().map(|w| w.location()) {
                let _ = l.reload();
            }
            return;
        }
        // A script that already ran keeps running until the page goes, and gtag or Hotjar write their
        // cookies again. Once the page goes, nothing of theirs runs (the next page view holds them), so
        // removing their traces once more at `pagehide` leaves none behind.
        let first = {
            let mut inner = self.inner.borrow_mut();
            let first = inner.clean_again.is_none();
            let again = inner.clean_again.get_or_insert_with(Vec::new);
            for service in services {
                if !again.contains(service) {
                    again.push(service.clone());
                }
            }
            first
        };
        if first {
            let client = self.handle();
            let on_pagehide = Closure::<dyn Fn()>::new(move || client.clean_again());
            if let Some(w) = web_sys::window() {
                let _ = w.add_event_listener_with_callback("pagehide", on_pagehide.as_ref().unchecked_ref());
            }
            on_pagehide.forget(); // lives as long as the page
        }
    }

    /// At `pagehide`: the traces of the services cleaned on this page view that are still refused now
    /// (the visitor may have allowed one again since).
    fn clean_again(&self) {
        let services: Vec<String> = {
            let inner = self.inner.borrow();
            let (Some(session), Some(list)) = (&inner.session, &inner.clean_again) else { return };
            let t = now();
            session
                .trackers()
                .services()
                .iter()
                .filter(|s| list.contains(&s.name) && !session.allowed_for_service(&s.purpose, &s.name, t))
                .map(|s| s.name.clone())
                .collect()
        };
        self.remove_traces(&services);
    }

    /// Removes the cookies and storage keys of `services` (the core names them).
    fn remove_traces(&self, services: &[String]) {
        let doc: HtmlDocument = document().unchecked_into();
        let window = web_sys::window();
        let stores: Vec<Storage> = window
            .iter()
            .flat_map(|w| [w.local_storage().ok().flatten(), w.session_storage().ok().flatten()])
            .flatten()
            .collect();
        let cookie_text = doc.cookie().unwrap_or_default();
        let cookie_names: Vec<&str> = cookie_text.split("; ").filter_map(|c| c.split('=').next()).filter(|n| !n.is_empty()).collect();
        let location = window.as_ref().map(|w| w.location());
        let host = location.as_ref().and_then(|l| l.hostname().ok()).unwrap_or_default();
        let path = location.as_ref().and_then(|l| l.pathname().ok()).unwrap_or_else(|| "/".into());
        // One cleanup over the keys of both stores: removing a key a store lacks does nothing.
        let keys: Vec<String> =
            stores.iter().flat_map(|st| (0..st.length().unwrap_or(0)).filter_map(|i| st.key(i).ok().flatten())).collect();
        let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
        let cleanup = match &self.inner.borrow().session {
            Some(s) => s.trackers().cleanup(services, &cookie_names, &keys, &host, &path),
            None => return,
        };
        for key in &cleanup.storage {
            for store in &stores {
                let _ = store.remove_item(key);
            }
        }
        for cookie in &cleanup.cookies {
            let _ = doc.set_cookie(cookie);
        }
    }

    fn store(&self, value: &str, max_age: u64) {
        let cookie = format!("{}={value}; Max-Age={max_age}{}", self.shared.cookie_name, self.shared.cookie_suffix);
        let doc: HtmlDocument = document().unchecked_into();
        if let Err(err) = doc.set_cookie(&cookie) {
            let mut inner = self.inner.borrow_mut();
            if !inner.storage_warned {
                inner.storage_warned = true;
                console::warn_2(
                    &"assent: cookies are blocked, so this choice holds for this page view only:".into(),
                    &err,
                );
            }
        }
    }

    /// Decides every pending gated element with the core and hands the allowed ones, in document
    /// order, to the loader's activation chain.
    fn apply_gates(&self) {
        let Ok(list) = self.shared.pending.call0(&JsValue::NULL) else { return };
        let allowed = Array::new();
        let mut blocked_frames = Vec::new();
        let mut inner = self.inner.borrow_mut();
        let t = now();
        for el in Array::from(&list).iter() {
            let Some(el) = el.dyn_ref::<Element>() else { continue };
            let category = el.get_attribute("data-category").unwrap_or_default();
            // The service is looked up (a URL parse) only for what the purpose alone refuses.
            let service = inner.session.as_ref().filter(|s| !s.allowed(&category)).and_then(|s| service_of(s, el));
            let decision = match &inner.session {
                Some(s) => s.decide_element(&category, service.as_deref(), t).map_err(|e| e.to_string()),
                None => Ok(category == NECESSARY),
            };
            match decision {
                Ok(true) => {
                    allowed.push(el);
                }
                Ok(false) if el.tag_name() == "IFRAME" => blocked_frames.push(el.clone()),
                Ok(false) => {}
                Err(message) => {
                    if !inner.reported.contains(&category) {
                        inner.reported.push(category.clone());
                        console::error_2(&format!("assent: {message}. The element stays blocked:").into(), el);
                    }
                }
            }
        }
        drop(inner);
        for frame in allowed.iter().filter_map(|el| el.dyn_into::<Element>().ok()) {
            remove_placeholder(&frame);
        }
        if allowed.length() > 0 {
            let _ = self.shared.run.call1(&JsValue::NULL, &allowed);
        }
        if !blocked_frames.is_empty() {
            self.show_placeholders(blocked_frames);
        }
    }

    /// Shows a placeholder in each blocked embed's own frame ([`assent_ui::placeholder_document`]):
    /// the page's box for the embed stays as it is. "Load it" loads that embed alone, this page view.
    fn show_placeholders(&self, frames: Vec<Element>) {
        let client = self.handle();
        spawn_local(async move {
            let Some((lang, texts)) = client.texts().await else { return };
            for frame in frames {
                if frame.has_attribute(PLACEHOLDER_ATTR) || frame.has_attribute("data-assent") || unseen(&frame) {
                    continue;
                }
                // The service: the one the loader named, or the one the database knows the URL by (a
                // marked embed); failing both, the host, and no lasting choice to offer.
                let src = frame.get_attribute("data-src").unwrap_or_default();
                let known = client.inner.borrow().session.as_ref().and_then(|s| service_of(s, &frame));
                let service = known.clone().unwrap_or_else(|| {
                    assent_core::trackers::host_and_path(&src).map_or(src.clone(), |(host, _)| host.to_string())
                });
                let fill = |key: &str| texts.fill(key, &[("service", &service)]);
                let document = assent_ui::placeholder_document(&assent_ui::PlaceholderProps {
                    rtl: locale::is_rtl(&lang),
                    lang: lang.clone(),
                    title: fill("placeholder.title"),
                    message: fill("placeholder.message"),
                    load: fill("placeholder.load"),
                    always: if known.is_some() { fill("placeholder.always") } else { String::new() },
                    note: String::new(),
                });
                if !frame.has_attribute("title") {
                    let _ = frame.set_attribute("title", &fill("placeholder.title"));
                    let _ = frame.set_attribute(PLACEHOLDER_ATTR, "title");
                } else {
                    let _ = frame.set_attribute(PLACEHOLDER_ATTR, "");
                }
                let loader = client.handle();
                let target = frame.clone();
                // The placeholder document is same-origin (srcdoc): its button is wired from here, so
                // it needs no script of its own (and no CSP exception).
                let on_load = Closure::<dyn Fn()>::new(move || {
                    let Some(doc) = target.dyn_ref::<web_sys::HtmlIFrameElement>().and_then(|f| f.content_document()) else { return };
                    if let Some(button) = doc.get_element_by_id(assent_ui::LOAD_BUTTON_ID) {
                        let loader = loader.handle();
                        let frame = target.clone();
                        let on_click = Closure::<dyn Fn()>::new(move || loader.load_embed(&frame));
                        let _ = button.add_event_listener_with_callback("click", on_click.as_ref().unchecked_ref());
                        on_click.forget(); // lives as long as the placeholder document
                    }
                    if let (Some(button), Some(service)) = (doc.get_element_by_id(assent_ui::ALWAYS_BUTTON_ID), known.clone()) {
                        let loader = loader.handle();
                        let on_click = Closure::<dyn Fn()>::new(move || {
                            loader.dispatch(Event::AllowService { service: service.clone(), on: true });
                        });
                        let _ = button.add_event_listener_with_callback("click", on_click.as_ref().unchecked_ref());
                        on_click.forget();
                    }
                });
                let _ = frame.add_event_listener_with_callback("load", on_load.as_ref().unchecked_ref());
                on_load.forget(); // one per blocked embed, for the page view
                let _ = frame.set_attribute("srcdoc", &document);
            }
        });
    }

    /// "Load it" on a placeholder: this embed alone, now. Nothing is stored: the next page view
    /// asks again (a lasting choice is made in the preferences).
    fn load_embed(&self, frame: &Element) {
        remove_placeholder(frame);
        let _ = self.shared.run.call1(&JsValue::NULL, &Array::of1(frame));
    }

    /// Shows what the session wants. The overlay is taken out of `inner` while it works: moving focus
    /// runs the page's focus handlers, which may call `window.assent` (and so borrow `inner`) at once.
    fn render(&self, ui: Ui) {
        if ui == Ui::Hidden {
            let overlay = self.inner.borrow_mut().overlay.take();
            if let Some(mut overlay) = overlay {
                overlay.hide();
                self.inner.borrow_mut().overlay = Some(overlay);
            }
            let entry = self.inner.borrow().session.as_ref().and_then(Session::entry_point);
            if entry.is_none() {
                return;
            }
        }
        let Some((lang, texts)) = self.inner.borrow().texts.clone() else {
            self.load_texts();
            return;
        };
        let (props, view) = {
            let inner = self.inner.borrow();
            let Some(session) = inner.session.as_ref() else { return };
            let view = match ui {
                Ui::Banner => View::Banner,
                Ui::Preferences => View::Preferences,
                Ui::Hidden => View::EntryPoint,
            };
            (props(session, lang, texts), view)
        };
        let client = self.handle();
        let on_intent: assent_ui::OnIntent = Rc::new(move |intent| client.intent(intent));
        let existing = self.inner.borrow_mut().overlay.take();
        let mut overlay = match existing.map_or_else(|| Overlay::new(&document()), Ok) {
            Ok(o) => o,
            Err(e) => {
                console::error_2(&"assent: could not create the banner:".into(), &e);
                return;
            }
        };
        if view == View::EntryPoint {
            overlay.show_entry_point(props, on_intent);
        } else {
            overlay.show(view, props, on_intent);
        }
        self.inner.borrow_mut().overlay = Some(overlay);
    }

    fn intent(&self, intent: Intent) {
        let event = match intent {
            Intent::AcceptAll => Event::AcceptAll(Source::Ui),
            Intent::RejectAll => Event::RejectAll(Source::Ui),
            Intent::Save(choices) => Event::Save(choices, Source::Ui),
            Intent::Acknowledge => Event::Acknowledge,
            Intent::OpenPreferences => Event::OpenPreferences,
            Intent::Close => Event::Close,
            Intent::StopService(service) => Event::AllowService { service, on: false },
        };
        // Leave the UI's event handler before re-rendering it.
        let client = self.handle();
        spawn_local(async move { client.dispatch(event) });
    }

    /// Loads the strings if needed, then renders whatever the session wants shown by then.
    fn load_texts(&self) {
        let client = self.handle();
        spawn_local(async move {
            client.texts().await;
            let ui = client.inner.borrow().session.as_ref().map(Session::ui);
            if let Some(ui) = ui {
                client.render(ui);
            }
        });
    }

    /// The visitor's strings: downloads only the chosen language's file (falling back to the reference
    /// language) once, however many callers wait for it.
    async fn texts(&self) -> Option<(String, Rc<Texts>)> {
        let promise = {
            let mut inner = self.inner.borrow_mut();
            if let Some(loaded) = &inner.texts {
                return Some(loaded.clone());
            }
            if inner.texts_loading.is_none() {
                let session = inner.session.as_ref()?;
                let config = session.config();
                let doc = document();
                let html_lang = doc.document_element().and_then(|e| e.get_attribute("lang"));
                let browser: Vec<String> = web_sys::window()
                    .map(|w| w.navigator().languages().iter().filter_map(|l| l.as_string()).collect())
                    .unwrap_or_default();
                let lang = locale::negotiate(&config.languages, config.language.as_deref(), html_lang.as_deref(), &browser);
                let overrides = config.text.clone();
                let controller = config.controller.clone();
                let client = self.handle();
                let promise = wasm_bindgen_futures::future_to_promise(async move {
                    let mut loaded = None;
                    for candidate in [lang.as_str(), locale::REFERENCE_LANGUAGE] {
                        let url = format!("{}locales/{candidate}.json", client.shared.base);
                        match fetch_locale(client.shared.fetch.as_ref(), &url).await {
                            Ok(map) => {
                                loaded = Some((candidate.to_string(), map));
                                break;
                            }
                            Err(e) => console::error_2(&format!("assent: could not load locale `{candidate}`:").into(), &e),
                        }
                    }
                    client.inner.borrow_mut().texts_missing = loaded.is_none();
                    let (lang, mut map) = loaded.unwrap_or_else(|| (lang.clone(), Vec::new()));
                    // Config overrides come last, so they win in `Texts::get`.
                    map.extend(overrides.into_iter().filter_map(|(key, value)| Some((key, pick(&value, &lang)?))));
                    // `{controller}` in any string, as the notice hash fills it (assent_core::receipt), not
                    // only in the keys whose component fills it.
                    for (_, text) in &mut map {
                        if text.contains("{controller}") {
                            *text = text.replace("{controller}", &controller);
                        }
                    }
                    client.inner.borrow_mut().texts = Some((lang, Rc::new(Texts(map))));
                    Ok(JsValue::UNDEFINED)
                });
                inner.texts_loading = Some(promise);
            }
            inner.texts_loading.clone()?
        };
        let _ = JsFuture::from(promise).await;
        self.inner.borrow().texts.clone()
    }

    /// `gtag('consent', default|update, {...})` for each command, through the loader's `gtag`.
    fn consent_mode(&self, commands: &[assent_core::consent_mode::Command]) {
        let Some(gtag) = &self.shared.gtag else { return };
        for c in commands {
            let params = Object::new();
            for (t, granted) in assent_core::consent_mode::TYPES.iter().zip(c.state) {
                put(&params, t, &if granted { "granted" } else { "denied" }.into());
            }
            if !c.region.is_empty() {
                put(&params, "region", &c.region.iter().map(|r| JsValue::from(r.as_str())).collect::<Array>());
            }
            let _ = gtag.call3(&JsValue::NULL, &"consent".into(), &c.command.into(), &params);
        }
    }

    /// A conversation's choice changed: show it on its toggles and fire `assent:change` on each
    /// (bubbling, and composed so it leaves a widget's shadow root).
    fn conversation_changed(&self, conversation: &str) {
        self.render_toggles();
        let (elements, detail) = {
            let inner = self.inner.borrow();
            let elements: Vec<Element> =
                inner.toggles.iter().filter(|t| t.conversation == conversation).map(|t| t.element.clone()).collect();
            let Some(session) = inner.session.as_ref() else { return };
            let t = now();
            let detail = Object::new();
            put(&detail, "conversation", &conversation.into());
            put(&detail, "scope", &assent_core::scoped::conversation_scope(conversation).into());
            put(&detail, "on", &session.allowed_in(AI_TRAINING, Some(conversation), t).into());
            let receipt = session.conversation_choice(conversation, t).map_or(JsValue::NULL, |c| c.receipt.as_str().into());
            put(&detail, "receipt", &receipt);
            put(&detail, "do_not_train", &session.do_not_train(Some(conversation), true, t).into());
            (elements, detail)
        };
        let init = CustomEventInit::new();
        init.set_detail(&detail);
        init.set_bubbles(true);
        init.set_composed(true);
        if elements.is_empty() {
            // Changed through the API with no toggle on the page: the document still hears of it.
            if let Ok(ev) = CustomEvent::new_with_event_init_dict("assent:change", &init) {
                let _ = document().dispatch_event(&ev);
            }
        }
        for el in elements {
            if let Ok(ev) = CustomEvent::new_with_event_init_dict("assent:change", &init) {
                let _ = el.dispatch_event(&ev);
            }
        }
    }

    /// A service's lasting choice changed (its embeds were decided again by the core's `ApplyGates`):
    /// tell the page with `assent:change` (`detail: {service, scope, on, receipt}`).
    fn service_changed(&self, service: &str) {
        let detail = Object::new();
        {
            let inner = self.inner.borrow();
            let Some(session) = inner.session.as_ref() else { return };
            let choice = session.scoped_choice(&Scope::Service(service.to_string()), now());
            put(&detail, "service", &service.into());
            put(&detail, "scope", &Scope::Service(service.to_string()).name().into());
            put(&detail, "on", &JsValue::from_bool(choice.is_some_and(|c| c.on)));
            put(&detail, "receipt", &choice.map_or(JsValue::NULL, |c| c.receipt.as_str().into()));
        }
        let init = CustomEventInit::new();
        init.set_detail(&detail);
        if let Ok(ev) = CustomEvent::new_with_event_init_dict("assent:change", &init) {
            let _ = document().dispatch_event(&ev);
        }
    }

    /// Mounts toggles that are not rendered yet (once the strings are loaded) and shows every
    /// toggle's current state.
    fn render_toggles(&self) {
        let mut inner = self.inner.borrow_mut();
        let Some((lang, texts)) = inner.texts.clone() else { return };
        let Some(session) = inner.session.take() else { return };
        let t = now();
        let config = session.config();
        let keys = toggle_keys(session.basis(AI_TRAINING));
        let fill = |k: &str| texts.get(k); // `{controller}` is filled when the texts load
        for toggle in inner.toggles.iter_mut() {
            let on = session.allowed_in(AI_TRAINING, Some(&toggle.conversation), t);
            if let Some(view) = &toggle.view {
                view.set(on);
                continue;
            }
            let props = ToggleProps {
                label: fill(keys[0]),
                description: fill(keys[1]),
                learn_more: fill(keys[2]),
                notice_url: config.notice.url.clone(),
                rtl: locale::is_rtl(&lang),
                scheme: scheme(config),
                lang: lang.clone(),
            };
            let client = self.handle();
            let conversation = toggle.conversation.clone();
            let on_toggle: assent_ui::OnToggle = Rc::new(move |on| {
                let client = client.handle();
                let event = Event::AiToggle { conversation: conversation.clone(), on };
                spawn_local(async move { client.dispatch(event) });
            });
            match MountedToggle::mount(&toggle.element, props, on, on_toggle) {
                Ok(view) => toggle.view = Some(view),
                Err(e) => console::error_2(&"assent: could not render <assent-ai-toggle>:".into(), &e),
            }
        }
        inner.session = Some(session);
    }

    fn queue_receipt(&self, record: Record) {
        let start_worker = {
            let mut inner = self.inner.borrow_mut();
            inner.receipt_queue.push_back(record);
            !std::mem::replace(&mut inner.receipt_worker, true)
        };
        if start_worker {
            let client = self.handle();
            spawn_local(async move { client.receipt_worker().await });
        }
    }

    /// Makes receipts one at a time, so each links to the previous one. A failure is reported and the
    /// decision stands: receipts are evidence, never a condition for the page to work.
    async fn receipt_worker(&self) {
        loop {
            let next = self.inner.borrow_mut().receipt_queue.pop_front();
            let Some(record) = next else {
                self.inner.borrow_mut().receipt_worker = false;
                return;
            };
            if let Err(e) = self.make_receipt(&record).await {
                let id = match &record {
                    Record::Site(d) => &d.receipt,
                    Record::Scoped(c) => &c.receipt,
                };
                console::error_2(&format!("assent: could not make receipt {id}:").into(), &e);
            }
        }
    }

    async fn make_receipt(&self, record: &Record) -> Result<(), JsValue> {
        // Embedded without the loader (component tests): no receipts to make.
        let Some(receipts) = self.shared.receipts.clone() else { return Ok(()) };
        let module = JsFuture::from(js_sys::Promise::from(receipts.call0(&JsValue::NULL)?)).await?;
        let (lang, texts) = self.texts().await.ok_or("no strings loaded")?;
        // The receipt would hash key names, not the notice shown. Without its marker, a later page view
        // makes it (see `start`).
        if self.inner.borrow().texts_missing {
            return Err("no locale file loaded, so the notice text cannot be hashed; it is made on a later page view".into());
        }
        let (config, endpoints) = {
            let inner = self.inner.borrow();
            let config = inner.session.as_ref().ok_or("no session")?.config().clone();
            let endpoints: Array = config.receipts.endpoints.iter().map(|e| JsValue::from(e.as_str())).collect();
            (config, endpoints)
        };
        // The exact text shown: locale strings with config overrides, purpose names as displayed.
        let shown = |key: &str| {
            let purpose = config.purposes.iter().find_map(|p| {
                let name = format!("purpose.{}.name", p.id);
                let description = format!("purpose.{}.description", p.id);
                if key == name { p.name.as_ref() } else if key == description { p.description.as_ref() } else { None }
            });
            purpose.and_then(|o| pick(o, &lang)).unwrap_or_else(|| texts.get(key))
        };
        let (text, subject) = match record {
            Record::Site(d) => (notice_text(&config, d.flow, shown), &d.subject),
            Record::Scoped(c) => match (&c.scope, c.method) {
                // Ended by a site-wide refusal: what the visitor saw is the notice they refused in.
                (_, assent_core::Method::Withdrawal) => {
                    let flow = self.inner.borrow().session.as_ref().ok_or("no session")?.flow();
                    (notice_text(&config, flow, shown), &c.subject)
                }
                (Scope::Conversation(_), _) => {
                    let basis = self.inner.borrow().session.as_ref().ok_or("no session")?.basis(AI_TRAINING);
                    (toggle_text(&config, basis, |k| texts.get(k)), &c.subject)
                }
                (Scope::Service(name), _) => (service_text(&config, c.on, name, |k| texts.get(k)), &c.subject),
            },
        };
        let sha = call_async(&module, "sha256", &[text.into()]).await?.as_string().unwrap_or_default();
        let prev = call_async(&module, "prev", &[subject.as_str().into()]).await?.as_string();
        let window = web_sys::window().ok_or("no window")?;
        let origin = window.location().origin()?;
        let gpc = Reflect::get(&window.navigator(), &"globalPrivacyControl".into())?.as_bool() == Some(true);
        let (claims, marker, at) = match record {
            // The signal the decision was made under, not this page view's.
            Record::Site(d) => (Claims::for_decision(d, &config, origin, lang, sha, d.gpc, prev), "assent.receipt", JsValue::UNDEFINED),
            Record::Scoped(c) => {
                let (region, flow) = {
                    let inner = self.inner.borrow();
                    let session = inner.session.as_ref().ok_or("no session")?;
                    (session.region().map(|r| r.as_str().to_string()), session.flow())
                };
                let claims = Claims::for_scoped(c, &config, region, flow, origin, lang, sha, gpc, prev);
                (claims, receipt_marker(c.scope.kind()), JsValue::from(c.decided_at as f64))
            }
        };
        let args = [claims.to_canonical_json().into(), claims.id.as_str().into(), subject.as_str().into(), endpoints.into(), marker.into(), at];
        call_async(&module, "issue", &args).await?;
        Ok(())
    }
}

/// A `usnat` section as `getSection` returns it: every field by its GPP name.
fn gpp_fields(usnat: &assent_core::gpp::UsNat) -> JsValue {
    let object = Object::new();
    for (name, value) in usnat.fields() {
        put(&object, name, &gpp_value(&value));
    }
    object.into()
}

fn gpp_value(value: &assent_core::gpp::FieldValue) -> JsValue {
    use assent_core::gpp::FieldValue;
    match value {
        FieldValue::Int(n) => JsValue::from(*n),
        FieldValue::Bool(b) => JsValue::from_bool(*b),
        FieldValue::List(items) => items.iter().map(|n| JsValue::from(*n)).collect::<Array>().into(),
    }
}

/// Calls `object[name](...args)` and awaits the Promise it returns.
async fn call_async(object: &JsValue, name: &str, args: &[JsValue]) -> Result<JsValue, JsValue> {
    let f: Function = Reflect::get(object, &name.into())?.dyn_into()?;
    let result = f.apply(object, &args.iter().collect::<Array>())?;
    JsFuture::from(js_sys::Promise::resolve(&result)).await
}

/// The tracker service a gated element belongs to: the one its `data-service` names, if the tracker
/// database (with the config's changes) knows it, else the one its URL matches.
fn service_of(session: &Session, el: &Element) -> Option<String> {
    let services = session.trackers().services();
    if let Some(named) = el.get_attribute("data-service") {
        if let Some(s) = services.iter().find(|s| s.name.eq_ignore_ascii_case(&named)) {
            return Some(s.name.clone());
        }
    }
    let url = ["data-src", "src", "data-href", "href"].iter().find_map(|a| el.get_attribute(a))?;
    let absolute = web_sys::Url::new_with_base(&url, &document().base_uri().ok().flatten()?).ok()?.href();
    session.trackers().classify(&absolute).map(|s| s.name.clone())
}

/// Marks an embed whose frame shows Assent's placeholder (`title` when Assent also set its title).
const PLACEHOLDER_ATTR: &str = "data-assent-placeholder";

/// A frame the page keeps out of sight (a tracking frame: 1×1, `hidden`, `display:none`): held without
/// a placeholder, whose buttons would be invisible yet reachable with Tab (and could grant a lasting
/// choice unseen). The same rule as the loader's `shown()` (for frames), negated.
fn unseen(frame: &Element) -> bool {
    // The leading integer, as JS `parseInt` reads it (parsing an f64 would add ~15 KB of float code).
    let tiny = |name: &str| {
        let value = frame.get_attribute(name).unwrap_or_default();
        let value = value.trim_start();
        let sign = usize::from(value.starts_with('-'));
        let digits = sign + value[sign..].chars().take_while(char::is_ascii_digit).count();
        value[..digits].parse::<i64>().is_ok_and(|n| n <= 2)
    };
    let style: Vec<u8> =
        frame.get_attribute("style").unwrap_or_default().bytes().filter(|b| !b.is_ascii_whitespace()).map(|b| b.to_ascii_lowercase()).collect();
    let has = |needle: &[u8]| style.windows(needle.len()).any(|w| w == needle);
    tiny("width") || tiny("height") || frame.has_attribute("hidden") || has(b"display:none") || has(b"visibility:hidden")
}

/// Takes the placeholder out of an embed's frame, so that its `src` can load.
fn remove_placeholder(frame: &Element) {
    if let Some(mark) = frame.get_attribute(PLACEHOLDER_ATTR) {
        let _ = frame.remove_attribute("srcdoc");
        if mark == "title" {
            let _ = frame.remove_attribute("title");
        }
        let _ = frame.remove_attribute(PLACEHOLDER_ATTR);
    }
}

/// Fetches `url` through the loader's `fetch` (which hands over a request it started early), else
/// with the window's.
async fn fetch_response(fetch: Option<&Function>, url: &str) -> Result<web_sys::Response, JsValue> {
    let promise: js_sys::Promise = match fetch {
        Some(f) => f.call1(&JsValue::NULL, &url.into())?.dyn_into()?,
        None => web_sys::window().ok_or("no window")?.fetch_with_str(url),
    };
    JsFuture::from(promise).await?.dyn_into()
}

async fn fetch_locale(fetch: Option<&Function>, url: &str) -> Result<Vec<(String, String)>, JsValue> {
    let response = fetch_response(fetch, url).await?;
    if !response.ok() {
        return Err(format!("HTTP {} for {url}", response.status()).into());
    }
    let text = JsFuture::from(response.text()?).await?.as_string().unwrap_or_default();
    let parsed = Json::parse(&text).and_then(|json| string_map(&json, ""));
    parsed.map_err(|e| match e {
        ConfigError::Syntax(where_) => format!("{url} is not valid JSON: {where_}").into(),
        other => format!("{url}: {other}").into(),
    })
}

fn pick(text: &TextOverride, lang: &str) -> Option<String> {
    match text {
        TextOverride::All(s) => Some(s.clone()),
        TextOverride::PerLanguage(map) => map.iter().find(|(l, _)| l == lang).map(|(_, t)| t.clone()),
    }
}

/// The UI's colour scheme from the config.
fn scheme(config: &Config) -> assent_ui::Scheme {
    match config.theme.scheme {
        assent_core::config::Scheme::Auto => assent_ui::Scheme::Auto,
        assent_core::config::Scheme::Light => assent_ui::Scheme::Light,
        assent_core::config::Scheme::Dark => assent_ui::Scheme::Dark,
    }
}

/// A count message in `lang` (`{days, plural, one {…} other {…}}`): the browser's
/// `Intl.PluralRules` picks the form for `n`.
fn count(message: &str, lang: &str, n: u32) -> String {
    let rules = js_sys::Intl::PluralRules::new(&Array::of1(&lang.into()), &Object::new());
    let category = rules.select(f64::from(n)).as_string().unwrap_or_else(|| "other".into());
    locale::plural(message, &category, u64::from(n)).replace("{days}", &n.to_string())
}

/// A string the visitor sees, in the wording the law requires where it has legal force (English in
/// California, with the translation next to it), unless the config overrides it.
fn legal(session: &Session, texts: &Texts, lang: &str, key: &str) -> Legal {
    let translated = texts.get(key);
    let overridden = session.config().text.iter().any(|(k, o)| k == key && pick(o, lang).is_some());
    match session.legal_english(key).filter(|_| !overridden) {
        Some(english) if lang != locale::REFERENCE_LANGUAGE && !lang.starts_with("en-") => {
            Legal { text: english.to_string(), lang: Some("en".into()), translation: Some(translated) }
        }
        Some(english) if !overridden => Legal::plain(english.to_string()),
        _ => Legal::plain(translated),
    }
}

/// Builds the UI's props from the session and the loaded strings.
fn props(session: &Session, lang: String, texts: Rc<Texts>) -> Props {
    let config = session.config();
    let text_for = |over: &Option<TextOverride>, key: String| {
        over.as_ref().and_then(|o| pick(o, &lang)).unwrap_or_else(|| texts.get(&key))
    };
    let purposes: Vec<PurposeItem> = config
        .purposes
        .iter()
        .map(|p| PurposeItem {
            id: p.id.clone(),
            name: text_for(&p.name, format!("purpose.{}.name", p.id)),
            description: text_for(&p.description, format!("purpose.{}.description", p.id)),
            required: p.required,
            separate: p.id == AI_TRAINING,
            services: p.services.iter().map(|s| s.name.clone()).collect(),
            data_categories: p.data_categories.clone(),
            retention: p.cookie_days.map(|days| count(&texts.get("prefs.cookieDays"), &lang, days)),
            on: session.allowed(&p.id),
        })
        .collect();
    Props {
        layer: match session.flow() {
            Flow::OptIn => Layer::OptIn,
            Flow::OptOut => Layer::OptOut,
            Flow::Notice => Layer::Notice,
        },
        texts: texts.clone(),
        lang: lang.clone(),
        controller: config.controller.clone(),
        notice_url: config.notice.url.clone(),
        status: session.gpc_honored().then(|| legal(session, &texts, &lang, "gpc.honored")),
        entry_label: session.entry_point().map(|key| legal(session, &texts, &lang, key)),
        rtl: locale::is_rtl(&lang),
        scheme: scheme(config),
        position: match config.theme.position {
            assent_core::config::Position::Bar => assent_ui::Position::Bar,
            assent_core::config::Position::Box => assent_ui::Position::Box,
            assent_core::config::Position::Modal => assent_ui::Position::Modal,
        },
        allowed_services: session
            .allowed_services(now())
            .into_iter()
            .map(|c| AllowedService {
                name: c.scope.key().to_string(),
                purpose: purposes.iter().find(|p: &&PurposeItem| p.id == c.purpose).map_or_else(|| c.purpose.clone(), |p| p.name.clone()),
            })
            .collect(),
        purposes,
    }
}
