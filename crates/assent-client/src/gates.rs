//! Gated elements, the consent cookie, cleanup of refused services' traces and Google Consent Mode.

use assent_core::purpose::NECESSARY;
use assent_core::Session;
use gloo_events::EventListener;
use js_sys::{Array, Object};
use wasm_bindgen::prelude::*;
use web_sys::{console, Element, HtmlDocument, Storage};

use crate::{document, now, put, Client};

/// Services whose traces were removed on this page view, removed again at `pagehide` (their scripts,
/// which cannot be unloaded, may have written them again), and that listener, from the first cleanup.
#[derive(Default)]
pub(crate) struct Cleanup {
    again: Vec<String>,
    on_pagehide: Option<EventListener>,
}

/// What was reported once per page view: unknown categories, blocked cookies.
#[derive(Default)]
pub(crate) struct Warned {
    categories: Vec<String>,
    storage: bool,
}

impl Client {
    /// Removes the cookies and storage keys that the services which may not run set (the core names
    /// them), then reloads the page when the config asks: scripts that already ran cannot be unloaded.
    pub(crate) fn clean_up(&self, services: &[String], reload: bool) {
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
            let again = &mut inner.cleanup.again;
            for service in services {
                if !again.contains(service) {
                    again.push(service.clone());
                }
            }
            inner.cleanup.on_pagehide.is_none()
        };
        if let (true, Some(window)) = (first, web_sys::window()) {
            let client = self.handle();
            let listener = EventListener::new(&window, "pagehide", move |_| client.clean_again());
            self.inner.borrow_mut().cleanup.on_pagehide = Some(listener);
        }
    }

    /// At `pagehide`: the traces of the services cleaned on this page view that are still refused now
    /// (the visitor may have allowed one again since).
    fn clean_again(&self) {
        let services: Vec<String> = {
            let inner = self.inner.borrow();
            let (Some(session), list) = (&inner.session, &inner.cleanup.again) else { return };
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
        let cookie_names: Vec<&str> =
            cookie_text.split("; ").filter_map(|c| c.split('=').next()).filter(|n| !n.is_empty()).collect();
        let location = window.as_ref().map(|w| w.location());
        let host = location.as_ref().and_then(|l| l.hostname().ok()).unwrap_or_default();
        let path = location.as_ref().and_then(|l| l.pathname().ok()).unwrap_or_else(|| "/".into());
        // One cleanup over the keys of both stores: removing a key a store lacks does nothing.
        let keys: Vec<String> = stores
            .iter()
            .flat_map(|st| (0..st.length().unwrap_or(0)).filter_map(|i| st.key(i).ok().flatten()))
            .collect();
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

    pub(crate) fn store(&self, value: &str, max_age: u64) {
        let cookie = format!("{}={value}; Max-Age={max_age}{}", self.shared.cookie_name, self.shared.cookie_suffix);
        let doc: HtmlDocument = document().unchecked_into();
        if let Err(err) = doc.set_cookie(&cookie) {
            let mut inner = self.inner.borrow_mut();
            if !inner.warned.storage {
                inner.warned.storage = true;
                console::warn_2(
                    &"assent: cookies are blocked, so this choice holds for this page view only:".into(),
                    &err,
                );
            }
        }
    }

    /// Decides every pending gated element with the core and hands the allowed ones, in document
    /// order, to the loader's activation chain.
    pub(crate) fn apply_gates(&self) {
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
                    if !inner.warned.categories.contains(&category) {
                        inner.warned.categories.push(category.clone());
                        console::error_2(&format!("assent: {message}. The element stays blocked:").into(), el);
                    }
                }
            }
        }
        drop(inner);
        for frame in allowed.iter().filter_map(|el| el.dyn_into::<Element>().ok()) {
            self.remove_placeholder(&frame);
        }
        if allowed.length() > 0 {
            let _ = self.shared.run.call1(&JsValue::NULL, &allowed);
        }
        if !blocked_frames.is_empty() {
            self.show_placeholders(blocked_frames);
        }
    }

    /// `gtag('consent', default|update, {...})` for each command, through the loader's `gtag`.
    pub(crate) fn consent_mode(&self, commands: &[assent_core::consent_mode::Command]) {
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
}

/// The tracker service a gated element belongs to (`assent_core::trackers::Trackers::service_of`), its
/// URL resolved against the document's base URL.
pub(crate) fn service_of(session: &Session, el: &Element) -> Option<String> {
    let url = ["data-src", "src", "data-href", "href"].iter().find_map(|a| el.get_attribute(a));
    let absolute = url.and_then(|u| {
        let base = document().base_uri().ok().flatten()?;
        web_sys::Url::new_with_base(&u, &base).ok().map(|u| u.href())
    });
    session
        .trackers()
        .service_of(el.get_attribute("data-service").as_deref(), absolute.as_deref())
        .map(|s| s.name.clone())
}
