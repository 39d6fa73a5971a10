//! The first layer and the opt-out entry point, built with plain DOM: they are on screen before
//! anything else of Assent's, so they carry no framework. What they show and how they behave (equal
//! prominence, Escape records nothing, the modal's focus trap) is the same as the dialog's Leptos
//! views; the e2e suite holds both to it.

use std::any::Any;

use gloo_events::EventListener;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{Document, Element, HtmlElement, KeyboardEvent};

use crate::{keys, overlay, Intent, Layer, Legal, Mount, OnIntent, Position, Props, View};

/// The content of the first layer (`View::Banner`) or the entry point (`View::EntryPoint`), built from
/// the props the overlay is given. [`View::Preferences`] is the preferences module's, never built here.
pub fn first_layer(view: View, on_intent: OnIntent) -> Mount {
    Box::new(move |parent, props| {
        let built = match view {
            View::EntryPoint => entry_point(parent, props, &on_intent),
            _ => banner(parent, props, &on_intent),
        };
        match built {
            Ok(shown) => Box::new(shown) as Box<dyn Any>,
            Err(e) => {
                web_sys::console::error_2(&"assent: could not build the banner:".into(), &e);
                Box::new(())
            }
        }
    })
}

/// Nodes added under the container and their listeners. Dropping it removes both.
struct Shown {
    nodes: Vec<Element>,
    _listeners: Vec<EventListener>,
}

impl Drop for Shown {
    fn drop(&mut self) {
        for node in &self.nodes {
            node.remove();
        }
    }
}

/// A small element builder over one document.
struct Dom {
    document: Document,
    listeners: Vec<EventListener>,
}

impl Dom {
    fn new(parent: &HtmlElement) -> Result<Dom, JsValue> {
        Ok(Dom { document: parent.owner_document().ok_or("the container has no document")?, listeners: Vec::new() })
    }

    /// `<tag attr="value"…>` under `parent`.
    fn el(&self, parent: &Element, tag: &str, attrs: &[(&str, &str)]) -> Result<Element, JsValue> {
        let el = self.document.create_element(tag)?;
        for (name, value) in attrs {
            el.set_attribute(name, value)?;
        }
        parent.append_child(&el)?;
        Ok(el)
    }

    /// `<tag …>text</tag>` under `parent`.
    fn text_el(&self, parent: &Element, tag: &str, attrs: &[(&str, &str)], text: &str) -> Result<Element, JsValue> {
        let el = self.el(parent, tag, attrs)?;
        el.append_with_str_1(text)?;
        Ok(el)
    }

    fn on(&mut self, target: &Element, event: &'static str, handler: impl Fn(&web_sys::Event) + 'static) {
        self.listeners.push(EventListener::new(target, event, handler));
    }

    /// A button (`class="btn"`, one style for every choice) that sends `intent`.
    fn button(
        &mut self,
        parent: &Element,
        key: &str,
        label: &str,
        intent: Intent,
        on_intent: &OnIntent,
    ) -> Result<(), JsValue> {
        let button =
            self.text_el(parent, "button", &[("type", "button"), ("class", "btn"), ("data-key", key)], label)?;
        let on_intent = on_intent.clone();
        self.on(&button, "click", move |_| on_intent(intent.clone()));
        Ok(())
    }

    /// A legal string in its own language (marked with `lang`), then its translation in brackets.
    fn legal(&self, parent: &Element, l: &Legal) -> Result<(), JsValue> {
        match &l.lang {
            Some(lang) => drop(self.text_el(parent, "span", &[("lang", lang)], &l.text)?),
            None => parent.append_with_str_1(&l.text)?,
        }
        if let Some(t) = &l.translation {
            parent.append_with_str_1(&format!(" ({t})"))?;
        }
        Ok(())
    }

    fn done(self, nodes: Vec<Element>) -> Shown {
        Shown { nodes, _listeners: self.listeners }
    }
}

