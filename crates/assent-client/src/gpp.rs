//! The IAB GPP 1.1 API (`window.__gpp`).

use assent_core::{Session, Ui};
use js_sys::{Array, Function, Object};
use wasm_bindgen::prelude::*;
use web_sys::console;

use crate::{put, Client};

#[wasm_bindgen]
impl Client {
    /// The IAB GPP 1.1 API (`window.__gpp` once the loader's stub hands over): `ping`,
    /// `addEventListener`, `removeEventListener`, `hasSection`, `getSection` and `getField`.
    pub fn gpp(&self, command: &str, callback: Function, parameter: JsValue) {
        let answer = |value: &JsValue, ok: bool| {
            let _ = callback.call2(&JsValue::NULL, value, &JsValue::from_bool(ok));
        };
        let section = self.inner.borrow().session.as_ref().and_then(Session::gpp);
        let asks_usnat = parameter.as_string().is_some_and(|p| p == "usnat" || p == "7");
        match command {
            "ping" => answer(&self.gpp_ping(), true),
            "addEventListener" => {
                let id = {
                    let mut inner = self.inner.borrow_mut();
                    let id = inner.gpp_listeners.iter().map(|(id, _)| id + 1).max().unwrap_or(1);
                    inner.gpp_listeners.push((id, callback.clone()));
                    id
                };
                answer(&self.gpp_event("listenerRegistered", id, &JsValue::TRUE), true);
                answer(&self.gpp_event("signalStatus", id, &"ready".into()), true);
            }
            "removeEventListener" => {
                let id = parameter.as_f64().map(|n| n as u32);
                let mut inner = self.inner.borrow_mut();
                let before = inner.gpp_listeners.len();
                inner.gpp_listeners.retain(|(l, _)| Some(*l) != id);
                let removed = inner.gpp_listeners.len() < before;
                drop(inner);
                answer(&JsValue::from_bool(removed), true);
            }
            "hasSection" => answer(&JsValue::from_bool(section.is_some() && asks_usnat), true),
            "getSection" => match section.filter(|_| asks_usnat) {
                Some(usnat) => answer(&gpp_fields(&usnat), true),
                None => answer(&JsValue::NULL, true),
            },
            "getField" => {
                let field = parameter.as_string().and_then(|p| p.strip_prefix("usnat.").map(str::to_string));
                let value = section
                    .zip(field)
                    .and_then(|(usnat, name)| usnat.fields().into_iter().find(|(n, _)| *n == name).map(|(_, v)| gpp_value(&v)));
                answer(&value.unwrap_or(JsValue::NULL), true);
            }
            other => {
                console::warn_1(&format!("assent: __gpp('{other}') is not a GPP 1.1 command this CMP supports").into());
                answer(&JsValue::NULL, false);
            }
        }
    }
}

impl Client {
    /// GPP `PingReturn`. `cmpId` 0: Assent is not a CMP registered with the IAB (see docs/gpp.md).
    fn gpp_ping(&self) -> JsValue {
        let inner = self.inner.borrow();
        let section = inner.session.as_ref().and_then(Session::gpp);
        let shown = inner.session.as_ref().is_some_and(|s| s.ui() != Ui::Hidden);
        let ping = Object::new();
        put(&ping, "gppVersion", &"1.1".into());
        put(&ping, "cmpStatus", &"loaded".into());
        put(&ping, "cmpDisplayStatus", &if shown { "visible" } else { "hidden" }.into());
        put(&ping, "signalStatus", &"ready".into());
        put(&ping, "supportedAPIs", &Array::of1(&"7:usnat".into()));
        put(&ping, "cmpId", &JsValue::from(0));
        let ids: Array = section.iter().map(|_| JsValue::from(assent_core::gpp::USNAT_ID)).collect();
        put(&ping, "sectionList", &ids);
        let applicable: Array = if section.is_some() { ids.clone() } else { Array::of1(&JsValue::from(-1)) };
        put(&ping, "applicableSections", &applicable);
        put(&ping, "gppString", &section.as_ref().map_or_else(String::new, |s| s.gpp_string()).into());
        let parsed = Object::new();
        if let Some(usnat) = &section {
            put(&parsed, "usnat", &gpp_fields(usnat));
        }
        put(&ping, "parsedSections", &parsed);
        ping.into()
    }

    fn gpp_event(&self, name: &str, listener: u32, data: &JsValue) -> JsValue {
        let event = Object::new();
        put(&event, "eventName", &name.into());
        put(&event, "listenerId", &JsValue::from(listener));
        put(&event, "data", data);
        put(&event, "pingData", &self.gpp_ping());
        event.into()
    }

    /// Tells GPP listeners that the section changed (after every decision).
    pub(crate) fn gpp_changed(&self) {
        let listeners = self.inner.borrow().gpp_listeners.clone();
        for (id, callback) in listeners {
            let _ = callback.call2(&JsValue::NULL, &self.gpp_event("sectionChange", id, &"usnat".into()), &JsValue::TRUE);
        }
    }
}

/// A `usnat` section as `getSection` returns it: every field by its GPP name.
fn gpp_fields(usnat: &assent_core::gpp::UsNat) -> JsValue {
    let object = Object::new();
    for (name, value) in usnat.fields() {
        put(&object, name, &gpp_value(&value));
    }
    object.into()
}

fn gpp_value(value: &assent_core::gpp::FieldValue) -> JsValue {
    use assent_core::gpp::FieldValue;
    match value {
        FieldValue::Int(n) => JsValue::from(*n),
        FieldValue::Bool(b) => JsValue::from_bool(*b),
        FieldValue::List(items) => items.iter().map(|n| JsValue::from(*n)).collect::<Array>().into(),
    }
}
