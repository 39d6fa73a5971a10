//! The IAB GPP 1.1 API (`window.__gpp`): `ping`, `addEventListener`, `removeEventListener`,
//! `hasSection`, `getSection` and `getField`. It answers ad tags, which run after the banner, so it
//! lives in this module: the client forwards each call with the session's state ([`GppState`]), and
//! holds calls made before the module lands.

use std::cell::RefCell;

use assent_core::gpp::{FieldValue, UsSection, UsSignal};
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
    let state = gpp_from_wire(state).unwrap_or(GppState { us: None, region: String::new(), shown: false });
    let answer = |value: &JsValue, ok: bool| {
        let _ = callback.call2(&JsValue::NULL, value, &JsValue::from_bool(ok));
    };
    let section = state.section();
    // The visitor's section, when the parameter names it (by name or id).
    let asked = section.filter(|s| parameter.as_string().and_then(|p| UsSection::named(&p)) == Some(s.section));
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
        "hasSection" => answer(&JsValue::from_bool(asked.is_some()), true),
        "getSection" => match asked {
            Some(us) => answer(&fields(&us), true),
            None => answer(&JsValue::NULL, true),
        },
        "getField" => {
            // `usca.SaleOptOut`: the visitor's section's field, by the section's name.
            let field = parameter.as_string().and_then(|p| {
                let us = section?;
                p.strip_prefix(us.section.name())?.strip_prefix('.').map(|name| (us, name.to_string()))
            });
            let value =
                field.and_then(|(us, name)| us.fields().into_iter().find(|(n, _)| *n == name).map(|(_, v)| value(&v)));
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
    let state = gpp_from_wire(state).unwrap_or(GppState { us: None, region: String::new(), shown: false });
    let name = state.section().map_or("usnat", |us| us.section.name());
    let listeners = LISTENERS.with_borrow(Clone::clone);
    for (id, callback) in listeners {
        let _ = callback.call2(&JsValue::NULL, &event("sectionChange", id, &name.into(), &state), &JsValue::TRUE);
    }
}

/// GPP `PingReturn`. `cmpId` 0: Assent is not a CMP registered with the IAB (see docs/gpp.md).
fn ping(state: &GppState) -> JsValue {
    let section = state.section();
    let ping = Object::new();
    put(&ping, "gppVersion", &"1.1".into());
    put(&ping, "cmpStatus", &"loaded".into());
    put(&ping, "cmpDisplayStatus", &if state.shown { "visible" } else { "hidden" }.into());
    put(&ping, "signalStatus", &"ready".into());
    let supported: Array = UsSection::ALL.iter().map(|s| JsValue::from(format!("{}:{}", s.id(), s.name()))).collect();
    put(&ping, "supportedAPIs", &supported);
    put(&ping, "cmpId", &JsValue::from(0));
    let ids: Array = section.iter().map(|us| JsValue::from(us.section.id())).collect();
    put(&ping, "sectionList", &ids);
    let applicable: Array = if section.is_some() { ids.clone() } else { Array::of1(&JsValue::from(-1)) };
    put(&ping, "applicableSections", &applicable);
    put(&ping, "gppString", &section.as_ref().map_or_else(String::new, UsSignal::gpp_string).into());
    let parsed = Object::new();
    if let Some(us) = &section {
        put(&parsed, us.section.name(), &fields(us));
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

/// A section as `getSection` returns it: every field by its GPP name.
fn fields(us: &UsSignal) -> JsValue {
    let object = Object::new();
    for (name, v) in us.fields() {
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