/// The first layer: a non-modal dialog fixed to the bottom of the viewport, overlaying the page
/// (it never pushes content), or a modal one over a dimmed page. All its buttons share one style:
/// refusing is as easy as accepting.
fn banner(parent: &HtmlElement, props: &Props, on_intent: &OnIntent) -> Result<Shown, JsValue> {
    let mut dom = Dom::new(parent)?;
    let t = &props.texts;
    let modal = props.position == Position::Modal;
    let mut nodes = Vec::new();
    if modal {
        nodes.push(dom.el(parent, "div", &[("class", "modal-backdrop")])?);
    }
    let section = dom.el(
        parent,
        "section",
        &[
            ("class", "banner"),
            ("role", "dialog"),
            ("aria-modal", if modal { "true" } else { "false" }),
            ("aria-labelledby", "assent-banner-title"),
            ("aria-describedby", "assent-banner-body"),
            ("tabindex", "-1"),
            ("data-autofocus", ""),
        ],
    )?;
    nodes.push(section.clone());
    let text = dom.el(&section, "div", &[("class", "banner-text")])?;
    dom.text_el(&text, "h2", &[("id", "assent-banner-title")], &t.get("banner.title"))?;
    let body_key = match props.layer {
        Layer::OptIn => "banner.body",
        Layer::OptOut => "banner.optOutBody",
        Layer::Notice => "banner.noticeBody",
    };
    let body = dom.text_el(
        &text,
        "p",
        &[("id", "assent-banner-body")],
        &t.fill(body_key, &[("controller", &props.controller)]),
    )?;
    if let Some(url) = &props.notice_url {
        body.append_with_str_1(" ")?;
        dom.text_el(&body, "a", &[("href", url)], &t.get("banner.noticeLink"))?;
    }
    if let Some(status) = &props.status {
        let line = dom.el(&text, "p", &[("class", "status"), ("role", "status")])?;
        dom.legal(&line, status)?;
    }
    let actions = dom.el(&section, "div", &[("class", "actions")])?;
    let buttons: &[(&str, &str, Intent)] = match props.layer {
        Layer::OptIn => &[
            (keys::ACCEPT_ALL, "banner.acceptAll", Intent::AcceptAll),
            (keys::REJECT_ALL, "banner.rejectAll", Intent::RejectAll),
            ("prefs", "banner.preferences", Intent::OpenPreferences),
        ],
        Layer::OptOut => {
            &[("prefs", "banner.privacyChoices", Intent::OpenPreferences), ("ok", "banner.ok", Intent::Acknowledge)]
        }
        Layer::Notice => {
            &[("prefs", "banner.preferences", Intent::OpenPreferences), ("ok", "banner.ok", Intent::Acknowledge)]
        }
    };
    for (key, label, intent) in buttons {
        dom.button(&actions, key, &t.get(label), intent.clone(), on_intent)?;
    }
    let close = on_intent.clone();
    dom.on(&section, "keydown", move |ev| {
        let Some(ev) = ev.dyn_ref::<KeyboardEvent>() else { return };
        match ev.key().as_str() {
            // A modal first layer must be answered: Escape does not dismiss it.
            "Escape" if !modal => {
                ev.stop_propagation();
                close(Intent::Close);
            }
            // It keeps focus inside until then.
            "Tab" if modal => overlay::trap_tab(ev),
            _ => {}
        }
    });
    Ok(dom.done(nodes))
}

/// The persistent way back to the choices in opt-out regions ("Your Privacy Choices"). It never takes
/// focus on its own and sits in a corner, clear of the page's content.
fn entry_point(parent: &HtmlElement, props: &Props, on_intent: &OnIntent) -> Result<Shown, JsValue> {
    let mut dom = Dom::new(parent)?;
    let button = dom.el(parent, "button", &[("type", "button"), ("class", "entry"), ("data-key", "entry")])?;
    dom.el(&button, "span", &[("class", "entry-icon"), ("aria-hidden", "true")])?;
    let label = dom.el(&button, "span", &[])?;
    if let Some(l) = &props.entry_label {
        dom.legal(&label, l)?;
    }
    let on_intent = on_intent.clone();
    dom.on(&button, "click", move |_| on_intent(Intent::OpenPreferences));
    Ok(dom.done(vec![button]))
}
