//! IAB TCF v2.3 (docs/tcf.md), only where the config has a `tcf` section. The loader then serves the
//! preferences module's TCF build, which holds all of TCF and answers `__tcfapi` (the loader forwards
//! it there), and starts it before this client. This client tells it the visitor's region, what the
//! overlay shows (`tcfView`: it adds its block there) and which of "Accept all", "Reject all" and
//! "Save" the visitor used (`tcfDecide`). Any other preferences module has none of these exports, and
//! the calls do nothing.

use wasm_bindgen::prelude::*;

use crate::prefs::Module;
use crate::{call, Client};

impl Client {
    /// `module`: the TCF build, started by the loader (anything else: no TCF). It becomes the
    /// preferences module, and learns the visitor's region. Returns whether the visitor must be asked
    /// again (TCF applies and no stored TCF choices answer the policy version and the vendors'
    /// declarations).
    pub(crate) fn tcf_begin(&self, module: JsValue) -> bool {
        if !module.is_object() {
            return false;
        }
        self.inner.borrow_mut().prefs.module = Module::Ready(module);
        let region = self.inner.borrow().session.as_ref().and_then(|s| s.region()).map(|r| r.as_str().to_string());
        self.extension("tcfRegion", region.into()).is_truthy()
    }

    /// Calls the preferences module's export `name`, if the module is loaded and has one.
    pub(crate) fn extension(&self, name: &str, argument: JsValue) -> JsValue {
        let module = match &self.inner.borrow().prefs.module {
            Module::Ready(module) => module.clone(),
            _ => return JsValue::UNDEFINED,
        };
        call(&module, name, &[argument]).unwrap_or_default()
    }
}
