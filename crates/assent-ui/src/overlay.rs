//! The shadow-root host the UI lives in, and keyboard focus handling.

use std::any::Any;

use wasm_bindgen::JsCast;
use web_sys::{Document, Element, HtmlElement, KeyboardEvent, ShadowRoot, ShadowRootInit, ShadowRootMode};

use crate::{focus_first, mount_view, OnIntent, Props, View};

/// The UI's place in the page: one host element with an open shadow root. Showing a view replaces
/// the previous one; hiding removes it and gives focus back to where it was before Assent took it.
pub struct Overlay {
    host: Element,
    root: ShadowRoot,
    container: HtmlElement,
    mounted: Option<Box<dyn Any>>,
    restore_focus: Option<HtmlElement>,
}

impl std::fmt::Debug for Overlay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Overlay").field("shown", &self.mounted.is_some()).finish()
    }
}

impl Overlay {
    /// Creates the host (`<div id="assent-ui">`) at the end of `<body>` (or `<html>` while the body is
    /// still being parsed) with an open shadow root and the stylesheet.
    pub fn new(document: &Document) -> Result<Overlay, wasm_bindgen::JsValue> {
        let host = document.create_element("div")?;
        host.set_id("assent-ui");
        let parent: Element = match document.body() {
            Some(body) => body.into(),
            None => document.document_element().ok_or("document has no root element")?,
        };
        parent.append_child(&host)?;
        let root = host.attach_shadow(&ShadowRootInit::new(ShadowRootMode::Open))?;
        let style = document.create_element("style")?;
        style.set_text_content(Some(crate::STYLES));
        root.append_child(&style)?;
        let container: HtmlElement = document.create_element("div")?.unchecked_into();
        container.set_class_name("root");
        root.append_child(&container)?;
        Ok(Overlay { host, root, container, mounted: None, restore_focus: None })
    }

    /// Shows the persistent entry point: no focus is taken, and none is restored later.
    pub fn show_entry_point(&mut self, props: Props, on_intent: OnIntent) {
        self.hide();
        self.container.set_attribute("lang", &props.lang).ok();
        self.mounted = Some(mount_view(self.container.clone(), View::EntryPoint, props, on_intent));
    }

    /// Shows `view`, replacing whatever was shown, and moves focus into it.
    pub fn show(&mut self, view: View, props: Props, on_intent: OnIntent) {
        if self.mounted.is_none() || self.restore_focus.is_none() {
            self.restore_focus = self
                .host
                .owner_document()
                .and_then(|d| d.active_element())
                .filter(|el| el != &self.host)
                .and_then(|el| el.dyn_into::<HtmlElement>().ok());
        }
        self.mounted = None;
        self.container.set_attribute("lang", &props.lang).ok();
        self.mounted = Some(mount_view(self.container.clone(), view, props, on_intent));
        focus_first(&self.root);
    }

    /// Removes what is shown and restores focus to where it was.
    pub fn hide(&mut self) {
        if self.mounted.take().is_some() {
            if let Some(el) = self.restore_focus.take() {
                let _ = el.focus();
            }
        }
    }

    /// The shadow root (tests query inside it).
    pub fn shadow_root(&self) -> &ShadowRoot {
        &self.root
    }
}

/// Keeps Tab and Shift+Tab inside the modal dialog: from the last control to the first and back.
pub(crate) fn trap_tab(ev: &KeyboardEvent) {
    let Some(dialog) = ev.current_target().and_then(|t| t.dyn_into::<Element>().ok()) else { return };
    let Ok(list) = dialog.query_selector_all("button:not([disabled]), a[href], [tabindex]:not([tabindex='-1'])") else {
        return;
    };
    let items: Vec<HtmlElement> =
        (0..list.length()).filter_map(|i| list.item(i)).filter_map(|n| n.dyn_into::<HtmlElement>().ok()).collect();
    let (Some(first), Some(last)) = (items.first(), items.last()) else { return };
    let active = dialog.get_root_node().dyn_into::<ShadowRoot>().ok().and_then(|r| r.active_element());
    let at = |el: &HtmlElement| active.as_ref().is_some_and(|a| a == el.unchecked_ref::<Element>());
    let on_dialog = active.as_ref().is_some_and(|a| a == &dialog);
    if ev.shift_key() && (at(first) || on_dialog) {
        ev.prevent_default();
        let _ = last.focus();
    } else if !ev.shift_key() && at(last) {
        ev.prevent_default();
        let _ = first.focus();
    }
}
