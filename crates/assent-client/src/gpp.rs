//! The IAB GPP 1.1 API (`window.__gpp`). Its handler is the preferences module's (ad tags ask after
//! the banner, so its encoding stays off the banner's path): each call goes there with the session's
//! state, and calls made before the module lands wait for it, in order.

use assent_core::Ui;
use assent_ui::wire::{gpp_to_wire, GppState};
use js_sys::Function;
use wasm_bindgen::prelude::*;

use crate::{call, Client};

#[wasm_bindgen]
impl Client {
    /// The IAB GPP 1.1 API (`window.__gpp` once the loader's stub hands over): `ping`,
    /// `addEventListener`, `removeEventListener`, `hasSection`, `getSection` and `getField`.
    pub fn gpp(&self, command: &str, callback: Function, parameter: JsValue) {
        match self.prefs_module() {
            Some(module) => {
                let _ = call(&module, "gpp", &[command.into(), callback.into(), parameter, self.gpp_state().into()]);
            }
            None => self.inner.borrow_mut().prefs.gpp_waiting.push((command.to_string(), callback, parameter)),
        }
    }
}

impl Client {
    /// What the module answers from, as wire text.
    fn gpp_state(&self) -> String {
        let inner = self.inner.borrow();
        let session = inner.session.as_ref();
        gpp_to_wire(&GppState {
            us: session.and_then(|s| s.gpp_opt_out()),
            region: session.and_then(|s| s.region()).map_or_else(String::new, |r| r.as_str().to_string()),
            shown: session.is_some_and(|s| s.ui() != Ui::Hidden),
        })
    }

    /// The calls that waited for the module, now that it is here.
    pub(crate) fn gpp_flush(&self) {
        let waiting = std::mem::take(&mut self.inner.borrow_mut().prefs.gpp_waiting);
        for (command, callback, parameter) in waiting {
            self.gpp(&command, callback, parameter);
        }
    }

    /// The module could not load: the calls that waited for it fail (`callback(null, false)`), as GPP
    /// says a CMP answers what it cannot, rather than never being answered. A later call asks again.
    pub(crate) fn gpp_unanswerable(&self) {
        let waiting = std::mem::take(&mut self.inner.borrow_mut().prefs.gpp_waiting);
        for (_, callback, _) in waiting {
            let _ = callback.call2(&JsValue::NULL, &JsValue::NULL, &JsValue::FALSE);
        }
    }

    /// Tells GPP listeners that the section changed (after every decision). Listeners exist only once
    /// the module is here.
    pub(crate) fn gpp_changed(&self) {
        let module = match &self.inner.borrow().prefs.module {
            crate::prefs::Module::Ready(module) => module.clone(),
            _ => return,
        };
        let _ = call(&module, "gppChanged", &[self.gpp_state().into()]);
    }
}
