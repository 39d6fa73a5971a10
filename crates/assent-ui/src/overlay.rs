//! The shadow-root host the UI lives in, and keyboard focus handling.

use std::any::Any;

use wasm_bindgen::prelude::Closure;
use wasm_bindgen::JsCast;
use web_sys::{Document, Element, FocusEvent, HtmlElement, KeyboardEvent, ShadowRoot, ShadowRootInit, ShadowRootMode};

use crate::{focus_first, Props, View};

/// Builds a view's content under the overlay's container and returns what keeps it there: dropping
/// the returned value takes the content away. The first layer builds its own ([`crate::first_layer`]);
/// the client hands over the preferences module's for the dialog.
pub type Mount = Box<dyn FnOnce(&HtmlElement, &Props) -> Box<dyn Any>>;

/// The `id` of the overlay's host element (the TCF build of the preferences module finds it by it).
pub const HOST_ID: &str = "assent-ui";

/// The UI's place in the page: one host element with an open shadow root. Showing a view replaces
/// the previous one; hiding removes it and gives focus back to where it was before Assent took it.
pub struct Overlay {
    host: Element,
    root: ShadowRoot,
    container: HtmlElement,
    mounted: Option<Box<dyn Any>>,
    restore_focus: Option<HtmlElement>,
    /// The `data-key` of Assent's own control that opened the current view (the banner's
    /// "Preferences", the entry point): focus goes back to it when a view that has it is shown again.
    return_key: Option<String>,
    /// While a non-modal first layer is shown: keeps the page's focused element clear of it.
    unobscure: Option<Closure<dyn Fn(FocusEvent)>>,
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
        host.set_id(HOST_ID);
        let parent: Element = match document.body() {
            Some(body) => body.into(),
            None => document.document_element().ok_or("document has no root element")?,
        };
        parent.append_child(&host)?;
        let root = host.attach_shadow(&ShadowRootInit::new(ShadowRootMode::Open))?;
        crate::add_styles(&root, crate::STYLES)?;
        let container: HtmlElement = document.create_element("div")?.unchecked_into();
        container.set_class_name("root");
        root.append_child(&container)?;
        Ok(Overlay { host, root, container, mounted: None, restore_focus: None, return_key: None, unobscure: None })
    }

    /// Shows the persistent entry point: no focus is taken, and none is restored later.
    pub fn show_entry_point(&mut self, props: Props, mount: Mount) {
        self.hide();
        self.describe(&props);
        self.mounted = Some(mount(&self.container, &props));
        self.keep_focus_visible(true);
        self.focus_return_key();
    }

    /// Shows `view`, replacing whatever was shown, and moves focus into it.
    pub fn show(&mut self, view: View, props: Props, mount: Mount) {
        let active = self.host.owner_document().and_then(|d| d.active_element());
        if active.as_ref() == Some(&self.host) {
            // One of Assent's own controls opened this view: remember it, to give focus back to it.
            if let Some(key) = self.root.active_element().and_then(|a| a.get_attribute("data-key")) {
                self.return_key = Some(key);
            }
        } else if self.mounted.is_none() || self.restore_focus.is_none() {
            self.restore_focus = active.and_then(|el| el.dyn_into::<HtmlElement>().ok());
        }
        self.mounted = None;
        self.describe(&props);
        let non_modal = view == View::Banner && props.position != crate::Position::Modal;
        self.mounted = Some(mount(&self.container, &props));
        self.keep_focus_visible(non_modal);
        if !self.focus_return_key() {
            focus_first(&self.root);
        }
    }

    /// Focuses the control that opened the view just closed, if the view now shown has it.
    fn focus_return_key(&mut self) -> bool {
        let Some(key) = self.return_key.clone() else { return false };
        match self.root.query_selector(&format!("[data-key=\"{key}\"]")) {
            Ok(Some(el)) => {
                self.return_key = None;
                let _ = el.unchecked_into::<HtmlElement>().focus();
                true
            }
            _ => false,
        }
    }

    /// WCAG 2.4.11 (Focus Not Obscured): while the non-modal first layer (or the entry point) is on screen, an element of
    /// the page that takes focus under it is scrolled clear of it; where the page cannot scroll that
    /// far (the element sits at the very bottom), the first layer moves to the other edge of the
    /// viewport (`data-dock="top"`), and back when that edge would hide the next one. These moves
    /// follow the visitor's key press, so they are not layout shifts.
    fn keep_focus_visible(&mut self, on: bool) {
        let Some(document) = self.host.owner_document() else { return };
        if let Some(old) = self.unobscure.take() {
            let _ = document.remove_event_listener_with_callback("focusin", old.as_ref().unchecked_ref());
        }
        let _ = self.container.remove_attribute("data-dock");
        if !on {
            return;
        }
        let root = self.root.clone();
        let host = self.host.clone();
        let container = self.container.clone();
        let handler = Closure::<dyn Fn(FocusEvent)>::new(move |ev: FocusEvent| {
            let Some(target) = ev.target().and_then(|t| t.dyn_into::<Element>().ok()) else { return };
            let (Ok(Some(banner)), Some(window)) = (root.query_selector(".banner, .entry"), web_sys::window()) else {
                return;
            };
            if target == host {
                return;
            }
            let overlap = |r: &web_sys::DomRect, b: &web_sys::DomRect| {
                r.bottom() > b.top() && r.top() < b.bottom() && r.right() > b.left() && r.left() < b.right()
            };
            let covered = || overlap(&target.get_bounding_client_rect(), &banner.get_bounding_client_rect());
            if !covered() {
                return;
            }
            let (r, b) = (target.get_bounding_client_rect(), banner.get_bounding_client_rect());
            let docked_top = container.has_attribute("data-dock");
            // Scroll the element clear of the banner's edge, if the page can.
            let need = if docked_top { r.top() - b.bottom() - 8.0 } else { r.bottom() - b.top() + 8.0 };
            window.scroll_by_with_x_and_y(0.0, need);
            if covered() {
                if docked_top {
                    let _ = container.remove_attribute("data-dock");
                } else {
                    let _ = container.set_attribute("data-dock", "top");
                }
            }
        });
        let _ = document.add_event_listener_with_callback("focusin", handler.as_ref().unchecked_ref());
        self.unobscure = Some(handler);
    }

    /// Language, direction, colour scheme and position, on the container the stylesheet keys on.
    fn describe(&self, props: &Props) {
        let c = &self.container;
        c.set_attribute("lang", &props.lang).ok();
        c.set_attribute("dir", if props.rtl { "rtl" } else { "ltr" }).ok();
        c.set_attribute("data-scheme", props.scheme.as_str()).ok();
        c.set_attribute("data-position", props.position.as_str()).ok();
    }

    /// Removes what is shown and restores focus to where it was.
    pub fn hide(&mut self) {
        self.keep_focus_visible(false);
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
pub fn trap_tab(ev: &KeyboardEvent) {
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
