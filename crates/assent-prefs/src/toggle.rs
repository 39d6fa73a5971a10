//! `<assent-ai-toggle>`: the per-conversation "use this conversation to improve our AI" switch,
//! rendered into the element's own shadow root.

use assent_ui::{OnToggle, ToggleProps, TOGGLE_STYLES};
use leptos::mount::mount_to;
use leptos::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{Element, HtmlElement, ShadowRoot, ShadowRootInit, ShadowRootMode};

/// A toggle mounted in an element's shadow root. Dropping it unmounts the view.
pub struct MountedToggle {
    container: HtmlElement,
    on: RwSignal<bool>,
    _mounted: Box<dyn std::any::Any>,
}

impl std::fmt::Debug for MountedToggle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MountedToggle").finish_non_exhaustive()
    }
}

impl Drop for MountedToggle {
    fn drop(&mut self) {
        self.container.remove();
    }
}

impl MountedToggle {
    /// Renders the toggle into `host`'s shadow root (attached open if it has none), showing `on`.
    /// A flip goes to `on_toggle`; the adapter records it and shows the result with [`Self::set`].
    pub fn mount(
        host: &Element,
        props: ToggleProps,
        on: bool,
        on_toggle: OnToggle,
    ) -> Result<MountedToggle, wasm_bindgen::JsValue> {
        let on = RwSignal::new(on);
        let root: ShadowRoot = match host.shadow_root() {
            Some(root) => root,
            None => host.attach_shadow(&ShadowRootInit::new(ShadowRootMode::Open))?,
        };
        let document = host.owner_document().ok_or("the element has no document")?;
        let container: HtmlElement = document.create_element("div")?.unchecked_into();
        container.set_class_name("assent-toggle");
        container.set_attribute("lang", &props.lang)?;
        container.set_attribute("dir", if props.rtl { "rtl" } else { "ltr" })?;
        container.set_attribute("data-scheme", props.scheme.as_str())?;
        crate::style_once(&root, TOGGLE_STYLES)?;
        root.append_child(&container)?;
        let mounted = mount_to(container.clone(), move || view! { <AiToggle props=props on=on on_toggle=on_toggle/> });
        Ok(MountedToggle { container, on, _mounted: Box::new(mounted) })
    }

    /// Shows a new state (the choice changed here, in another toggle for the same conversation, or
    /// site-wide).
    pub fn set(&self, on: bool) {
        if self.on.get_untracked() != on {
            self.on.set(on);
        }
    }

    /// The switch (tests and focus management).
    pub fn switch(&self) -> Option<HtmlElement> {
        self.container.query_selector("[role=switch]").ok().flatten().and_then(|e| e.dyn_into().ok())
    }
}

/// One switch with a visible label, what it means, and a "Learn more" link. It is a `<button>`, so
/// Space and Enter flip it, and it keeps the visible focus ring.
#[component]
fn AiToggle(
    /// What to show.
    props: ToggleProps,
    /// The state shown.
    on: RwSignal<bool>,
    /// Where a flip goes (the adapter records it; the state comes back through `on`).
    on_toggle: OnToggle,
) -> impl IntoView {
    view! {
        <div class="toggle">
            <button type="button" class="switch-row" role="switch" aria-checked=move || on.get().to_string()
                aria-describedby="assent-toggle-desc"
                on:click=move |_| on_toggle(!on.get_untracked())>
                // Values in braces: Leptos would otherwise build this static markup through `innerHTML`,
                // which a page that requires Trusted Types refuses (docs/csp.md).
                <span class="switch" aria-hidden={"true"}><span class={"knob"}></span></span>
                <span class="label">{props.label.clone()}</span>
            </button>
            <p class="desc" id="assent-toggle-desc">
                {props.description.clone()}
                {props.notice_url.clone().map(|url| view! { " " <a href=url target="_blank" rel="noopener">{props.learn_more.clone()}</a> })}
            </p>
        </div>
    }
}
