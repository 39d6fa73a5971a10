//! `<assent-ai-toggle>` elements: per-conversation `ai_training` toggles, and the events of scoped choices.

use assent_core::locale;
use assent_core::purpose::AI_TRAINING;
use assent_core::receipt::toggle_keys;
use assent_core::scoped::Scope;
use assent_ui::ToggleProps;
use js_sys::Object;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::spawn_local;
use web_sys::{console, CustomEvent, CustomEventInit, Element};

use crate::prefs::RemoteToggle;
use crate::ui::scheme;
use crate::{document, now, put, Client};

/// One `<assent-ai-toggle>` element and its view.
pub(crate) struct Toggle {
    pub(crate) element: Element,
    pub(crate) conversation: String,
    /// Rendered by the preferences module, with the listener its flips go to.
    pub(crate) view: Option<RemoteToggle>,
}

#[wasm_bindgen]
impl Client {
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
                console::error_2(
                    &format!("assent: {err}. The toggle is not shown and the conversation stays do-not-train:").into(),
                    &element,
                );
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
}

impl Client {
    /// A conversation's choice changed: show it on its toggles and fire `assent:change` on each
    /// (bubbling, and composed so it leaves a widget's shadow root).
    pub(crate) fn conversation_changed(&self, conversation: &str) {
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
            let receipt =
                session.conversation_choice(conversation, t).map_or(JsValue::NULL, |c| c.receipt.as_str().into());
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
    pub(crate) fn service_changed(&self, service: &str) {
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

    /// Mounts toggles that are not rendered yet (once the strings and the preferences module are
    /// loaded) and shows every toggle's current state.
    pub(crate) fn render_toggles(&self) {
        let waiting = {
            let inner = self.inner.borrow();
            inner.texts.loaded.is_some() && inner.toggles.iter().any(|t| t.view.is_none())
        };
        let module = if waiting { self.prefs_module() } else { None };
        let mut inner = self.inner.borrow_mut();
        let Some((lang, texts)) = inner.texts.loaded.clone() else { return };
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
            // Rendered when the module lands (`prefs_module` asked for it).
            let Some(module) = &module else { continue };
            let props = ToggleProps {
                label: fill(keys[0]),
                description: fill(keys[1]),
                learn_more: fill(keys[2]),
                notice_url: config.notice.url.clone(),
                rtl: locale::is_rtl(&lang),
                scheme: scheme(config),
                lang: lang.clone(),
            };
            match self.remote_toggle(module, &toggle.element, &props, on, toggle.conversation.clone()) {
                Ok(view) => toggle.view = Some(view),
                Err(e) => console::error_2(&"assent: could not render <assent-ai-toggle>:".into(), &e),
            }
        }
        inner.session = Some(session);
    }
}
