//! The banner and preferences UI: the visitor's strings, the UI's props, and the visitor's intents.

use std::rc::Rc;

use assent_core::config::TextOverride;
use assent_core::purpose::AI_TRAINING;
use assent_core::{locale, Config, Event, Flow, Session, Source, Ui};
use assent_ui::{first_layer, AllowedService, Intent, Layer, Legal, Overlay, Props, PurposeItem, Texts, View};
use js_sys::{Array, Object};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::{spawn_local, JsFuture};
use web_sys::console;

use crate::fetch::fetch_locale;
use crate::{document, now, Client};

/// The visitor's strings: loaded once (language, strings), the download every caller waits on, and
/// whether no locale file could be loaded (the texts are then key names, which no receipt may hash as
/// the notice).
#[derive(Default)]
pub(crate) struct TextsState {
    pub(crate) loaded: Option<(String, Rc<Texts>)>,
    loading: Option<js_sys::Promise>,
    pub(crate) missing: bool,
}

impl Client {
    /// Shows what the session wants. The overlay is taken out of `inner` while it works: moving focus
    /// runs the page's focus handlers, which may call `window.assent` (and so borrow `inner`) at once.
    pub(crate) fn render(&self, ui: Ui) {
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
        let Some((lang, texts)) = self.inner.borrow().texts.loaded.clone() else {
            self.load_texts();
            return;
        };
        let view = match ui {
            Ui::Banner => View::Banner,
            Ui::Preferences => View::Preferences,
            Ui::Hidden => View::EntryPoint,
        };
        let mount = if view == View::Preferences {
            // Shown when the module lands, if the session still wants it then (`prefs_module`).
            let Some(module) = self.prefs_module() else { return };
            self.remote_dialog(module)
        } else {
            let client = self.handle();
            first_layer(view, Rc::new(move |intent| client.intent(intent)))
        };
        let props = {
            let inner = self.inner.borrow();
            let Some(session) = inner.session.as_ref() else { return };
            props(session, lang, texts)
        };
        let existing = self.inner.borrow_mut().overlay.take();
        let mut overlay = match existing.map_or_else(|| Overlay::new(&document()), Ok) {
            Ok(o) => o,
            Err(e) => {
                console::error_2(&"assent: could not create the banner:".into(), &e);
                return;
            }
        };
        if view == View::EntryPoint {
            overlay.show_entry_point(props, mount);
        } else {
            overlay.show(view, props, mount);
        }
        self.inner.borrow_mut().overlay = Some(overlay);
        if view == View::Banner {
            self.prefetch_prefs();
        }
    }

    pub(crate) fn intent(&self, intent: Intent) {
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
    pub(crate) async fn texts(&self) -> Option<(String, Rc<Texts>)> {
        let promise = {
            let mut inner = self.inner.borrow_mut();
            if let Some(loaded) = &inner.texts.loaded {
                return Some(loaded.clone());
            }
            if inner.texts.loading.is_none() {
                let session = inner.session.as_ref()?;
                let config = session.config();
                let doc = document();
                let html_lang = doc.document_element().and_then(|e| e.get_attribute("lang"));
                let browser: Vec<String> = web_sys::window()
                    .map(|w| w.navigator().languages().iter().filter_map(|l| l.as_string()).collect())
                    .unwrap_or_default();
                let lang =
                    locale::negotiate(&config.languages, config.language.as_deref(), html_lang.as_deref(), &browser);
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
                            Err(e) => {
                                console::error_2(&format!("assent: could not load locale `{candidate}`:").into(), &e)
                            }
                        }
                    }
                    client.inner.borrow_mut().texts.missing = loaded.is_none();
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
                    client.inner.borrow_mut().texts.loaded = Some((lang, Rc::new(Texts(map))));
                    Ok(JsValue::UNDEFINED)
                });
                inner.texts.loading = Some(promise);
            }
            inner.texts.loading.clone()?
        };
        let _ = JsFuture::from(promise).await;
        self.inner.borrow().texts.loaded.clone()
    }
}

pub(crate) fn pick(text: &TextOverride, lang: &str) -> Option<String> {
    match text {
        TextOverride::All(s) => Some(s.clone()),
        TextOverride::PerLanguage(map) => map.iter().find(|(l, _)| l == lang).map(|(_, t)| t.clone()),
    }
}

/// The UI's colour scheme from the config.
pub(crate) fn scheme(config: &Config) -> assent_ui::Scheme {
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
                purpose: purposes
                    .iter()
                    .find(|p: &&PurposeItem| p.id == c.purpose)
                    .map_or_else(|| c.purpose.clone(), |p| p.name.clone()),
            })
            .collect(),
        purposes,
    }
}
