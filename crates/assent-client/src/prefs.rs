//! The preferences module (`assent-prefs`: the dialog and the AI toggle in Leptos, the `__gpp`
//! handler and the embed placeholders). It is not part of this module, so the first layer carries no
//! framework: the loader fetches it when one of those is first needed, and this client asks for it
//! once the banner is idle, so that it is usually there before the visitor's click. A click that comes
//! first is not lost: the session already wants the dialog, and it is shown as soon as the module
//! lands.

use assent_core::{Session, Ui};
use assent_ui::{wire, Mount};
use js_sys::{Function, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::{spawn_local, JsFuture};
use web_sys::console;

use crate::{call, Client};

/// The preferences module, and the `__gpp` calls that wait for it.
#[derive(Default)]
pub(crate) struct Prefs {
    pub(crate) module: Module,
    /// `__gpp` calls made before the module (which answers them) landed.
    pub(crate) gpp_waiting: Vec<(String, Function, JsValue)>,
}

/// Where the preferences module is.
#[derive(Default)]
pub(crate) enum Module {
    /// Not asked for yet (or the last attempt failed: the next need asks again).
    #[default]
    Absent,
    /// On its way.
    Loading,
    /// Loaded: its exports (`preferences`, `toggle`, `placeholder`, `gpp`, `gppChanged`, `wireVersion`).
    Ready(JsValue),
}

/// A view the preferences module shows. Dropping it frees the module's handle, which unmounts the view.
pub(crate) struct Remote(pub(crate) JsValue);

impl Drop for Remote {
    fn drop(&mut self) {
        let _ = call(&self.0, "free", &[]);
    }
}

/// An AI toggle the module shows, with the listener its flips go to (dropped after the view).
pub(crate) struct RemoteToggle {
    view: Remote,
    _on_toggle: Closure<dyn Fn(bool)>,
}

impl RemoteToggle {
    /// Shows the toggle's new state.
    pub(crate) fn set(&self, on: bool) {
        let _ = call(&self.view.0, "set", &[JsValue::from_bool(on)]);
    }
}

impl Client {
    /// The module's exports if it is loaded; otherwise asks for it (once at a time) and returns `None`.
    /// When it lands, whatever waits for it is shown: the dialog if the session still wants it, and
    /// the toggles not rendered yet.
    pub(crate) fn prefs_module(&self) -> Option<JsValue> {
        if let Module::Ready(module) = &self.inner.borrow().prefs.module {
            return Some(module.clone());
        }
        self.load_prefs();
        None
    }

    fn load_prefs(&self) {
        let Some(load) = self.shared.prefs.clone() else {
            console::error_1(&"assent: start() was given no `prefs` loader, so the preferences dialog and the AI toggle cannot be shown".into());
            return;
        };
        {
            let mut inner = self.inner.borrow_mut();
            if !matches!(inner.prefs.module, Module::Absent) {
                return;
            }
            inner.prefs.module = Module::Loading;
        }
        let client = self.handle();
        spawn_local(async move {
            let loaded = match load.call0(&JsValue::NULL) {
                Ok(promise) => JsFuture::from(js_sys::Promise::resolve(&promise)).await,
                Err(e) => Err(e),
            };
            // From the same build, or not used at all.
            let loaded = loaded.and_then(|module| {
                let version = call(&module, "wireVersion", &[]).ok().and_then(|v| v.as_f64());
                match version {
                    Some(v) if v == f64::from(wire::WIRE_VERSION) => Ok(module),
                    _ => Err(JsValue::from(format!(
                        "it is from another build (wire version {}, this client reads {}): serve every file of one build from one folder",
                        version.map_or_else(|| "none".into(), |v| (v as u32).to_string()), // no float formatting in the bundle
                        wire::WIRE_VERSION
                    ))),
                }
            });
            match loaded {
                Ok(module) => {
                    client.inner.borrow_mut().prefs.module = Module::Ready(module);
                    let ui = client.inner.borrow().session.as_ref().map(Session::ui);
                    if ui == Some(Ui::Preferences) {
                        client.render(Ui::Preferences);
                    }
                    client.render_toggles();
                    client.gpp_flush();
                    client.placeholders_flush();
                }
                Err(e) => {
                    client.inner.borrow_mut().prefs.module = Module::Absent;
                    client.gpp_unanswerable();
                    console::error_2(
                        &format!(
                            "assent: could not load the preferences module ({}assent_prefs.js and assent_prefs_bg.wasm, served as application/wasm); the banner's other choices still work:",
                            client.shared.base
                        )
                        .into(),
                        &e,
                    );
                }
            }
        });
    }

    /// Asks for the module once the page is idle (the banner is on screen), so that "Preferences" opens
    /// at once when it is clicked. Browsers without `requestIdleCallback` (Safari) wait one second.
    pub(crate) fn prefetch_prefs(&self) {
        if !matches!(self.inner.borrow().prefs.module, Module::Absent) || self.shared.prefs.is_none() {
            return;
        }
        let Some(window) = web_sys::window() else { return };
        let client = self.handle();
        let later = Closure::once_into_js(move || {
            client.prefs_module();
        });
        let idle =
            Reflect::get(&window, &"requestIdleCallback".into()).ok().and_then(|f| f.dyn_into::<Function>().ok());
        let _ = match idle {
            Some(idle) => idle.call1(&window, &later).map(drop),
            None => window.set_timeout_with_callback_and_timeout_and_arguments_0(later.unchecked_ref(), 1000).map(drop),
        };
    }

    /// The dialog's content, mounted by the module: props go over as wire text, intents come back so.
    pub(crate) fn remote_dialog(&self, module: JsValue) -> Mount {
        let client = self.handle();
        Box::new(move |parent, props| {
            let on_intent = Closure::<dyn Fn(String)>::new(move |text: String| {
                if let Some(intent) = wire::intent_from_wire(&text) {
                    client.intent(intent);
                }
            });
            let args = [parent.into(), wire::props_to_wire(props).into(), on_intent.as_ref().clone()];
            match call(&module, "preferences", &args) {
                // The view goes before the listener it calls.
                Ok(view) => Box::new((Remote(view), on_intent)),
                Err(e) => {
                    console::error_2(&"assent: could not show the preferences dialog:".into(), &e);
                    Box::new(())
                }
            }
        })
    }

    /// An AI toggle rendered by the module into `element`'s shadow root.
    pub(crate) fn remote_toggle(
        &self,
        module: &JsValue,
        element: &web_sys::Element,
        props: &assent_ui::ToggleProps,
        on: bool,
        conversation: String,
    ) -> Result<RemoteToggle, JsValue> {
        let client = self.handle();
        let on_toggle = Closure::<dyn Fn(bool)>::new(move |on: bool| {
            let client = client.handle();
            let event = assent_core::Event::AiToggle { conversation: conversation.clone(), on };
            spawn_local(async move { client.dispatch(event) });
        });
        let args =
            [element.into(), wire::toggle_to_wire(props).into(), JsValue::from_bool(on), on_toggle.as_ref().clone()];
        let view = call(module, "toggle", &args)?;
        Ok(RemoteToggle { view: Remote(view), _on_toggle: on_toggle })
    }
}
