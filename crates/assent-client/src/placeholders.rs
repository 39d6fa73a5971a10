//! Placeholders shown in blocked embeds' frames, and "Load it".

use assent_core::{locale, Event};
use assent_ui::{wire, PlaceholderProps};
use js_sys::Array;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::spawn_local;
use web_sys::Element;

use crate::gates::service_of;
use crate::prefs::Remote;
use crate::{call, Client};

/// Blocked embeds and their placeholders: those waiting for the preferences module (which draws them),
/// and those drawn, each with what keeps it working. Dropping a drawn one removes its listeners.
#[derive(Default)]
pub(crate) struct Shown {
    waiting: Vec<Element>,
    drawn: Vec<Drawn>,
}

/// A placeholder the module drew in `frame`: its handle (its listeners) and the client's two callbacks.
struct Drawn {
    frame: Element,
    _view: Remote,
    _on_load: Closure<dyn Fn()>,
    _on_always: Option<Closure<dyn Fn()>>,
}

impl Client {
    /// Shows a placeholder in each blocked embed's own frame (drawn by the preferences module): the
    /// page's box for the embed stays as it is. "Load it" loads that embed alone, this page view.
    pub(crate) fn show_placeholders(&self, frames: Vec<Element>) {
        let client = self.handle();
        spawn_local(async move {
            let Some((lang, texts)) = client.texts().await else { return };
            let Some(module) = client.prefs_module() else {
                // Shown when the module lands (`prefs_module` asked for it).
                client.inner.borrow_mut().placeholders.waiting.extend(frames);
                return;
            };
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
                let props = wire::placeholder_to_wire(&PlaceholderProps {
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
                // Both live as long as the placeholder (see `Drawn`).
                let loader = client.handle();
                let target = frame.clone();
                let on_load = Closure::<dyn Fn()>::new(move || loader.load_embed(&target));
                let on_always = known.map(|service| {
                    let loader = client.handle();
                    Closure::<dyn Fn()>::new(move || {
                        loader.dispatch(Event::AllowService { service: service.clone(), on: true });
                    })
                });
                let always = on_always.as_ref().map_or(JsValue::NULL, |c| c.as_ref().clone());
                let html = client.shared.html.as_ref().map_or(JsValue::NULL, |f| f.clone().into());
                let args = [frame.clone().into(), props.into(), on_load.as_ref().clone(), always, html];
                match call(&module, "placeholder", &args) {
                    Ok(view) => client.inner.borrow_mut().placeholders.drawn.push(Drawn {
                        frame,
                        _view: Remote(view),
                        _on_load: on_load,
                        _on_always: on_always,
                    }),
                    Err(e) => {
                        web_sys::console::error_2(&"assent: could not show a blocked embed's placeholder:".into(), &e)
                    }
                }
            }
        });
    }

    /// The frames that waited for the preferences module, now that it is here.
    pub(crate) fn placeholders_flush(&self) {
        let waiting = std::mem::take(&mut self.inner.borrow_mut().placeholders.waiting);
        if !waiting.is_empty() {
            self.show_placeholders(waiting);
        }
    }

    /// "Load it" on a placeholder: this embed alone, now. Nothing is stored: the next page view
    /// asks again (a lasting choice is made in the preferences).
    fn load_embed(&self, frame: &Element) {
        self.remove_placeholder(frame);
        let _ = self.shared.run.call1(&JsValue::NULL, &Array::of1(frame));
    }

    /// Ends the placeholder of an embed's frame that is about to run: its listeners end and the title
    /// Assent gave it goes. The placeholder document stays until the loader's activation has set the
    /// frame's `src`: it then removes `srcdoc` (and this mark), so the frame navigates once, to its
    /// `src`. (Removing `srcdoc` first starts a navigation to `about:blank`, and WebKit drops a `src`
    /// set while that one is under way.)
    pub(crate) fn remove_placeholder(&self, frame: &Element) {
        if let Some(mark) = frame.get_attribute(PLACEHOLDER_ATTR) {
            if mark == "title" {
                let _ = frame.remove_attribute("title");
            }
            let _ = frame.set_attribute(PLACEHOLDER_ATTR, "");
        }
        let gone: Vec<Drawn> = {
            let mut inner = self.inner.borrow_mut();
            let (gone, kept) =
                std::mem::take(&mut inner.placeholders.drawn).into_iter().partition(|d| &d.frame == frame);
            inner.placeholders.drawn = kept;
            gone
        };
        drop(gone); // outside the borrow: freeing the module's handle runs its code
    }
}

/// Marks an embed whose frame shows Assent's placeholder (`title` when Assent also set its title).
const PLACEHOLDER_ATTR: &str = "data-assent-placeholder";

/// A frame the page keeps out of sight: held without a placeholder (`assent_core::frames::hidden`).
fn unseen(frame: &Element) -> bool {
    let attr = |name: &str| frame.get_attribute(name);
    assent_core::frames::hidden(
        attr("width").as_deref(),
        attr("height").as_deref(),
        frame.has_attribute("hidden"),
        attr("style").as_deref(),
    )
}
