//! The IAB GPP 1.1 API (`window.__gpp`): `ping`, `addEventListener`, `removeEventListener`,
//! `hasSection`, `getSection` and `getField`. It answers ad tags, which run after the banner, so it
//! lives in this module: the client forwards each call with the session's state ([`GppState`]), and
//! holds calls made before the module lands.

use std::cell::RefCell;

use assent_core::gpp::{FieldValue, UsNat, USNAT_ID};
use assent_ui::wire::{gpp_from_wire, GppState};
use js_sys::{Array, Function, Object, Reflect};
use wasm_bindgen::prelude::*;
use web_sys::console;

thread_local! {
    /// `__gpp('addEventListener')` callbacks, by listener id.
    static LISTENERS: RefCell<Vec<(u32, Function)>> = const { RefCell::new(Vec::new()) };
}

fn put(object: &Object, key: &str, value: &JsValue) {
    let _ = Reflect::set(object, &key.into(), value);
}

/// One `__gpp(command, callback, parameter)` call, answered from `state` (the client's wire text).
#[wasm_bindgen]
pub fn gpp(command: &str, callback: Function, parameter: JsValue, state: &str) {
    let state = gpp_from_wire(state).unwrap_or(GppState { usnat: None, shown: false });
    let answer = |value: &JsValue, ok: bool| {
        let _ = callback.call2(&JsValue::NULL, value, &JsValue::from_bool(ok));
    };
    let section = section(&state);
    let asks_usnat = parameter.as_string().is_some_and(|p| p == "usnat" || p == "7");
    match command {
        "ping" => answer(&ping(&state), true),
        "addEventListener" => {
            let id = LISTENERS.with_borrow_mut(|listeners| {
                let id = listeners.iter().map(|(id, _)| id + 1).max().unwrap_or(1);
                listeners.push((id, callback.clone()));
                id
            });
            answer(&event("listenerRegistered", id, &JsValue::TRUE, &state), true);
            answer(&event("signalStatus", id, &"ready".into(), &state), true);
        }
        "removeEventListener" => {
            let id = parameter.as_f64().map(|n| n as u32);
            let removed = LISTENERS.with_borrow_mut(|listeners| {
                let before = listeners.len();
                listeners.retain(|(l, _)| Some(*l) != id);
                listeners.len() < before
            });
            answer(&JsValue::from_bool(removed), true);
        }
        "hasSection" => answer(&JsValue::from_bool(section.is_some() && asks_usnat), true),
        "getSection" => match section.filter(|_| asks_usnat) {
            Some(usnat) => answer(&fields(&usnat), true),
            None => answer(&JsValue::NULL, true),
        },
        "getField" => {
            let field = parameter.as_string().and_then(|p| p.strip_prefix("usnat.").map(str::to_string));
            let value = section
                .zip(field)
                .and_then(|(usnat, name)| usnat.fields().into_iter().find(|(n, _)| *n == name).map(|(_, v)| value(&v)));
            answer(&value.unwrap_or(JsValue::NULL), true);
        }
        other => {
            console::warn_1(&format!("assent: __gpp('{other}') is not a GPP 1.1 command this CMP supports").into());
            answer(&JsValue::NULL, false);
        }
    }
}

/// Tells the listeners that the section changed (the client calls it after every decision).
#[wasm_bindgen(js_name = gppChanged)]
pub fn gpp_changed(state: &str) {
    let state = gpp_from_wire(state).unwrap_or(GppState { usnat: None, shown: false });
    let listeners = LISTENERS.with_borrow(Clone::clone);
    for (id, callback) in listeners {
        let _ = callback.call2(&JsValue::NULL, &event("sectionChange", id, &"usnat".into(), &state), &JsValue::TRUE);
    }
}

fn section(state: &GppState) -> Option<UsNat> {
    state.usnat.map(|(opted_out, gpc)| UsNat::for_opt_out(opted_out, gpc))
}

/// GPP `PingReturn`. `cmpId` 0: Assent is not a CMP registered with the IAB (see docs/gpp.md).
fn ping(state: &GppState) -> JsValue {
    let section = section(state);
    let ping = Object::new();
    put(&ping, "gppVersion", &"1.1".into());
    put(&ping, "cmpStatus", &"loaded".into());
    put(&ping, "cmpDisplayStatus", &if state.shown { "visible" } else { "hidden" }.into());
    put(&ping, "signalStatus", &"ready".into());
    put(&ping, "supportedAPIs", &Array::of1(&"7:usnat".into()));
    put(&ping, "cmpId", &JsValue::from(0));
    let ids: Array = section.iter().map(|_| JsValue::from(USNAT_ID)).collect();
    put(&ping, "sectionList", &ids);
    let applicable: Array = if section.is_some() { ids.clone() } else { Array::of1(&JsValue::from(-1)) };
    put(&ping, "applicableSections", &applicable);
    put(&ping, "gppString", &section.as_ref().map_or_else(String::new, UsNat::gpp_string).into());
    let parsed = Object::new();
    if let Some(usnat) = &section {
        put(&parsed, "usnat", &fields(usnat));
    }
    put(&ping, "parsedSections", &parsed);
    ping.into()
}

fn event(name: &str, listener: u32, data: &JsValue, state: &GppState) -> JsValue {
    let event = Object::new();
    put(&event, "eventName", &name.into());
    put(&event, "listenerId", &JsValue::from(listener));
    put(&event, "data", data);
    put(&event, "pingData", &ping(state));
    event.into()
}

/// A `usnat` section as `getSection` returns it: every field by its GPP name.
fn fields(usnat: &UsNat) -> JsValue {
    let object = Object::new();
    for (name, v) in usnat.fields() {
        put(&object, name, &value(&v));
    }
    object.into()
}

fn value(value: &FieldValue) -> JsValue {
    match value {
        FieldValue::Int(n) => JsValue::from(*n),
        FieldValue::Bool(b) => JsValue::from_bool(*b),
        FieldValue::List(items) => items.iter().map(|n| JsValue::from(*n)).collect::<Array>().into(),
    }
}
